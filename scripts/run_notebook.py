"""Execute notebooks in place, saved close to the form JupyterLab writes.

    MINILVDM_PROFILE=quick python scripts/run_notebook.py notebooks/05_latent_video_diffusion.ipynb
    make notebook NB=05_latent_video_diffusion             # the same, PROFILE=quick by default

Runs every cell with the notebook's folder as the working directory (as JupyterLab does),
stops at the first error without saving, merges consecutive stream outputs of a cell (as
JupyterLab does on save), and writes JupyterLab's kernel display name, so that opening and
saving the file without edits changes as little as possible. Prints the wall time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert.preprocessors import CoalesceStreamsPreprocessor

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def run(path: Path, timeout: int | None = None) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    resources = {"metadata": {"path": str(path.parent)}}  # cwd = the notebook's folder
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources=resources).execute()
    seconds = time.perf_counter() - start
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})
    nb.metadata["kernelspec"] = KERNELSPEC
    nbformat.write(nb, path)
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: none)")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if not path.is_file():
            parser.error(f"no notebook at {path}")
        seconds = run(path, args.timeout)
        size = path.stat().st_size / 2**20
        print(f"{path.name}: executed in {seconds / 60:.1f} min, {size:.2f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
