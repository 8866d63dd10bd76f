"""benchmarks.notebook_memory keeps the rows it does not re-measure, per weights mode."""

import benchmarks.__main__ as bench_main
from benchmarks.notebook_memory import kept_rows

SECTION = """<!-- BEGIN notebook_memory -->
| notebook | run | wall min | peak memory MB | checkpoints written | measured (date, profile) |
| --- | --- | --- | --- | --- | --- |
| 00_data | ok | 0.3 | 1230 | 0 | 2026-11-28, quick |
| 05_latent_video_diffusion | shipped | ok | 1.2 | 900 | 0 | 2026-12-01, quick |
<!-- END notebook_memory -->
"""


def test_kept_rows_reads_old_rows_as_train_and_keeps_modes_apart(tmp_path, monkeypatch):
    md = tmp_path / "BENCHMARKS.md"
    md.write_text(SECTION)
    monkeypatch.setattr(bench_main, "BENCHMARKS_MD", md)
    rows = kept_rows([])
    assert set(rows) == {("00_data", "train"), ("05_latent_video_diffusion", "shipped")}
    assert rows[("00_data", "train")] == "| 00_data | train | ok | 0.3 | 1230 | 0 | 2026-11-28, quick |"
    # measuring 05 with the switch off does not drop its shipped row; measuring it shipped does
    assert ("05_latent_video_diffusion", "shipped") in kept_rows([("05_latent_video_diffusion", "train")])
    assert set(kept_rows([("05_latent_video_diffusion", "shipped")])) == {("00_data", "train")}


def test_train_rows_start_from_an_empty_outputs_folder_only_when_asked(monkeypatch):
    from benchmarks.notebook_memory import fresh_outputs

    monkeypatch.delenv("MINILVDM_BENCH_FRESH", raising=False)
    assert fresh_outputs("shipped") and not fresh_outputs("train")
    monkeypatch.setenv("MINILVDM_BENCH_FRESH", "1")
    assert fresh_outputs("train")
