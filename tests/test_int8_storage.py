"""int8 shipped weights (`ship --int8`): every loader gets float32 weights back within half a
per-channel step, a tiny UNet's output barely moves, the file is smaller than float16's, and
a shipped float16 file can be re-stored in int8."""

import json
import zipfile
from pathlib import Path

import pytest
import torch
from torch import nn

from minilvdm import pretrained
from minilvdm.core import checkpoint
from minilvdm.diffusion.unet import SpaceTimeUNet, UNetConfig

TINY = dict(
    in_channels=2, model_channels=16, channel_mult=(1, 2), attention_resolutions=(1, 2), head_channels=8
)


@pytest.fixture
def ship_folder(tmp_path, monkeypatch):
    folder = tmp_path / "pretrained"
    monkeypatch.setattr(checkpoint, "SHIPPED_DIR", folder)  # where checkpoint_identity reads the manifest
    monkeypatch.setenv("MINILVDM_PROFILE", "ci")
    monkeypatch.setenv("MINILVDM_OUTPUTS", str(tmp_path / "outputs"))
    return folder


def tiny_unet(seed=0) -> SpaceTimeUNet:
    """A tiny UNet with every parameter moved off its init (zero-initialised layers too)."""
    torch.manual_seed(seed)
    net = SpaceTimeUNet(UNetConfig(**TINY))
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn(p.shape) * 0.1)
    return net.eval()


def finished_checkpoint(model: nn.Module, steps: int = 3) -> dict:
    """What a finished Trainer run saves, for `model` as its EMA."""
    ema = {f"module.{k}": v.clone() for k, v in model.state_dict().items()}
    return {
        "format": checkpoint.CHECKPOINT_FORMAT,
        "ema": {**ema, "n_averaged": torch.tensor(steps)},
        "step": steps,
        "configs": {"train": {"steps": steps}},
        "history": [(i, 1.0) for i in range(steps)],
        "seconds": 1.0,
    }


def saved(state: dict, path: Path) -> Path:
    torch.save(state, path)
    return path


def test_int8_round_trip_is_within_half_a_step_per_channel_and_smaller(tmp_path):
    net = tiny_unet()
    state = finished_checkpoint(net)
    half = saved(pretrained.slim_state(state), tmp_path / "half.pt")
    int8 = saved(pretrained.slim_state(state, int8=True), tmp_path / "int8.pt")
    assert torch.load(int8, weights_only=True)  # plain tensors and dicts only

    loaded = checkpoint.load_checkpoint(int8)
    assert checkpoint.INT8_SCALES not in loaded
    quantized = 0
    for key, original in state["ema"].items():
        got = loaded["ema"][key]
        if not original.is_floating_point():
            assert torch.equal(got, original), key
            continue
        assert got.dtype == torch.float32, key
        if original.ndim >= 2 and original.numel() >= pretrained.INT8_MIN_VALUES:
            quantized += 1
            step = original.abs().flatten(1).amax(1) / 127
            error = (got - original).abs().flatten(1).amax(1)
            assert (error <= step * 0.5001).all(), key
        else:  # biases, norms and the small in/out convolutions stay float16
            assert torch.equal(got, original.half().float() if original.numel() > 1 else original), key
    assert quantized > 10 and loaded["ema"]["module.conv_out.weight"].numel() < pretrained.INT8_MIN_VALUES
    ratio = int8.stat().st_size / half.stat().st_size
    assert ratio < 0.75, ratio


def test_a_unet_from_int8_weights_gives_nearly_the_float32_output(tmp_path):
    net = tiny_unet()
    path = saved(pretrained.slim_state(finished_checkpoint(net), int8=True), tmp_path / "int8.pt")
    again = SpaceTimeUNet(UNetConfig(**TINY)).eval()
    again.load_state_dict(checkpoint.ema_state_dict(checkpoint.load_checkpoint(path)))
    g = torch.Generator().manual_seed(1)
    x, t = torch.randn(2, 2, 5, 8, 8, generator=g), torch.randint(0, 1000, (2,), generator=g)
    with torch.no_grad():
        want, got = net(x, t), again(x, t)
    relative = ((got - want).norm() / want.norm()).item()
    assert relative < 0.02, relative  # 1.5% on these random weights; float16 0.07%


def test_a_zero_weight_row_survives(tmp_path):
    model = nn.Sequential(nn.Linear(64, 32), nn.Conv2d(32, 16, 3))
    with torch.no_grad():
        model[0].weight[1] = 0.0
        model[1].weight.zero_()
    slim = pretrained.slim_state(finished_checkpoint(model), int8=True)
    assert {k for k, v in slim["ema"].items() if v.dtype == torch.int8} == {
        "module.0.weight",
        "module.1.weight",
    }
    ema = checkpoint.load_checkpoint(saved(slim, tmp_path / "int8.pt"))["ema"]
    assert all(torch.isfinite(v).all() for v in ema.values() if v.is_floating_point())
    assert torch.equal(ema["module.0.weight"][1], torch.zeros(64))
    assert torch.equal(ema["module.1.weight"], torch.zeros(16, 32, 3, 3))
    assert (ema["module.0.weight"][0] != 0).all()


