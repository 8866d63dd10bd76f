"""The long-video pairs against issue 20's headline target (recognisable >= 0.85 in every
128-frame window of a 1024-frame Moving MNIST video): the quick warm pairs (400 steps on 512
clips, warm-started from the classroom LVDMs, self-conditioned as the package trains them) with
LVDM's guidance (w = 0.1) or autoguided (w = 1) by the from-scratch quick pair; the class-
conditional pair given each video's first digit, with classifier-free guidance on it at DDIM eta
0 and 1; each again without self-conditioning (the ablation); and the long-budget pairs
(`classroom_long_pair`: 4,000 steps each on 2,048 clips, unconditional and class-conditional)
where they have been trained, the class-conditional one's best setting again on 8 videos. Per
window: recognisability and identity kept, 95% bootstrap over videos (`minilvdm.eval.drift`).
Videos are reused from outputs/bench_long when finished. The class-conditional long-budget pair
ships with the classroom weights; the unconditional one must be trained once
(`classroom_long_pair(train=True)`, about 50 CPU-minutes); the shipped weights supply the rest,
and the quick pairs train here when they are missing (about 5 CPU-minutes each).

    MINILVDM_WEIGHTS=shipped python -m benchmarks long_classroom --profile quick
"""

from __future__ import annotations

import json
import time

import torch

from benchmarks import figure_link, figure_path
from minilvdm.core.config import by_profile, get_profile, output_dir
from minilvdm.core.presets import preset
from minilvdm.eval import bootstrap_ci, frame_features, real_clips
from minilvdm.eval.drift import drift_curves, plot_drift
from minilvdm.eval.metrics import CLIP_FRAMES, segment_digits
from minilvdm.methods.long_video import LongVideoConfig, classroom_long_pair, load_long_video
from minilvdm.methods.long_video.models import build_generator, default_long_config, train_long_model

from .long_video import fmt, slug

TARGET = 0.85  # issue 20: recognisable in every window
ISSUE19_TARGET = 0.70  # issue 19: recognisable in every window, and identity kept in the last
LONG, QUICK, SCRATCH = "long budget", "quick, warm start (400 steps)", "from scratch (400 steps)"
COND = "class-conditional quick warm pair (400 steps)"
COND_LONG = "class-conditional long budget"
PLAIN = ", without self-conditioning"  # the ablation's pairs: QUICK + PLAIN, COND + PLAIN
LONG_OF = {LONG: QUICK, COND_LONG: COND}  # each long-budget pair and the quick pair it extends
COND_W = 6.0  # LVDM's form of classifier-free s = 7, the class-conditional classroom LVDM's best (`guidance`)


def sizes() -> dict:
    return {
        "frames": by_profile(ci=64, quick=1024, full=1024),
        "videos": by_profile(ci=2, quick=3, full=8),
        "steps": by_profile(ci=2, quick=25, full=50),
        "window": by_profile(ci=32, quick=128, full=128),
        "real_clips": by_profile(ci=16, quick=256, full=1024),
    }


def pairs(progress: bool = False) -> dict:
    """name -> (trainers, predictor, interpolator, vae) for the quick warm and from-scratch pairs,
    their ablation without self-conditioning, and the long-budget pairs found (trained here only
    in the ci profile: seconds)."""
    from minilvdm.methods.classroom import classroom_lvdm
    from minilvdm.vae import train_vae

    vae_trainer = train_vae("mnist", progress=progress)
    vae = vae_trainer.ema.module.eval()
    ci = get_profile() == "ci"
    if ci:
        classroom_lvdm(vae_trainer, train=True, progress=progress)
        classroom_lvdm(vae_trainer, train=True, progress=progress, conditional=True)
    out = {}
    for name, conditional in ((LONG, False), (COND_LONG, True)):
        found = classroom_long_pair(vae_trainer, train=ci, progress=progress, conditional=conditional)
        if found is not None:
            out[name] = ([t for t, _ in found], found[0][1], found[1][1], vae)
    for name, init, conditional, self_condition in (
        (QUICK, "classroom", False, None),
        (SCRATCH, "", False, None),
        (COND, "classroom", True, None),
        (QUICK + PLAIN, "classroom", False, False),
        (SCRATCH + PLAIN, "", False, False),
        (COND + PLAIN, "classroom", True, False),
    ):
        runs = [
            train_long_model(
                default_long_config(r, init=init, conditional=conditional, self_condition=self_condition),
                vae_trainer=vae_trainer,
                progress=progress,
            )
            for r in ("predict", "interp")
        ]
        out[name] = ([t for t, _ in runs], runs[0][1], runs[1][1], vae)
    return out


