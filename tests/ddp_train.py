"""Run by test_trainer under `torchrun --nproc_per_node=2`: a few data-parallel steps."""

import sys
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_trainer import TinyConfig, batch_fn, denoise_loss, tiny_model  # noqa: E402

from minilvdm.core.train import TrainConfig, Trainer  # noqa: E402

out = Path(sys.argv[1])
dist.init_process_group("gloo")
trainer = Trainer(
    tiny_model(),
    denoise_loss,
    batch_fn,
    TrainConfig(steps=5, lr=1e-2, ckpt_every=5),
    out / "ddp.pt",
    model_config=TinyConfig(),
    device="cpu",
    progress=False,
).fit()
torch.save(trainer.model.state_dict(), out / f"rank{dist.get_rank()}.pt")
dist.destroy_process_group()
