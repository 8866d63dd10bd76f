"""Long videos (LVDM section 3.3): drift ablation, generation speed, memory against length.

Ablation: long Moving MNIST videos under conditional latent perturbation (models trained
with S_max > 0, sampled at s = S_max/2.5; or trained with S_max = 0, conditions clean) x
unconditional guidance (w = 0.1 or 0), hierarchical, plus the plain autoregressive
baseline (a predictor trained on consecutive latent frames, no interpolation). Drift is
measured per window of frames by `minilvdm.eval.drift` with 95% bootstrap intervals over
videos. Memory: a fresh subprocess per length, peak resident memory during generation.

Everything is reused when present: checkpoints (outputs/checkpoints) and finished videos
(outputs/bench_long), so an interrupted run picks up where it stopped.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch

from benchmarks import figure_link, figure_path
from minilvdm.core.config import by_profile, get_profile, output_dir
from minilvdm.eval import frame_features, real_clips
from minilvdm.eval.drift import drift_curves, plot_drift
from minilvdm.eval.frechet import frechet_distance
from minilvdm.methods.long_video import LongVideoConfig, load_long_video
from minilvdm.methods.long_video.models import (
    build_generator,
    default_long_config,
    sampling_weights,
    train_long_model,
)

# name -> (mode, models trained with perturbation, guidance w, DDIM eta, init of the models,
# guides: '' = LVDM's unconditional guidance, 'scratch' = autoguidance by the from-scratch pair)
SETTINGS = {
    "hierarchical, perturbation + guidance (LVDM)": ("hierarchical", True, 0.1, 0.0, "", ""),
    "hierarchical, perturbation only": ("hierarchical", True, 0.0, 0.0, "", ""),
    "hierarchical, guidance only": ("hierarchical", False, 0.1, 0.0, "", ""),
    "hierarchical, neither": ("hierarchical", False, 0.0, 0.0, "", ""),
    "autoregressive, perturbation + guidance": ("autoregressive", True, 0.1, 0.0, "", ""),
    # the short clips' sampler (presets.py sample_eta: eta 1 won the recipe study's sweep)
    "hierarchical, perturbation + guidance, eta 1": ("hierarchical", True, 0.1, 1.0, "", ""),
    # both models warm-started from the classroom LVDM (44 CPU-minutes of digits and motion),
    # then trained for the same steps: the keyframes start from a model that draws digits
    "hierarchical, perturbation + guidance, warm start": ("hierarchical", True, 0.1, 0.0, "classroom", ""),
    "hierarchical, perturbation + guidance, warm start, eta 1": (
        "hierarchical",
        True,
        0.1,
        1.0,
        "classroom",
        "",
    ),
    # the control for autoguidance: the same w on the warm pair's own unconditional path
    "hierarchical, perturbation + guidance w = 1, warm start": (
        "hierarchical",
        True,
        1.0,
        0.0,
        "classroom",
        "",
    ),
    # autoguidance (Karras et al. 2024): the warm pair guided by the from-scratch pair, the same
    # tasks learned worse, in place of the unconditional path; w = 1 is their s = 2, which lifted
    # the short-clip classroom model 0.66 -> 0.79 (BENCHMARKS.md `autoguidance`)
    "hierarchical, warm start, autoguided by the from-scratch pair (w = 0.5)": (
        "hierarchical",
        True,
        0.5,
        0.0,
        "classroom",
        "scratch",
    ),
    "hierarchical, warm start, autoguided by the from-scratch pair (w = 1)": (
        "hierarchical",
        True,
        1.0,
        0.0,
        "classroom",
        "scratch",
    ),
    "hierarchical, warm start, autoguided by the from-scratch pair (w = 2)": (
        "hierarchical",
        True,
        2.0,
        0.0,
        "classroom",
        "scratch",
    ),
    "hierarchical, warm start, autoguided by the from-scratch pair (w = 1), eta 1": (
        "hierarchical",
        True,
        1.0,
        1.0,
        "classroom",
        "scratch",
    ),
}


def sizes() -> dict:
    return {
        "frames": by_profile(ci=64, quick=1024, full=1024),
        "videos": by_profile(ci=2, quick=3, full=16),
        "steps": by_profile(ci=2, quick=10, full=50),
        "window": by_profile(ci=32, quick=128, full=128),
        "real_clips": by_profile(ci=16, quick=256, full=1024),
        "speed_frames": by_profile(ci=32, quick=128, full=1024),
        "memory_frames": by_profile(ci=(32, 64, 128), quick=(128, 512, 2048), full=(128, 512, 2048)),
    }


_MODELS: dict = {}


def models(mode: str, perturb: bool, init: str = "", progress: bool = False):
    """(predictor, interpolator or None, vae, [trainers]) for a setting; trained once, then reused."""
    from minilvdm.vae import train_vae

    key = (mode, perturb, init)
    if key not in _MODELS:
        vae_trainer = train_vae("mnist", progress=progress)
        if init == "classroom" and get_profile() == "ci":  # seconds in ci; quick and full need it here
            from minilvdm.methods.classroom import classroom_lvdm

            classroom_lvdm(vae_trainer, train=True, progress=progress)
        stride = None if mode == "hierarchical" else 1  # None: long_stride("mnist"), as the interpolator
        pred_t, pred = train_long_model(
            default_long_config("predict", perturb=perturb, stride=stride, init=init),
            vae_trainer=vae_trainer,
            progress=progress,
        )
        trainers, interp = [pred_t], None
        if mode == "hierarchical":
            interp_t, interp = train_long_model(
                default_long_config("interp", perturb=perturb, init=init),
                vae_trainer=vae_trainer,
                progress=progress,
            )
            trainers.append(interp_t)
        _MODELS[key] = (pred, interp, vae_trainer.ema.module.eval(), trainers)
    return _MODELS[key]


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def generate_setting(name: str, progress: bool = False) -> dict:
    """The setting's videos (B, 1, N, H, W) and generation seconds; reused when finished."""
    mode, perturb, w, eta, init, guide = SETTINGS[name]
    z = sizes()
    pred, interp, vae, trainers = models(mode, perturb, init)
    guides = (None, None)
    if guide == "scratch":  # the from-scratch pair of the same mode: its models and checkpoints
        guide_pred, guide_interp, _, guide_trainers = models(mode, perturb, "")
        guides, trainers = (guide_pred, guide_interp), [*trainers, *guide_trainers]
    tag = "-".join(t.ckpt_path.stem.rsplit("-", 1)[-1] for t in trainers)  # the checkpoints' config hashes
    weights = sampling_weights()
    out = (
        output_dir()
        / "bench_long"
        / f"{slug(name)}-{z['frames']}f-{z['videos']}v-{z['steps']}st-{weights}-{tag}"
    )
    timing = out / "timing.json"
    if not timing.exists():
        cfg = LongVideoConfig(
            frames=z["frames"], mode=mode, steps=z["steps"], eta=eta, guidance=w, seed=0, videos=z["videos"]
        )
        resumed = (out / "state.pt").exists()
        start = time.perf_counter()
        build_generator(pred, interp, vae, cfg, guides=guides).generate(out, progress=progress)
        seconds = time.perf_counter() - start
        timing.write_text(json.dumps({"seconds": seconds, "resumed": resumed}))
    return {"videos": load_long_video(out / "video.npy"), **json.loads(timing.read_text())}


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure_memory(frames: int) -> dict:
    """Run in a fresh process: peak resident memory while generating `frames` frames, above
    the memory held once models are loaded. Peak RSS is the kernel's high-water mark (VmHWM,
    reset through /proc/self/clear_refs), which sees torch's CPU allocations and also the
    touched pages of the output memory map; peak anonymous RSS (sampled every 5 ms) leaves
    the file-backed output out."""
    pred, interp, vae, _ = models("hierarchical", True)
    cfg = LongVideoConfig(frames=frames, steps=1, guidance=0.1)
    gen = build_generator(pred, interp, vae, cfg)
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    rss0, anon0 = _rss_kb("VmRSS"), _rss_kb("RssAnon")
    peak_anon, done = [anon0], threading.Event()

    def sample():
        while not done.is_set():
            peak_anon.append(_rss_kb("RssAnon"))
            time.sleep(0.005)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    with tempfile.TemporaryDirectory() as tmp:
        gen.generate(tmp, progress=False)
    done.set()
    thread.join()
    return {
        "frames": frames,
        "rss0_mb": rss0 / 1024,
        "peak_delta_mb": (_rss_kb("VmHWM") - rss0) / 1024,
        "anon_delta_mb": (max(peak_anon) - anon0) / 1024,
        "latent_buffer": gen.decoder.max_buffer,
    }


