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


def results_file(name: str) -> _Path:
    """Where a benchmark keeps scores that cost CPU-hours, as they come: committed
    (benchmarks/results/<name>-<profile>.json) for quick and full, since an outputs folder does
    not outlive its machine; in the ci profile (a wiring check) the outputs folder."""
    from minilvdm.core.config import get_profile, output_dir

    folder = output_dir() / name if get_profile() == "ci" else _Path(__file__).resolve().parent / "results"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}-{get_profile()}.json"


def load_results(name: str) -> dict:
    import json

    path = results_file(name)
    return json.loads(path.read_text()) if path.exists() else {}


def store_result(name: str, key: str, value) -> None:
    """Read-modify-write with an atomic replace: two runs of one benchmark may store at once."""
    import json
    import os

    path, table = results_file(name), load_results(name)
    table[key] = value
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(table, indent=1, sort_keys=True))
    tmp.replace(path)


def kept_result(name: str, key: str, compute):
    """The result kept under `key` in benchmark `name`'s results, or `compute()` stored there first:
    a benchmark whose rows cost minutes each resumes at its first missing row."""
    done = load_results(name).get(key)
    if done is None:
        done = compute()
        store_result(name, key, done)
    return done