def generate(name: str, pair: tuple, guide: tuple | None, w: float, **overrides) -> dict:
    """Videos (B, 1, N, H, W) of one setting and generation seconds; reused when finished.
    overrides: other LongVideoConfig fields (perturb_level, eta, class_label, videos)."""
    z = sizes()
    videos = overrides.pop("videos", z["videos"])
    trainers, pred, interp, vae = pair
    guides = (None, None) if guide is None else (guide[1], guide[2])
    tags = [t.ckpt_path.stem.rsplit("-", 1)[-1] for t in trainers + (guide[0] if guide else [])]
    run_name = f"{slug(name)}-{z['frames']}f-{videos}v-{z['steps']}st-{'-'.join(tags)}"
    out = output_dir() / "bench_long" / run_name
    timing = out / "timing.json"
    if not timing.exists():
        cfg = LongVideoConfig(
            frames=z["frames"],
            steps=z["steps"],
            guidance=w,
            seed=0,
            videos=videos,
            **overrides,
        )
        start = time.perf_counter()
        build_generator(pred, interp, vae, cfg, guides=guides).generate(out, progress=False)
        timing.write_text(json.dumps({"seconds": time.perf_counter() - start}))
    return {"videos": load_long_video(out / "video.npy"), **json.loads(timing.read_text())}


