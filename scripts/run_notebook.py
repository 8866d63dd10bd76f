"""Execute notebooks in place, saved close to the form JupyterLab writes.

    MINILVDM_PROFILE=quick python scripts/run_notebook.py notebooks/05_latent_video_diffusion.ipynb
    make notebook NB=05_latent_video_diffusion             # the same, PROFILE=quick by default

    python scripts/run_notebook.py --resave notebooks/*.ipynb   # rewrite the saved form only

Runs every cell with the notebook's folder as the working directory (as JupyterLab does),
stops at the first error without saving, merges consecutive stream outputs of a cell (as
JupyterLab does on save), writes JupyterLab's kernel display name, and writes whole-valued
floats as integers as JavaScript does (tqdm's progress widgets keep max=500.0, JupyterLab saves
500), so that opening and saving the file without edits changes as little as possible.
Prints the wall time. --resave applies the same form without executing anything.
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


def js_numbers(value):
    """JSON numbers as JavaScript writes them: one number type, so 500.0 becomes 500."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {key: js_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [js_numbers(item) for item in value]
    return value


def save(nb, path: Path) -> None:
    """Write the notebook in the form JupyterLab saves it."""
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})
    nb.metadata["kernelspec"] = KERNELSPEC
    nbformat.write(nbformat.from_dict(js_numbers(nb)), path)


def run(path: Path, timeout: int | None = None) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    resources = {"metadata": {"path": str(path.parent)}}  # cwd = the notebook's folder
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources=resources).execute()
    seconds = time.perf_counter() - start
    save(nb, path)
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: none)")
    parser.add_argument("--resave", action="store_true", help="only rewrite the saved form; run nothing")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if not path.is_file():
            parser.error(f"no notebook at {path}")
        if args.resave:
            save(nbformat.read(path, as_version=4), path)
            print(f"{path.name}: resaved", flush=True)
            continue
        seconds = run(path, args.timeout)
        size = path.stat().st_size / 2**20
        print(f"{path.name}: executed in {seconds / 60:.1f} min, {size:.2f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
