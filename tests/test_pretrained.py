"""Shipped weights: the switch, the fp16 slim round trip, recording and merging, and the
committed files' metrics."""

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


def _rounded(tensor):
    """What fp16 storage keeps of a trained float tensor (scalars are stored as they are)."""
    return tensor.half().float() if tensor.is_floating_point() and tensor.numel() > 1 else tensor


def test_shipped_round_trip_reuses_without_training(ship_folder, monkeypatch):
    trained = train_vae("mnist", progress=False)
    manifest = pretrained.ship([trained.ckpt_path], "test", folder=ship_folder)
    entry = json.loads(manifest.read_text())["files"][trained.ckpt_path.name]
    shipped_file = ship_folder / entry["file"]
    assert entry["sha256"] == pretrained.sha256(shipped_file)
    assert (entry["role"], entry["profile"], entry["dataset"]) == ("vae", "ci", "mnist")
    assert entry["steps"] == trained.step and entry["command"] == "test"
    assert entry["seconds"] == pytest.approx(trained.seconds, abs=0.1)
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
        assert a.dtype == b.dtype and torch.equal(_rounded(a), b), name  # the trained EMA to fp16 precision
    for a, b in zip(reused.model.parameters(), reused.ema.module.parameters()):
        assert torch.equal(a, b)  # the raw model starts from the EMA weights


def test_shipped_files_store_fp16_and_every_loader_gives_fp32(ship_folder, monkeypatch):
    from minilvdm.vae.model import load_vae

    trained = train_vae("mnist", progress=False)
    pretrained.ship([trained.ckpt_path], "test", folder=ship_folder)
    shipped_file = ship_folder / trained.ckpt_path.name
    raw = torch.load(shipped_file, weights_only=True)["ema"]
    floats = {k: v for k, v in raw.items() if v.is_floating_point() and v.numel() > 1}
    assert floats and all(v.dtype == torch.float16 for v in floats.values())
    assert raw["n_averaged"].dtype == torch.int64 and raw["module.scale_factor"].dtype == torch.float32
    assert {v.dtype for v in checkpoint.load_checkpoint(shipped_file)["ema"].values()} <= {
        torch.float32,
        torch.int64,
    }
    assert all(v.dtype == torch.float32 for v in pretrained.ema_state_dict({"ema": raw}).values())
    vae = load_vae(shipped_file, "cpu")
    assert all(p.dtype == torch.float32 for p in vae.parameters())

    trained.ckpt_path.unlink()
    monkeypatch.setenv(pretrained.WEIGHTS_ENV, "shipped")
    reused = train_vae("mnist", progress=False)
    for module in (reused.model, reused.ema.module):
        assert all(p.dtype == torch.float32 for p in module.parameters())
    assert (
        reused.ema.n_averaged.dtype == torch.int64 and reused.ema.n_averaged.item() == trained.ema.n_averaged
    )


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


def test_checkpoint_path_records_each_name(ship_folder):
    from minilvdm.vae import default_vae_config

    path = checkpoint.checkpoint_path("thing", default_vae_config("mnist"))
    record = json.loads((path.parent / "requested.json").read_text())
    assert record[path.name]["profile"] == "ci" and record[path.name]["last"]
    other = checkpoint.checkpoint_path("other", default_vae_config("mnist"))
    assert set(json.loads((path.parent / "requested.json").read_text())) == {path.name, other.name}


def test_a_corrupt_or_unwritable_record_never_stops_training(ship_folder, monkeypatch, recwarn):
    from minilvdm.vae import default_vae_config

    record = checkpoint.requested_path()
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text('{"half a')
    path = checkpoint.checkpoint_path("thing", default_vae_config("mnist"))
    assert list(json.loads(record.read_text())) == [path.name]  # replaced, no exception
    assert not recwarn.list

    def refuse(*args):
        raise OSError("read-only")

    monkeypatch.setattr(checkpoint.os, "replace", refuse)
    with pytest.warns(UserWarning, match="could not record"):
        again = checkpoint.checkpoint_path("other", default_vae_config("mnist"))
    assert again.parent == path.parent and list(json.loads(record.read_text())) == [path.name]


def _copy(path, name):
    """A second checkpoint without training: the same state under another name."""
    target = path.with_name(name)
    target.write_bytes(path.read_bytes())
    return target


