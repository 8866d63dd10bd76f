import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import tomllib
import torch

from minilvdm import by_profile, get_profile, seed_everything, set_profile
from minilvdm.__main__ import main
from minilvdm.core.config import (
    PROFILE_ENV,
    autocast,
    config_from_dict,
    config_hash,
    config_to_dict,
    describe,
)
from minilvdm.data import MovingMNISTConfig

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ ;\[]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    ours = set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])
    conda = set()
    for line in (ROOT / "environment.yml").read_text().splitlines():
        match = re.match(r"^\s{6}- (\S.*)$", line)  # the pip: section
        if match:
            conda.add(match.group(1).strip())
    assert conda == ours, f"only in pyproject: {ours - conda}; only in environment.yml: {conda - ours}"
    pinned = {_name(r): r for r in ours}
    assert pinned["torch"] == "torch==2.14.1" and pinned["torchvision"] == "torchvision==0.29.1"


def test_profile_switch(monkeypatch):
    monkeypatch.setenv(PROFILE_ENV, "ci")
    assert get_profile() == "ci" and by_profile(ci=1, quick=2, full=3) == 1
    set_profile("full")
    assert by_profile(ci=1, quick=2, full=3) == 3
    monkeypatch.setenv(PROFILE_ENV, "huge")
    with pytest.raises(ValueError, match="not a profile"):
        get_profile()


def test_cli_flag_overrides_the_environment(monkeypatch, capsys):
    monkeypatch.setenv(PROFILE_ENV, "quick")
    assert main(["--profile", "ci"]) == 0
    assert get_profile() == "ci"
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "demo" in capsys.readouterr().out


@dataclass
class Inner:
    a: int = 1


@dataclass
class Outer:
    inner: Inner = field(default_factory=Inner)
    sizes: tuple = (1, 2)


def test_configs_round_trip_and_hash():
    cfg = Outer(Inner(5), (3, 4))
    assert config_from_dict(Outer, config_to_dict(cfg)) == cfg
    assert config_hash(cfg) == config_hash(Outer(Inner(5), (3, 4)))
    assert config_hash(cfg) != config_hash(Outer(Inner(6), (3, 4)))
    with pytest.raises(ValueError, match="no field"):
        config_from_dict(Inner, {"b": 1})
    assert "MovingMNISTConfig" in describe(MovingMNISTConfig()) and "profile" in describe()


def test_seeding_repeats_and_cpu_autocast_is_a_no_op():
    seed_everything(3)
    a = torch.randn(5)
    seed_everything(3)
    assert torch.equal(a, torch.randn(5))
    with autocast("cpu"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


def test_display_path_prints_repo_paths_relative_and_leaves_others_alone(tmp_path, monkeypatch):
    from minilvdm.core.config import ROOT, display_path

    assert display_path(ROOT / "outputs" / "data" / "x.npy") == str(Path("outputs", "data", "x.npy"))
    assert display_path(str(ROOT / "data")) == "data"
    assert display_path(ROOT) == "."
    monkeypatch.chdir(tmp_path)  # outside the repo: relative to the current directory
    assert display_path(tmp_path / "a" / "b.mp4") == str(Path("a", "b.mp4"))
    assert display_path(Path("c.npy")) == "c.npy"
    outside = tmp_path.parent / "elsewhere" / "d.npy"
    assert display_path(outside) == str(outside)  # in neither: unchanged
    monkeypatch.setenv("MINILVDM_OUTPUTS", str(outside.parent))  # an outputs folder set elsewhere
    assert display_path(outside) == str(Path("outputs", "d.npy"))


def test_describe_says_which_weights_a_run_uses(monkeypatch):
    from minilvdm.core.config import describe

    monkeypatch.delenv("MINILVDM_WEIGHTS", raising=False)
    assert "weights: train" in describe().splitlines()[0]
    monkeypatch.setenv("MINILVDM_WEIGHTS", "Shipped")
    assert "weights: shipped" in describe().splitlines()[0]
