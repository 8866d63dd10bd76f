"""Seeing results: inline videos, GIF/MP4 export, a frame slider and loss curves.

The show_* calls and frame_slider display what they show and return None. Each adds a still
strip of frames (a PNG), because GitHub's notebook view and print drop animations and widgets.

Every function takes videos in the package layout: (C, T, H, W) or (B, C, T, H, W),
values in [-1, 1], C = 1 (grey) or 3 (RGB).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from einops import rearrange

SAVE_MAX_FRAMES = 64  # inline animations are capped so notebooks stay small


def to_uint8_frames(video: torch.Tensor, nrow: int | None = None, pad: int = 2) -> np.ndarray:
    """A clip or a batch of clips -> (T, H', W', 3) uint8, batches tiled into a grid."""
    video = torch.as_tensor(video).detach().float().cpu()
    if video.ndim == 4:
        video = video.unsqueeze(0)
    if video.ndim != 5:
        raise ValueError(f"expected (C, T, H, W) or (B, C, T, H, W), got shape {tuple(video.shape)}")
    b, c, t, h, w = video.shape
    if c not in (1, 3):
        raise ValueError(f"expected 1 or 3 channels, got {c} (shape {tuple(video.shape)})")
    if c == 1:
        video = video.expand(b, 3, t, h, w)
    nrow = nrow or int(np.ceil(np.sqrt(b)))
    ncol = int(np.ceil(b / nrow))
    canvas = torch.full((ncol * nrow, 3, t, h + pad, w + pad), 1.0)
    canvas[:b, :, :, :h, :w] = video.clamp(-1, 1)
    grid = rearrange(canvas, "(gr gc) c t h w -> t (gr h) (gc w) c", gc=nrow)
    grid = grid[:, : ncol * (h + pad) - pad, : nrow * (w + pad) - pad]
    return ((grid + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()


def side_by_side(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Two video batches (B, C, T, H, W) joined along width: (B, C, T, H, 2W)."""
    return torch.cat([a, b], dim=-1)


STILL_FRAMES = 8  # at most this many frames in the still strip beside each animation


def video_html(video, nrow: int | None = None, fps: int = 8, scale: float = 2.0, title: str = ""):
    """A playable JavaScript animation (HTML) of a clip or a grid of clips, not yet displayed."""
    import matplotlib.pyplot as plt
    from IPython.display import HTML
    from matplotlib import animation

    frames = to_uint8_frames(video, nrow)[:SAVE_MAX_FRAMES]
    h, w = frames.shape[1:3]
    dpi = 72
    fig = plt.figure(figsize=(w * scale / dpi, h * scale / dpi + (0.3 if title else 0)), dpi=dpi)
    ax = fig.add_axes([0, 0, 1, 1 if not title else h / (h + 0.3 * dpi / scale)])
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    image = ax.imshow(frames[0], interpolation="nearest")
    anim = animation.FuncAnimation(
        fig, lambda i: (image.set_data(frames[i]),), frames=len(frames), interval=1000 / fps
    )
    html = anim.to_jshtml(default_mode="loop")
    plt.close(fig)
    return HTML(html)


def show_video(
    video, nrow: int | None = None, fps: int = 8, scale: float = 2.0, title: str = "", static: bool = True
) -> None:
    """Display a clip or grid as an animation (JupyterLab) and, if `static`, a still strip (GitHub).

    Returns None: a cell ending in `show_video(...)` must not display the animation a second time.
    """
    from IPython.display import display

    display(video_html(video, nrow, fps, scale, title))
    if static:
        _display_still(to_uint8_frames(video, nrow), title)


