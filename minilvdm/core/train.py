"""One trainer for every model in minilvdm.

    trainer = Trainer(model, loss_fn, batch_fn, TrainConfig(steps=500), ckpt_path)
    trainer.fit()          # trains, or resumes, or reuses a finished checkpoint
    trainer.ema            # the EMA of the weights, used for sampling
    trainer.plot_losses()

`loss_fn(model, batch) -> scalar` and `batch_fn(step, rank, world_size) -> batch` are
the only model-specific parts. Batches are a pure function of the step, and the global
torch RNG is reseeded from (seed, step, rank) before every step, so an interrupted run
that resumes ends with the same weights, bit for bit on CPU, as one that never stopped.

Checkpoints hold model, EMA, optimizer, step, configs, loss history and RNG state. They
are written atomically (temporary file, then rename) and read with `weights_only=True`.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm.auto import tqdm

from .checkpoint import (  # noqa: F401  (re-exported: `from minilvdm.core.train import save_checkpoint`)
    CHECKPOINT_FORMAT,
    CheckpointError,
    checkpoint_path,
    config_diff,
    ema_state_dict,
    load_checkpoint,
    load_into,
    save_checkpoint,
)
from .config import OMIT_AT_DEFAULT, SEED_MIX, autocast, config_to_dict, get_device, maybe_compile

LR_SCHEDULES = ("constant", "cosine")


@dataclass
class TrainConfig:
    steps: int = 1000
    batch_size: int = 16
    lr: float = 2e-4
    weight_decay: float = 0.0
    warmup: int = 0  # linear learning-rate warm-up steps
    ema_decay: float = 0.999
    grad_clip: float = 1.0  # max global grad norm; 0 disables
    ckpt_every: int = 200  # also saved at the end and on Ctrl-C
    seed: int = 0
    # 'constant' after the warm-up, or 'cosine': decay from lr to min_lr_ratio * lr at `steps`
    lr_schedule: str = field(default="constant", metadata=OMIT_AT_DEFAULT)
    min_lr_ratio: float = field(default=0.0, metadata=OMIT_AT_DEFAULT)
    # EMA warm-up: decay_t = min(ema_decay, (1 + t) / (10 + t)), so the average forgets the
    # random initial weights within tens of steps instead of ~1 / (1 - decay)
    ema_warmup: bool = field(default=False, metadata=OMIT_AT_DEFAULT)

    def validate(self) -> None:
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        if not 0 <= self.min_lr_ratio <= 1:
            raise ValueError(f"min_lr_ratio must lie in [0, 1], got {self.min_lr_ratio}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must lie in [0, 1), got {self.ema_decay}")
        if self.steps < 0 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError(
                f"need steps >= 0, batch_size >= 1 and lr > 0; got {self.steps}, {self.batch_size}, {self.lr}"
            )


def lr_at(cfg: TrainConfig, step: int) -> float:
    """Learning rate of `step` (0-based): linear warm-up over `warmup` steps, then constant or
    cosine, lr_t = lr (r + (1 - r) (1 + cos(pi p)) / 2), p = (t - warmup) / (steps - warmup)."""
    warm = min(1.0, (step + 1) / cfg.warmup) if cfg.warmup else 1.0
    if cfg.lr_schedule == "constant":
        return cfg.lr * warm
    progress = min(1.0, max(0.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)))
    r = cfg.min_lr_ratio
    return cfg.lr * warm * (r + (1 - r) * 0.5 * (1 + math.cos(math.pi * progress)))


def ema_decay_at(cfg: TrainConfig, num_averaged: int) -> float:
    """The EMA's decay after `num_averaged` earlier updates (AveragedModel copies the weights on
    its first update, then averages with num_averaged = 1, 2, ...)."""
    if not cfg.ema_warmup:
        return cfg.ema_decay
    return min(cfg.ema_decay, (1 + num_averaged) / (10 + num_averaged))


def ema_first_step_share(cfg: TrainConfig, updates: int) -> float:
    """The share of the first step's weights an EMA still holds after `updates` updates: the
    product of the decays after AveragedModel's first update (a copy)."""
    share = 1.0
    for n in range(1, updates):
        share *= ema_decay_at(cfg, n)
    return share


