"""Training data, labels, losses and held-out accuracy of the evaluator networks.

    python -m minilvdm train-evaluators      # retrains all four, rewrites minilvdm/weights/

Moving MNIST evaluators see clips with 1 to 3 digits drawn from the TRAIN split of the
digit images and are scored on the TEST split (digits they never saw). The digit reader
also sees frames without a digit (`negatives.py`) and is scored on how many fresh ones it
rejects. The sky encoder sees skies made on the fly by the same procedure as `data/sky.py`
(its `sky_frame`), with the generator's own parameters as regression targets.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..core.config import SEED_MIX
from ..core.train import TrainConfig, Trainer, checkpoint_path
from ..data import MovingMNIST
from ..data.sky import SyntheticSkyConfig, synthetic_sky_clips
from .evaluators import CLIP_FRAMES, DIRECTIONS, FRAME_KINDS, SIZE, build, default_config
from .metrics import confident_from_probs
from .negatives import FAMILIES, blur_frames, make_family, negatives

SKY_SOURCE = SyntheticSkyConfig()  # the generator settings the sky encoder imitates
SKY_POOL = 384  # distinct training skies
# Regression targets are standardised: (value - mean) / scale, per SKY label.
SKY_TARGET_MEAN = torch.tensor([0.65, 0.0, 0.0, 0.45, 0.55])
SKY_TARGET_SCALE = torch.tensor([0.2, 1.0, 1.0, 0.17, 0.2])


def training_plan(kind: str, steps: int | None = None) -> TrainConfig:
    """Fixed (not per profile): the committed weights are the product of exactly this."""
    plans = {
        "mnist_frame": (800, 32),
        "mnist_reader": (1600, 32),
        "mnist_clip": (300, 32),
        "sky_clip": (300, 32),
    }
    plan = plans[kind]
    return TrainConfig(
        steps=steps or plan[0], batch_size=plan[1], lr=2e-3, warmup=30, ema_decay=0.99, ckpt_every=100
    )


# ----------------------------------------------------------------------------- Moving MNIST


def mnist_data(split: str, seed: int, min_digits: int = 1, max_digits: int = 3) -> MovingMNIST:
    return MovingMNIST(
        split=split, seed=seed, min_digits=min_digits, max_digits=max_digits, frames=CLIP_FRAMES
    )


def digit_targets(digits: torch.Tensor) -> torch.Tensor:
    """(B, 3) classes, -1 absent -> (B, 10) multi-hot presence."""
    hot = torch.zeros(len(digits), 10)
    for slot in range(digits.shape[1]):
        present = digits[:, slot] >= 0
        hot[present, digits[present, slot]] = 1.0
    return hot


def direction_bins(velocity: torch.Tensor) -> torch.Tensor:
    """(..., 2) velocity (x, y) -> direction bin in 0..7 (bin k is centred on k * 45 degrees)."""
    angle = torch.atan2(velocity[..., 1], velocity[..., 0])  # (-pi, pi]
    return torch.round(angle / (2 * math.pi / DIRECTIONS)).long() % DIRECTIONS


def motion_targets(batch: dict) -> torch.Tensor:
    """(B, 8) histogram of the motion directions of all digits over all frames (bounces
    turn a digit, so a clip holds several directions); rows sum to 1."""
    vel = batch["velocities"]  # (B, T, 3, 2), NaN for absent digits
    present = ~torch.isnan(vel[..., 0])  # (B, T, 3)
    bins = direction_bins(torch.nan_to_num(vel))  # (B, T, 3)
    hist = F.one_hot(bins, DIRECTIONS).float() * present[..., None]
    hist = hist.sum(dim=(1, 2))
    return hist / hist.sum(1, keepdim=True).clamp(min=1)


def mnist_clip_loss(model, batch) -> torch.Tensor:
    out = model(batch["video"])  # (B, 10 + 8)
    presence, direction = out[:, :10], out[:, 10:]
    loss = F.binary_cross_entropy_with_logits(presence, batch["presence"])
    return loss + F.cross_entropy(direction, batch["direction"])  # soft targets: the histogram


def mnist_frame_loss(model, batch) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(model(batch["frames"]), batch["presence"])


def mnist_clip_batch(ds: MovingMNIST, step: int, size: int) -> dict:
    raw = ds.batch(step * size, size)
    return {"video": raw["video"], "presence": digit_targets(raw["digits"]), "direction": motion_targets(raw)}


def mnist_frame_batch(ds: MovingMNIST, step: int, size: int, per_clip: int = 4) -> dict:
    """`size` clips, `per_clip` random frames of each: (size * per_clip, 1, 64, 64)."""
    raw = ds.batch(step * size, size)
    gen = torch.Generator().manual_seed(step)
    pick = torch.randint(0, raw["video"].shape[2], (size, per_clip), generator=gen)
    frames = raw["video"][torch.arange(size)[:, None], :, pick]  # (size, per_clip, 1, H, W)
    presence = digit_targets(raw["digits"]).repeat_interleave(per_clip, 0)
    return {"frames": frames.reshape(-1, 1, SIZE, SIZE), "presence": presence}


def mnist_reader_batch(ds: MovingMNIST, step: int, size: int, negative_share: float = 0.3) -> dict:
    """`mnist_frame_batch` plus non-digit frames (labels all off), `negative_share` of the
    batch. A quarter of the digit frames are softened (blur std 0.3-1.3 px): a VAE's slight
    blur must still read as a digit, the heavy blur of the negatives must not."""
    batch = mnist_frame_batch(ds, step, size)
    gen = torch.Generator().manual_seed(SEED_MIX * (step + 1))
    frames = batch["frames"].clone()  # (N, 1, 64, 64)
    soft = len(frames) // 4
    sigma = 0.3 + float(torch.rand(1, generator=gen))
    frames[:soft] = blur_frames(frames[:soft], sigma)
    n_neg = round(len(frames) * negative_share / (1 - negative_share))
    neg = negatives(batch["frames"], n_neg, gen)
    return {
        "frames": torch.cat([frames, neg]),
        "presence": torch.cat([batch["presence"], torch.zeros(n_neg, 10)]),
    }


# ----------------------------------------------------------------------------- synthetic sky


def sky_targets(labels: torch.Tensor) -> torch.Tensor:
    """(B, 4) SKY labels -> (B, 5) standardised targets (speed, cos dir, sin dir, cover, tod)."""
    raw = torch.stack([labels[:, 0], labels[:, 1].cos(), labels[:, 1].sin(), labels[:, 2], labels[:, 3]], 1)
    return (raw - SKY_TARGET_MEAN) / SKY_TARGET_SCALE


def sky_predictions(outputs: torch.Tensor) -> torch.Tensor:
    """(B, 5) network outputs -> (B, 4) SKY labels."""
    raw = outputs * SKY_TARGET_SCALE + SKY_TARGET_MEAN
    return torch.stack([raw[:, 0], torch.atan2(raw[:, 2], raw[:, 1]), raw[:, 3], raw[:, 4]], 1)


def sky_loss(model, batch) -> torch.Tensor:
    return F.mse_loss(model(batch["video"]), sky_targets(batch["labels"]))


# ----------------------------------------------------------------------------- held-out accuracy


@torch.no_grad()
def mnist_accuracy(model, clips: int = 512, seed: int = 1234) -> dict:
    """On TEST-split digits, 2 per clip (the standard data): digit accuracy = fraction of true
    digits among the top-n predicted classes (n = distinct digits in the clip); exact-set
    accuracy at p > 0.5; for the clip encoder also its motion-direction histogram: how often
    its top bin is the clip's most frequent direction (8 bins of 45 degrees; exact and
    within one bin), and the total variation distance between the histograms (0 = exact)."""
    ds = mnist_data("test", seed, 2, 2)
    hits = total = exact = items = 0
    dir_hits = dir_near = dir_total = 0
    tv_sum = 0.0
    for start in range(0, clips, 64):
        raw = ds.batch(start, min(64, clips - start))
        truth = digit_targets(raw["digits"])
        if model.config.kind in FRAME_KINDS:
            probs = model.frame_probs(raw["video"]).reshape(-1, 10)  # every frame
            truth = truth.repeat_interleave(raw["video"].shape[2], 0)
        else:
            out = model(raw["video"].float())
            probs = torch.sigmoid(out[:, :10])
            hist = motion_targets(raw)
            guess = F.softmax(out[:, 10:], -1)
            diff = (guess.argmax(1) - hist.argmax(1)).abs() % DIRECTIONS
            dir_hits += (diff == 0).sum().item()
            dir_near += (torch.minimum(diff, DIRECTIONS - diff) <= 1).sum().item()
            dir_total += len(out)
            tv_sum += 0.5 * (guess - hist).abs().sum().item()
        n = truth.sum(1).long()
        order = probs.argsort(1, descending=True)
        for row in range(len(probs)):
            hits += truth[row, order[row, : n[row]]].sum().item()
        total += n.sum().item()
        exact += ((probs > 0.5).float() == truth).all(1).sum().item()
        items += len(probs)
    result = {"digit_accuracy": hits / total, "exact_set_accuracy": exact / items, "held_out_items": items}
    if dir_total:
        result |= {
            "direction_top_bin_accuracy": dir_hits / dir_total,
            "direction_top_bin_within_45deg": dir_near / dir_total,
            "direction_histogram_total_variation": tv_sum / dir_total,
        }
    return result


@torch.no_grad()
def sky_accuracy(model, clips: int = 256, seed: int = 4321) -> dict:
    """On generator draws never used in training: mean absolute error of each parameter."""
    videos, labels = synthetic_sky_clips(clips, seed, cfg=SKY_SOURCE)
    pred = torch.cat([sky_predictions(model(videos[i : i + 64])) for i in range(0, clips, 64)])
    angle = torch.remainder(pred[:, 1] - labels[:, 1] + math.pi, 2 * math.pi) - math.pi
    return {
        "wind_speed_mae_px_per_frame": (pred[:, 0] - labels[:, 0]).abs().mean().item(),
        "wind_speed_range": [round(labels[:, 0].min().item(), 3), round(labels[:, 0].max().item(), 3)],
        "wind_direction_mae_deg": math.degrees(angle.abs().mean().item()),
        "cover_mae": (pred[:, 2] - labels[:, 2]).abs().mean().item(),
        "time_of_day_mae": (pred[:, 3] - labels[:, 3]).abs().mean().item(),
        "held_out_items": clips,
    }


@torch.no_grad()
def reader_rejection(model, per_family: int = 256, seed: int = 4242, threshold: float = 0.8) -> dict:
    """Per negative family, built from TEST-split frames with a seed training never used:
    the share of frames in which no class reaches `threshold` (1 = all rejected)."""
    clips = mnist_data("test", seed, 2, 2).batch(0, per_family)["video"]  # (N, 1, T, 64, 64)
    frames = clips[:, :, 0]  # (N, 1, 64, 64)
    out = {}
    for name in FAMILIES:
        fakes = make_family(name, frames, torch.Generator().manual_seed(seed + len(out)))
        probs = model.frame_probs(fakes[:, :, None])  # (N, 1, 10)
        out[f"rejects_{name}"] = (~confident_from_probs(probs, threshold)).float().mean().item()
    return out


def held_out_metrics(model) -> dict:
    if model.config.kind == "sky_clip":
        return sky_accuracy(model)
    metrics = mnist_accuracy(model)
    return metrics | reader_rejection(model) if model.config.kind in FRAME_KINDS else metrics


# ----------------------------------------------------------------------------- training


def train_evaluator(kind: str, steps: int | None = None, progress: bool = True):
    """Train evaluator `kind` with the shared Trainer; returns the EMA model in eval mode."""
    cfg, plan = default_config(kind), training_plan(kind, steps)
    model = build(cfg)
    if cfg.stem:  # start from the (already trained) frame classifier's first blocks
        from .evaluators import load_evaluator

        model.stem.load_state_dict(load_evaluator(cfg.stem).state_dict())
    size = plan.batch_size
    if kind == "sky_clip":
        # Rendering skies costs ~70 ms a clip on a CPU, so a fixed pool is drawn once
        # (as uint8, like the JPEGs on disk) and mirrored left-right at random (a mirror
        # turns wind direction a into pi - a).
        videos, labels = synthetic_sky_clips(SKY_POOL, seed=10_000, cfg=SKY_SOURCE)
        pool = ((videos + 1) * 127.5).round().to(torch.uint8)

        def batch_fn(step, rank, world):
            gen = torch.Generator().manual_seed(step * world + rank)
            pick = torch.randint(0, SKY_POOL, (size,), generator=gen)
            video, label = pool[pick].float() / 127.5 - 1, labels[pick].clone()
            flip = torch.rand(size, generator=gen) < 0.5
            video[flip] = video[flip].flip(-1)
            label[flip, 1] = torch.remainder(math.pi - label[flip, 1] + math.pi, 2 * math.pi) - math.pi
            return {"video": video, "labels": label}

        loss_fn = sky_loss
    else:
        ds = mnist_data("train", seed=7)
        if kind == "mnist_clip":
            batch_fn, loss_fn = (
                (lambda step, rank, world: mnist_clip_batch(ds, step * world + rank, size)),
                mnist_clip_loss,
            )
        else:
            make = mnist_reader_batch if kind == "mnist_reader" else mnist_frame_batch
            batch_fn = lambda step, rank, world: make(ds, step * world + rank, size)
            loss_fn = mnist_frame_loss
    ckpt = checkpoint_path(f"evaluator_{kind}", cfg, plan)
    trainer = Trainer(
        model, loss_fn, batch_fn, plan, ckpt_path=ckpt, model_config=cfg, progress=progress
    ).fit()
    ema = trainer.ema.module.cpu().eval().requires_grad_(False)
    ema.config = cfg
    return ema, trainer
