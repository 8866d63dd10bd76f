"""GPU check (issue 22): bf16 and torch.compile against fp32 eager, training speed and memory of
the full-profile models, and what a few GPU minutes of LVDM training buy against CPU minutes.

    python -m benchmarks.gpu --out DIR [--minutes 8] [--train-minutes 2]   # DIR/gpu.json, DIR/gpu.md
    python -m benchmarks.gpu --out DIR --dry-run     # ci sizes, a couple of steps: seconds, any device
    python -m benchmarks.gpu --from-json DIR/gpu.json  # (re)writes the `gpu` section of BENCHMARKS.md
    python -m benchmarks gpu                         # on a CUDA machine: runs and writes the section

Stages, under one time guard (--minutes, checked before each stage and inside the timed loops;
a stage that no longer fits is skipped and named under "skipped"): device, numerics (full UNet
and VAE: bf16 autocast and torch.compile vs fp32 eager), throughput (trainer steps/s and peak
memory of the VAE, the short-clip LVDM and the two long-video models at the full batch size,
eager then compiled), train (the full short-clip LVDM on Moving MNIST from the shipped quick
VAE, fixed minutes), samples (64 clips of the raw and EMA weights and of the shipped CPU-trained
quick LVDM, scored against the real floor). gpu.json is rewritten after every stage, so a run
cut short still brings back what it measured.

On the device machine (torch with CUDA is assumed installed there, the virtualenv does not
travel; numpy and pillow are assumed to come with that torch). Here, once:

    /work/main/.venv/bin/pip download --no-deps -d outputs/gpu_wheels einops tqdm mlxtend

then run with carry=["outputs/gpu_wheels"] and timeout_s=600 (outputs/ is ignored by git; on the
device it also takes the latent cache, which stays there; only $OUT comes back):

    python -m pip install -q --no-index --no-deps --find-links outputs/gpu_wheels einops tqdm mlxtend &&
    python -c "import numpy, PIL, torch; assert torch.cuda.is_available()" &&
    python -m benchmarks.gpu --out $OUT/dry --dry-run && python -m benchmarks.gpu --out $OUT --minutes 8

(if numpy or pillow is missing there: `pip download --only-binary=:all: --python-version 3.X
--platform manylinux2014_x86_64 -d outputs/gpu_wheels numpy pillow` here, for its Python 3.X).
The dry run (ci sizes, no compile) takes seconds and stops a broken setup before the real one.

and back here: python -m benchmarks.gpu --from-json <files_at>/gpu.json
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import sys
import time
import traceback
from pathlib import Path

import torch

from benchmarks._gpu_common import Guard, body, compare, nonzero, profile, sync

PROFILE = "full"  # what the harness records: the profile this check runs at, whatever --profile says
BF16_TOL, COMPILE_TOL = 5e-2, 1e-3  # relative L2 error vs fp32 eager
# seconds a stage is expected to take on an H200 (compile dominates); the guard skips what won't fit
COST = {"numerics": 15, "compile": 75, "eager": 15, "compiled": 90, "samples": 60, "encode": 30}


def device_info(device: torch.device) -> dict:
    info = {"device": str(device), "torch": torch.__version__, "cuda": torch.version.cuda}
    if device.type == "cuda":
        p = torch.cuda.get_device_properties(device)
        info.update(
            name=p.name,
            memory_gb=round(p.total_memory / 2**30, 1),
            capability=f"{p.major}.{p.minor}",
            tf32_conv=torch.backends.cudnn.allow_tf32,
            tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
        )
    from benchmarks.__main__ import machine

    info["machine"] = machine()
    return info


# ----------------------------------------------------------------------------- models
def lvdm_config(latent_channels: int):
    """The profile's short-clip LVDM with the UNet's channels set to the VAE's latent channels."""
    from minilvdm.methods.lvdm import default_lvdm_config, default_unet_config

    cfg = default_lvdm_config("mnist")
    cfg.unet = default_unet_config(latent_channels, self_condition=cfg.self_condition)
    return cfg


