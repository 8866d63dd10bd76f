"""The classroom weights (issue 20): the short-clip Moving MNIST LVDM and its class-conditional
twin trained at a long budget (presets.py `classroom_train`), shipped so that a class can skip
training, and the warm starts other models take from them (`init='classroom'`).

    found = classroom_lvdm(vae_trainer)             # (trainer, EMA model), or None when absent
    init = warm_start_init("mnist", vae_trainer)   # 'classroom' where it is here, else ''
"""

from __future__ import annotations

from ..core.presets import preset
from .lvdm import (
    checkpoint_configs,
    default_data_config,
    default_lvdm_config,
    default_train_config,
    train_lvdm,
)

CLASSROOM_NAME = "lvdm-latent-mnist-long"  # checkpoint name of the long-budget model
CLASSROOM_COND_NAME = "lvdm-latent-mnist-cond-long"  # its class-conditional twin (notebook 06)


def classroom_configs(dataset: str = "mnist", conditional: bool = False):
    """(LVDMConfig, TrainConfig, VideoDataConfig) of the long-budget short-clip LVDM the
    classroom weights ship (issue 20): the package's recipe for `classroom_train` steps on
    `classroom_clips` distinct clips (presets.py). conditional=True: the class-conditional
    model at the same budget, trained from scratch (notebook 06's headline model)."""
    import dataclasses

    p = preset(dataset)
    train_cfg = dataclasses.replace(default_train_config("latent", dataset), **p.classroom_train.kwargs())
    data_cfg = dataclasses.replace(default_data_config(dataset), count=p.classroom_clips)
    return default_lvdm_config(dataset, conditional=conditional), train_cfg, data_cfg


def _classroom_run(conditional: bool) -> tuple:
    """(checkpoint name, LVDMConfig, TrainConfig, VideoDataConfig) of one classroom model."""
    return (CLASSROOM_COND_NAME if conditional else CLASSROOM_NAME), *classroom_configs("mnist", conditional)


def classroom_checkpoint_path(vae_trainer, conditional: bool = False):
    """The name train_lvdm gives the classroom LVDM; fetches the shipped copy when the switch is on."""
    from ..core.train import checkpoint_path

    name, *configs = _classroom_run(conditional)
    return checkpoint_path(name, *checkpoint_configs(*configs, vae_trainer))


def warm_start_identity(init: str, vae_trainer, conditional: bool = False) -> list[str]:
    """What a warm start adds to the name of the checkpoint it starts: the classroom file's name
    (another classroom training is another starting point, so another model)."""
    return [classroom_checkpoint_path(vae_trainer, conditional).name] if init.startswith("classroom") else []


def classroom_lvdm(vae_trainer=None, train: bool = False, progress: bool = True, conditional: bool = False):
    """The long-budget LVDM as (trainer, EMA model), reused from outputs/checkpoints or, with
    MINILVDM_WEIGHTS=shipped, from the shipped weights. None when no finished copy is there
    and `train` is False: it takes about 45 CPU-minutes, too long to start by accident.
    conditional=True: the class-conditional one (same budget)."""
    from ..core.checkpoint import load_checkpoint
    from ..vae.model import train_vae

    name, cfg, train_cfg, data_cfg = _classroom_run(conditional)
    vae_trainer = vae_trainer or train_vae("mnist", progress=progress)
    path = classroom_checkpoint_path(vae_trainer, conditional)
    if not train and (not path.exists() or load_checkpoint(path)["step"] < train_cfg.steps):
        return None
    return train_lvdm(cfg, train_cfg, data_cfg, vae_trainer, name=name, progress=progress)


def warm_start_from_classroom(
    unet, vae_trainer, progress: bool = False, conditional: bool = False, self_condition: bool = False
):
    """Copy the classroom LVDM's UNet into `unet` (its conditions start ignored); the names of
    its new parameters. conditional=True: its class-conditional twin, class embedding included.
    self_condition: whether `unet` reads a clean estimate too (its first context channels).
    The classroom weights must be here (they are never trained by this)."""
    from ..diffusion.unet import load_unconditional_weights

    source = _classroom_unet(vae_trainer, progress, conditional)
    state = dict(source.state_dict())
    if source.cfg.context_channels and not self_condition:  # a classroom's context: its estimate
        # its estimate's input columns go: it trained with a zero estimate on half its steps, so
        # without them it computes what it does on a first sampling step
        state["conv_in.weight"] = state["conv_in.weight"][:, : source.cfg.in_channels]
    shared = source.cfg.context_channels if self_condition else 0  # the estimate, read alike
    return load_unconditional_weights(unet, state, shared_context=shared)


def warm_start_image_from_classroom(unet, vae_trainer, progress: bool = False) -> None:
    """Copy the classroom LVDM's spatial layers into an image UNet (`temporal_layers=False`, e.g.
    VideoFusion's base generator): its temporal_* weights (temporal convolutions and attention,
    the clip context) and its estimate's input columns stay behind. Its temporal layers are
    residual, so what is copied is the classroom network with them at the identity: a start that
    fine-tuning adapts to single frames. Any other mismatch raises."""
    source = _classroom_unet(vae_trainer, progress, conditional=False)
    state = {name: value for name, value in source.state_dict().items() if "temporal" not in name}
    state["conv_in.weight"] = state["conv_in.weight"][:, : source.cfg.in_channels]
    unet.load_state_dict(state)


def _classroom_unet(vae_trainer, progress: bool, conditional: bool):
    found = classroom_lvdm(vae_trainer, progress=progress, conditional=conditional)
    if found is None:
        raise FileNotFoundError(
            "init='classroom' needs the classroom LVDM: set MINILVDM_WEIGHTS=shipped, or train it once "
            f"with minilvdm.methods.classroom.classroom_lvdm(train=True, conditional={conditional}) "
            "(about 45 CPU-minutes)"
        )
    return found[1].unet


def warm_start_init(dataset: str, vae_trainer) -> str:
    """The `init` a Moving MNIST model takes here: 'classroom' where the classroom LVDM is
    present (MINILVDM_WEIGHTS=shipped, or trained once), else '' (from scratch). Warm started,
    the quick long-video pair draws about 3x as recognisable videos (BENCHMARKS.md `long_video`)."""
    if dataset != "mnist":
        return ""
    return "classroom" if classroom_lvdm(vae_trainer, progress=False) is not None else ""
