import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from minilvdm.methods.long_video import (
    LongVideoConfig,
    LongVideoGenerator,
    StreamingDecoder,
    keyframe_count,
    load_long_video,
)

C, H, W, TF, RADIUS = 2, 4, 4, 4, 1


class StubModel:
    """Keeps the given frames and fills the others with the generator's noise; records calls."""

    def __init__(self):
        self.calls = []

    def sample(self, cond, mask, generator=None, **kwargs):
        self.calls.append((cond.clone(), mask.clone()))
        self.kwargs = kwargs
        noise = torch.randn(cond.shape, generator=generator)
        return torch.where(mask.bool().expand_as(cond), cond, noise).clamp(-1, 1)


def stub_decode(z):
    """Latents (1, C, n, h, w) -> video (1, 1, n*TF, 2h, 2w); mixes RADIUS frames each side."""
    mean = z.mean(dim=1, keepdim=True)  # (1, 1, n, h, w)
    kernel = torch.ones(1, 1, 2 * RADIUS + 1, 1, 1) / (2 * RADIUS + 1)
    mixed = F.conv3d(mean, kernel, padding=(RADIUS, 0, 0))
    return F.interpolate(mixed, scale_factor=(TF, 2, 2), mode="nearest").tanh()


def run(
    tmp_path, frames, mode="hierarchical", stride=None, clip=4, given=1, stop_after=None, name="out", videos=1
):
    pred, interp = StubModel(), StubModel()
    if stride is None and mode == "hierarchical":
        stride = 4  # the stubs record no training stride
    cfg = LongVideoConfig(frames=frames, mode=mode, stride=stride, steps=2, seed=3, videos=videos)
    gen = LongVideoGenerator(
        pred, stub_decode, (C, H, W), TF, cfg, clip=clip, given=given, interpolator=interp, radius=RADIUS
    )
    pushed = []
    push = gen.decoder.push
    gen.decoder.push = lambda z, final=False: (pushed.append(z), push(z, final))[1]
    result = gen.generate(tmp_path / name, progress=False, stop_after=stop_after)
    return gen, result, pred, interp, pushed


