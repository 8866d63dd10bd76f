from pathlib import Path

from ..core.config import ROOT, output_dir
from ..exercises import write_student_notebook


def add_arguments(parser):
    parser.add_argument(
        "--out", default=None, help="folder for the copies (default outputs/student_notebooks)"
    )


def run(args):
    out = Path(args.out) if args.out else output_dir() / "student_notebooks"
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        print(write_student_notebook(nb, out / nb.name))
    return 0
