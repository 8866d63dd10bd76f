import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torch import nn

from minilvdm.core.train import (
    CheckpointError,
    NonFiniteLossError,
    TrainConfig,
    Trainer,
    load_checkpoint,
    save_checkpoint,
)

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class TinyConfig:
    width: int = 8


def tiny_model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv3d(1, 8, 3, padding=1), nn.SiLU(), nn.Conv3d(8, 1, 3, padding=1))


def batch_fn(step, rank=0, world=1):
    g = torch.Generator().manual_seed(1000 + step * world + rank)
    return torch.rand(2, 1, 3, 6, 6, generator=g) * 2 - 1


def denoise_loss(net, x):
    noise = torch.randn_like(x)  # global RNG: the trainer reseeds it per step
    return ((net(x + 0.3 * noise) - x) ** 2).mean()


def make(path, steps=12, loss=denoise_loss, batches=batch_fn, **cfg):
    config = TrainConfig(steps=steps, lr=1e-2, ckpt_every=4, ema_decay=0.9, **cfg)
    return Trainer(tiny_model(), loss, batches, config, path, model_config=TinyConfig(), progress=False)


def same_state(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_resume_after_interrupt_gives_identical_weights(tmp_path):
    straight = make(tmp_path / "a.pt").fit()

    def interrupted(step, rank=0, world=1):
        if step == 6:
            raise KeyboardInterrupt
        return batch_fn(step)

    with pytest.raises(KeyboardInterrupt):
        make(tmp_path / "b.pt", batches=interrupted).fit()
    assert load_checkpoint(tmp_path / "b.pt")["step"] == 6  # saved on Ctrl-C
    resumed = make(tmp_path / "b.pt").fit()
    assert resumed.step == 12
    assert same_state(straight.model, resumed.model)
    assert same_state(straight.ema, resumed.ema)
    assert [h[1] for h in straight.history] == [h[1] for h in resumed.history]


def test_resume_after_crash_restarts_from_last_periodic_checkpoint(tmp_path):
    straight = make(tmp_path / "a.pt").fit()

    def crashing(step, rank=0, world=1):
        if step == 7:
            raise RuntimeError("power cut")
        return batch_fn(step)

    with pytest.raises(RuntimeError):
        make(tmp_path / "b.pt", batches=crashing).fit()
    assert load_checkpoint(tmp_path / "b.pt")["step"] == 4
    resumed = make(tmp_path / "b.pt").fit()
    assert same_state(straight.model, resumed.model)


def test_finished_checkpoint_is_reused_not_retrained(tmp_path):
    first = make(tmp_path / "a.pt").fit()
    calls = []
    again = make(tmp_path / "a.pt", batches=lambda s, r, w: calls.append(s) or batch_fn(s)).fit()
    assert calls == [] and same_state(first.model, again.model)


def test_config_mismatch_is_a_clear_error(tmp_path):
    make(tmp_path / "a.pt").fit()
    with pytest.raises(CheckpointError, match="lr"):
        Trainer(
            tiny_model(),
            denoise_loss,
            batch_fn,
            TrainConfig(steps=12, lr=5e-3, ckpt_every=4, ema_decay=0.9),
            tmp_path / "a.pt",
            model_config=TinyConfig(),
            progress=False,
        ).fit()
    with pytest.raises(CheckpointError, match="width"):
        Trainer(
            tiny_model(),
            denoise_loss,
            batch_fn,
            TrainConfig(steps=12, lr=1e-2, ckpt_every=4, ema_decay=0.9),
            tmp_path / "a.pt",
            model_config=TinyConfig(width=9),
            progress=False,
        ).fit()


def test_nan_loss_stops_with_the_step_and_keeps_last_good_checkpoint(tmp_path):
    def poisoned(net, x):
        loss = denoise_loss(net, x)
        return loss * float("nan") if poisoned.step == 7 else loss

    def counting_batches(step, rank=0, world=1):
        poisoned.step = step
        return batch_fn(step)

    trainer = make(tmp_path / "a.pt", loss=poisoned, batches=counting_batches)
    with pytest.raises(NonFiniteLossError, match="at step 7"):
        trainer.fit()
    state = load_checkpoint(tmp_path / "a.pt")
    assert state["step"] == 4
    assert all(torch.isfinite(v).all() for v in state["model"].values())


def test_loading_refuses_pickled_objects_and_corrupt_files(tmp_path):
    evil = tmp_path / "evil.pt"
    torch.save({"format": 1, "payload": TinyConfig()}, evil)  # a pickled class instance
    with pytest.raises(CheckpointError, match="pickled"):
        load_checkpoint(evil)
    broken = tmp_path / "broken.pt"
    save_checkpoint({"format": 1, "w": torch.ones(1000)}, broken)
    broken.write_bytes(broken.read_bytes()[:300])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(broken)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "absent.pt")