@pytest.mark.parametrize("frames", [1, 3, 4, 5, 16, 17, 63, 64, 65, 100, 257])
def test_exact_length_and_every_keyframe_pair_interpolated(tmp_path, frames):
    gen, result, pred, interp, pushed = run(tmp_path, frames)
    video = np.load(result["npy"])
    assert video.shape == (frames, 1, 2 * H, 2 * W) and video.dtype == np.uint8
    latents = math.ceil(frames / TF)
    keys = keyframe_count(latents, 4)
    assert len(interp.calls) == keys - 1 == result["interpolations"]
    # consecutive pairs share their keyframe: right of pair j == left of pair j + 1
    for (a, _), (b, _) in zip(interp.calls, interp.calls[1:]):
        assert torch.equal(a[:, :, -1], b[:, :, 0])
    for _cond, mask in interp.calls:
        assert mask[0, 0, :, 0, 0].tolist() == [1, 0, 0, 0, 1]
    # streamed, chunked decoding equals decoding everything at once
    everything = torch.cat([z for z in pushed if z is not None], dim=2)
    assert everything.shape[2] == latents
    one_shot = stub_decode(everything)[:, :, :frames]
    expected = ((one_shot[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 0, 2, 3).numpy()
    np.testing.assert_array_equal(video, expected)
    assert result["mp4"].stat().st_size > 0


@pytest.mark.parametrize("mode", ["hierarchical", "autoregressive"])
def test_a_batch_of_videos_is_streamed_together_and_decoded_exactly(tmp_path, mode):
    frames, b = 37, 3
    gen, result, pred, interp, pushed = run(tmp_path, frames, mode=mode, videos=b)
    raw = np.load(result["npy"])
    assert raw.shape == (frames, b, 1, 2 * H, 2 * W) and result["videos"] == b
    assert all(cond.shape[0] == b for cond, _ in pred.calls + interp.calls)  # one batched call each
    video = load_long_video(result["npy"])  # (B, C, N, H, W) in [-1, 1]
    assert video.shape == (b, 1, frames, 2 * H, 2 * W)
    everything = torch.cat([z for z in pushed if z is not None], dim=2)
    one_shot = stub_decode_batch(everything)[:, :, :frames]
    assert (video - one_shot.clamp(-1, 1)).abs().max() <= 1 / 127.5 + 1e-6  # uint8 rounding
    assert not torch.equal(video[0], video[1])  # different draws
    assert result["mp4"].stat().st_size > 0


def stub_decode_batch(z):
    return torch.cat([stub_decode(z[i : i + 1]) for i in range(len(z))])


def test_every_model_call_samples_with_the_configs_eta_and_the_data_sets_default(tmp_path):
    from minilvdm.core.presets import preset
    from minilvdm.methods.long_video.models import long_video_config

    gen, _, pred, interp, _ = run(tmp_path, 32)
    gen.cfg = dataclasses.replace(gen.cfg, eta=0.7)
    gen.generate(tmp_path / "eta", progress=False)
    assert pred.kwargs["eta"] == interp.kwargs["eta"] == 0.7
    for dataset in ("mnist", "sky"):
        assert long_video_config(dataset).eta == preset(dataset).sample_eta
    assert long_video_config("mnist", eta=0.0).eta == 0.0
    with pytest.raises(ValueError, match="eta"):
        LongVideoConfig(eta=-1).validate()


def test_each_model_samples_with_its_own_guide_and_models_without_one_get_none(tmp_path):
    pred, interp, pred_guide = StubModel(), StubModel(), StubModel()
    cfg = LongVideoConfig(frames=64, stride=4, steps=2, seed=3)
    gen = LongVideoGenerator(
        pred,
        stub_decode,
        (C, H, W),
        TF,
        cfg,
        clip=4,
        interpolator=interp,
        radius=RADIUS,
        guides=(pred_guide, None),
    )
    gen.generate(tmp_path / "guided", progress=False)
    assert pred.kwargs["guide"] is pred_guide and "guide" not in interp.kwargs


def test_prediction_calls_are_conditioned_on_the_last_keyframes(tmp_path):
    _, result, pred, _, _ = run(tmp_path, 200, clip=5, given=2)
    first_cond, first_mask = pred.calls[0]
    assert first_mask.sum() == 0  # the first clip is unconditional
    for _cond, mask in pred.calls[1:]:
        assert mask[0, 0, :, 0, 0].tolist() == [1, 1, 0, 0, 0]


def test_autoregressive_mode_predicts_every_latent_frame_without_interpolation(tmp_path):
    _, result, pred, interp, _ = run(tmp_path, 40, mode="autoregressive")
    assert len(interp.calls) == 0 and result["keyframes"] == 10
    assert np.load(result["npy"]).shape[0] == 40


def test_memory_stays_flat_as_the_video_grows(tmp_path):
    short, *_ = run(tmp_path, 128, name="a")
    long, *_ = run(tmp_path, 2048, name="b")
    assert long.decoder.max_buffer == short.decoder.max_buffer  # latent frames held at once
    assert long.decoder.max_buffer <= 4 * 4 + 2 * RADIUS + 1


def test_interrupted_generation_resumes_to_the_same_video(tmp_path):
    _, straight, *_ = run(tmp_path, 150, name="straight")
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, 150, name="resumed", stop_after=2)
    partial = np.load(tmp_path / "resumed" / "video.npy")
    assert partial.shape[0] == 150  # preallocated; the tail is not written yet
    _, resumed, *_ = run(tmp_path, 150, name="resumed")
    np.testing.assert_array_equal(np.load(straight["npy"]), np.load(resumed["npy"]))


def test_streaming_decoder_matches_one_shot_for_any_push_sizes():
    z = torch.randn(1, C, 23, H, W)
    dec = StreamingDecoder(stub_decode, RADIUS, TF)
    pieces, start = [], 0
    for size in (1, 5, 2, 7, 3, 5):
        out = dec.push(z[:, :, start : start + size], final=start + size >= 23)
        start += size
        if out is not None:
            pieces.append(out)
    assert torch.allclose(torch.cat(pieces, dim=2), stub_decode(z), atol=1e-6)


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match="frames"):
        LongVideoConfig(frames=0).validate()
    with pytest.raises(ValueError, match="videos"):
        LongVideoConfig(videos=0).validate()
    with pytest.raises(ValueError, match="interpolation model"):
        LongVideoGenerator(StubModel(), stub_decode, (C, H, W), TF, LongVideoConfig(stride=4), clip=4)
    with pytest.raises(ValueError, match="record no training stride"):
        LongVideoGenerator(
            StubModel(), stub_decode, (C, H, W), TF, LongVideoConfig(), clip=4, interpolator=StubModel()
        )
    with pytest.raises(ValueError, match="given"):
        LongVideoGenerator(
            StubModel(),
            stub_decode,
            (C, H, W),
            TF,
            LongVideoConfig(),
            clip=4,
            given=4,
            interpolator=StubModel(),
        )


