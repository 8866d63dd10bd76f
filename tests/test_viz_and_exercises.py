import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from minilvdm.core.viz import frame_slider, save_gif, save_mp4, show_video, to_uint8_frames, video_html
from minilvdm.exercises import (
    ExerciseFailed,
    check,
    exercises,
    reveal,
    strip_solutions,
    write_student_notebook,
)


def test_frames_tile_a_batch_into_a_grid():
    video = torch.linspace(-1, 1, 4 * 3 * 5 * 6).reshape(4, 1, 3, 5, 6)
    frames = to_uint8_frames(video, nrow=2, pad=1)
    assert frames.shape == (3, 2 * 5 + 1, 2 * 6 + 1, 3) and frames.dtype == np.uint8
    np.testing.assert_array_equal(frames[:, :5, :6, 0], np.round((video[0, 0].numpy() + 1) * 127.5))
    assert frames[0, 0, 0, 0] == 0 and frames[-1, -1, -1, 0] == 255
    with pytest.raises(ValueError, match="channels"):
        to_uint8_frames(torch.zeros(2, 2, 4, 4, 4))
    with pytest.raises(ValueError, match="expected"):
        to_uint8_frames(torch.zeros(4, 4))


def test_gif_and_mp4_round_trip(tmp_path):
    video = torch.rand(2, 3, 5, 16, 16) * 2 - 1
    gif = save_gif(video, tmp_path / "a.gif")
    with Image.open(gif) as im:
        assert im.n_frames == 5
    mp4 = save_mp4(video, tmp_path / "a.mp4")
    assert mp4.stat().st_size > 0 and mp4.read_bytes()[4:8] == b"ftyp"
    html = video_html(video).data
    assert "<script" in html and "animation" in html.lower()


def test_show_video_and_frame_slider_display_a_still_beside_the_animation(monkeypatch):
    """GitHub drops the animation and the widget: each call must also display a PNG figure."""
    import IPython.display
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    video = torch.rand(1, 1, 4, 8, 8) * 2 - 1
    assert show_video(video, title="tiny") is None  # None: a cell ending in show_video shows it once
    animation, still = shown
    assert isinstance(animation, IPython.display.HTML) and "<script" in animation.data
    assert isinstance(still, Figure) and still.axes[0].get_title() == "tiny  (frames 0..3 every 1)"
    strip = still.axes[0].images[0].get_array()
    assert strip.shape == (8, 4 * 8, 3)  # all 4 frames, left to right
    np.testing.assert_array_equal(strip, np.concatenate(list(to_uint8_frames(video)), axis=1))
    assert not plt.fignum_exists(still.number)  # closed, so the inline backend does not draw it again
    png = io.BytesIO()
    still.savefig(png, format="png")
    assert Image.open(png).format == "PNG"

    shown.clear()
    show_video(torch.rand(2, 1, 20, 8, 8) * 2 - 1, static=False)
    assert [type(o) for o in shown] == [IPython.display.HTML]
    show_video(torch.rand(2, 1, 20, 8, 8) * 2 - 1)
    assert shown[-1].axes[0].get_title() == "frames 0..19 every 3"  # 7 of 20 frames, a 2-clip grid
    assert shown[-1].axes[0].images[0].get_array().shape == (8, 7 * 18, 3)

    shown.clear()
    frame_slider([video[0, :, i : i + 1] for i in range(3)], description="step")
    widget, still = shown
    assert type(widget).__name__ == "VBox" and widget.children[0].value == 0
    assert still.axes[0].get_title() == "step 0..2 every 1"
    plt.close("all")


def test_checkers_accept_the_reference_and_reject_wrong_answers(capsys):
    from minilvdm.data import bounce

    assert "bounce" in exercises()
    check("bounce", bounce)
    assert "\u2713" in capsys.readouterr().out
    with pytest.raises(ExerciseFailed, match="mirrors"):
        check("bounce", lambda p, v, lo, hi: (p + v, v))  # forgets the walls
    with pytest.raises(ExerciseFailed, match="not implemented"):
        check("bounce", lambda *a: (_ for _ in ()).throw(NotImplementedError()))
    with pytest.raises(ExerciseFailed):
        check("to_unit_range", lambda x: x / 255.0)
    assert "def bounce" in reveal("bounce")


def test_student_notebooks_have_stubs_and_no_outputs(tmp_path):
    source = (
        "def f(x):\n    ### BEGIN SOLUTION\n    y = x + 1\n    return y\n    ### END SOLUTION\n"
        "\ncheck('f', f)\n"
    )
    stripped = strip_solutions(source)
    assert "x + 1" not in stripped and '    raise NotImplementedError("your code here")\n' in stripped
    assert stripped.endswith("check('f', f)\n")
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "source": source.splitlines(True),
                "outputs": [{"x": 1}],
                "execution_count": 3,
                "metadata": {},
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "t.ipynb").write_text(json.dumps(nb))
    out = json.loads(write_student_notebook(tmp_path / "t.ipynb", tmp_path / "s" / "t.ipynb").read_text())
    cell = out["cells"][0]
    assert cell["outputs"] == [] and cell["execution_count"] is None
    assert "NotImplementedError" in "".join(cell["source"])
