"""Peak memory and wall time of each notebook run top to bottom in the profile (issue 5).
Checkpoints already in outputs/ are reused, as when a student reruns a notebook; the table
says how many checkpoints each run wrote (0 = it trained nothing). Set
MINILVDM_BENCH_NOTEBOOKS="05,08" to run only those notebooks: the other notebooks' rows
already in BENCHMARKS.md are kept, each with the date it was measured.

With MINILVDM_WEIGHTS=shipped (issue 20: every notebook in at most 3 minutes) the notebooks run
in order against a fresh, empty outputs folder, as on a new clone: what they do not find shipped
they train: the 'checkpoints written' column then says how many trained and how many are
copies of shipped files. MINILVDM_BENCH_FRESH=1 runs the switch-off (`train`) rows the same way,
in order from an empty outputs folder, each notebook training what it does not find (issue 19's
"no notebook's quick run over 15 minutes from an empty outputs folder"). Rows are kept per
weights mode."""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import sys
import tempfile

import torch

from minilvdm.core.checkpoint import SHIPPED_DIR, weights_mode
from minilvdm.core.config import ROOT, environ, get_profile, output_dir
from minilvdm.core.cost import run_measured

CELL_TIMEOUT_S = 3600  # per cell: far above any quick cell (training cells take up to ~15 min)


def checkpoints() -> dict:
    folder = output_dir() / "checkpoints"
    return {p.name: p.stat().st_mtime for p in folder.glob("*.pt")} if folder.exists() else {}


def selected(pick: str | None) -> list:
    paths = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    return [p for p in paths if not pick or p.name[:2] in pick.split(",")]


def kept_rows(measured: list[tuple[str, str]]) -> dict:
    """Rows of (notebook, weights) pairs not measured now, from this topic's section of
    BENCHMARKS.md (rows from before the weights column read as 'train')."""
    from benchmarks.__main__ import BENCHMARKS_MD

    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else ""
    section = re.search(r"<!-- BEGIN notebook_memory -->(.*?)<!-- END notebook_memory -->", text, re.S)
    kept = {}
    for line in re.findall(r"^\| \d\d_\w+ \|.*$", section.group(1), re.M) if section else []:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[1] not in WEIGHTS_COLUMN:  # the old layout: no weights column
            cells.insert(1, "train")
        key = (cells[0], cells[1])
        if key not in measured:
            kept[key] = "| " + " | ".join(cells) + " |"
    return kept


WEIGHTS_COLUMN = ("train", "shipped")


def fresh_outputs(mode: str) -> bool:
    return mode == "shipped" or os.environ.get("MINILVDM_BENCH_FRESH") == "1"


def run() -> str:
    pick = os.environ.get("MINILVDM_BENCH_NOTEBOOKS")
    from benchmarks.step_profile import lvdm_step_seconds, matmul_peak_gflops

    stamp, rows, mode = f"{datetime.date.today().isoformat()}, {get_profile()}", {}, weights_mode()
    # this host's speed varies about 2x between runs (session 29: notebook 01 took 4.6 and 8.2 min on
    # one day), measured once before the notebooks: a matmul's rate, and (session 30) a training step
    # of the quick LVDM, which tells the kinds of run apart where the matmul did not (186 GFLOP/s on a
    # run as slow as one at 155: the convolutions slowed down, not the matmul)
    speed = f"matmul {matmul_peak_gflops(1024):.0f} GFLOP/s, LVDM step {lvdm_step_seconds():.2f} s"
    with contextlib.ExitStack() as stack:
        if fresh_outputs(mode):  # a new clone's empty outputs folder, shared by the notebooks in order
            fresh = stack.enter_context(tempfile.TemporaryDirectory(prefix="minilvdm-fresh-"))
            stack.enter_context(environ("MINILVDM_OUTPUTS", fresh))
        env = dict(os.environ)
        for path in selected(pick):
            before = checkpoints()
            with tempfile.TemporaryDirectory() as tmp:
                execute = ["-m", "nbconvert", "--to", "notebook", "--execute"]
                cmd = [sys.executable, *execute, f"--output-dir={tmp}"]
                # a per-cell limit: a kernel reply lost by ipykernel 7 otherwise hangs the run forever
                timeout = f"--ExecutePreprocessor.timeout={CELL_TIMEOUT_S}"
                result = run_measured([*cmd, timeout, str(path)], env=env)
            after = checkpoints()
            changed = [name for name, mtime in after.items() if before.get(name) != mtime]
            copied = sum(1 for name in changed if mode == "shipped" and (SHIPPED_DIR / name).is_file())
            written = (
                f"{len(changed) - copied} trained, {copied} copied" if mode == "shipped" else len(changed)
            )
            status = "ok" if result["returncode"] == 0 else "FAILED"
            print(
                f"{path.name} ({mode}): {status}, {result['seconds']:.0f} s, {result['peak_mb']:.0f} MB",
                flush=True,
            )
            # the CPU it ran on: torch threads and the 1-minute load average as it finished
            where = f"{torch.get_num_threads()} threads, load {os.getloadavg()[0]:.1f}, {speed}"
            rows[(path.stem, mode)] = (
                f"| {path.stem} | {mode} | {status} | {result['seconds'] / 60:.1f} | {result['peak_mb']:.0f} "
                f"| {written} | {stamp}, {where} |"
            )
    rows = dict(sorted({**kept_rows(list(rows)), **rows}.items()))
    return "\n".join(
        [
            "### Peak memory per notebook",
            "",
            "| notebook | weights | run | wall min | peak memory MB | checkpoints written "
            "| measured (date, profile, CPU) |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            *rows.values(),
            "",
            "Peak memory = the largest resident set of the notebook's kernel (and nbconvert), executed with "
            "`python -m nbconvert --execute` in a child process. A notebook that finds its checkpoints in "
            "outputs/ loads instead of training, so its time and memory cover loading, sampling and "
            "evaluation only. 'checkpoints written' counts the files a run added or changed in "
            "outputs/checkpoints (small models trained inside a notebook write none): in `train` rows "
            "each is a model trained during the measurement; `shipped` rows split them into trained and "
            "copied from the shipped weights, except rows measured before that split (2026-12-01), whose "
            "single count includes the copies. Weights `train`: the notebooks train what outputs/ does "
            "not hold; rows from 2026-12-07 on ran in order from an empty outputs folder "
            "(`MINILVDM_BENCH_FRESH=1`: each notebook trains what the notebooks before it did not, "
            "issue 19's target: 15 minutes each), earlier rows reused what outputs/ already held. "
            "`shipped` (`MINILVDM_WEIGHTS=shipped`): they run in order from an empty "
            "outputs folder with the shipped weights (target: 3 minutes each). CPU: torch threads and "
            "the load average as the run finished (2 on 2 cores = both busy); rows without it ran at one "
            "thread beside another job. From session 29 on, the column also gives a 1024 x 1024 fp32 "
            "matmul's rate measured before the run, and from session 30 the seconds of one training step of "
            "the quick LVDM (batch 8; 0.20 s on the fastest run seen, 0.37-0.41 on slow ones): this "
            "host's speed varies about 2x between runs, so compare the wall minutes of rows measured at "
            "similar speeds.",
            "",
        ]
    )