def tiny_long_models(pred_stride, interp_stride=None):
    """Untrained LongModels that record the strides they would be trained at."""
    from minilvdm.methods.long_video import LongModel, default_long_config

    pred = LongModel(default_long_config("predict", stride=pred_stride))
    interp = None if interp_stride is None else LongModel(default_long_config("interp", stride=interp_stride))
    return pred, interp


def test_the_generator_keys_frames_at_the_stride_the_models_were_trained_at():
    from minilvdm.methods.long_video import build_generator, long_stride
    from minilvdm.vae import VideoVAE, default_vae_config

    vae = VideoVAE(default_vae_config("mnist"))
    pred, interp = tiny_long_models(8, 8)
    gen = build_generator(pred, interp, vae, LongVideoConfig(frames=64))  # stride None: the models'
    assert gen.stride == gen.cfg.stride == 8
    assert (gen.clip, gen.given) == (pred.long_cfg.clip, pred.long_cfg.condition.given)
    assert build_generator(pred, interp, vae, LongVideoConfig(stride=8)).stride == 8  # the same, explicit
    with pytest.raises(ValueError, match="stride 4 .* trained at stride 8"):
        build_generator(pred, interp, vae, LongVideoConfig(stride=4))
    # the benchmark's old pair: a predictor at 4 and the interpolator at the data set's 8
    pred4, interp8 = tiny_long_models(4, long_stride("mnist"))
    with pytest.raises(ValueError, match="different strides.*4.*8"):
        build_generator(pred4, interp8, vae, LongVideoConfig())
    # autoregressive: consecutive latent frames, so only a predictor trained at stride 1 fits
    with pytest.raises(ValueError, match="trained at stride 8"):
        build_generator(pred, None, vae, LongVideoConfig(mode="autoregressive"))
    ar, _ = tiny_long_models(1)
    assert build_generator(ar, None, vae, LongVideoConfig(mode="autoregressive")).stride == 1
    with pytest.raises(ValueError, match="stride 1"):
        build_generator(ar, None, vae, LongVideoConfig(mode="autoregressive", stride=4))


def test_the_ema_copy_keeps_the_models_stride():
    from torch.optim.swa_utils import AveragedModel

    pred, _ = tiny_long_models(8)
    assert AveragedModel(pred).module.long_cfg.stride == 8  # what pick_weights('ema') returns