def test_checkpoint_survives_a_kill_during_save(tmp_path):
    path = tmp_path / "ckpt.pt"
    save_checkpoint({"format": 1, "step": 1, "w": torch.arange(10.0)}, path)
    child = textwrap.dedent(
        f"""
        import time, torch
        from minilvdm.core import train
        real_save = torch.save
        def slow_save(obj, f):
            f.write(b"PARTIAL" * 1000); f.flush()
            time.sleep(60)  # killed here, mid-write
        train.torch.save = slow_save
        train.save_checkpoint({{"format": 1, "step": 2, "w": torch.zeros(10)}}, {str(path)!r})
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", child], cwd=ROOT)
    deadline = time.time() + 60
    while not list(tmp_path.glob(".ckpt.pt.tmp-*")) and time.time() < deadline:
        time.sleep(0.1)
    assert list(tmp_path.glob(".ckpt.pt.tmp-*")), "the child never started writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    state = load_checkpoint(path)
    assert state["step"] == 1 and torch.equal(state["w"], torch.arange(10.0))


def test_two_process_torchrun_trains_in_lockstep(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(ROOT / "tests" / "ddp_train.py"),
        str(tmp_path),
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    w0, w1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    init = tiny_model().state_dict()
    for key in w0:
        assert torch.equal(w0[key], w1[key])  # gradients were averaged across processes
    assert not all(torch.equal(w0[k], init[k]) for k in w0)  # and it trained
    assert load_checkpoint(tmp_path / "ddp.pt")["step"] == 5  # rank 0 wrote the checkpoint


def test_epoch_indices_cover_each_epoch_once_and_split_processes():
    from minilvdm.core.train import epoch_indices

    n, bsz = 10, 5
    epoch = torch.cat([epoch_indices(s, 0, 1, bsz, n) for s in range(2)])
    assert sorted(epoch.tolist()) == list(range(n))  # a permutation per epoch
    assert not torch.equal(epoch, torch.cat([epoch_indices(s, 0, 1, bsz, n) for s in range(2, 4)]))
    two = torch.cat([epoch_indices(0, r, 2, bsz, n) for r in range(2)])
    assert torch.equal(two, epoch)  # 2 processes at step 0 share out the same epoch
    assert torch.equal(epoch_indices(3, 0, 1, bsz, n, seed=1), epoch_indices(3, 0, 1, bsz, n, seed=1))


def test_param_groups_scale_the_learning_rate_per_group(tmp_path):
    model = tiny_model()
    first, second = model[0], model[2]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    groups = [
        {"params": first.parameters(), "lr_scale": 0.0},
        {"params": second.parameters(), "lr_scale": 0.5},
    ]
    config = TrainConfig(steps=3, lr=1e-2, warmup=2, ckpt_every=100, ema_decay=0.9, weight_decay=0.1)
    trainer = Trainer(model, denoise_loss, batch_fn, config, progress=False, param_groups=groups)
    trainer.fit()
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in ("0.weight", "0.bias"))  # lr 0: untouched
    assert not torch.equal(before["2.weight"], after["2.weight"])
    assert [g["lr"] for g in trainer.optimizer.param_groups] == [0.0, 0.5 * 1e-2]  # after warm-up
    with pytest.raises(ValueError, match="more than one"):
        Trainer(
            model, denoise_loss, batch_fn, config, param_groups=[{"params": list(model.parameters())}] * 2
        )


# ----------------------------------------------------------------------------- recipe options
def test_cosine_schedule_warms_up_then_decays_to_the_floor():
    from minilvdm.core.train import lr_at

    cfg = TrainConfig(steps=110, lr=1.0, warmup=10, lr_schedule="cosine", min_lr_ratio=0.1)
    assert lr_at(cfg, 0) == pytest.approx(0.1)  # (0 + 1) / 10 of the way up
    assert lr_at(cfg, 9) == pytest.approx(1.0)  # warm-up done, cosine at progress 0
    assert lr_at(cfg, 60) == pytest.approx(0.1 + 0.9 * 0.5)  # half way: the midpoint
    assert lr_at(cfg, 110) == pytest.approx(0.1)  # the end: r * lr
    values = [lr_at(cfg, s) for s in range(10, 111)]
    assert all(a >= b for a, b in zip(values, values[1:]))  # monotone after the warm-up
    constant = TrainConfig(steps=110, lr=1.0, warmup=10)
    assert lr_at(constant, 100) == 1.0


def test_ema_warmup_follows_its_formula_and_off_keeps_the_fixed_decay():
    from minilvdm.core.train import ema_decay_at

    cfg = TrainConfig(ema_decay=0.999, ema_warmup=True)
    assert ema_decay_at(cfg, 0) == pytest.approx(1 / 10)
    assert ema_decay_at(cfg, 90) == pytest.approx(91 / 100)
    assert ema_decay_at(cfg, 10**6) == 0.999
    assert ema_decay_at(TrainConfig(ema_decay=0.999), 0) == 0.999


def test_ema_warmup_forgets_the_initial_weights(tmp_path):
    """After 12 steps a plain 0.99 EMA still holds 0.99^12 = 89% of the random init; with the
    warm-up the average stays close to the trained weights."""
    plain_cfg = TrainConfig(steps=12, lr=1e-2, ema_decay=0.99)
    warm_cfg = TrainConfig(steps=12, lr=1e-2, ema_decay=0.99, ema_warmup=True)
    plain = Trainer(tiny_model(), denoise_loss, batch_fn, plain_cfg, None, progress=False)
    warm = Trainer(tiny_model(), denoise_loss, batch_fn, warm_cfg, None, progress=False)
    init = [p.detach().clone() for p in tiny_model().parameters()]
    plain.fit(), warm.fit()

    def distance(trainer, ref):
        return sum((e - r).abs().sum().item() for e, r in zip(trainer.ema.module.parameters(), ref))

    trained = [p.detach() for p in warm.model.parameters()]
    assert distance(warm, trained) < 0.5 * distance(warm, init)
    assert distance(plain, init) < distance(plain, [p.detach() for p in plain.model.parameters()])


def test_new_options_at_default_leave_checkpoint_names_unchanged():
    """Options added after weights were shipped do not enter the hash at their defaults."""
    from minilvdm.core.config import config_hash, config_to_dict

    cfg = TrainConfig(steps=1500, batch_size=8, lr=1e-3, warmup=50, ema_decay=0.995, ckpt_every=100)
    assert set(config_to_dict(cfg)) == {
        "steps", "batch_size", "lr", "weight_decay", "warmup", "ema_decay", "grad_clip", "ckpt_every", "seed"
    }  # fmt: skip
    assert config_hash(cfg) != config_hash(TrainConfig(**{**vars(cfg), "lr_schedule": "cosine"}))
    assert config_hash(cfg) != config_hash(TrainConfig(**{**vars(cfg), "ema_warmup": True}))


def test_fit_until_stops_early_and_resumes_to_the_same_weights(tmp_path):
    straight = make(tmp_path / "a.pt", lr_schedule="cosine").fit()
    staged = make(tmp_path / "b.pt", lr_schedule="cosine").fit(until=5)
    assert staged.step == 5 and (tmp_path / "b.pt").exists()
    resumed = make(tmp_path / "b.pt", lr_schedule="cosine").fit()
    assert resumed.step == 12 and same_state(straight.model, resumed.model)


def test_bad_train_options_are_refused():
    for bad in (dict(lr_schedule="linear"), dict(min_lr_ratio=2.0), dict(ema_decay=1.0), dict(batch_size=0)):
        with pytest.raises(ValueError):
            TrainConfig(**bad).validate()


# ----------------------------------------------------------------------------- preemption, compile
def test_sigterm_saves_the_step_reached_exits_143_and_resumes_exactly(tmp_path):
    """A scheduler's SIGTERM lands mid-step 6 (after the periodic save at 4): the child ends that
    step, saves step 7 and exits 143; resuming gives the weights of a run never stopped."""
    marker, path = tmp_path / "at-step-6", tmp_path / "b.pt"
    child = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from tests.test_trainer import batch_fn, make

        def slow(step, rank=0, world=1):
            if step == 6:
                Path({str(marker)!r}).touch()
                time.sleep(1.0)  # SIGTERM arrives here
            return batch_fn(step)

        make({str(path)!r}, batches=slow).fit()
        """
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", child], cwd=ROOT, env=env, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not marker.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert marker.exists(), f"the child never reached step 6: {proc.stderr.read().decode()[-2000:]}"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143, proc.stderr.read().decode()[-2000:]
    assert load_checkpoint(path)["step"] == 7  # beyond the periodic save at step 4
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the child: a bit-for-bit comparison needs the same reduction order
    try:
        resumed = make(path).fit()
        straight = make(tmp_path / "a.pt").fit()
    finally:
        torch.set_num_threads(threads)
    assert resumed.step == 12 and same_state(straight.model, resumed.model)
    assert same_state(straight.ema, resumed.ema)


def test_fit_restores_the_previous_sigterm_handler(tmp_path):
    def mine(signum, frame):
        pass

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        make(tmp_path / "a.pt", steps=2).fit()
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_compile_is_a_no_op_on_cpu_and_state_dicts_keep_their_names(tmp_path):
    from minilvdm.core.config import maybe_compile

    config = TrainConfig(steps=2)
    trainer = Trainer(tiny_model(), denoise_loss, batch_fn, config, device="cpu", progress=False)
    assert trainer.net is trainer.model and trainer.eager_net is trainer.model
    assert set(trainer.state_dict()["model"]) == set(tiny_model().state_dict())  # no `_orig_mod.`
    if not torch.cuda.is_available():
        model = tiny_model()
        assert maybe_compile(model) is model


def test_a_failing_compiled_network_falls_back_to_eager(tmp_path, capsys):
    """torch.compile fails at the first call, not at torch.compile(): the trainer retries the
    step eagerly (same seed, same batch) and goes on with the same weights as an eager run."""
    straight = make(tmp_path / "a.pt").fit()

    class Broken(nn.Module):  # stands in for a compiled module whose compilation fails
        def forward(self, x):
            raise RuntimeError("inductor: no C++ compiler")

    trainer = make(tmp_path / "b.pt")
    trainer.net = Broken()
    trainer.fit()
    assert trainer.net is trainer.eager_net
    assert "training eagerly" in capsys.readouterr().out
    assert same_state(straight.model, trainer.model)
