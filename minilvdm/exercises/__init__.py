"""One exercise pattern for every notebook.

In a notebook the student's cell holds a stub; the teacher's copy (the one in the repo,
which CI runs) holds the solution between markers:

    def bounce(pos, vel, lo, hi):
        ### BEGIN SOLUTION
        ...
        ### END SOLUTION

    check("bounce", bounce)      # raises with a hint if wrong, prints a tick if right
    reveal("bounce")             # prints the package's reference solution

`python -m minilvdm student-notebooks` writes copies with every solution block replaced
by `raise NotImplementedError` and outputs cleared. Checkers live in this package, one
module per notebook (`nbXX_*.py`), registered with `@checker(name, reference)`.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
from collections.abc import Callable
from pathlib import Path

_CHECKERS: dict[str, tuple[Callable, Callable | None]] = {}
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


class ExerciseFailed(AssertionError):
    """The answer is wrong; the message says how."""


def checker(name: str, reference: Callable | None = None):
    """Register `fn(answer)` as the checker for exercise `name` (raise ExerciseFailed if wrong)."""

    def register(fn):
        _CHECKERS[name] = (fn, reference)
        return fn

    return register


def _load_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


def exercises() -> list[str]:
    _load_all()
    return sorted(_CHECKERS)


def check(name: str, answer) -> None:
    """Check an answer. Prints a tick, or raises ExerciseFailed with a hint.

    Returns None on purpose: a notebook cell ending in `check(...)` then shows only the tick."""
    _load_all()
    if name not in _CHECKERS:
        raise KeyError(f"no exercise named {name!r}; known: {', '.join(sorted(_CHECKERS))}")
    fn, _ = _CHECKERS[name]
    try:
        fn(answer)
    except NotImplementedError as err:
        raise ExerciseFailed(f"{name}: not implemented yet - replace the stub") from err
    print(f"\u2713 {name}: correct")


def reveal(name: str) -> str:
    """Print (and return) the package's reference solution for exercise `name`."""
    _load_all()
    reference = _CHECKERS[name][1]
    if reference is None:
        raise KeyError(f"exercise {name!r} has no reference solution to reveal")
    source = inspect.getsource(reference)
    print(source)
    return source


_BLOCK = re.compile(rf"^([ \t]*){re.escape(BEGIN)}\n.*?^[ \t]*{re.escape(END)}[ \t]*\n?", re.S | re.M)


def strip_solutions(source: str) -> str:
    """Replace every solution block by a stub that raises NotImplementedError."""
    return _BLOCK.sub(lambda m: f'{m.group(1)}raise NotImplementedError("your code here")\n', source)


def write_student_notebook(src: str | Path, dst: str | Path) -> Path:
    """A copy of a notebook with solutions stripped and outputs cleared."""
    nb = json.loads(Path(src).read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        text = "".join(cell["source"])
        cell["source"] = strip_solutions(text).splitlines(keepends=True)
        cell["outputs"], cell["execution_count"] = [], None
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(nb, indent=1) + "\n")
    return dst
