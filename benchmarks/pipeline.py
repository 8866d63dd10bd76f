"""The README main job, `python -m minilvdm demo`, from an empty outputs folder, so every model
trains: its report, wall time and peak memory (issue 6: the quick pipeline within 4 GB)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from minilvdm.core.config import ROOT, get_profile
from minilvdm.core.cost import run_measured


def run() -> str:
    profile = get_profile()
    command = ["-m", "minilvdm", "demo", "--profile", profile]
    with tempfile.TemporaryDirectory(prefix="minilvdm-pipeline-") as out:
        env = {**os.environ, "MINILVDM_OUTPUTS": out, "MINILVDM_WEIGHTS": "train", "MPLBACKEND": "Agg"}
        result = run_measured([sys.executable, *command], env=env, cwd=ROOT)
        if result["returncode"]:
            raise RuntimeError(f"the demo failed:\n{result['output'][-3000:]}")
        report = (Path(out) / "report.md").read_text().replace(out, "outputs")
    return "\n".join(
        [
            f"### `python {' '.join(command)}` from an empty outputs folder",
            "",
            f"- peak memory (largest RSS of the demo process): **{result['peak_mb']:.0f} MB** "
            "(target, issue 6: <= 4096 MB)",
            f"- wall time: {result['seconds'] / 60:.1f} min, everything trained from scratch (no checkpoints "
            "reused, shipped weights off)",
            "",
            "The demo's own report:",
            "",
            "```",
            report.strip(),
            "```",
            "",
        ]
    )
