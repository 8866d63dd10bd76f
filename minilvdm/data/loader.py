"""Batches read ahead by DataLoader workers for the step-indexed Trainer.

    batch_fn = StepBatches(clips.batch, lambda step, rank, world: indices, workers=2, seed=0)
    trainer = Trainer(model, loss_fn, batch_fn, ...)

The Trainer asks for batch `step` and expects a pure function of it (exact resume). The
indices come from `index_fn(step, rank, world)` and a batch depends only on them, so any
worker count gives the same batches; workers are also seeded from (seed, first step), so
randomness in a reader would repeat too. Only data read from files needs this: the
synthetic generators stay in the main process.
"""

from __future__ import annotations

import random

import numpy as np
import torch
from torch.utils.data import DataLoader

from ..core.config import SEED_MIX


def seed_worker(worker_id: int) -> None:
    """Seed numpy and random in a worker from the seed torch gave it (base seed + worker id)."""
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


class _Read(torch.utils.data.Dataset):
    def __init__(self, read):
        self.read = read

    def __getitem__(self, indices):
        return self.read(indices)

    def __len__(self):  # never asked: the sampler is endless
        return 2**62


class _Steps:
    def __init__(self, index_fn, start: int, rank: int, world: int):
        self.index_fn, self.start, self.rank, self.world = index_fn, start, rank, world

    def __iter__(self):
        step = self.start
        while True:
            yield [int(i) for i in self.index_fn(step, self.rank, self.world)]
            step += 1


class StepBatches:
    def __init__(self, read, index_fn, workers: int = 0, seed: int = 0, prefetch: int = 2):
        if workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        self.read, self.index_fn, self.workers, self.seed, self.prefetch = (
            read,
            index_fn,
            workers,
            seed,
            prefetch,
        )
        self._it, self._next = None, None

    def __call__(self, step: int, rank: int = 0, world: int = 1):
        if not self.workers:
            return self.read([int(i) for i in self.index_fn(step, rank, world)])
        if self._it is None or self._next != (step, rank, world):  # first call, or a jump: restart
            self.close()
            loader = DataLoader(
                _Read(self.read),
                batch_size=None,
                sampler=_Steps(self.index_fn, step, rank, world),
                num_workers=self.workers,
                prefetch_factor=self.prefetch,
                worker_init_fn=seed_worker,
                generator=torch.Generator().manual_seed(self.seed * SEED_MIX + step),
            )
            self._it = iter(loader)
        self._next = (step + 1, rank, world)
        return next(self._it)

    def close(self) -> None:
        """Stop the workers (they also stop when this object is garbage collected)."""
        if self._it is not None:
            self._it._shutdown_workers()
            self._it = None