def _ema_avg_fn(cfg: TrainConfig):
    if not cfg.ema_warmup:  # the library's own EMA: bit for bit what older checkpoints used
        return get_ema_multi_avg_fn(cfg.ema_decay)

    @torch.no_grad()
    def update(ema_params, current_params, num_averaged):
        decay = ema_decay_at(cfg, int(num_averaged))
        torch._foreach_lerp_(ema_params, current_params, 1 - decay)

    return update


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or inf loss; the last good checkpoint was kept."""


class Preempted(SystemExit):
    """SIGTERM during `fit` (a scheduler preempting the job): the checkpoint was saved at the
    step reached and the process exits with the conventional status 128 + 15 = 143."""


def epoch_indices(
    step: int, rank: int, world_size: int, batch_size: int, n: int, seed: int = 0
) -> torch.Tensor:
    """Indices of batch `step` (process `rank` of `world_size`) into a finite set of n items:
    one seeded permutation per epoch, so a batch is a pure function of the step (exact resume)."""
    start = (step * world_size + rank) * batch_size
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed + start // n))
    return order[[(start + i) % n for i in range(batch_size)]]


def sampling_weights() -> str:
    """Which weights short runs sample with: 'raw' in ci/quick, 'ema' in full. The EMA (no
    warm-up) still holds decay^N of the random initial weights after N steps: 0.995^400 = 13%.
    Measured on the quick long-video predictor: the EMA's eps error at t = 950 was 5x the raw
    weights' (0.053 vs 0.011), its samples pure texture; quick VideoFusion runs are as short."""
    from .presets import preset

    return preset().sampling_weights


def pick_weights(trainer: Trainer, weights: str) -> nn.Module:
    """The trainer's EMA ('ema') or raw ('raw') model, in eval mode."""
    if weights not in ("ema", "raw"):
        raise ValueError(f"weights must be 'ema' or 'raw', got {weights!r}")
    return (trainer.ema.module if weights == "ema" else trainer.model).eval()