def test_fingerprint_and_ema_state_dict_read_an_int8_file(ship_folder):
    net = tiny_unet()
    source = saved(finished_checkpoint(net), ship_folder.parent / "tiny-ci-0000000001.pt")
    pretrained.ship([source], "test", folder=ship_folder, int8=True)
    shipped = ship_folder / source.name
    entry = pretrained.manifest(ship_folder)["files"][source.name]
    assert entry["storage"] == "int8" and entry["source_sha256"] == pretrained.sha256(source)

    loaded = checkpoint.load_checkpoint(shipped)
    stated = entry["metrics"]["fingerprint"]
    assert pretrained.fingerprint(loaded) == stated
    raw = torch.load(shipped, weights_only=True)  # not dequantized: the readers do it themselves
    assert pretrained.fingerprint(raw) == stated
    assert pretrained.fingerprint(pretrained.slim_state(finished_checkpoint(net), int8=True)) == stated
    assert pretrained.fingerprint(pretrained.slim_state(finished_checkpoint(net))) != stated  # float16

    weights = checkpoint.ema_state_dict(raw)
    assert set(weights) == set(net.state_dict())
    assert all(v.dtype == torch.float32 for v in weights.values() if v.is_floating_point())
    for k, v in checkpoint.ema_state_dict(loaded).items():
        assert torch.equal(weights[k], v), k


def test_ship_int8_re_stores_a_shipped_float16_file(ship_folder):
    from minilvdm.__main__ import main

    source = saved(finished_checkpoint(tiny_unet()), ship_folder.parent / "tiny-ci-0000000001.pt")
    other = saved(finished_checkpoint(tiny_unet(seed=1)), ship_folder.parent / "other-ci-0000000002.pt")
    pretrained.ship([source, other], "first", folder=ship_folder)
    shipped = ship_folder / source.name
    half_bytes, half_ema = shipped.stat().st_size, checkpoint.load_checkpoint(shipped)["ema"]
    manifest = json.loads((ship_folder / pretrained.MANIFEST).read_text())
    for entry in manifest["files"].values():
        entry.pop("storage")  # as written before int8 storage existed
    (ship_folder / pretrained.MANIFEST).write_text(json.dumps(manifest))

    assert main(["ship", "--add", str(shipped), "--int8", "--folder", str(ship_folder)]) == 0
    files = pretrained.manifest(ship_folder)["files"]
    assert files[source.name]["storage"] == "int8" and files[other.name]["storage"] == "float16"
    assert files[source.name]["source_sha256"] == pretrained.sha256(source)  # the trained file's
    assert files[source.name]["command"] == "first"  # a re-store keeps the command that trains it
    with zipfile.ZipFile(shipped) as archive:  # stored deflated; torch.load reads it as it is
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    assert files[source.name]["bytes"] == shipped.stat().st_size < 0.75 * half_bytes
    ema = checkpoint.load_checkpoint(shipped)["ema"]
    for key, before in half_ema.items():
        if before.is_floating_point() and before.ndim >= 2:
            step = before.abs().flatten(1).amax(1) / 127
            assert ((ema[key] - before).abs().flatten(1).amax(1) <= step * 0.5001).all(), key


def test_ship_warns_when_the_ema_still_holds_the_first_steps(ship_folder, capsys):
    """The shipped file holds the EMA only: a short run with a slow EMA keeps much of its first
    step's near-random weights there (notebook 08's 300-step ablation kept 22%)."""
    slow = finished_checkpoint(tiny_unet(), steps=300)
    slow["configs"]["train"] |= {"ema_decay": 0.995, "ema_warmup": False}
    warmed = finished_checkpoint(tiny_unet(seed=1), steps=300)
    warmed["configs"]["train"] |= {"ema_decay": 0.995, "ema_warmup": True}
    assert pretrained.ema_first_step_share(slow) == pytest.approx(0.995**299)
    assert pretrained.ema_first_step_share(warmed) < 1e-10
    slow_path = saved(slow, ship_folder.parent / "slow-ci-0000000003.pt")
    warmed_path = saved(warmed, ship_folder.parent / "warmed-ci-0000000004.pt")
    pretrained.ship([slow_path, warmed_path], "test", folder=ship_folder)
    out = capsys.readouterr().out
    assert "slow-ci-0000000003.pt's EMA still holds 22%" in out and "warmed-ci" not in out
