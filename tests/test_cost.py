"""minilvdm.core.cost: measured time and memory."""


def test_run_measured_reports_the_childs_peak_memory_exit_code_and_output():
    import sys

    from minilvdm.core.cost import run_measured

    grab = "import sys; b = b'x' * (300 * 2**20); print('done'); sys.exit(3)"
    result = run_measured([sys.executable, "-c", grab])
    assert result["returncode"] == 3 and result["output"].strip() == "done"
    assert 300 < result["peak_mb"] < 2000  # the 300 MB buffer, plus an interpreter
    small = run_measured([sys.executable, "-c", "pass"])
    assert small["returncode"] == 0 and small["peak_mb"] < result["peak_mb"] - 250


def test_measured_once_times_once_per_key_and_survives_a_new_process():
    import json

    from minilvdm.core.config import output_dir
    from minilvdm.core.cost import measured_once

    calls = []

    def measure():
        calls.append(1)
        return {"a_s": 0.5 + len(calls), "b_s": 2}

    key = f"test-{id(calls)}"
    first = measured_once(key, measure)
    assert first == {"a_s": 1.5, "b_s": 2.0} and len(calls) == 1
    assert measured_once(key, measure) == first and len(calls) == 1  # read back, not re-timed
    assert measured_once(key + "-other", measure)["a_s"] == 2.5 and len(calls) == 2
    stored = json.loads((output_dir() / "measured_costs.json").read_text())
    assert [v for k, v in stored.items() if k.startswith(key + "|")] == [first]  # on disk, per key


def test_a_timing_kept_by_another_process_while_one_measures_survives():
    """Two equal-compute trainings in parallel each time their steps: the second to finish
    must not write back the table it read before the first kept its timing."""
    from minilvdm.core.cost import measured_once

    key = f"test-race-{id(measured_once)}"

    def slow_measure():  # meanwhile another process keeps its own timing
        measured_once(key + "-other", lambda: {"s": 2.0})
        return {"s": 1.0}

    assert measured_once(key, slow_measure) == {"s": 1.0}
    assert measured_once(key + "-other", lambda: {"s": 9.0}) == {"s": 2.0}  # still kept, not re-timed


def test_measured_once_reuses_a_timing_made_at_another_thread_count():
    """A step count derived from a timing must not change with OMP_NUM_THREADS: a rerun at 2
    threads would otherwise train (and name) another checkpoint than the 1-thread run."""
    import torch

    from minilvdm.core.cost import measured_once

    key, old = f"test-threads-{id(torch)}", torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        first = measured_once(key, lambda: {"s": 1.0})
        torch.set_num_threads(2)
        assert measured_once(key, lambda: {"s": 9.0}) == first == {"s": 1.0}
    finally:
        torch.set_num_threads(old)


def test_equal_compute_steps_are_stable_across_calls():
    """The VideoFusion step count for equal compute is timed once: a rerun gets the same count
    (and so reuses the same checkpoint) even though a new timing would differ."""
    from minilvdm.methods.lvdm import default_lvdm_config
    from minilvdm.methods.videofusion import default_videofusion_config, equal_compute_steps
    from minilvdm.vae import VideoVAE, default_vae_config

    vae = VideoVAE(default_vae_config("mnist"))  # the latents the default configs are built for
    cfg, plain_cfg = default_videofusion_config(0.5), default_lvdm_config("mnist")
    first = equal_compute_steps(10, cfg, plain_cfg, vae, batch_size=1)
    assert first["steps"] == max(2, round(10 * first["plain_s"] / first["vf_s"]))
    assert equal_compute_steps(10, cfg, plain_cfg, vae, batch_size=1) == first
    assert equal_compute_steps(20, cfg, plain_cfg, vae, batch_size=1)["vf_s"] == first["vf_s"]
