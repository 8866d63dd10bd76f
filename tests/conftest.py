import pytest


@pytest.fixture(autouse=True)
def _isolated_outputs(tmp_path_factory, monkeypatch):
    """Tests never write into the repo's outputs/: each session gets its own folder."""
    monkeypatch.setenv("MINILVDM_OUTPUTS", str(tmp_path_factory.getbasetemp() / "outputs"))