def label_kept(videos, labels, window: int):
    """Share of the last window's 16-frame segments whose digit set (digit reader) holds the
    video's requested first digit, [95% bootstrap over videos]."""
    sets = segment_digits(videos)  # (B, K, 10): one set per CLIP_FRAMES-frame segment
    last = sets[:, -(window // CLIP_FRAMES) :, :]  # (B, k, 10)
    per_video = last[torch.arange(len(last)), :, torch.as_tensor(labels)].float().mean(1)  # (B,)
    return bootstrap_ci(lambda x: x.mean(), per_video)


def verdict(lowest: dict, identity: dict, intervals: dict | None = None) -> str:
    """From the table: the best row by its lowest window, each long-budget pair's gain over its
    quick pair, and the rows that meet issue 19's long-video target (every window >= 0.70,
    identity >= 0.70 at the end). intervals: each row's lowest window as (value, low, high), to
    say how far the best row's interval reaches (3 videos per row in quick)."""
    best = max(lowest, key=lowest.get)
    best_of = lambda pair: max(
        (v for k, v in lowest.items() if k.startswith(pair + ",") and PLAIN not in k), default=None
    )
    gains = [
        f"{long} against {quick}: {best_of(long) - best_of(quick):+.2f}"
        for long, quick in LONG_OF.items()
        if best_of(long) is not None and best_of(quick) is not None
    ]
    both = [k for k in lowest if lowest[k] >= ISSUE19_TARGET and identity[k] >= ISSUE19_TARGET]
    return (
        f"Best row by its lowest window: {best} ({lowest[best]:.2f}"
        + (f", 95% interval [{intervals[best][1]:.2f}, {intervals[best][2]:.2f}]" if intervals else "")
        + f"); issue 20's target ({TARGET:.2f} in every window) "
        f"{'is met by its point estimate' if lowest[best] >= TARGET else 'is not met'}. Long budget, best "
        f"row's lowest window: {'; '.join(gains) if gains else 'no long-budget pair trained here'}. "
        f"Issue 19's target (recognisable >= {ISSUE19_TARGET:.2f} in every window and identity kept >= "
        f"{ISSUE19_TARGET:.2f} in the last): "
        + ("; ".join(f"met by {k}" for k in both) if both else "met by no row")
        + "."
    )


def run() -> str:
    z = sizes()
    found = pairs()
    missing = ", ".join(n for n in LONG_OF if n not in found) or "none"
    scratch = found[SCRATCH]
    real_ff = frame_features(real_clips("mnist", z["real_clips"])[0])  # (M, D)
    settings = {}  # name -> (pair, guide, w, other LongVideoConfig fields)
    for name in (LONG, QUICK):
        if name in found:
            settings[f"{name}, LVDM guidance w = 0.1"] = (found[name], None, 0.1, {})
            settings[f"{name}, autoguided w = 1"] = (found[name], scratch, 1.0, {})
    plain = QUICK + PLAIN  # the ablation, guided by the from-scratch pair without it too
    settings[f"{plain}, autoguided w = 1"] = (found[plain], found[SCRATCH + PLAIN], 1.0, {})
    # one first digit per video (0, 1, 2, ...), classifier-free guidance on it; DDIM eta 0 (the
    # preset's for flow models) and 1: eta 1 kept more windows recognisable (session 19: 0.76-0.80
    # lowest against 0.72 at eta 0; session 21, self-conditioned: 0.71 at eta 0, s = 4 and 7)
    labels = tuple(range(z["videos"]))
    cond_rows = {
        COND: ((3.0, 1.0), (COND_W, 1.0), (9.0, 1.0), (COND_W, 0.0)),
        COND + PLAIN: ((3.0, 1.0),),
        COND_LONG: ((3.0, 1.0), (COND_W, 1.0)),
    }
    for pair, scales in cond_rows.items():
        for w, e in scales if pair in found else ():
            name = f"{pair}, digits {labels}, cfg s = {w + 1:g}" + (f", eta {e:g}" if e else "")
            settings[name] = (found[pair], None, w, {"class_label": labels, "eta": e})
    if COND_LONG in found:  # the best row again on more videos (quick: 8 instead of 3), one digit each
        more = tuple(range(by_profile(ci=2, quick=8, full=10)))
        name = f"{COND_LONG}, digits {more}, cfg s = 4, eta 1"
        settings[name] = (found[COND_LONG], None, 3.0, {"class_label": more, "eta": 1.0, "videos": len(more)})
    curves, rows, lowest, identity, lowest_ci = {}, [], {}, {}, {}
    for name, (pair, guide, w, overrides) in settings.items():
        result = generate(name, pair, guide, w, **overrides)
        c = drift_curves(result["videos"], real_ff, window=z["window"])
        labels = overrides.get("class_label")
        kept = "-" if labels is None else fmt(label_kept(result["videos"], labels, z["window"]))
        curves[name] = c
        recog = c["recognisability"]
        low = min(range(len(recog)), key=lambda i: recog[i][0])
        lowest[name], identity[name], lowest_ci[name] = recog[low][0], c["persistence"][-1][0], recog[low]
        rows.append(
            f"| {name} | {fmt(recog[0])} | {fmt(recog[-1])} | {fmt(recog[low])} (window {low}) | "
            f"{sum(r[0] >= TARGET for r in recog)} of {len(recog)} | {fmt(c['persistence'][-1])} | {kept} | "
            f"{fmt(c['frame_fd'][-1], 1)} | {result['seconds'] / 60:.1f} |"
        )
    plot_drift(
        curves,
        figure_path("long_classroom.png"),
        title=f"{z['videos']} videos x {z['frames']} frames, DDIM {z['steps']}, windows of {z['window']} "
        f"(profile {get_profile()})",
    )
    train_rows, p = [], preset("mnist")
    for name, (trainers, *_) in found.items():
        for t in trainers:
            m = t.configs["model"]
            last = t.history[-50:]
            train_rows.append(
                f"| {name}: {m['role']} | {t.config.steps} x {t.config.batch_size} | {t.seconds / 60:.1f} | "
                f"{sum(h[1] for h in last) / max(len(last), 1):.3f} |"
            )
    return "\n".join(
        [
            " ".join(
                [
                    f"{z['videos']} videos of {z['frames']} frames per row (one per digit where the row",
                    "lists more digits; one batch, seed 0), DDIM",
                    f"{z['steps']}; eta 0 and perturbation s = 100 of 1000 unless the row says; metrics",
                    f"per window of {z['window']} frames against {z['real_clips']} held-out real clips,",
                    "[95% bootstrap over videos]. Autoguided: D_guide + (1 + w)(D - D_guide) with the",
                    "from-scratch pair as D_guide (without self-conditioning for the ablation's row).",
                    f"Long-budget pairs not trained here: {missing}. Class-conditional: one",
                    "requested first digit per video, eps_null + s (eps_digit - eps_null) on the same",
                    "given frames; first digit kept = share of the last window's 16-frame segments whose",
                    "digit set holds it. Target (issue 20):",
                ]
            )
            + " "
            f"recognisable >= {TARGET} in every window; real clips 0.977.",
            "",
            "| setting | recognisable, first window | last window | lowest window | windows >= "
            f"{TARGET} | identity kept, last window | first digit kept, last window | frame FD, last "
            "window | generation min |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            verdict(lowest, identity, lowest_ci),
            "",
            f"![per window]({figure_link(figure_path('long_classroom.png'))})",
            "",
            "| model | steps x batch | training wall min | loss, last 50 steps |",
            "| --- | --- | --- | --- |",
            *train_rows,
            "",
            f"Training clips: {p.classroom_long_clips} (long budget), {p.long_clips} (quick pairs), 64 "
            "frames each. Generation and training wall minutes: the clock of runs at one thread beside "
            "another job or at two threads alone, so compare them only roughly; the warm pairs' "
            "classroom LVDMs (73 and 81 CPU-minutes) are not counted.",
        ]
    )
