"""benchmarks/gpu.py: its CPU dry run exercises every stage, the time guard skips what won't
fit, and without CUDA the harness neither runs it nor overwrites a real gpu section."""

import json
import os

import pytest
import torch

from benchmarks import __main__ as harness
from benchmarks import gpu

STAGES = ("device", "numerics", "throughput", "train", "samples")


@pytest.fixture
def outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("MINILVDM_OUTPUTS", str(tmp_path / "outputs"))
    monkeypatch.setenv("MINILVDM_PROFILE", "quick")
    return tmp_path


def test_dry_run_writes_every_stage(outputs):
    assert gpu.main(["--out", str(outputs / "out"), "--dry-run"]) == 0
    r = json.loads((outputs / "out" / "gpu.json").read_text())
    assert r["dry_run"] and not r["errors"] and not r["skipped"]
    assert all(r[s] for s in STAGES)
    for name in ("unet", "vae"):
        assert {"bf16", "compile", "inputs"} <= set(r["numerics"][name])
        assert r["numerics"][name]["bf16"]["rel_l2"] >= 0
    eager = r["throughput"]["eager"]
    assert set(eager) == {"lvdm", "vae", "long-predict", "long-interp"}
    assert all(e["status"] == "ok" and e["steps_per_s"] > 0 for e in eager.values())
    assert set(r["throughput"]["compiled"]) == set(eager)
    t = r["train"]
    assert t["steps"] == t["planned_steps"] == 2 and t["clips"] == 8
    assert "quick VAE's 2 latent channels" in t["note"]
    rows = r["samples"]["rows"]
    assert set(rows) == {"trained-raw", "trained-ema", "quick-shipped"}
    assert all(len(e["fvd"]) == 3 and e["fvd_over_floor"] > 0 for e in rows.values())
    assert (outputs / "out" / "gpu.md").read_text().startswith("**Dry run**")
    assert os.environ["MINILVDM_PROFILE"] == "quick"  # the check's profile is restored


def test_the_time_guard_skips_stages_and_says_so(outputs):
    r = gpu.check(outputs / "out", minutes=0, dry=True)
    assert "numerics" not in r and "train" not in r and "samples" not in r
    names = " ".join(r["skipped"])
    assert "numerics" in names and "throughput/eager/lvdm" in names and "train" in names
    assert "Skipped by the time guard" in (outputs / "out" / "gpu.md").read_text()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the behaviour without CUDA")
def test_without_cuda_the_harness_refuses_and_all_leaves_gpu_out():
    with pytest.raises(SystemExit, match="needs a CUDA device"):
        gpu.run()
    assert "gpu" in harness.topics() and "gpu" not in harness.selected("all")
    assert harness.selected("gpu") == ["gpu"]


def test_from_json_writes_the_section_with_the_device_machine(outputs, monkeypatch):
    md = outputs / "BENCHMARKS.md"
    md.write_text(harness.HEADER + "\n<!-- BEGIN gpu -->\nold\n<!-- END gpu -->\n")
    monkeypatch.setattr(harness, "BENCHMARKS_MD", md)
    results = {
        "dry_run": False, "date": "2030-01-02", "budget_s": 480, "seconds": 400, "skipped": ["samples: x"],
        "errors": {}, "device": {"device": "cuda", "name": "NVIDIA H200", "torch": "2.9", "cuda": "13.0",
                                 "machine": "GPU NVIDIA H200, torch 2.9, threads 16"},
    }  # fmt: skip
    path = outputs / "gpu.json"
    path.write_text(json.dumps(results))
    assert gpu.main(["--from-json", str(path)]) == 0
    text = md.read_text()
    assert "old" not in text and "GPU NVIDIA H200, torch 2.9" in text and "2030-01-02" in text
    assert "- profile: `full`" in text and "samples: x" in text
    path.write_text(json.dumps({**results, "dry_run": True}))
    with pytest.raises(SystemExit, match="dry run"):
        gpu.main(["--from-json", str(path)])


def test_a_ci_run_writes_its_sections_outside_benchmarks_md(outputs, monkeypatch):
    import sys
    import types

    md = outputs / "BENCHMARKS.md"
    md.write_text(harness.HEADER + "\n<!-- BEGIN fake -->\nmeasured\n<!-- END fake -->\n")
    monkeypatch.setattr(harness, "BENCHMARKS_MD", md)
    fake = types.ModuleType("benchmarks.fake")
    fake.run = lambda: "| wiring |"
    monkeypatch.setitem(sys.modules, "benchmarks.fake", fake)
    monkeypatch.setattr(harness, "topics", lambda: ["fake"])
    assert harness.main(["fake", "--profile", "ci"]) == 0
    assert "measured" in md.read_text() and "wiring" not in md.read_text()  # the quick figures stay
    ci_file = harness.section_file("ci")
    assert ci_file.parent == outputs / "outputs" and "| wiring |" in ci_file.read_text()
    assert harness.section_file("quick") == md
