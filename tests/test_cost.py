"""minilvdm.cost: measured time and memory."""


def test_run_measured_reports_the_childs_peak_memory_exit_code_and_output():
    import sys

    from minilvdm.cost import run_measured

    grab = "import sys; b = b'x' * (300 * 2**20); print('done'); sys.exit(3)"
    result = run_measured([sys.executable, "-c", grab])
    assert result["returncode"] == 3 and result["output"].strip() == "done"
    assert 300 < result["peak_mb"] < 2000  # the 300 MB buffer, plus an interpreter
    small = run_measured([sys.executable, "-c", "pass"])
    assert small["returncode"] == 0 and small["peak_mb"] < result["peak_mb"] - 250