def memory_rows(lengths) -> list[dict]:
    rows = []
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    root = Path(__file__).resolve().parent.parent
    for n in lengths:
        cmd = [sys.executable, "-m", "benchmarks.long_video", "memory", str(n)]
        done = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return rows


def speed_row(mode: str, frames: int, steps: int) -> dict:
    pred, interp, vae, _ = models(mode, True)
    cfg = LongVideoConfig(frames=frames, mode=mode, steps=steps, guidance=0.1)
    with tempfile.TemporaryDirectory() as tmp:
        start, cpu = time.perf_counter(), time.process_time()
        result = build_generator(pred, interp, vae, cfg).generate(tmp, progress=False)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"mode": mode, "frames": frames, "seconds": seconds, "cpu": cpu, "rounds": result["rounds"]}


def speed_and_memory() -> dict:
    """Speed rows and memory rows, cached per checkpoints and sizes (a finished run is reused)."""
    z = sizes()
    tag = "-".join(t.ckpt_path.stem.rsplit("-", 1)[-1] for t in models("hierarchical", True)[3])
    tag += "-" + "-".join(t.ckpt_path.stem.rsplit("-", 1)[-1] for t in models("autoregressive", True)[3])
    path = (
        output_dir()
        / "bench_long"
        / f"speed-memory-{z['speed_frames']}f-{z['steps']}st-{sampling_weights()}-{tag}.json"
    )
    if not path.exists():
        speed = [speed_row(m, z["speed_frames"], z["steps"]) for m in ("hierarchical", "autoregressive")]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"speed": speed, "memory": memory_rows(z["memory_frames"])}))
    return json.loads(path.read_text())


