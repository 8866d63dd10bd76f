"""Experiments of the image-to-video track (notebook 07, benchmarks/image_to_video.py).

    video_metrics(videos, real)         FVD, frame FD, frame change, recognisability
    forgetting(start, ...)              LaVie: continue on thicker digits, video only vs joint
    forgetting_rows(models, ...)        per-frame quality on the original distribution, per model
    flicker_with_and_without(vae_ckpt)  image decoder vs temporally fine-tuned decoder

Forgetting is measured where LaVie says it shows: per-frame quality on the ORIGINAL
distribution, of frames sampled in image mode (the image prior, temporal layers skipped)
and in video mode, with the frame classifier (recognisability) and the frame Fréchet
distance; the frame FD to thick real frames shows that the shift was learned.
"""

from __future__ import annotations

import torch

from ...core.presets import preset
from ...core.train import TrainConfig
from ...vae.latent_cache import VideoDataConfig
from ..lvdm import LatentVideoDiffusion
from .lifting import JointConfig, encode_clips, frames_of, sample_clips, thick_clips, train_video

THICKNESS = 1  # the shifted distribution: strokes dilated by a 3x3 max filter
SHIFT_START = 5_000_000  # clip indices of the shifted training set (disjoint from the original ones)


def default_shift_train_config() -> TrainConfig:
    return TrainConfig(**preset("mnist").shift_train.kwargs())


def shifted_latents(vae, frames: int, count: int | None = None, thickness: int = THICKNESS) -> torch.Tensor:
    """Latents of `count` thick-digit training clips under the per-frame VAE."""
    count = count or preset("mnist").shift_clips
    return encode_clips(vae, thick_clips(count, frames, thickness, start=SHIFT_START))


def video_metrics(videos: torch.Tensor, real: torch.Tensor) -> dict:
    """FVD (clip encoder: motion + content), frame FD (appearance), frame change and
    recognisability of generated clips against real clips of the same length."""
    from ...eval import frame_change, frame_frechet_distance, frechet_video_distance, recognisability

    return {
        "fvd": frechet_video_distance(videos, real),
        "frame_fd": frame_frechet_distance(videos, real),
        "frame_change": frame_change(videos),
        "recognisable": recognisability(videos),
    }


def per_frame_quality(videos: torch.Tensor, real_frame_features: torch.Tensor) -> dict:
    """Appearance only: frame Fréchet distance to real frames and the share of frames whose
    digits the frame classifier recognises."""
    from ...eval import frame_features, frechet_distance, recognisability

    return {
        "frame_fd": frechet_distance(frame_features(videos), real_frame_features),
        "recognisable": recognisability(videos),
    }


def forgetting(
    start: LatentVideoDiffusion,
    start_checkpoint,
    original: torch.Tensor,
    shifted: torch.Tensor,
    image_ratio: float = 1.0,
    thickness: int = THICKNESS,
    train_cfg: TrainConfig | None = None,
    progress: bool = True,
) -> dict:
    """LaVie's experiment: continue training `start` (all parameters) on `shifted` latent clips,
    once on video only and once jointly with single frames of the `original` clips.
    Returns {'video only': trainer, 'joint': trainer}; evaluate with `forgetting_rows`."""
    import copy

    train_cfg = train_cfg or default_shift_train_config()
    runs = {}
    for label, ratio in (("video only", 0.0), ("joint", image_ratio)):
        model = copy.deepcopy(start)
        joint = JointConfig(image_ratio=ratio, freeze_spatial=False, thickness=thickness)
        runs[label] = train_video(
            model,
            shifted,
            joint,
            train_cfg,
            images=frames_of(original) if ratio > 0 else None,
            base_checkpoint=start_checkpoint,
            name="i2v-shift",
            progress=progress,
        )
    return runs


def flicker_with_and_without(
    vae_checkpoint, frames: int | None = None, clips: int | None = None, progress: bool = True
) -> dict:
    """Reconstruction flicker of the per-frame VAE's image decoder against its temporally
    fine-tuned decoder (same frozen encoder). Returns {'image decoder': ..., 'fine-tuned
    decoder': ...} with psnr / ssim / flicker, and the fine-tuning trainer."""
    from ...vae.finetune import finetune_decoder
    from ...vae.model import evaluate_vae, load_vae

    p = preset("mnist")
    frames = frames or p.short_frames
    train_data = VideoDataConfig(dataset="mnist", split="train", frames=frames, count=10**9)
    eval_data = VideoDataConfig(dataset="mnist", split="test", frames=frames, count=clips or p.flicker_clips)
    ft = finetune_decoder(vae_checkpoint, train_data, name="vae-frame-decoder-ft", progress=progress)
    rows = {
        "image decoder": evaluate_vae(load_vae(vae_checkpoint, device="cpu"), eval_data),
        "fine-tuned decoder": evaluate_vae(ft.ema.module.vae, eval_data),
    }
    return {**rows, "trainer": ft}


@torch.no_grad()
def forgetting_rows(models: dict, n: int, frames: int, real: torch.Tensor, steps: int = 20) -> dict:
    """{label: metrics} for each model: frames sampled in image mode and clips in video mode,
    against the ORIGINAL real frames (`real`, thin digits) and thick real frames."""
    from ...eval import frame_features
    from ...eval.metrics import REAL_SEEDS

    orig = frame_features(real)
    thick = frame_features(thick_clips(len(real), frames, THICKNESS, split="test", seed=REAL_SEEDS["mnist"]))
    rows = {}
    for label, model in models.items():
        image_mode = sample_clips(model, n, frames, enable_time=False, steps=steps, seed=2)
        video_mode = sample_clips(model, n, frames, enable_time=True, steps=steps, seed=3)
        q_img, q_vid = per_frame_quality(image_mode, orig), per_frame_quality(video_mode, orig)
        rows[label] = {
            "image_frame_fd": q_img["frame_fd"],
            "image_recognisable": q_img["recognisable"],
            "video_frame_fd": q_vid["frame_fd"],
            "video_recognisable": q_vid["recognisable"],
            "video_frame_fd_thick": per_frame_quality(video_mode, thick)["frame_fd"],
            "samples": video_mode,
        }
    return rows
