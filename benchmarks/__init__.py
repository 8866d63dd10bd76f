"""Benchmarks: `python -m benchmarks <topic>` regenerates that topic's section of BENCHMARKS.md."""

from pathlib import Path as _Path


def figure_path(name: str) -> _Path:
    """Where a benchmark's figure goes: benchmarks/<name> beside the measured sections, or in the
    ci profile (a wiring check) the outputs folder, so a ci run never overwrites a measured figure."""
    from minilvdm.core.config import get_profile, output_dir

    return output_dir() / name if get_profile() == "ci" else _Path(__file__).resolve().parent / name


def figure_link(path: _Path) -> str:
    """The figure's path as its section's Markdown file links it (relative to that file)."""
    import os

    from minilvdm.core.config import get_profile

    from .__main__ import section_file

    return _Path(os.path.relpath(path, section_file(get_profile()).parent)).as_posix()