def _unfinished(path, name):
    state = torch.load(path, weights_only=True)
    state["step"] = state["configs"]["train"]["steps"] - 1
    target = path.with_name(name)
    torch.save(state, target)
    return target


def test_ship_requested_ships_finished_files_of_the_profile_and_merges(ship_folder, capsys):
    from minilvdm.__main__ import main

    trained = train_vae("mnist", progress=False)  # recorded by checkpoint_path, profile ci
    half_done = _unfinished(trained.ckpt_path, "half-ci-0000000001.pt")
    quick = _copy(trained.ckpt_path, "other-quick-0000000002.pt")  # another profile's file
    for path in (half_done, quick, trained.ckpt_path.with_name("gone-ci-0000000004.pt")):  # gone: no file
        checkpoint.record_request(path)
    _copy(trained.ckpt_path, "never-ci-0000000003.pt")  # in outputs/ but no run asked for it
    earlier = _copy(trained.ckpt_path, "earlier-ci-0000000005.pt")
    pretrained.ship([earlier], "earlier", folder=ship_folder)

    assert main(["ship", "--requested", "--folder", str(ship_folder)]) == 0
    out = capsys.readouterr().out
    assert "skipping half-ci-0000000001.pt: unfinished" in out
    files = pretrained.manifest(ship_folder)["files"]
    assert set(files) == {earlier.name, trained.ckpt_path.name}
    assert {p.name for p in ship_folder.glob("*.pt")} == set(files)
    assert files[earlier.name]["command"] == "earlier"  # merged: the earlier entry stays as it was
    assert "--requested" in files[trained.ckpt_path.name]["command"]
    vae_metrics = files[trained.ckpt_path.name]["metrics"]
    assert {"psnr", "ssim", "fingerprint"} <= set(vae_metrics)  # the VAE's quality check ran

    assert main(["ship", "--add", str(half_done), "--folder", str(ship_folder)]) == 2  # unfinished


def test_ship_requested_leaves_other_profiles(ship_folder, monkeypatch):
    trained = train_vae("mnist", progress=False)
    quick = _copy(trained.ckpt_path, "other-quick-0000000002.pt")
    monkeypatch.setenv("MINILVDM_PROFILE", "quick")
    checkpoint.record_request(quick)
    monkeypatch.setenv("MINILVDM_PROFILE", "ci")
    finished, skipped = pretrained.requested_checkpoints()
    assert finished == [trained.ckpt_path] and not skipped
    assert pretrained.requested_checkpoints("quick") == ([quick], [])


def test_ship_requested_since_leaves_out_names_last_asked_for_earlier(ship_folder, capsys):
    from minilvdm.__main__ import main

    trained = train_vae("mnist", progress=False)  # requested now
    stale = _copy(trained.ckpt_path, "stale-ci-00000000dd.pt")
    checkpoint.record_request(stale)
    record = checkpoint.requested_path()
    entries = json.loads(record.read_text())
    entries[stale.name]["last"] = "2026-01-01T00:00:00+00:00"  # asked for by an older config
    record.write_text(json.dumps(entries))

    assert main(["ship", "--requested", "--since", "2026-06-01", "--folder", str(ship_folder)]) == 0
    assert "skipping stale-ci-00000000dd.pt: last requested 2026-01-01" in capsys.readouterr().out
    assert set(pretrained.manifest(ship_folder)["files"]) == {trained.ckpt_path.name}
    assert main(["ship", "--requested", "--since", "yesterday", "--folder", str(ship_folder)]) == 2
    assert main(["ship", "--add", str(stale), "--since", "2026-06-01", "--folder", str(ship_folder)]) == 2


def test_ship_replaces_an_older_hash_of_the_same_role(ship_folder):
    trained = train_vae("mnist", progress=False)
    older = _copy(trained.ckpt_path, "vae-ci-00000000aa.pt")  # same role, profile and data
    sibling = _copy(trained.ckpt_path, "vae-ci-00000000bb.pt")  # same too, but a run asks for it
    checkpoint.record_request(sibling)
    other_profile = _copy(trained.ckpt_path, "vae-quick-00000000cc.pt")
    pretrained.ship([older, sibling, other_profile], "old", folder=ship_folder)
    older.unlink()  # the stale file is not requested: outputs/ no longer has it either

    pretrained.ship([trained.ckpt_path], "new", folder=ship_folder)
    files = pretrained.manifest(ship_folder)["files"]
    assert set(files) == {trained.ckpt_path.name, sibling.name, other_profile.name}
    assert not (ship_folder / older.name).exists()

    pretrained.ship([trained.ckpt_path], "again", folder=ship_folder, replace=True)
    assert set(pretrained.manifest(ship_folder)["files"]) == {trained.ckpt_path.name}
    assert [p.name for p in ship_folder.glob("*.pt")] == [trained.ckpt_path.name]


