"""Self-conditioning: the estimate each pass reads, in training and sampling, and the LVDM option."""

import dataclasses

import pytest
import torch

from minilvdm.diffusion import Diffusion, DiffusionConfig
from minilvdm.diffusion import self_condition as sc
from minilvdm.methods.lvdm import LatentVideoDiffusion, LVDMConfig, default_unet_config
from minilvdm.vae import VAEConfig, VideoVAE


class Recorder:
    """f(x_t, t, estimate) = 0.5 x_t + estimate; keeps every estimate it was given."""

    def __init__(self):
        self.seen = []

    def __call__(self, x_t, t, estimate):
        self.seen.append((estimate.clone(), torch.is_grad_enabled()))
        return 0.5 * x_t + estimate


@pytest.mark.parametrize("prediction", ["eps", "v", "flow"])
def test_training_feeds_a_gradient_free_first_estimate_to_the_chosen_samples(prediction):
    kw = dict(schedule="rectified_flow") if prediction == "flow" else {}
    diffusion = Diffusion(DiffusionConfig(num_steps=50, prediction=prediction, **kw))
    x_t, t = torch.randn(64, 2, 3, 4, 4), torch.randint(0, 50, (64,))
    net = Recorder()
    torch.manual_seed(0)
    sc.training_fn(net, diffusion, p=0.5)(x_t, t)
    (first, first_grad), (second, second_grad) = net.seen
    assert first.abs().max() == 0 and not first_grad and second_grad
    want = diffusion.to_eps_x0(0.5 * x_t, x_t, t)[1]
    used = second.flatten(1).abs().amax(1) > 0  # (B,)
    assert 10 < used.sum() < 54  # about half of 64
    assert torch.allclose(second[used], want[used], atol=1e-6)
    for p, calls in ((0.0, 1), (1.0, 2)):
        net = Recorder()
        sc.training_fn(net, diffusion, p=p)(x_t, t)
        assert len(net.seen) == calls
    with pytest.raises(ValueError, match="p must"):
        sc.training_fn(net, diffusion, p=1.5)


def test_sampling_feeds_each_step_the_estimate_of_the_step_before():
    diffusion = Diffusion(DiffusionConfig(num_steps=20))
    net = Recorder()
    fn = sc.SamplingFn(net, diffusion)
    diffusion.sample(fn, (2, 2, 3, 4, 4), steps=4, generator=torch.Generator().manual_seed(0))
    estimates = [e for e, _ in net.seen]
    assert len(estimates) == 4 and estimates[0].abs().max() == 0
    assert all(e.abs().max() > 0 for e in estimates[1:])
    # replay: step k's estimate is x0 of step k-1's prediction
    x = torch.randn(2, 2, 3, 4, 4)
    t = torch.full((2,), 19)
    replay = sc.SamplingFn(Recorder(), diffusion)
    pred = replay(x, t)
    assert torch.allclose(replay.estimate, diffusion.to_eps_x0(pred, x, t)[1])


def tiny(self_condition: bool):
    unet = default_unet_config(4)
    unet.model_channels, unet.channel_mult, unet.attention_resolutions, unet.norm_groups = 8, (1, 2), (2,), 4
    unet.head_channels = 8
    unet.context_channels = 4 if self_condition else 0
    cfg = LVDMConfig(unet=unet, diffusion=DiffusionConfig(num_steps=50), self_condition=self_condition)
    vae = VideoVAE(VAEConfig(in_channels=1, base_channels=8, time_factor=4, space_factor=4))
    return LatentVideoDiffusion(cfg, vae)


def test_a_self_conditioned_lvdm_trains_and_samples_and_reads_its_estimate():
    torch.manual_seed(0)
    model = tiny(self_condition=True)
    with torch.no_grad():  # off the zero-initialised output layers, so gradients reach the input
        for p in model.unet.parameters():
            p.add_(0.1 * torch.randn_like(p))
    loss = model(torch.randn(8, 4, 4, 16, 16))  # 8: some samples take the estimate
    loss.backward()
    assert torch.isfinite(loss) and model.unet.conv_in.weight.grad[:, 4:].abs().sum() > 0
    video = model.sample(3, steps=3, batch_size=2, generator=torch.Generator().manual_seed(0))
    assert video.shape == (3, 1, 16, 64, 64)
    # the estimate matters: zeroing its input columns changes the samples
    with torch.no_grad():
        model.unet.conv_in.weight[:, 4:].zero_()
    again = model.sample(3, steps=3, batch_size=2, generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(video, again)
    assert model.denoiser() is not model.denoiser()  # one estimate per sampled batch


def test_self_condition_needs_the_estimates_input_channels():
    plain = tiny(self_condition=False).cfg
    with pytest.raises(ValueError, match="context_channels must be 4"):
        dataclasses.replace(plain, self_condition=True).validate()
    with pytest.raises(ValueError, match="context_channels must be 0"):
        dataclasses.replace(plain, unet=dataclasses.replace(plain.unet, context_channels=4)).validate()
