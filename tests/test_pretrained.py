"""Shipped weights: the switch, the slim round trip, and the committed files' metrics."""

import dataclasses
import json

import pytest
import torch

from minilvdm import pretrained
from minilvdm.core import checkpoint
from minilvdm.core.train import CheckpointError
from minilvdm.vae import default_train_config, train_vae


@pytest.fixture
def ship_folder(tmp_path, monkeypatch):
    folder = tmp_path / "pretrained"
    monkeypatch.setattr(checkpoint, "SHIPPED_DIR", folder)  # where checkpoint_path fetches from
    monkeypatch.setenv("MINILVDM_PROFILE", "ci")
    monkeypatch.setenv("MINILVDM_OUTPUTS", str(tmp_path / "outputs"))
    return folder


def test_weights_mode_switch(monkeypatch):
    monkeypatch.delenv(pretrained.WEIGHTS_ENV, raising=False)
    assert pretrained.weights_mode() == "train"
    monkeypatch.setenv(pretrained.WEIGHTS_ENV, "Shipped")
    assert pretrained.weights_mode() == "shipped"
    monkeypatch.setenv(pretrained.WEIGHTS_ENV, "downloaded")
    with pytest.raises(ValueError, match="not one of"):
        pretrained.weights_mode()


def test_shipped_round_trip_reuses_without_training(ship_folder, monkeypatch):
    trained = train_vae("mnist", progress=False)
    manifest = pretrained.ship({"vae": trained.ckpt_path}, {"note": 1}, "test", folder=ship_folder)
    data = json.loads(manifest.read_text())
    shipped_file = ship_folder / data["files"]["vae"]["file"]
    assert data["files"]["vae"]["sha256"] == pretrained.sha256(shipped_file)
    state = torch.load(shipped_file, weights_only=True)
    assert state["shipped"] and "optimizer" not in state and "model" not in state

    trained.ckpt_path.unlink()
    monkeypatch.setenv(pretrained.WEIGHTS_ENV, "train")  # switch off: nothing is fetched, it trains
    again = train_vae("mnist", progress=False)
    assert len(again.optimizer.state) > 0  # it took optimizer steps
    again.ckpt_path.unlink()

    monkeypatch.setenv(pretrained.WEIGHTS_ENV, "shipped")
    reused = train_vae("mnist", progress=False)
    assert len(reused.optimizer.state) == 0  # loaded, never stepped
    assert reused.step == trained.step
    for (name, a), b in zip(trained.ema.module.state_dict().items(), reused.ema.module.state_dict().values()):
        assert torch.equal(a, b), name
    for a, b in zip(reused.model.parameters(), reused.ema.module.parameters()):
        assert torch.equal(a, b)  # the raw model starts from the EMA weights


def test_shipped_weights_cannot_be_trained_on(ship_folder, monkeypatch):
    trained = train_vae("mnist", progress=False)
    shipped = ship_folder / trained.ckpt_path.name
    ship_folder.mkdir()
    torch.save(pretrained.slim_state(torch.load(trained.ckpt_path, weights_only=True)), shipped)
    from minilvdm.core.train import Trainer

    longer = dataclasses.replace(default_train_config("mnist"), steps=trained.step + 5)
    fresh = Trainer(trained.model, trained.loss_fn, trained.batch_fn, longer, ckpt_path=shipped)
    fresh.configs = trained.configs | {"train": {**trained.configs["train"], "steps": longer.steps}}
    with pytest.raises(CheckpointError, match="reused, not trained on"):
        fresh.load()


def test_ship_refuses_over_budget(ship_folder, monkeypatch):
    trained = train_vae("mnist", progress=False)
    monkeypatch.setattr(pretrained, "MAX_TOTAL_MB", 0.01)
    with pytest.raises(ValueError, match="budget"):
        pretrained.ship({"vae": trained.ckpt_path}, {}, "test", folder=ship_folder)


def test_committed_weights_reach_their_stated_metrics():
    """The files in minilvdm/weights/pretrained load and reproduce MANIFEST.json's figures."""
    from minilvdm.commands.ship import lvdm_check, vae_check

    manifest = pretrained.manifest()
    for entry in manifest["files"].values():
        assert pretrained.sha256(pretrained.SHIPPED_DIR / entry["file"]) == entry["sha256"]
    assert manifest["total_mb"] <= pretrained.MAX_TOTAL_MB
    vae, lvdm = pretrained.load_shipped_pipeline(device="cpu")
    stated = manifest["metrics"]
    got_vae, got_lvdm = vae_check(vae), lvdm_check(lvdm)
    assert got_vae["psnr"] == pytest.approx(stated["vae"]["psnr"], abs=0.05)
    assert got_vae["ssim"] == pytest.approx(stated["vae"]["ssim"], abs=0.005)
    assert got_lvdm["mean_pixel"] == pytest.approx(stated["lvdm"]["mean_pixel"], abs=0.01)
    assert got_lvdm["recognisability"] == pytest.approx(stated["lvdm"]["recognisability"], abs=0.05)


def test_shipped_switch_makes_the_quick_pipeline_load_instead_of_train(monkeypatch, tmp_path):
    from minilvdm.methods.lvdm import default_lvdm_config, train_lvdm

    monkeypatch.setenv("MINILVDM_PROFILE", "quick")
    monkeypatch.setenv("MINILVDM_OUTPUTS", str(tmp_path))
    monkeypatch.setenv(pretrained.WEIGHTS_ENV, "shipped")
    from minilvdm.core.train import Trainer

    def refuse(self, step):
        raise AssertionError(
            f"{self.ckpt_path.name} is not shipped: the quick defaults changed since the weights were "
            "made; run `python -m minilvdm ship --profile quick`"
        )

    monkeypatch.setattr(Trainer, "train_step", refuse)
    vae_trainer = train_vae("mnist", progress=False)
    trainer, _ = train_lvdm(default_lvdm_config("mnist"), vae_trainer=vae_trainer, progress=False)
    assert trainer.step == trainer.config.steps and len(trainer.optimizer.state) == 0
    assert not (tmp_path / "latents").exists()  # a reused model needs no training data