def zoo(device: torch.device, vae) -> dict:
    """name -> (build() -> model, batch on the device, loss_fn) at the profile's training batch size."""
    from minilvdm import vae as vae_mod
    from minilvdm.diffusion import Diffusion
    from minilvdm.diffusion.conditioning import ConditionalDenoiser
    from minilvdm.diffusion.unet import SpaceTimeUNet
    from minilvdm.methods import lvdm
    from minilvdm.methods.long_video import models as long_models

    vcfg, frames = vae_mod.default_vae_config(), vae_mod.train_data_config().frames
    b = vae_mod.default_train_config().batch_size
    lat = vae.cfg.latent_shape(16, 64, 64)  # (c, t, h, w) of a 16-frame clip
    out = {  # the LVDM first: the training stage compiles only if its compiled step was faster
        "lvdm": (
            lambda: lvdm.LatentVideoDiffusion(lvdm_config(lat[0]), vae),
            torch.randn(lvdm.default_train_config().batch_size, *lat),
            lambda m, z: m(z),
        ),
        "vae": (lambda: vae_mod.VideoVAE(vcfg), torch.rand(b, 1, frames, 64, 64) * 2 - 1, vae_mod.vae_loss),
    }
    for role in ("predict", "interp"):
        cfg = long_models.default_long_config(role)
        build = lambda c=cfg: ConditionalDenoiser(SpaceTimeUNet(c.unet), Diffusion(c.diffusion), c.condition)
        z = torch.randn(long_models.default_train_config().batch_size, lat[0], cfg.frames, *lat[2:])
        out[f"long-{role}"] = (build, z, lambda m, z: m(z))
    return {k: (build, x.to(device), loss) for k, (build, x, loss) in out.items()}


def quick_vae(device: torch.device):
    """The shipped quick Moving MNIST VAE (minilvdm/weights/pretrained) and its file."""
    from minilvdm.pretrained import SHIPPED_DIR, VAE_ROLE, shipped_entry
    from minilvdm.vae import load_vae

    path = SHIPPED_DIR / shipped_entry(VAE_ROLE, "quick", "mnist")["file"]
    return load_vae(path, device), path


# ----------------------------------------------------------------------------- stages
def no_compile(device: torch.device, guard: Guard) -> str:
    """Why compile is not tried, or '': a dry run stays seconds long on a GPU too."""
    if device.type != "cuda":
        return "skipped (no CUDA: maybe_compile is a no-op)"
    return "skipped (dry run)" if guard.dry else ""


def numerics(device: torch.device, guard: Guard) -> dict:
    from minilvdm.core.config import autocast, maybe_compile
    from minilvdm.diffusion.unet import SpaceTimeUNet, UNetConfig
    from minilvdm.vae import VideoVAE, default_vae_config

    vcfg = default_vae_config()
    torch.manual_seed(0)
    frames, size = (4, 32) if guard.dry else (16, 64)
    z = torch.randn(4, *vcfg.latent_shape(frames, size, size), device=device)  # (B, c, t, h, w)
    t = torch.tensor([10, 250, 500, 999], device=device)
    unet = nonzero(SpaceTimeUNet(UNetConfig.for_profile(in_channels=vcfg.latent_channels))).to(device)
    vae = VideoVAE(vcfg).to(device)
    x = torch.rand(2, 1, frames, size, size, device=device) * 2 - 1  # (B, C, T, H, W)
    cases = {
        "unet": (lambda m: m(z, t), unet.eval(), f"x {tuple(z.shape)}, t {t.tolist()}"),
        "vae": (lambda m: m(x, sample=False)[0], vae.eval(), f"x {tuple(x.shape)}, posterior mean"),
    }
    result = {}
    for name, (fn, model, inputs) in cases.items():
        with torch.no_grad():
            ref = fn(model)
            with autocast(device):
                low = fn(model)
            entry = {
                "inputs": inputs,
                "bf16": compare(ref, low, BF16_TOL),
                "bf16_autocast": device.type == "cuda",
            }
            if no_compile(device, guard):
                entry["compile"] = {"status": no_compile(device, guard)}
            elif guard.allows(f"numerics/{name}/compile", "compile"):
                start = time.perf_counter()
                try:
                    compiled = maybe_compile(model)
                    if compiled is model:
                        raise RuntimeError("torch.compile unavailable")
                    entry["compile"] = {**compare(ref, fn(compiled), COMPILE_TOL), "status": "compiled"}
                except Exception as err:  # compile is an optimisation: record and go on
                    entry["compile"] = {"status": "fallback", "error": f"{type(err).__name__}: {err}"[:300]}
                entry["compile"]["seconds"] = round(time.perf_counter() - start, 1)
        result[name] = entry
    return result