def test_long_model_configs_and_stride_one_predictor():
    from minilvdm.methods.long_video import default_long_config, long_stride

    s = long_stride("mnist")  # 16 pixel frames: 8 latent frames of the time-x2 VAE
    pred = default_long_config("predict")
    assert (pred.frames, pred.span, pred.stride) == (4, 3 * s + 1, s)  # P keyframes S apart
    ar = default_long_config("predict", stride=1)  # the plain autoregressive baseline
    assert (ar.frames, ar.span) == (4, 4)
    interp = default_long_config("interp")
    assert (interp.frames, interp.span) == (s + 1, s + 1)
    assert default_long_config("predict", perturb=False).condition.perturb_max == 0
    with pytest.raises(ValueError, match="stride"):
        default_long_config("interp", stride=1)


def test_train_long_model_reuses_its_checkpoint_and_picks_the_sampling_weights():
    from minilvdm.methods.long_video import default_long_config, long_data_config, train_long_model
    from minilvdm.methods.long_video.models import long_cache_name
    from minilvdm.vae import train_vae
    from minilvdm.vae.latent_cache import cache_path

    vae_trainer = train_vae("mnist", progress=False)  # ci: a few steps
    cfg = default_long_config("interp")
    trainer, model = train_long_model(cfg, vae_trainer=vae_trainer, progress=False, weights="raw")
    assert model is trainer.model and not model.training
    again, ema = train_long_model(cfg, vae_trainer=vae_trainer, progress=False, weights="ema")
    assert again.step == trainer.step and ema is again.ema.module  # finished checkpoint reused
    # its own latent cache: the short-clip cache of the latent diffusion notebook stays untouched
    data_cfg = long_data_config()
    ckpt = vae_trainer.ckpt_path
    long_cache = cache_path(data_cfg, name=long_cache_name(data_cfg), vae_checkpoint=ckpt)
    assert long_cache.exists()
    assert not cache_path(data_cfg, vae_checkpoint=ckpt).exists()
    more = dataclasses.replace(data_cfg, count=2 * data_cfg.count)  # the long-budget pairs' clip count
    assert cache_path(more, name=long_cache_name(more), vae_checkpoint=ckpt) != long_cache
    long_cache.unlink()  # reusing a finished model needs no training data (none is encoded)
    train_long_model(cfg, vae_trainer=vae_trainer, progress=False)
    assert not long_cache.exists()
    with pytest.raises(ValueError, match="weights"):
        train_long_model(cfg, vae_trainer=vae_trainer, progress=False, weights="best")


@pytest.mark.parametrize("clip_context", [False, True])  # quick Moving MNIST: True
def test_a_warm_started_model_starts_as_the_classroom_unet_and_needs_its_weights(monkeypatch, clip_context):
    from minilvdm.core.config import config_hash
    from minilvdm.diffusion.unet import SpaceTimeUNet
    from minilvdm.methods import classroom as classroom_weights
    from minilvdm.methods.long_video import default_long_config
    from minilvdm.methods.long_video.models import LongModel, warm_start_from_classroom

    cfg = default_long_config("predict", init="classroom")
    assert config_hash(cfg) != config_hash(default_long_config("predict"))  # its own checkpoint
    cfg = dataclasses.replace(cfg, unet=dataclasses.replace(cfg.unet, clip_context=clip_context))
    assert default_long_config("predict", init="").init == ""
    for bad in ({"init": "imagenet"}, {"init": "classroom", "dataset": "sky"}):
        with pytest.raises(ValueError, match="init"):
            default_long_config("predict", **bad)
    plain_cfg = dataclasses.replace(cfg.unet, context_channels=0, scalar_embeddings=())
    torch.manual_seed(0)
    classroom = SpaceTimeUNet(plain_cfg)
    with torch.no_grad():
        for p in classroom.parameters():
            p.add_(0.1 * torch.randn_like(p))
    model = LongModel(cfg)
    monkeypatch.setattr(classroom_weights, "classroom_lvdm", lambda *a, **k: None)
    with pytest.raises(FileNotFoundError, match="MINILVDM_WEIGHTS=shipped"):
        warm_start_from_classroom(model.unet, vae_trainer=None)
    fake = type("Fake", (), {"unet": classroom})()
    monkeypatch.setattr(classroom_weights, "classroom_lvdm", lambda *a, **k: (None, fake))
    fresh = warm_start_from_classroom(model.unet, vae_trainer=None)
    assert fresh and all(n.startswith("scalar_embed.s.") for n in fresh)
    x, t = torch.randn(2, plain_cfg.in_channels, 4, 8, 8), torch.tensor([3, 700])
    context = torch.randn(2, cfg.unet.context_channels, 4, 8, 8)
    out = model.unet.eval()(x, t, context=context, extra_scalars={"s": torch.tensor([0, 99])})
    assert torch.allclose(out, classroom.eval()(x, t), atol=1e-5)