def test_ship_refuses_over_budget(ship_folder, monkeypatch):
    trained = train_vae("mnist", progress=False)
    monkeypatch.setattr(pretrained, "MAX_TOTAL_MB", 0.01)
    with pytest.raises(ValueError, match="budget"):
        pretrained.ship([trained.ckpt_path], "test", folder=ship_folder)
    assert not ship_folder.exists()  # checked before anything is written


def test_the_size_limit_counts_the_folder_after_merging(ship_folder, monkeypatch):
    trained = train_vae("mnist", progress=False)
    first = _copy(trained.ckpt_path, "first-ci-0000000001.pt")
    pretrained.ship([first], "test", folder=ship_folder)
    one = (ship_folder / first.name).stat().st_size / 2**20
    monkeypatch.setattr(pretrained, "MAX_TOTAL_MB", 1.5 * one)  # room for one file, not two
    with pytest.raises(ValueError, match="1 new, 1 kept"):
        pretrained.ship([trained.ckpt_path], "test", folder=ship_folder)
    assert [p.name for p in ship_folder.glob("*.pt")] == [first.name]  # nothing changed
    pretrained.ship([trained.ckpt_path], "test", folder=ship_folder, replace=True)  # fits alone


def test_fingerprint_survives_the_round_trip_and_sees_changes(ship_folder):
    trained = train_vae("mnist", progress=False)
    pretrained.ship([trained.ckpt_path], "test", folder=ship_folder)
    shipped = ship_folder / trained.ckpt_path.name
    stated = pretrained.manifest(ship_folder)["files"][shipped.name]["metrics"]["fingerprint"]
    state = checkpoint.load_checkpoint(shipped)
    assert pretrained.fingerprint(state) == stated
    assert (
        pretrained.fingerprint(pretrained.slim_state(checkpoint.load_checkpoint(trained.ckpt_path))) == stated
    )
    key = next(k for k, v in state["ema"].items() if k.startswith("module.") and v.numel() > 1)
    state["ema"][key] = state["ema"][key] + 0.01
    assert pretrained.fingerprint(state) != stated


def test_committed_weights_reach_their_stated_metrics():
    """The files in minilvdm/weights/pretrained load and reproduce MANIFEST.json's figures."""
    from minilvdm.commands.ship import lvdm_check, vae_check

    manifest = pretrained.manifest()
    files = manifest["files"]
    assert {p.name for p in pretrained.SHIPPED_DIR.glob("*.pt")} == set(files)  # one entry per file
    for name, entry in files.items():
        path = pretrained.SHIPPED_DIR / name
        assert pretrained.sha256(path) == entry["sha256"]
        assert {"role", "steps", "seconds", "command", "metrics"} <= set(entry)
        state = checkpoint.load_checkpoint(path)
        assert pretrained.fingerprint(state) == pytest.approx(entry["metrics"]["fingerprint"], rel=1e-9)
        assert state["step"] == entry["steps"]
    total = sum(p.stat().st_size for p in pretrained.SHIPPED_DIR.glob("*.pt")) / 2**20
    assert total <= pretrained.MAX_TOTAL_MB and manifest["total_mb"] == pytest.approx(total, abs=0.01)
    vae, lvdm = pretrained.load_shipped_pipeline(device="cpu")
    stated_vae = pretrained.shipped_entry(pretrained.VAE_ROLE, "quick", "mnist")["metrics"]
    stated_lvdm = pretrained.shipped_entry(pretrained.LVDM_ROLE, "quick")["metrics"]
    got_vae, got_lvdm = vae_check(vae), lvdm_check(lvdm)
    assert got_vae["psnr"] == pytest.approx(stated_vae["psnr"], abs=0.05)
    assert got_vae["ssim"] == pytest.approx(stated_vae["ssim"], abs=0.005)
    assert got_lvdm["mean_pixel"] == pytest.approx(stated_lvdm["mean_pixel"], abs=0.01)
    assert got_lvdm["recognisability"] == pytest.approx(stated_lvdm["recognisability"], abs=0.05)


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