def throughput(device, guard, vae, compiled: bool, seconds: float, reserve: float) -> dict:
    from minilvdm.core.train import TrainConfig, Trainer

    result = {}
    for name, (build, batch, loss_fn) in zoo(device, vae).items():
        what = f"throughput/{'compiled' if compiled else 'eager'}/{name}"
        if compiled and no_compile(device, guard):
            result[name] = {"status": no_compile(device, guard)}
            continue
        if not guard.allows(what, "compiled" if compiled else "eager", reserve):
            continue
        torch.manual_seed(0)
        cfg = TrainConfig(steps=10**6, batch_size=len(batch), lr=1e-4, warmup=0)
        entry = {"batch": list(batch.shape)}
        try:
            batch_fn = lambda *_, x=batch: x
            trainer = Trainer(
                build(), loss_fn, batch_fn, cfg, device=device, progress=False, compile=compiled
            )
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            start = time.perf_counter()
            trainer.train_step(0)  # compiles, when compiled
            sync(device)
            entry["first_step_s"] = round(time.perf_counter() - start, 2)
            steps, start = 0, time.perf_counter()
            while steps < (2 if guard.dry else 10_000) and time.perf_counter() - start < seconds:
                trainer.train_step(1 + steps)
                steps += 1
                if steps % 5 == 0:
                    sync(device)
            sync(device)
            entry.update(steps=steps, steps_per_s=round(steps / (time.perf_counter() - start), 3))
            entry["clips_per_s"] = round(entry["steps_per_s"] * len(batch), 1)
            if device.type == "cuda":
                entry["peak_mb"] = round(torch.cuda.max_memory_allocated(device) / 2**20)
            entry["params_m"] = round(sum(p.numel() for p in trainer.params) / 1e6, 2)
            entry["status"] = "fallback" if compiled and trainer.net is trainer.eager_net else "ok"
        except torch.cuda.OutOfMemoryError as err:
            entry.update(status="oom", error=str(err)[:200])
        trainer = None
        if device.type == "cuda":
            torch.cuda.empty_cache()
        result[name] = entry
    return result