def test_a_self_conditioned_long_model_keeps_the_classroom_estimate_columns(monkeypatch):
    """Warm-started from a self-conditioned classroom UNet, a self-conditioned prediction model
    with nothing given computes what the classroom does with the same estimate: the estimate
    comes first in its context, the mask channel and the level s start ignored."""
    from minilvdm.diffusion.unet import SpaceTimeUNet
    from minilvdm.methods import classroom as classroom_weights
    from minilvdm.methods.long_video import default_long_config
    from minilvdm.methods.long_video.models import LongModel, warm_start_from_classroom

    cfg = default_long_config("predict", init="classroom", self_condition=True)
    latent = cfg.unet.in_channels
    plain = default_long_config("predict", self_condition=False)
    assert cfg.unet.context_channels == plain.unet.context_channels + latent
    source_cfg = dataclasses.replace(cfg.unet, context_channels=latent, scalar_embeddings=())
    torch.manual_seed(0)
    classroom = SpaceTimeUNet(source_cfg)
    with torch.no_grad():
        for p in classroom.parameters():
            p.add_(0.1 * torch.randn_like(p))
    fake = type("Fake", (), {"unet": classroom})()
    monkeypatch.setattr(classroom_weights, "classroom_lvdm", lambda *a, **k: (None, fake))
    model = LongModel(cfg).eval()
    warm_start_from_classroom(model.unet, None, self_condition=True)
    x, t = torch.randn(2, latent, 4, 8, 8), torch.tensor([3, 700])
    estimate, keyframes = torch.randn_like(x), torch.randn_like(x)
    nothing, s = torch.zeros(2, 1, 4, 1, 1), torch.tensor([0, 99])
    out = model.predict(x, t, keyframes, nothing, s, estimate=estimate)
    assert torch.allclose(out, classroom.eval()(x, t, context=estimate), atol=1e-5)
    dropped = LongModel(default_long_config("predict", init="classroom", self_condition=False)).eval()
    warm_start_from_classroom(dropped.unet, None, self_condition=False)
    want = classroom(x, t, context=torch.zeros_like(x))
    assert torch.allclose(dropped.predict(x, t, keyframes, nothing, s), want, atol=1e-5)


def test_the_long_models_warm_start_where_the_classroom_weights_are(monkeypatch):
    from minilvdm.methods import classroom
    from minilvdm.methods.long_video import warm_start_init

    monkeypatch.setattr(classroom, "classroom_lvdm", lambda *a, **k: None)
    assert warm_start_init("mnist", None) == ""
    monkeypatch.setattr(classroom, "classroom_lvdm", lambda *a, **k: ("trainer", "model"))
    assert warm_start_init("mnist", None) == "classroom"
    assert warm_start_init("sky", None) == ""  # no classroom model for skies