def to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def _rank_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class Trainer:
    def __init__(
        self,
        model: nn.Module,
        loss_fn: Callable[[nn.Module, Any], torch.Tensor],
        batch_fn: Callable[[int, int, int], Any],
        config: TrainConfig,
        ckpt_path: str | Path | None = None,
        model_config: Any = None,
        device: torch.device | str | None = None,
        progress: bool = True,
        param_groups: list[dict] | None = None,
        compile: bool = True,
    ):
        """`param_groups`: optional [{'params': ..., 'lr_scale': s}, ...]; a group's learning
        rate is s times the schedule's (e.g. a pretrained part fine-tuned more gently).
        Parameters in no group are not trained. `compile`: on CUDA, train through
        torch.compile(model) (eager again if it fails); self.model stays the plain module, so
        state dicts carry no `_orig_mod.` prefix. Compiled steps draw other random numbers
        than eager ones: bit-for-bit resume holds for eager runs."""
        config.validate()
        self.config, self.loss_fn, self.batch_fn = config, loss_fn, batch_fn
        self.device = torch.device(device) if device else get_device()
        self.model = model.to(self.device)
        self.rank, self.world_size = _rank_world()
        self.ckpt_path = Path(ckpt_path) if ckpt_path else None
        self.configs = {"train": config_to_dict(config)}
        if model_config is not None:
            self.configs["model"] = config_to_dict(model_config)
        groups = param_groups or [{"params": model.parameters()}]
        groups = [{**g, "params": [p for p in g["params"] if p.requires_grad]} for g in groups]
        self.params = [p for g in groups for p in g["params"]]
        if not self.params:
            raise ValueError("the model has no trainable parameters (all requires_grad=False)")
        if len({id(p) for p in self.params}) < len(self.params):
            raise ValueError("a parameter appears in more than one of param_groups")
        self.optimizer = torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
        self.ema = AveragedModel(model, multi_avg_fn=_ema_avg_fn(config), use_buffers=True)
        # modules whose parameters live in a set (Video LDM's alpha in [0, 1]) project after each step
        self.constrained = [m for m in model.modules() if hasattr(m, "project_")]
        self.step, self.history, self.progress, self.seconds = 0, [], progress, 0.0
        self.net = model
        if self.world_size > 1:  # data-parallel: gradients are averaged across processes
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        self.eager_net = self.net
        if compile and self.device.type == "cuda":
            self.net = maybe_compile(self.net)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        rng = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        return {
            "format": CHECKPOINT_FORMAT,
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "configs": self.configs,
            "history": self.history,
            "seconds": self.seconds,
            "rng": rng,
        }

    def save(self) -> None:
        if self.ckpt_path is not None and self.rank == 0:
            save_checkpoint(self.state_dict(), self.ckpt_path)

    def load(self, path: str | Path | None = None) -> Trainer:
        """Restore everything; the train config may differ only in its step count."""
        path = Path(path) if path else self.ckpt_path
        expect = {k: v for k, v in self.configs.items() if k != "train"}
        state = load_checkpoint(path, expect)
        ours = {k: v for k, v in self.configs["train"].items() if k != "steps"}
        theirs = {k: v for k, v in state["configs"]["train"].items() if k != "steps"}
        if ours != theirs:
            raise CheckpointError(f"{path} was made with another train config: {config_diff(theirs, ours)}")
        if state.get("shipped"):  # slim: EMA weights only, nothing to resume an optimizer from
            if state["step"] < self.config.steps:
                raise CheckpointError(
                    f"{path} holds shipped weights at step {state['step']}; they can be reused, not "
                    f"trained on to {self.config.steps} steps (delete the file to train from scratch)"
                )
            load_into(self, state)
            return self
        self.model.load_state_dict(state["model"])
        self.ema.load_state_dict(state["ema"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.history = state["step"], [tuple(h) for h in state["history"]]
        self.seconds = state.get("seconds", 0.0)
        torch.set_rng_state(state["rng"]["torch"])
        return self

    # ------------------------------------------------------------------ training
    def train_step(self, step: int) -> float:
        cfg = self.config
        # Reseeding from the step makes the noise of step k the same in every run.
        torch.manual_seed((cfg.seed * SEED_MIX + step) * self.world_size + self.rank)
        batch = to_device(self.batch_fn(step, self.rank, self.world_size), self.device)
        for group in self.optimizer.param_groups:
            group["lr"] = lr_at(cfg, step) * group.get("lr_scale", 1.0)
        self.net.train()
        try:
            value = self._loss_backward(batch, step)
        except Exception as err:
            if isinstance(err, NonFiniteLossError) or self.net is self.eager_net:
                raise
            # torch.compile fails lazily (first forward or backward): an optimisation must not end the run
            print(f"torch.compile failed ({type(err).__name__}: {str(err)[:200]}); training eagerly")
            self.net = self.eager_net
            return self.train_step(step)
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.params, cfg.grad_clip)
        self.optimizer.step()
        with torch.no_grad():
            for module in self.constrained:
                module.project_()
        self.ema.update_parameters(self.model)
        return value

    def _loss_backward(self, batch: Any, step: int) -> float:
        with autocast(self.device):
            loss = self.loss_fn(self.net, batch)
        value = loss.detach().float().item()
        if not math.isfinite(value):
            kept = (
                f"kept the last good checkpoint {self.ckpt_path} (step {self.step})"
                if (self.ckpt_path and self.ckpt_path.exists())
                else "no checkpoint was written"
            )
            raise NonFiniteLossError(f"loss is {value} at step {step}; stopped and {kept}")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        return value

    def fit(self, resume: bool = True, until: int | None = None) -> Trainer:
        """Train to `config.steps` (or stop early at step `until`, saved, e.g. to evaluate part
        way: the learning-rate schedule still spans `config.steps`). Resumes from (or reuses)
        a checkpoint at ckpt_path. Ctrl-C saves and re-raises; SIGTERM saves at the end of the
        running step and raises Preempted (exit status 143)."""
        cfg = self.config
        stop = cfg.steps if until is None else min(until, cfg.steps)
        if resume and self.ckpt_path is not None and self.ckpt_path.exists():
            self.load()
            if self.rank == 0 and self.progress:
                what = "reusing finished" if self.step >= cfg.steps else "resuming from"
                print(f"{what} checkpoint {self.ckpt_path.name} at step {self.step}")
        bar = tqdm(total=cfg.steps, initial=self.step, desc="train", disable=not self.progress or self.rank)
        # SIGTERM only sets a flag, read between steps: the checkpoint is then taken at a step
        # boundary (never mid-update), so the resumed run is the uninterrupted one
        term: list[int] = []
        main = threading.current_thread() is threading.main_thread()  # signal.signal fails elsewhere
        if main:
            previous = signal.signal(signal.SIGTERM, lambda signum, frame: term.append(signum))
        try:
            while self.step < stop and not term:
                start = time.perf_counter()
                loss = self.train_step(self.step)
                self.seconds += time.perf_counter() - start
                self.step += 1
                self.history.append((self.step, loss))
                bar.update()
                bar.set_postfix(loss=f"{loss:.4f}")
                if self.step % cfg.ckpt_every == 0 or self.step == stop:
                    self.save()
            if term:
                self.save()
                print(f"\nSIGTERM at step {self.step}; checkpoint saved to {self.ckpt_path}")
                raise Preempted(128 + term[0])
        except KeyboardInterrupt:
            self.save()  # nothing lost: the run resumes from here
            print(f"\ninterrupted at step {self.step}; checkpoint saved to {self.ckpt_path}")
            raise
        finally:
            bar.close()
            if main:  # None: a handler not set from Python; the default is the best guess
                signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
        return self

    def plot_losses(self, ax=None, smooth: int = 20):
        from .viz import plot_losses

        return plot_losses(self.history, ax=ax, smooth=smooth)