def step_cpu_seconds(model, frames: int, batch_size: int, latent: tuple, steps: int = 3) -> float:
    """CPU seconds (this process, one thread) per training step of a copy of `model`, after a warm-up:
    less sensitive than wall time to other jobs sharing the cores."""
    import copy

    net = copy.deepcopy(model).train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    c, h, w = latent
    z = torch.randn(batch_size, c, frames, h, w)  # (B, C, frames, h, w) latents

    def step():
        loss = net(z)
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()
    start = time.process_time()
    for _ in range(steps):
        step()
    return (time.process_time() - start) / steps


def fmt(ci, digits=2) -> str:
    value, low, high = ci
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def run() -> str:
    z = sizes()
    real = real_clips("mnist", z["real_clips"])[0]
    real_ff = frame_features(real)  # (M, D)
    floor_clips = z["videos"] * z["window"] // 16  # as many real frames as one window holds
    floor = frechet_distance(frame_features(real_clips("mnist", floor_clips, part=1)[0]), real_ff)

    curves, table, gen_rows = {}, [], []
    for name in SETTINGS:
        result = generate_setting(name)
        c = drift_curves(result["videos"], real_ff, window=z["window"])
        curves[name] = c
        table.append(
            f"| {name} | {fmt(c['frame_fd'][0], 1)} | {fmt(c['frame_fd'][-1], 1)} | "
            f"{fmt(c['change']['frame_fd'], 1)} | {fmt(c['recognisability'][0])} | "
            f"{fmt(c['recognisability'][-1])} | {fmt(c['change']['recognisability'])} | "
            f"{fmt(c['persistence'][-1])} | {fmt(c['slope']['frame_fd'], 1)} | "
            f"{fmt(c['slope']['persistence'])} |"
        )
        n_frames = result["videos"].shape[0] * result["videos"].shape[2]
        gen_rows.append(
            f"| {name} | {result['seconds']:.0f}{' (resumed)' if result['resumed'] else ''} | "
            f"{n_frames / result['seconds']:.2f} | | |"
        )
    first = next(iter(curves.values()))
    plot_drift(
        curves,
        figure_path("long_video_drift.png"),
        title=f"{first['videos']} videos x {z['frames']} frames per setting, {z['steps']} DDIM steps, "
        f"windows of {z['window']} frames, 95% bootstrap over videos (profile {get_profile()})",
    )

    train_rows, seen = [], set()
    for mode, perturb, _, _, init, _ in SETTINGS.values():
        vae = models(mode, perturb, init)[2]
        c, _, h, w = vae.cfg.latent_shape(vae.cfg.time_factor, 64, 64)
        for t in models(mode, perturb, init)[3]:
            if t.ckpt_path in seen:
                continue
            seen.add(t.ckpt_path)
            m = t.configs["model"]  # the LongModelConfig, as a dict
            what = f"{m['role']} (stride {m['stride']}, S_max {m['condition']['perturb_max']})"
            what += ", warm start" if m.get("init") else ""
            frames = m["clip"] if m["role"] == "predict" else m["stride"] + 1
            cpu = step_cpu_seconds(t.model, frames, t.config.batch_size, (c, h, w))
            train_rows.append(
                f"| {what} | {t.config.steps} x {t.config.batch_size} | {t.seconds / 60:.1f} | "
                f"{cpu:.2f} | {cpu * t.config.steps / 60:.1f} | "
                f"{sum(h[1] for h in t.history[-50:]) / len(t.history[-50:]):.3f} |"
            )
    measured = speed_and_memory()
    speed, memory = measured["speed"], measured["memory"]

    lines = [
        "### Drift ablation",
        "",
        f"{first['videos']} videos of {z['frames']} frames per setting (generated as one batch, seed 0), "
        f"{z['steps']} DDIM steps per clip; perturbation: models trained with S_max = 1/4 of the diffusion "
        "steps and sampled with s = 1/10 (LVDM's 250 and 100 of 1000), or trained with S_max = 0 and "
        "given clean conditions; guidance: LVDM's w = 0.1, or 0; autoguided rows: (1 + w) D - w D_guide "
        "with the from-scratch model of the same task as D_guide (seeing the same conditions), w = 0.5, 1 "
        "or 2; DDIM eta 0 unless the row says eta 1. "
        "Metrics per window of "
        f"{z['window']} frames against {z['real_clips']} held-out real clips; [95% bootstrap interval], "
        "resampling whole videos. Change = last window - first window; slope = least-squares slope over all "
        "windows (drift: FD up, recognisability and identity down). "
        f"Real-vs-real frame FD at the same frame count: {floor:.1f}.",
        "",
        "| setting | frame FD first | frame FD last | FD change | recognisable first | recognisable last | "
        "recognisable change | identity kept, last window | frame FD slope / 1000 frames | "
        "identity kept slope / 1000 frames |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *table,
        "",
        f"![drift per window]({figure_link(figure_path('long_video_drift.png'))})",
        "",
        "### Training (quick profile budget: both models of a pair in at most 20 min on 2 CPU cores)",
        "",
        "| model | steps x batch | training wall minutes (trainer's clock) | CPU s / step | CPU minutes "
        "(steps x CPU s / step) | loss, last 50 steps |",
        "| --- | --- | --- | --- | --- | --- |",
        *train_rows,
        "",
        "Wall minutes are each trainer's own clock, from whenever it trained (some at one thread beside "
        "other jobs, some alone at two), so compare the CPU columns; CPU seconds per step are measured "
        f"here ({torch.get_num_threads()} torch threads) on a copy of each model (3 steps after a "
        "warm-up). Latents of the training clips are encoded "
        "once (one cache shared by all the models). Warm start: both models of a pair start from the "
        "classroom LVDM (`LongModelConfig.init`; its 44 CPU-minutes of training are not counted here).",
        "",
        "### Generation speed",
        "",
        "| run | wall seconds | frames/s (wall) | CPU seconds | frames/s (CPU time) |",
        "| --- | --- | --- | --- | --- |",
        *[
            f"| one video, {s['mode']}, {s['frames']} frames, w = 0.1 ({s['rounds']} prediction rounds) | "
            f"{s['seconds']:.0f} | {s['frames'] / s['seconds']:.2f} | {s['cpu']:.1f} | "
            f"{s['frames'] / s['cpu']:.2f} |"
            for s in speed
        ],
        *[r.replace("| ", f"| batch of {first['videos']}: ", 1) for r in gen_rows],
        "",
        f"{z['steps']} DDIM steps per clip; with w > 0 each step runs the network twice (conditional and "
        "unconditional). Includes VAE decoding and writing the .npy and MP4; this run: "
        f"{torch.get_num_threads()} torch threads. A batch reused from an earlier run keeps that run's "
        "wall time (taken at whatever else the machine ran then), so frames/s by CPU time is the figure "
        "to compare across runs and machines.",
        "",
        "### Peak memory against length",
        "",
        "| frames | peak RSS above loaded models (MB) | peak anonymous RSS above loaded (MB) | "
        "latent frames held | RSS with models loaded (MB) |",
        "| --- | --- | --- | --- | --- |",
        *[
            f"| {m['frames']} | {m['peak_delta_mb']:.1f} | {m['anon_delta_mb']:.1f} | {m['latent_buffer']} | "
            f"{m['rss0_mb']:.0f} |"
            for m in memory
        ],
        "",
        "A fresh process per length, hierarchical, w = 0.1, 1 DDIM step (memory per clip does not depend "
        "on the step count). Peak RSS is the kernel's high-water mark (VmHWM, reset after loading the "
        "models), which counts torch's CPU allocations and the touched pages of the file-backed output "
        "memory map; anonymous RSS (sampled every 5 ms) leaves the file-backed pages out.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "memory":
        print(json.dumps(measure_memory(int(sys.argv[2]))))
    elif len(sys.argv) == 2 and sys.argv[1] == "extras":  # speed and memory rows, cached
        print(json.dumps(speed_and_memory()))
    elif len(sys.argv) == 3 and sys.argv[1] == "generate":  # pre-generate one setting (parallel runs)
        result = generate_setting(list(SETTINGS)[int(sys.argv[2])], progress=True)
        print(result["seconds"], tuple(result["videos"].shape))
    else:
        print("usage: python -m benchmarks.long_video memory FRAMES | generate SETTING_INDEX | extras")