def test_the_long_budget_pair_is_never_trained_by_accident(monkeypatch, tmp_path):
    """classroom_long_pair(train=False) gives None until both finished copies exist; its configs
    are the quick pair's, warm-started, with the long budget and more clips, in files of their
    own, and it samples with the EMA weights."""
    import dataclasses

    from minilvdm.core.presets import preset
    from minilvdm.methods.classroom import classroom_lvdm
    from minilvdm.methods.long_video.models import (
        classroom_long_configs,
        classroom_long_pair,
        default_long_config,
        default_long_train_config,
        long_data_config,
    )
    from minilvdm.vae import train_vae

    monkeypatch.setenv("MINILVDM_PROFILE", "ci")
    monkeypatch.setenv("MINILVDM_OUTPUTS", str(tmp_path))
    vae = train_vae("mnist", progress=False)
    classroom_lvdm(vae, train=True, progress=False)  # the pair starts from it
    p = preset("mnist")
    for role in ("predict", "interp"):
        cfg, train_cfg, data_cfg = classroom_long_configs(role)
        assert cfg == default_long_config(role, init="classroom")
        assert (train_cfg.steps, data_cfg.count) == (p.classroom_long_train.steps, p.classroom_long_clips)
        assert dataclasses.replace(train_cfg, steps=0, ckpt_every=0) == dataclasses.replace(
            default_long_train_config(), steps=0, ckpt_every=0
        )
        assert dataclasses.replace(data_cfg, count=0) == dataclasses.replace(long_data_config(), count=0)
    assert classroom_long_pair(vae, progress=False) is None

    trained = classroom_long_pair(vae, train=True, progress=False)
    names = [t.ckpt_path.name for t, _ in trained]
    assert names[0].startswith("long-predict-mnist-long-") and names[1].startswith("long-interp-mnist-long-")
    assert [t.step for t, _ in trained] == [p.classroom_long_train.steps] * 2
    reused = classroom_long_pair(vae, progress=False)
    assert [t.ckpt_path for t, _ in reused] == [t.ckpt_path for t, _ in trained]
    assert reused[0][1].long_cfg.role == "predict" and reused[1][1].long_cfg.role == "interp"
    for a, b in zip(trained[0][0].ema.module.parameters(), reused[0][1].parameters()):
        assert torch.equal(a, b)  # the EMA weights, reused not stepped

    state = torch.load(trained[1][0].ckpt_path, weights_only=True)
    state["step"] -= 1  # a partial interpolator: the pair is not here
    torch.save(state, trained[1][0].ckpt_path)
    assert classroom_long_pair(vae, progress=False) is None


def test_class_labels_reach_every_model_call_one_per_video(tmp_path):
    pred, interp = StubModel(), StubModel()
    cfg = LongVideoConfig(frames=64, stride=4, steps=2, seed=3, videos=2, class_label=(3, 8))
    gen = LongVideoGenerator(
        pred, stub_decode, (C, H, W), TF, cfg, clip=4, interpolator=interp, radius=RADIUS
    )
    gen.generate(tmp_path / "labelled", progress=False)
    assert pred.kwargs["class_label"].tolist() == interp.kwargs["class_label"].tolist() == [3, 8]
    _, _, plain, _, _ = run(tmp_path, 32)
    assert "class_label" not in plain.kwargs  # class-free models are not handed one
    with pytest.raises(ValueError, match="one label per video"):
        LongVideoConfig(videos=3, class_label=(1, 2)).validate()


