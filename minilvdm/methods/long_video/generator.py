"""Hierarchical long-video generation (LVDM section 3.3), streamed and resumable.

For N requested frames, a VAE with time factor f and keyframe stride S:

    L = ceil(N / f) latent frames,   K = ceil((L - 1) / S) + 1 keyframes (S latent frames apart)

1. prediction: the first call samples P keyframes unconditionally; each later call is
   given the last `g` keyframes and adds P - g more, until K exist
2. interpolation: EVERY adjacent keyframe pair (k_j, k_{j+1}) is given as the first and
   last frame of an (S + 1)-frame clip, and the S - 1 frames between are filled
3. decoding: latent frames are decoded in chunks, each with `radius` latent frames of
   context on both sides, so the result equals one-shot decoding
4. streaming: rounds of (predict, interpolate new pairs, decode what is ready, write)
   keep only a few latent frames in memory, whatever N is. Frames go to a uint8 `.npy`
   memory map (N, C, H, W); the MP4 is written from it at the end. `videos=B > 1` makes B
   videos at once (one batched network call per step, ~2x cheaper each on a CPU): the
   memory map is then (N, B, C, H, W) and the MP4 shows them side by side.

'autoregressive' mode is the plain baseline: stride 1, every latent frame predicted,
no interpolation. A state file saved atomically after every round lets an interrupted
generation resume; each round draws from a generator seeded by (seed, round), so a
resumed video is identical to one never interrupted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ...core.checkpoint import load_checkpoint, save_checkpoint
from ...core.config import OMIT_AT_DEFAULT, SEED_MIX
from ...core.viz import write_mp4_frames

STATE_FORMAT = 1


@dataclass
class LongVideoConfig:
    frames: int = 1024  # pixel frames requested: the output has exactly this many
    mode: str = "hierarchical"  # 'hierarchical' | 'autoregressive'
    stride: int | None = None  # latent frames between keyframes (hierarchical); None: the models' own
    steps: int = 50
    sampler: str = "ddim"
    eta: float = field(default=0.0, metadata=OMIT_AT_DEFAULT)  # DDIM's; long_video_config: the preset's
    guidance: float = 0.1  # LVDM's w, (1 + w) eps_c - w eps_u; 0 = off
    perturb_level: int | None = None  # s for the conditions (None: the model's own, LVDM 100; 0 = clean)
    seed: int = 0
    fps: int = 8
    videos: int = 1  # B videos generated together as one batch (different draws, same settings)
    # models with classes: the first digit of every video (an int) or of each (a tuple of B);
    # `guidance` is then classifier-free guidance on it (LVDM's form: w = s - 1)
    class_label: int | tuple | None = field(default=None, metadata=OMIT_AT_DEFAULT)

    def validate(self) -> None:
        if self.frames < 1:
            raise ValueError(f"frames must be >= 1, got {self.frames}")
        if self.videos < 1:
            raise ValueError(f"videos must be >= 1, got {self.videos}")
        if self.mode not in ("hierarchical", "autoregressive"):
            raise ValueError(f"mode must be 'hierarchical' or 'autoregressive', got {self.mode!r}")
        if self.stride is not None and self.stride < 1:
            raise ValueError(f"stride must be >= 1, got {self.stride}")
        if self.eta < 0:
            raise ValueError(f"eta must be >= 0, got {self.eta}")
        if isinstance(self.class_label, (tuple, list)) and len(self.class_label) != self.videos:
            raise ValueError(f"class_label needs one label per video ({self.videos}), got {self.class_label}")


def trained_stride(model) -> int | None:
    """The keyframe stride a model was trained at, from the `long_cfg` it carries
    (long_models.LongModel); None for a model that records none (e.g. a test stub)."""
    long_cfg = getattr(model, "long_cfg", None)
    return None if long_cfg is None else long_cfg.stride


def resolve_stride(cfg: LongVideoConfig, predictor, interpolator=None) -> int:
    """The stride to generate at: the models' own. A stride in `cfg` must match it, since
    keyframes spaced unlike the training examples are a spacing the models never saw."""
    if cfg.mode == "autoregressive":  # consecutive latent frames: a predictor trained at stride 1
        wanted, models = (1 if cfg.stride is None else cfg.stride), {"predictor": predictor}
        if wanted != 1:
            raise ValueError(f"autoregressive mode generates at stride 1, got stride={cfg.stride}")
    else:
        wanted, models = cfg.stride, {"predictor": predictor, "interpolator": interpolator}
    trained = {name: trained_stride(m) for name, m in models.items() if trained_stride(m) is not None}
    if len(set(trained.values())) > 1:
        raise ValueError(f"the models were trained at different strides: {trained}")
    if wanted is None:
        if not trained:
            raise ValueError("the models record no training stride; give LongVideoConfig(stride=...)")
        return next(iter(trained.values()))
    for name, stride in trained.items():
        if stride != wanted:
            raise ValueError(
                f"LongVideoConfig asks for stride {wanted} ({cfg.mode}) but the {name} was trained at "
                f"stride {stride}; leave stride=None to use the models' own"
            )
    return wanted


def keyframe_count(latent_frames: int, stride: int) -> int:
    """K = ceil((L - 1) / S) + 1: keyframes S apart that cover L latent frames."""
    return math.ceil((latent_frames - 1) / stride) + 1


def prediction_calls(keyframes: int, clip: int, given: int) -> int:
    """Calls of the prediction model: one unconditional clip, then clip - given new each."""
    if keyframes <= clip:
        return 1
    return 1 + math.ceil((keyframes - clip) / (clip - given))


class StreamingDecoder:
    """Decode latent frames as they arrive, each with `radius` frames of context on both
    sides (as one-shot decoding sees them); holds at most ~2 radius + one push of latents."""

    def __init__(self, decode_fn: Callable, radius: int, time_factor: int):
        self.decode_fn, self.radius, self.time_factor = decode_fn, radius, time_factor
        self.buffer: torch.Tensor | None = None  # latents [offset, offset + len)
        self.offset = 0  # global index of buffer[0]
        self.emitted = 0  # latents decoded and handed out so far
        self.max_buffer = 0

    def state(self) -> dict:
        return {"offset": self.offset, "emitted": self.emitted, "buffer": self.buffer}

    def load(self, state: dict) -> None:
        self.offset, self.emitted, self.buffer = state["offset"], state["emitted"], state["buffer"]

    def push(self, latents: torch.Tensor, final: bool = False) -> torch.Tensor | None:
        """Add latent frames (B, c, n, h, w); return newly decodable video frames or None."""
        if latents is not None and latents.shape[2]:
            self.buffer = latents if self.buffer is None else torch.cat([self.buffer, latents], dim=2)
        if self.buffer is None:
            return None
        self.max_buffer = max(self.max_buffer, self.buffer.shape[2])
        end = self.offset + self.buffer.shape[2]
        ready = end if final else end - self.radius  # need `radius` frames of right context
        if ready <= self.emitted:
            return None
        lo = max(self.offset, self.emitted - self.radius)
        hi = min(end, ready + self.radius)
        video = self.decode_fn(self.buffer[:, :, lo - self.offset : hi - self.offset])
        f = self.time_factor
        frames = video[:, :, (self.emitted - lo) * f : (ready - lo) * f]
        self.emitted = ready
        keep_from = max(self.offset, ready - self.radius)  # left context for the next chunk
        self.buffer = self.buffer[:, :, keep_from - self.offset :]
        self.offset = keep_from
        return frames


def _to_uint8(video: torch.Tensor) -> np.ndarray:
    """(B, C, T, H, W) in [-1, 1] -> (T, C, H, W) uint8 for B = 1, else (T, B, C, H, W)."""
    frames = ((video.float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(2, 0, 1, 3, 4)
    return (frames[:, 0] if video.shape[0] == 1 else frames).cpu().numpy()


def load_long_video(npy_path: str | Path) -> torch.Tensor:
    """A generated `video.npy` -> (B, C, N, H, W) float in [-1, 1] (B = 1 for a single video)."""
    frames = torch.from_numpy(np.load(npy_path))
    frames = frames[:, None] if frames.ndim == 4 else frames  # (N, B, C, H, W)
    return frames.float().div(127.5).sub(1).permute(1, 2, 0, 3, 4)


class LongVideoGenerator:
    """predictor / interpolator: objects with `.sample(cond, mask, steps=, sampler=,
    guidance=, perturb_level=, generator=)` returning latents (ConditionalDenoiser);
    `clip` is the prediction model's clip length P (keyframes) and `given` its g. The
    stride comes from the models (`resolve_stride`); `self.cfg` records it. guides: weaker
    models of each model's task for autoguidance ((predictor's, interpolator's), either None):
    they take the unconditional path of `cfg.guidance`."""

    def __init__(
        self,
        predictor,
        decode_fn: Callable,
        latent_shape: tuple[int, int, int],  # (c, h, w)
        time_factor: int,
        cfg: LongVideoConfig,
        clip: int,
        given: int = 1,
        interpolator=None,
        radius: int = 0,
        guides: tuple = (None, None),
    ):
        cfg.validate()
        if not 1 <= given < clip:
            raise ValueError(f"need 1 <= given < clip, got given={given}, clip={clip}")
        self.stride = resolve_stride(cfg, predictor, interpolator)
        if self.stride > 1 and interpolator is None:
            raise ValueError("hierarchical mode with stride > 1 needs an interpolation model")
        cfg = replace(cfg, stride=self.stride)
        self.predictor, self.interpolator, self.cfg = predictor, interpolator, cfg
        self.guides = guides  # (predictor's, interpolator's)
        self.clip, self.given, self.latent_shape, self.time_factor = clip, given, latent_shape, time_factor
        self.latent_frames = math.ceil(cfg.frames / time_factor)
        self.keyframes = keyframe_count(self.latent_frames, self.stride)
        self.decoder = StreamingDecoder(decode_fn, radius, time_factor)
        self.interp_calls = 0

    def _sample(self, model, guide, cond, mask, generator):
        cfg = self.cfg
        extra = {} if guide is None else {"guide": guide}  # models without guides need not take one
        if cfg.class_label is not None:
            extra["class_label"] = torch.as_tensor(cfg.class_label).long().expand(cfg.videos)
        return model.sample(
            cond,
            mask,
            steps=cfg.steps,
            sampler=cfg.sampler,
            eta=cfg.eta,
            guidance=cfg.guidance,
            perturb_level=cfg.perturb_level,
            generator=generator,
            **extra,
        )

    def _predict(self, tail: torch.Tensor | None, generator) -> torch.Tensor:
        """New keyframes: P unconditionally, or P - g after the last g keyframes."""
        c, h, w = self.latent_shape
        cond = torch.zeros(self.cfg.videos, c, self.clip, h, w)
        mask = torch.zeros(1, 1, self.clip, 1, 1)
        if tail is not None:
            cond[:, :, : self.given] = tail
            mask[:, :, : self.given] = 1
        clip = self._sample(self.predictor, self.guides[0], cond, mask, generator)
        return clip if tail is None else clip[:, :, self.given :]

    def _interpolate(self, left: torch.Tensor, right: torch.Tensor, generator) -> torch.Tensor:
        """Latent frames [left, in-betweens...] for one keyframe pair (right comes with the next pair)."""
        if self.stride == 1:
            return left
        c, h, w = self.latent_shape
        cond = torch.zeros(self.cfg.videos, c, self.stride + 1, h, w)
        cond[:, :, :1], cond[:, :, -1:] = left, right
        mask = torch.zeros(1, 1, self.stride + 1, 1, 1)
        mask[:, :, 0] = mask[:, :, -1] = 1
        self.interp_calls += 1
        return self._sample(self.interpolator, self.guides[1], cond, mask, generator)[:, :, :-1]

    def generate(self, out_dir: str | Path, progress: bool = True, stop_after: int | None = None) -> dict:
        """Write `video.npy` (N, C, H, W uint8) and `video.mp4` to out_dir; resume if a state exists.
        `stop_after` (rounds) simulates an interruption, for tests."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        state_path, npy_path = out / "state.pt", out / "video.npy"
        state = {
            "round": 0,
            "keys_made": 0,
            "latents_pushed": 0,
            "frames_written": 0,
            "tail": None,
            "previous_key": None,
            "decoder": self.decoder.state(),
            "frame_shape": None,
        }
        if state_path.exists():
            state = load_checkpoint(state_path)["state"]
            self.decoder.load(state["decoder"])
        frames_out = np.lib.format.open_memmap(npy_path, mode="r+") if state["frame_shape"] else None
        rounds = prediction_calls(self.keyframes, self.clip, self.given)
        bar = tqdm(
            total=rounds, initial=state["round"], desc=f"long video ({self.cfg.mode})", disable=not progress
        )
        while state["round"] < rounds:
            g = torch.Generator().manual_seed(self.cfg.seed * SEED_MIX + state["round"])
            new_keys = self._predict(state["tail"], g)[:, :, : self.keyframes - state["keys_made"]]
            latents = []
            previous = state["previous_key"]
            for j in range(new_keys.shape[2]):
                key = new_keys[:, :, j : j + 1]
                if previous is not None:
                    latents.append(self._interpolate(previous, key, g))
                previous = key
            state["keys_made"] += new_keys.shape[2]
            done = state["keys_made"] >= self.keyframes
            if done:
                latents.append(previous)  # the last keyframe closes the video
            chunk = torch.cat(latents, dim=2) if latents else None
            if chunk is not None:  # never push latents beyond L
                chunk = chunk[:, :, : self.latent_frames - state["latents_pushed"]]
                state["latents_pushed"] += chunk.shape[2]
            video = self.decoder.push(chunk, final=done)
            if video is not None:
                frames = _to_uint8(video)[: self.cfg.frames - state["frames_written"]]
                if frames_out is None:
                    state["frame_shape"] = tuple(frames.shape[1:])
                    frames_out = np.lib.format.open_memmap(
                        npy_path, mode="w+", dtype=np.uint8, shape=(self.cfg.frames, *state["frame_shape"])
                    )
                frames_out[state["frames_written"] : state["frames_written"] + len(frames)] = frames
                frames_out.flush()
                state["frames_written"] += len(frames)
            keep = torch.cat([state["tail"], new_keys], dim=2) if state["tail"] is not None else new_keys
            state["tail"], state["previous_key"] = keep[:, :, -self.given :].clone(), previous.clone()
            state["round"] += 1
            state["decoder"] = self.decoder.state()
            save_checkpoint({"format": 1, "state": state}, state_path)  # frames are flushed first
            bar.update()
            if stop_after is not None and state["round"] >= stop_after and state["round"] < rounds:
                bar.close()
                raise KeyboardInterrupt(f"stopped after round {state['round']} (resume by running again)")
        bar.close()
        if state["frames_written"] != self.cfg.frames:
            raise RuntimeError(f"wrote {state['frames_written']} frames, expected {self.cfg.frames}")
        mp4 = out / "video.mp4"
        frames_in = np.load(npy_path, mmap_mode="r")
        side_by_side = (np.concatenate(list(f), axis=-1) if f.ndim == 4 else f for f in frames_in)
        rgb = (np.repeat(f, 3, axis=0) if f.shape[0] == 1 else np.asarray(f) for f in side_by_side)
        write_mp4_frames((f.transpose(1, 2, 0) for f in rgb), mp4, fps=self.cfg.fps)
        return {
            "npy": npy_path,
            "mp4": mp4,
            "frames": state["frames_written"],
            "keyframes": self.keyframes,
            "interpolations": self.interp_calls,
            "rounds": rounds,
            "videos": self.cfg.videos,
        }
