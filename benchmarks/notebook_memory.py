"""Peak memory and wall time of each notebook run top to bottom in the profile (issue 5).
Checkpoints already in outputs/ are reused, as when a student reruns a notebook; the table
says how many checkpoints each run wrote (0 = it trained nothing). Set
MINILVDM_BENCH_NOTEBOOKS="05,08" to run only those notebooks: the other notebooks' rows
already in BENCHMARKS.md are kept, each with the date it was measured."""

from __future__ import annotations

import datetime
import os
import re
import sys
import tempfile

from minilvdm.core.config import ROOT, get_profile, output_dir
from minilvdm.core.cost import run_measured

CELL_TIMEOUT_S = 3600  # per cell: far above any quick cell (training cells take up to ~15 min)


def checkpoints() -> dict:
    folder = output_dir() / "checkpoints"
    return {p.name: p.stat().st_mtime for p in folder.glob("*.pt")} if folder.exists() else {}


def selected(pick: str | None) -> list:
    paths = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    return [p for p in paths if not pick or p.name[:2] in pick.split(",")]


def kept_rows(measured: list[str]) -> dict:
    """Rows of notebooks not measured now, from this topic's section of BENCHMARKS.md."""
    from benchmarks.__main__ import BENCHMARKS_MD

    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else ""
    section = re.search(r"<!-- BEGIN notebook_memory -->(.*?)<!-- END notebook_memory -->", text, re.S)
    found = re.findall(r"^(\| (\d\d_\w+) \|.*)$", section.group(1), re.M) if section else []
    return {name: line for line, name in found if name not in measured}


def run() -> str:
    pick = os.environ.get("MINILVDM_BENCH_NOTEBOOKS")
    stamp, rows = f"{datetime.date.today().isoformat()}, {get_profile()}", {}
    for path in selected(pick):
        before = checkpoints()
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute", f"--output-dir={tmp}"]
            # a per-cell limit: a kernel reply lost by ipykernel 7 otherwise hangs the run forever
            timeout = f"--ExecutePreprocessor.timeout={CELL_TIMEOUT_S}"
            result = run_measured([*cmd, timeout, str(path)], env=os.environ)
        after = checkpoints()
        written = sum(1 for name, mtime in after.items() if before.get(name) != mtime)
        status = "ok" if result["returncode"] == 0 else "FAILED"
        print(f"{path.name}: {status}, {result['seconds']:.0f} s, {result['peak_mb']:.0f} MB", flush=True)
        rows[path.stem] = (
            f"| {path.stem} | {status} | {result['seconds'] / 60:.1f} | {result['peak_mb']:.0f} | {written} "
            f"| {stamp} |"
        )
    rows = dict(sorted({**kept_rows(list(rows)), **rows}.items()))
    return "\n".join(
        [
            "### Peak memory per notebook",
            "",
            "| notebook | run | wall min | peak memory MB | checkpoints written | measured (date, profile) |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows.values(),
            "",
            "Peak memory = the largest resident set of the notebook's kernel (and nbconvert), executed with "
            "`python -m nbconvert --execute` in a child process. A notebook that finds its checkpoints in "
            "outputs/ loads instead of training, so its time and memory cover loading, sampling and "
            "evaluation only; 'checkpoints written' > 0 means a checkpointed model trained during this "
            "measurement (small models trained inside a notebook write none).",
            "",
        ]
    )