def train(device, guard, vae, vae_path, train_s: float, rate: float, use_compile: bool) -> dict:
    """The full short-clip LVDM from the quick VAE for `train_s` wall seconds (compile included)."""
    from minilvdm.core.train import TrainConfig, Trainer, epoch_indices
    from minilvdm.methods.lvdm import (
        LatentVideoDiffusion,
        default_data_config,
        default_lvdm_config,
        default_train_config,
    )
    from minilvdm.vae.latent_cache import load_or_encode_latents

    cfg = lvdm_config(vae.cfg.latent_channels)
    derived = default_lvdm_config("mnist").unet.in_channels
    data_cfg = default_data_config("mnist")
    start = time.perf_counter()
    cache = load_or_encode_latents(
        vae, vae_path, data_cfg, batch_size=16 if guard.dry else 256, progress=False
    )
    x0 = cache["latents"].float().to(device)  # (N, c, t, h, w)
    encode_s = time.perf_counter() - start
    train_s = max(1.0, min(train_s, guard.left() - (1 if guard.dry else COST["samples"])))
    steps = 2 if guard.dry else max(50, int(rate * train_s))  # the schedule spans what should fit
    # a short run: a higher lr than the full recipe's 2e-4 (100k steps), cosine, an EMA warm-up
    tc = TrainConfig(steps, default_train_config().batch_size, lr=4e-4, warmup=min(100, steps // 10),
                     ema_decay=0.999, ema_warmup=True, lr_schedule="cosine", min_lr_ratio=0.1)  # fmt: skip
    batch_fn = lambda s, r, w: x0[epoch_indices(s, r, w, tc.batch_size, len(x0), tc.seed).to(device)]
    torch.manual_seed(0)
    model = LatentVideoDiffusion(cfg, vae)
    trainer = Trainer(
        model, lambda m, z: m(z), batch_fn, tc, None, device=device, progress=False, compile=use_compile
    )
    start = time.perf_counter()
    while trainer.step < steps and time.perf_counter() - start < train_s:
        trainer.history.append((trainer.step + 1, trainer.train_step(trainer.step)))
        trainer.step += 1
    sync(device)
    losses = [h[1] for h in trainer.history]
    mean = lambda xs: round(sum(xs) / len(xs), 4)
    return {
        "trainer": trainer,
        "note": f"UNet in_channels = the quick VAE's {cfg.unet.in_channels} latent channels "
        f"(default_lvdm_config derives {derived} from the {PROFILE if not guard.dry else 'ci'} profile's "
        f"VAE config{', the same' if derived == cfg.unet.in_channels else ', overridden'})",
        "clips": len(x0),
        "encode_s": round(encode_s, 1),
        "steps": trainer.step,
        "planned_steps": steps,
        "train_s": round(time.perf_counter() - start, 1),
        "compiled": use_compile and trainer.net is not trainer.eager_net,
        "recipe": {k: v for k, v in dataclasses.asdict(tc).items() if k not in ("steps", "seed")},
        "loss_first_last": [mean(losses[:20]), mean(losses[-20:])],
        "params_m": round(sum(p.numel() for p in model.unet.parameters()) / 1e6, 2),
    }


def samples(device, guard, trainer) -> dict:
    from minilvdm.core.train import load_checkpoint
    from minilvdm.eval import frechet_video_distance, real_clips, score
    from minilvdm.pretrained import LVDM_ROLE, SHIPPED_DIR, load_shipped_pipeline, shipped_entry

    n, steps = (4, 2) if guard.dry else (64, 50)
    real, other = real_clips("mnist", n)[0], real_clips("mnist", n, part=1)[0]
    floor = frechet_video_distance(other, real, dataset="mnist")
    _, shipped = load_shipped_pipeline(device=device)
    cpu_s = load_checkpoint(SHIPPED_DIR / shipped_entry(LVDM_ROLE, "quick")["file"])["seconds"]
    rows = {}
    models = {"trained-raw": trainer.model, "trained-ema": trainer.ema.module, "quick-shipped": shipped}
    for name, model in models.items():
        start = time.perf_counter()
        videos = model.eval().sample(
            n, steps=steps, generator=torch.Generator().manual_seed(0), batch_size=64
        )
        took = time.perf_counter() - start
        s = score(videos, real, dataset="mnist", n_boot=10 if guard.dry else 100)
        rows[name] = {
            "fvd": s["fvd"],
            "fvd_over_floor": s["fvd"][0] / floor,
            "sample_s": round(took, 1),
            "recognisability": s["recognisability"],
        }
    rows["quick-shipped"]["train_min"] = round(cpu_s / 60, 1)
    return {"clips": n, "ddim_steps": steps, "floor": floor, "rows": rows}


# ----------------------------------------------------------------------------- the check
def check(out: Path, minutes: float = 8.0, train_minutes: float = 2.0, dry: bool = False) -> dict:
    from minilvdm.core.config import get_device

    out.mkdir(parents=True, exist_ok=True)
    device, guard = get_device(), Guard(60 * minutes, dry, COST)
    results = {
        "dry_run": dry,
        "date": datetime.date.today().isoformat(),
        "budget_s": 60 * minutes,
        "skipped": guard.skipped,
    }
    begin, errors = time.perf_counter(), results.setdefault("errors", {})

    def stage(name: str, fn, *args):
        """One stage's result, or None with its error recorded: a one-shot device run goes on."""
        try:
            return fn(*args)
        except Exception as err:
            errors[name] = "".join(traceback.format_exception_only(type(err), err)).strip()[-1000:]
            traceback.print_exc()
        finally:
            write(results, out, time.perf_counter() - begin)

    with profile("ci" if dry else PROFILE):
        results["device"] = device_info(device)
        print(json.dumps(results["device"]), flush=True)
        if guard.allows("numerics", "numerics"):
            results["numerics"] = stage("numerics", numerics, device, guard)
        vae, vae_path = quick_vae(device)
        reserve = 1 if dry else 60 * train_minutes + COST["samples"] + COST["encode"]
        rates = results["throughput"] = {}
        for mode in ("eager", "compiled"):
            rates[mode] = stage(
                f"throughput/{mode}", throughput, device, guard, vae, mode == "compiled", 8.0, reserve
            )
        eager, comp = ((rates[k] or {}).get("lvdm", {}).get("steps_per_s", 0) for k in ("eager", "compiled"))
        trained = None
        if guard.allows("train", (60 * train_minutes) / 4, COST["samples"] + COST["encode"]):
            args = (device, guard, vae, vae_path, 60 * train_minutes, max(eager, comp, 0.1), comp > eager)
            trained = results["train"] = stage("train", train, *args)
        if trained and guard.allows("samples", "samples"):
            results["samples"] = stage("samples", samples, device, guard, trained.pop("trainer"))
        (results.get("train") or {}).pop("trainer", None)
    write(results, out, time.perf_counter() - begin)
    return results


def write(results: dict, out: Path, seconds: float) -> None:
    results["seconds"] = round(seconds, 1)
    (out / "gpu.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (out / "gpu.md").write_text(body(results) + "\n")


def run() -> str:
    """The harness's entry: only on CUDA, never a CPU stand-in for the GPU section."""
    if not torch.cuda.is_available():
        raise SystemExit(
            "benchmarks gpu needs a CUDA device and none is visible; the gpu section is left "
            "as it was (use `python -m benchmarks.gpu --dry-run --out DIR` to try it on CPU)"
        )
    from minilvdm.core.config import output_dir

    return body(check(output_dir() / "gpu"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder for gpu.json and gpu.md")
    parser.add_argument("--dry-run", action="store_true", help="ci sizes, a couple of steps")
    parser.add_argument("--minutes", type=float, default=8.0, help="time guard for the whole check")
    parser.add_argument("--train-minutes", type=float, default=2.0, help="LVDM training time")
    parser.add_argument("--from-json", type=Path, help="write the BENCHMARKS.md section from a gpu.json")
    args = parser.parse_args(argv)
    if args.from_json:
        from benchmarks.__main__ import write_section

        r = json.loads(args.from_json.read_text())
        if r["dry_run"]:
            raise SystemExit(f"{args.from_json} is a dry run; it does not go into BENCHMARKS.md")
        write_section(
            "gpu",
            body(r),
            PROFILE,
            machine_text=r["device"]["machine"],
            date=r["date"],
            command="python -m benchmarks.gpu --out DIR, section by --from-json DIR/gpu.json",
        )
        return 0
    if args.out is None:
        parser.error("--out DIR is needed (or --from-json FILE)")
    if not args.dry_run and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: run with --dry-run for the CPU smoke test")
    r = check(args.out, args.minutes, args.train_minutes, args.dry_run)
    print(body(r))
    print(f"wrote {args.out / 'gpu.json'} and {args.out / 'gpu.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
