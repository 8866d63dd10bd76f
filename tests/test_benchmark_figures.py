"""Benchmark figures: measured ones beside BENCHMARKS.md, ci ones (wiring checks) in outputs/."""

import re
from pathlib import Path

from benchmarks import figure_link, figure_path
from minilvdm.core.config import ROOT, output_dir


def test_a_ci_run_never_overwrites_a_measured_figure_and_each_link_resolves(monkeypatch):
    monkeypatch.setenv("MINILVDM_PROFILE", "ci")
    ci = figure_path("drift.png")
    assert ci == output_dir() / "drift.png" and figure_link(ci) == "drift.png"  # beside BENCHMARKS-ci.md
    monkeypatch.setenv("MINILVDM_PROFILE", "quick")
    measured = figure_path("drift.png")
    assert measured == ROOT / "benchmarks" / "drift.png"
    assert figure_link(measured) == "benchmarks/drift.png"  # relative to BENCHMARKS.md


def test_every_figure_benchmarks_md_links_exists():
    text = (ROOT / "BENCHMARKS.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", text)
    assert links and all((ROOT / Path(link)).is_file() for link in links), links


def test_the_recipe_curve_draws_more_variants_than_its_palette_has_colours(monkeypatch):
    from benchmarks.recipe_report import plot_curves
    from benchmarks.recipe_variants import VARIANTS

    monkeypatch.setenv("MINILVDM_PROFILE", "ci")  # the figure goes to the test's outputs folder
    names = list(VARIANTS)[:22]  # tab20 has 20
    assert len(names) == 22
    row = {"step": 1, "budget_min": 5.0, "ema": {"recognisability": (0.5, 0.4, 0.6)}}
    results = {f"{name}|h|1": row for name in names}
    plot_curves(results, {name: "h" if name in names else "" for name in VARIANTS}, real_rec=0.97)
    assert figure_path("recipe_curve.png").stat().st_size > 0