def _strip(frames: np.ndarray, step: int, title: str, ax=None):
    """Every `step`-th of (T, H, W, 3) uint8 frames, left to right, on `ax` or a new figure."""
    import matplotlib.pyplot as plt

    strip = np.concatenate(list(frames[::step]), axis=1)
    if ax is None:
        _, ax = plt.subplots(figsize=(min(16, strip.shape[1] / 40), strip.shape[0] / 40 + 0.4))
    ax.imshow(strip, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
    return ax


def _display_still(frames: np.ndarray, title: str = "", unit: str = "frames") -> None:
    """Display a still strip as a PNG now, then close it: an open figure would be drawn again at
    the end of the cell by the inline backend."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    step = -(-len(frames) // STILL_FRAMES)  # ceil
    about = f"{unit} 0..{len(frames) - 1} every {step}"
    fig = _strip(frames, step, f"{title}  ({about})" if title else about).figure
    display(fig)
    plt.close(fig)


def show_frames(video, max_frames: int = 16, nrow: int | None = None, title: str = "", ax=None):
    """A static strip of frames (left to right) of a clip or grid: for print and for PNGs."""
    frames = to_uint8_frames(video, nrow)
    step = -(-len(frames) // max_frames)  # ceil
    return _strip(frames, step, title or f"frames 0..{len(frames) - 1} every {step}", ax)


def frame_slider(video, nrow: int | None = None, description: str = "frame", static: bool = True) -> None:
    """Display an ipywidgets slider that scrubs through the frames of a clip or grid and, if
    `static`, a still strip of the slider's positions, starting at its default 0 (GitHub shows no
    widgets). `video` may also be a list of videos (e.g. diffusion steps): the slider walks the list.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    if isinstance(video, (list, tuple)):
        frames = np.stack([to_uint8_frames(v, nrow)[0] for v in video])
    else:
        frames = to_uint8_frames(video, nrow)
    out = widgets.Output()
    slider = widgets.IntSlider(0, 0, len(frames) - 1, description=description)

    def draw(change=None):
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(3, 3))
            ax.imshow(frames[slider.value], interpolation="nearest")
            ax.set_axis_off()
            plt.show()

    slider.observe(draw, names="value")
    draw()
    display(widgets.VBox([slider, out]))
    if static:
        _display_still(frames, unit=description)


def mp4_html(video_or_path, width: int | None = None, fps: int = 8, nrow: int | None = None):
    """An MP4 embedded as base64 HTML, not yet displayed: a file, or a clip / grid of clips encoded
    on the spot. Far smaller than `video_html` for RGB."""
    import base64
    import tempfile

    from IPython.display import HTML

    if isinstance(video_or_path, (str, Path)):
        data = Path(video_or_path).read_bytes()
    else:
        frames = to_uint8_frames(video_or_path, nrow)
        with tempfile.TemporaryDirectory() as tmp:
            data = write_mp4_frames(frames, Path(tmp) / "clip.mp4", fps).read_bytes()
        width = width or 2 * frames.shape[2]
    src = base64.b64encode(data).decode()
    size = f' width="{width}"' if width else ""
    return HTML(f'<video{size} controls loop autoplay muted src="data:video/mp4;base64,{src}"></video>')


def show_mp4(
    video_or_path, width: int | None = None, fps: int = 8, nrow: int | None = None, static: bool = True
) -> None:
    """Display an embedded MP4 (plays in JupyterLab and in the saved notebook there) and, if
    `static`, a still strip of its frames (GitHub drops <video>). Returns None, as show_video."""
    from IPython.display import display

    display(mp4_html(video_or_path, width, fps, nrow))
    if static:
        is_file = isinstance(video_or_path, (str, Path))
        _display_still(read_mp4_frames(video_or_path) if is_file else to_uint8_frames(video_or_path, nrow))


def save_gif(video, path: str | Path, fps: int = 8, nrow: int | None = None) -> Path:
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.fromarray(f) for f in to_uint8_frames(video, nrow)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    return path


def save_mp4(video, path: str | Path, fps: int = 8, nrow: int | None = None) -> Path:
    """H.264 MP4 through the ffmpeg binary that the imageio-ffmpeg wheel ships (no download)."""
    return write_mp4_frames(to_uint8_frames(video, nrow), path, fps)


def write_mp4_frames(frames, path: str | Path, fps: int = 8) -> Path:
    """Stream (H, W, 3) uint8 frames, from any iterable, into an MP4: memory stays flat."""
    import imageio_ffmpeg

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = None
    for frame in frames:
        if writer is None:
            h, w = frame.shape[:2]
            writer = imageio_ffmpeg.write_frames(
                str(path),
                (w, h),
                fps=fps,
                macro_block_size=1,
                quality=8,
                output_params=["-loglevel", "error"],
            )
            writer.send(None)
        writer.send(np.ascontiguousarray(frame))
    if writer is None:
        raise ValueError("no frames to write")
    writer.close()
    return path


def read_mp4_frames(path: str | Path) -> np.ndarray:
    """An MP4's frames as (T, H, W, 3) uint8, decoded by the same ffmpeg binary."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    w, h = next(reader)["size"]
    return np.stack([np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader])


def plot_losses(history, ax=None, smooth: int = 20, label: str = "loss"):
    """Loss against step, raw (faint) and smoothed (moving average over `smooth` steps)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    if len(history) == 0:
        ax.set_title("no training steps recorded")
        return ax
    steps, losses = np.array(history, dtype=float).T
    ax.plot(steps, losses, alpha=0.3, lw=0.8)
    if len(losses) >= smooth > 1:
        kernel = np.ones(smooth) / smooth
        ax.plot(steps[smooth - 1 :], np.convolve(losses, kernel, mode="valid"), lw=1.5, label=label)
        ax.legend()
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_yscale("log" if losses.min() > 0 else "linear")
    return ax