def test_a_class_conditional_long_model_trains_on_the_first_digit_from_the_conditional_twin(monkeypatch):
    from minilvdm.core.config import config_hash
    from minilvdm.diffusion.unet import SpaceTimeUNet
    from minilvdm.methods import classroom
    from minilvdm.methods.long_video import default_long_config, train_long_model
    from minilvdm.methods.long_video.models import LongModel, warm_start_from_classroom
    from minilvdm.vae import train_vae

    cfg = default_long_config("predict", init="classroom", conditional=True)
    assert cfg.unet.num_classes == 10 and default_long_config("predict").unet.num_classes == 0
    assert config_hash(default_long_config("predict")) == config_hash(
        default_long_config("predict", conditional=False)
    )
    with pytest.raises(ValueError, match="digit classes"):
        default_long_config("predict", "sky", conditional=True)
    # the warm start asks for the class-conditional classroom model and copies its class embedding
    twin_cfg = dataclasses.replace(cfg.unet, context_channels=0, scalar_embeddings=())
    torch.manual_seed(0)
    twin = SpaceTimeUNet(twin_cfg)
    torch.nn.init.normal_(twin.class_embed.weight)
    asked = []
    fake = type("Fake", (), {"unet": twin})()
    monkeypatch.setattr(
        classroom,
        "classroom_lvdm",
        lambda *a, conditional=False, **k: (asked.append(conditional), (None, fake))[1],
    )
    model = LongModel(cfg)
    warm_start_from_classroom(model.unet, vae_trainer=None, conditional=True)
    assert asked == [True] and torch.equal(model.unet.class_embed.weight, twin.class_embed.weight)
    # ci training from scratch: every batch comes with its clips' first digits, into a checkpoint of its own
    seen, forward = [], LongModel.forward
    monkeypatch.setattr(
        LongModel,
        "forward",
        lambda self, z0, class_label=None: (seen.append(class_label), forward(self, z0, class_label))[1],
    )
    vae_trainer = train_vae("mnist", progress=False)
    trainer, labelled = train_long_model(
        default_long_config("interp", conditional=True), vae_trainer=vae_trainer, progress=False
    )
    assert "-cond-" in trainer.ckpt_path.name and labelled.num_classes == 10
    assert len(seen) == trainer.config.steps
    assert all(
        lab.shape == (trainer.config.batch_size,) and 0 <= lab.min() and lab.max() <= 9 for lab in seen
    )
    assert trainer.step == trainer.config.steps and all(
        torch.isfinite(torch.tensor(h[1])) for h in trainer.history
    )


def test_the_long_command_samples_each_kind_of_run_with_its_measured_defaults():
    """LVDM's w = 0.1 at the data set's eta; autoguided w = 1 at eta 0; with a digit cfg s = 4
    (w = 3) at eta 1; whatever is asked wins."""
    import argparse

    from minilvdm.commands.long import sampling_defaults

    run = lambda **kw: sampling_defaults(  # noqa: E731
        argparse.Namespace(**{"guidance": None, "eta": None, "autoguide": False, "digit": None, **kw})
    )
    assert run() == (0.1, None)
    assert run(autoguide=True) == (1.0, 0.0)
    assert run(digit=3) == (3.0, 1.0)
    assert run(digit=3, guidance=6.0, eta=0.0) == (6.0, 0.0)


def test_a_digit_run_takes_the_long_budget_pair_only_where_it_is_here_and_fits(monkeypatch):
    """--digit of the default kind (hierarchical, perturbation-trained) uses the long-budget
    class-conditional pair when classroom_long_pair finds it; any other run, or none found: None."""
    import argparse

    from minilvdm.commands import long as long_command
    from minilvdm.methods.long_video import models

    asked = []

    def found(vae_trainer, conditional=False, **_):
        asked.append(conditional)
        return (("trainer", "predictor"), ("trainer", "interpolator"))

    monkeypatch.setattr(models, "classroom_long_pair", found)
    args = lambda **kw: argparse.Namespace(  # noqa: E731
        **{"digit": 3, "mode": "hierarchical", "no_perturb_training": False, **kw}
    )
    assert long_command.digit_long_pair(args(), None) == ("predictor", "interpolator")
    assert asked == [True]  # the class-conditional pair
    for other in (args(digit=None), args(mode="autoregressive"), args(no_perturb_training=True)):
        assert long_command.digit_long_pair(other, None) is None
    assert asked == [True]  # never looked for
    monkeypatch.setattr(models, "classroom_long_pair", lambda *a, **k: None)
    assert long_command.digit_long_pair(args(), None) is None