def test_a_shipped_copy_keeps_the_identity_of_the_checkpoint_it_was_made_from(ship_folder):
    """Models trained on top of a shipped VAE (decoder fine-tuning, the image LDM) hash the
    VAE's identity into their names: a float16 copy must name them as the original did."""
    from minilvdm.core.checkpoint import checkpoint_identity, sha256
    from minilvdm.methods.image_to_video.lifting import provenance

    trained = train_vae("mnist", progress=False)
    pretrained.ship([trained.ckpt_path], "test", folder=ship_folder)
    copy = ship_folder / trained.ckpt_path.name
    assert sha256(copy) != sha256(trained.ckpt_path)  # another file (float16, EMA only) ...
    assert checkpoint_identity(copy) == checkpoint_identity(trained.ckpt_path) == sha256(trained.ckpt_path)
    latents = torch.zeros(2, 4, 8, 16, 16)
    assert provenance(copy, latents) == provenance(trained.ckpt_path, latents)  # ... the same name
    other = _copy(trained.ckpt_path, "other-ci-00000000ee.pt")
    torch.save({**torch.load(other, weights_only=False), "step": 1}, other)  # other bytes
    assert checkpoint_identity(other) == sha256(other) != sha256(trained.ckpt_path)


def test_shipped_timings_stand_in_for_a_new_machines_own(ship_folder, monkeypatch):
    from minilvdm.core import cost

    ship_folder.mkdir(parents=True)
    key = "lvdm-latent-vs-pixel-test"
    (ship_folder / cost.COSTS_FILE).write_text(json.dumps({f"{key}|ci|cpu|threads=7": {"pixel": 3.0}}))

    def measure():
        raise AssertionError("timed although shipped timings exist")

    monkeypatch.setenv("MINILVDM_WEIGHTS", "shipped")
    assert cost.measured_once(key, measure) == {"pixel": 3.0}
    assert cost.shipped_costs("another-key") is None
    monkeypatch.setenv("MINILVDM_WEIGHTS", "train")
    assert cost.measured_once(f"{key}-2", lambda: {"pixel": 5.0}) == {"pixel": 5.0}  # timed here


def test_ship_copies_the_timings_of_its_profiles_only(ship_folder, monkeypatch, tmp_path):
    from minilvdm.core import cost

    costs = {
        "a|ci|cpu|threads=1": {"s": 1.0},
        "b|quick|cpu|threads=1": {"s": 2.0},
        "recipe-c|ci|cpu|threads=2": {},
    }
    (tmp_path / "outputs").mkdir(exist_ok=True)
    (tmp_path / "outputs" / cost.COSTS_FILE).write_text(json.dumps(costs))
    trained = train_vae("mnist", progress=False)
    pretrained.ship([trained.ckpt_path], "test", folder=ship_folder)
    assert set(json.loads((ship_folder / cost.COSTS_FILE).read_text())) == {"a|ci|cpu|threads=1"}


def test_ship_remove_drops_named_files_and_their_entries(ship_folder):
    from minilvdm.__main__ import main

    trained = train_vae("mnist", progress=False)
    keep = _copy(trained.ckpt_path, "keep-ci-0000000001.pt")
    gone = _copy(trained.ckpt_path, "gone-ci-0000000002.pt")
    pretrained.ship([keep, gone], "test", folder=ship_folder)
    with pytest.raises(ValueError, match="not shipped"):
        pretrained.ship([], "", folder=ship_folder, remove=["never-ci-0000000003.pt"])
    assert {p.name for p in ship_folder.glob("*.pt")} == {keep.name, gone.name}  # nothing dropped

    assert main(["ship", "--remove", gone.name, "--folder", str(ship_folder)]) == 0
    files = pretrained.manifest(ship_folder)["files"]
    assert set(files) == {keep.name} and files[keep.name]["command"] == "test"
    assert [p.name for p in ship_folder.glob("*.pt")] == [keep.name]
    assert main(["ship", "--remove", gone.name, "--folder", str(ship_folder)]) == 2  # gone already
