"""The 3D video VAE (LVDM section 3.1): every diffusion model in minilvdm lives in its latent space.

    x (B, C, T, H, W) --E--> q(z|x) = N(mu, sigma^2) --sample--> z (B, c, T/ft, H/fs, W/fs) --D--> x_hat

Loss (per pixel; the LDM sum form divided by the number of pixels, so kl_weight means the same):

    L = mean |x - x_hat|  (or squared)  +  kl_weight * KL(q(z|x) || N(0, I)) / (C T H W)
    KL = 1/2 sum (mu^2 + sigma^2 - 1 - log sigma^2)

Diffusion sees `encode_latents(x) = mu * scale_factor`, where scale_factor = 1 / std(mu)
over training clips is estimated once after training and stored in the checkpoint.

Long videos: `encode_latents(x, chunk=...)` / `decode_latents(z, chunk=...)` process
chunks with `time_radius` context frames on each side; since no op mixes frames beyond
that radius (per-frame norms, fixed-radius temporal convs), chunked == one-shot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from ..core.config import OMIT_AT_DEFAULT, config_to_dict, get_device, seed_everything
from ..core.train import TrainConfig, Trainer, checkpoint_path, epoch_indices
from ..eval.reconstruction import flicker, psnr, ssim
from .blocks import BLOCKS, Decoder, Encoder, patchify, unpatchify
from .latent_cache import ClipSource, VideoDataConfig

TIME_FACTORS = (1, 2, 4)
SPACE_FACTORS = (1, 2, 4, 8, 16)


@dataclass
class VAEConfig:
    in_channels: int = 1
    latent_channels: int = 4
    time_factor: int = 4  # 1 = per-frame image autoencoder (the Video LDM track)
    space_factor: int = 4
    patch_size: int = 1  # the first x patch_size of space_factor is a lossless space-to-depth
    base_channels: int = 32
    channel_mult: tuple = (1, 2, 2)  # channels per level, last one repeated for deeper levels
    blocks_per_level: int = 1
    block: str = "full"  # 'full' 3x3x3 or 'factorized' (2D+1D)
    decoder_temporal: bool = False  # time x1 only: add Video LDM temporal layers to the decoder
    # the decoder's time upsampling: 'nearest' (repeat) or 'linear' (blocks.Upsample says why)
    time_upsample: str = field(default="nearest", metadata=OMIT_AT_DEFAULT)
    kl_weight: float = 1e-6
    recon: str = "l1"  # 'l1' | 'l2'

    def validate(self) -> None:
        if self.time_factor not in TIME_FACTORS:
            raise ValueError(f"time_factor must be one of {TIME_FACTORS}, got {self.time_factor}")
        if self.space_factor not in SPACE_FACTORS:
            raise ValueError(
                f"space_factor must be a power of two in {SPACE_FACTORS}, got {self.space_factor}"
            )
        if self.patch_size not in (1, 2, 4) or self.space_factor % self.patch_size:
            raise ValueError(
                f"patch_size must be 1, 2 or 4 and divide space_factor {self.space_factor}, got {self.patch_size}"  # noqa: E501
            )
        if self.block not in BLOCKS[:2]:
            raise ValueError(f"block must be 'factorized' or 'full', got {self.block!r}")
        if self.time_upsample not in ("nearest", "linear"):
            raise ValueError(f"time_upsample must be 'nearest' or 'linear', got {self.time_upsample!r}")
        if self.recon not in ("l1", "l2"):
            raise ValueError(f"recon must be 'l1' or 'l2', got {self.recon!r}")
        if min(self.in_channels, self.latent_channels, self.base_channels, self.blocks_per_level) < 1:
            raise ValueError("in_channels, latent_channels, base_channels and blocks_per_level must be >= 1")
        if self.kl_weight < 0:
            raise ValueError(f"kl_weight must be >= 0, got {self.kl_weight}")

    def latent_shape(self, frames: int, height: int, width: int) -> tuple[int, int, int, int]:
        """(c, T/ft, H/fs, W/fs), or ValueError if the factors do not divide the video."""
        check_divisible(frames, height, width, self.time_factor, self.space_factor)
        fs = self.space_factor
        return (self.latent_channels, frames // self.time_factor, height // fs, width // fs)

    def compression(self, frames: int, height: int, width: int) -> float:
        """How many times fewer values the latent holds than the video."""
        return (
            self.in_channels * frames * height * width / math.prod(self.latent_shape(frames, height, width))
        )


def check_divisible(frames: int, height: int, width: int, time_factor: int, space_factor: int) -> None:
    if frames < 1 or frames % time_factor:
        raise ValueError(
            f"frame count must be a positive multiple of the time factor {time_factor}, got T={frames}"
        )
    if height < 1 or width < 1 or height % space_factor or width % space_factor:
        raise ValueError(
            f"height and width must be positive multiples of the space factor {space_factor}, "
            f"got {height}x{width}"
        )


class DiagonalGaussian:
    """q(z|x) = N(mean, diag(exp(logvar))) from the encoder's (B, 2c, ...) moments."""

    def __init__(self, moments: torch.Tensor):
        self.mean, logvar = moments.chunk(2, dim=1)
        self.logvar = logvar.clamp(-30.0, 20.0)
        self.std = torch.exp(0.5 * self.logvar)

    def sample(self) -> torch.Tensor:
        """Reparameterisation trick: z = mean + std * eps, eps ~ N(0, I), differentiable."""
        return self.mean + self.std * torch.randn_like(self.mean)

    def kl(self) -> torch.Tensor:
        """KL(q || N(0, I)) summed over latent dims: (B,)."""
        kl = 0.5 * (self.mean.pow(2) + self.logvar.exp() - 1.0 - self.logvar)
        return kl.flatten(1).sum(dim=1)

    def mode(self) -> torch.Tensor:
        return self.mean


class VideoVAE(nn.Module):
    def __init__(self, cfg: VAEConfig):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.register_buffer("scale_factor", torch.tensor(1.0))
        # 0: never estimated; else the training step it was estimated at (1 outside training),
        # so a run resumed to more steps estimates it again for the new weights.
        self.register_buffer("scale_estimated", torch.tensor(0.0))

    def _check_video(self, x: torch.Tensor) -> None:
        if x.ndim != 5 or x.shape[1] != self.cfg.in_channels:
            raise ValueError(f"expected a video (B, {self.cfg.in_channels}, T, H, W), got {tuple(x.shape)}")
        check_divisible(*x.shape[2:], self.cfg.time_factor, self.cfg.space_factor)

    # -------------------------------------------------------------- one shot
    def encode(self, x: torch.Tensor) -> DiagonalGaussian:
        """x (B, C, T, H, W) -> posterior over (B, c, T/ft, H/fs, W/fs)."""
        self._check_video(x)
        return DiagonalGaussian(self.encoder(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, c, t, h, w) unscaled latents -> (B, C, t*ft, h*fs, w*fs)."""
        if z.ndim != 5 or z.shape[1] != self.cfg.latent_channels:
            raise ValueError(
                f"expected latents (B, {self.cfg.latent_channels}, t, h, w), got {tuple(z.shape)}"
            )
        return self.decoder(z)

    def forward(self, x: torch.Tensor, sample: bool = True):
        posterior = self.encode(x)
        z = posterior.sample() if sample else posterior.mean
        return self.decode(z), posterior

    # -------------------------------------------------------------- chunked, scaled
    @torch.no_grad()
    def encode_latents(self, x: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
        """Scaled latents for diffusion: mean * scale_factor. `chunk` (frames, a multiple
        of time_factor) bounds memory for long videos; the result equals one-shot."""
        self._check_video(x)
        ft = self.cfg.time_factor
        if chunk is None or chunk >= x.shape[2]:
            return self.encoder(x).chunk(2, dim=1)[0] * self.scale_factor
        if chunk < ft or chunk % ft:
            raise ValueError(f"chunk must be a positive multiple of the time factor {ft}, got {chunk}")
        ctx = math.ceil(self.encoder.time_radius / ft) * ft  # aligned to the time factor
        outs = []
        for start in range(0, x.shape[2], chunk):
            stop = min(start + chunk, x.shape[2])
            lo, hi = max(0, start - ctx), min(x.shape[2], stop + ctx)
            mean = self.encoder(x[:, :, lo:hi]).chunk(2, dim=1)[0]
            outs.append(mean[:, :, (start - lo) // ft : (stop - lo) // ft])
        return torch.cat(outs, dim=2) * self.scale_factor

    @torch.no_grad()
    def decode_latents(self, z: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
        """Scaled latents -> video. `chunk` = latent frames per chunk; each chunk is decoded
        with `decoder.time_radius` latent frames of context per side, then cropped, so the
        result equals one-shot decoding while memory stays bounded by the chunk size."""
        z = z / self.scale_factor
        if chunk is None or chunk >= z.shape[2]:
            return self.decode(z)
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1 latent frame, got {chunk}")
        ctx, ft, outs = self.decoder.time_radius, self.cfg.time_factor, []
        for start in range(0, z.shape[2], chunk):
            stop = min(start + chunk, z.shape[2])
            lo, hi = max(0, start - ctx), min(z.shape[2], stop + ctx)
            video = self.decode(z[:, :, lo:hi])
            outs.append(video[:, :, (start - lo) * ft : (stop - lo) * ft])
        return torch.cat(outs, dim=2)

    @torch.no_grad()
    def trace_shapes(self, x: torch.Tensor) -> list[tuple[str, tuple]]:
        """(stage, tensor shape) after every stage of encoder and decoder, for teaching."""
        self._check_video(x)
        enc, dec, rows = self.encoder, self.decoder, [("input video", tuple(x.shape))]
        if enc.patch > 1:
            rows.append(
                (f"patchify {enc.patch}x{enc.patch} (space to channels)", tuple(patchify(x, enc.patch).shape))
            )
        h = enc.conv_in(patchify(x, enc.patch))
        rows.append(("encoder conv_in", tuple(h.shape)))
        for i, level in enumerate(enc.levels):
            h = level["blocks"](h)
            rows.append((f"encoder level {i} ResBlocks", tuple(h.shape)))
            h = level["down"](h)
            rows.append((f"encoder level {i} downsample", tuple(h.shape)))
        moments = enc.conv_out(torch.nn.functional.silu(enc.norm_out(enc.mid(h))))
        rows.append(("encoder mid + conv_out: (mu, log var)", tuple(moments.shape)))
        z = DiagonalGaussian(moments).mean
        rows.append(("latent z", tuple(z.shape)))
        h = dec.mid(dec.conv_in(z))
        rows.append(("decoder conv_in + mid", tuple(h.shape)))
        for i, level in enumerate(dec.levels):
            h = level["up"](h)
            rows.append((f"decoder level {i} upsample", tuple(h.shape)))
            h = level["blocks"](h)
            rows.append((f"decoder level {i} ResBlocks", tuple(h.shape)))
        rows.append(("decoder conv_out: video", tuple(unpatchify(dec.conv_out(h), dec.patch).shape)))
        return rows

    @torch.no_grad()
    def estimate_scale_factor(self, videos: torch.Tensor, batch_size: int = 16, step: int = 1) -> float:
        """scale_factor = 1 / std(mean latents) over `videos`; stored in the buffer."""
        self.scale_factor.fill_(1.0)
        means = torch.cat(
            [self.encode_latents(videos[i : i + batch_size]) for i in range(0, len(videos), batch_size)]
        )
        self.scale_factor.fill_(1.0 / means.float().std().clamp_min(1e-8).item())
        self.scale_estimated.fill_(float(max(step, 1)))
        return float(self.scale_factor)


def vae_loss(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """L = reconstruction (per pixel) + kl_weight * KL / pixels per clip. Trainer loss_fn."""
    vae = getattr(model, "module", model)  # DDP wraps the model
    x_hat, posterior = model(x)
    err = (x_hat - x).abs() if vae.cfg.recon == "l1" else (x_hat - x).pow(2)
    return err.mean() + vae.cfg.kl_weight * posterior.kl().mean() / x[0].numel()


# ------------------------------------------------------------------ training


def default_vae_train_config(dataset: str = "mnist") -> TrainConfig:
    """The VAE's training (presets.py `vae_train`)."""
    from ..core.presets import preset

    return TrainConfig(**preset(dataset).vae_train.kwargs())


default_train_config = default_vae_train_config  # the older name, which notebooks and tests call


def default_vae_config(dataset: str = "mnist") -> VAEConfig:
    """Moving MNIST 1x16x64x64 -> 2x8x16x16 (time x2, 2 channels), sky 3x16x64x64 -> 4x4x16x16
    (time x4, 4 channels, time upsampled linearly: presets.VAE_LAYOUT says why): 16x and 48x
    fewer values.

    Moving MNIST's layout comes from `benchmarks vae_layouts` and `lvdm_layouts`: at the same
    16x, time x2 / 2 channels reconstructs held-out clips at 26.3 dB (x4 / 4: 23.2) and the LVDM
    trained on it samples at EMA FVD 91 over two seeds (x4 / 4: 215 over three)."""
    from ..core.presets import preset, vae_layout

    # Full 3x3x3 blocks: on a 2-core CPU they cost no more per step than (2+1)D ones (the 3x1x1
    # conv is memory-bound) and reach higher PSNR at equal time (benchmarks/vae.py).
    # quick: 2x2 space-to-depth first (no conv at 64x64) and an L2 loss, which (unlike L1)
    # does not sit at the all-black median of sparse Moving MNIST frames for hundreds of steps.
    return VAEConfig(**vae_layout(dataset).kwargs(), **preset(dataset).vae.kwargs())


def train_data_config(dataset: str = "mnist", frames: int | None = None, path: str = "") -> VideoDataConfig:
    """Training clips: short clips are enough (the VAE is convolutional in time) and cheap."""
    from ..core.presets import preset
    from .latent_cache import video_size

    p = preset(dataset)
    return VideoDataConfig(
        dataset,
        split="train",
        frames=frames or p.short_frames,
        size=video_size(dataset),
        count=10**9,
        crop=p.vae_crop,
        path=path,
    )


def random_crop(video: torch.Tensor, crop: int, seed: int) -> torch.Tensor:
    """One random crop x crop window per clip (a pure function of `seed`); 0 = no crop."""
    size = video.shape[-1]
    if crop <= 0 or crop >= size:
        return video
    g = torch.Generator().manual_seed(seed)
    ys, xs = torch.randint(0, size - crop + 1, (2, len(video)), generator=g).tolist()
    return torch.stack([v[..., y : y + crop, x : x + crop] for v, y, x in zip(video, ys, xs)])


def train_vae(
    dataset_name: str = "mnist",
    cfg: VAEConfig | None = None,
    train_cfg: TrainConfig | None = None,
    data_cfg: VideoDataConfig | None = None,
    name: str = "vae",
    progress: bool = True,
    workers: int = 0,
) -> Trainer:
    """Train (or resume, or reuse the finished checkpoint of) a VAE; estimates the scale
    factor once at the end and saves it with the checkpoint. The model to use afterwards is
    `trainer.ema.module` (EMA weights, eval mode). `workers`: DataLoader processes reading
    clips of a video folder ahead of training (the batches are the same for any number)."""
    cfg = cfg or default_vae_config(dataset_name)
    train_cfg = train_cfg or default_train_config(dataset_name)
    data_cfg = data_cfg or train_data_config(dataset_name)
    if data_cfg.dataset != dataset_name:
        raise ValueError(f"data config is for {data_cfg.dataset!r}, not {dataset_name!r}")
    check_divisible(data_cfg.frames, data_cfg.size, data_cfg.size, cfg.time_factor, cfg.space_factor)
    seed_everything(train_cfg.seed)
    source = ClipSource(data_cfg)
    bsz = train_cfg.batch_size

    def indices(step, rank, world):
        return epoch_indices(step, rank, world, bsz, source.length, train_cfg.seed).tolist()

    read = None
    if data_cfg.dataset == "folder":  # read from files: DataLoader workers may read ahead
        from ..data.loader import StepBatches

        read = StepBatches(lambda idx: source.clips(idx)[0], indices, workers, train_cfg.seed)

    def batch_fn(step, rank, world):
        start = (step * world + rank) * bsz
        if read is not None:
            video = read(step, rank, world)
        elif source.length is not None:  # a finite set: a seeded permutation per epoch
            video = source.clips(indices(step, rank, world))[0]
        else:
            video = source.videos(start, bsz)
        return random_crop(video, data_cfg.crop, seed=start)

    trainer = Trainer(
        VideoVAE(cfg),
        vae_loss,
        batch_fn,
        train_cfg,
        ckpt_path=checkpoint_path(name, cfg, train_cfg, data_cfg),
        model_config=cfg,
        progress=progress,
    )
    trainer.configs["data"] = config_to_dict(data_cfg)
    try:
        trainer.fit()
    finally:
        if read is not None:
            read.close()
    vae = trainer.ema.module.eval()
    if float(vae.scale_estimated) != max(trainer.step, 1):  # never, or for earlier weights
        videos = source.clips(range(scale_estimate_clips(dataset_name)))[0].to(trainer.device)
        scale = vae.estimate_scale_factor(videos, step=trainer.step)
        trainer.model.scale_factor.fill_(scale)
        trainer.model.scale_estimated.fill_(vae.scale_estimated.item())
        trainer.save()
    return trainer


def scale_estimate_clips(dataset: str = "mnist") -> int:
    """Clips the latent scale factor is estimated on (presets.py `scale_clips`)."""
    from ..core.presets import preset

    return preset(dataset).scale_clips


def load_vae(path, device=None) -> VideoVAE:
    """The EMA VAE from a checkpoint written by `train_vae` (weights only, no code runs)."""
    from ..core.config import config_from_dict
    from ..core.train import ema_state_dict, load_checkpoint

    state = load_checkpoint(path)
    vae = VideoVAE(config_from_dict(VAEConfig, state["configs"]["model"]))
    vae.load_state_dict(ema_state_dict(state))
    return vae.to(device or get_device()).eval()


@torch.no_grad()
def reconstruct(vae: VideoVAE, videos: torch.Tensor, batch_size: int = 8) -> torch.Tensor:
    """Posterior-mean reconstructions of (N, C, T, H, W) videos."""
    device = next(vae.parameters()).device
    outs = [
        vae.decode(vae.encode(videos[i : i + batch_size].to(device)).mean).clamp(-1, 1).cpu()
        for i in range(0, len(videos), batch_size)
    ]
    return torch.cat(outs)


@torch.no_grad()
def evaluate_vae(vae: VideoVAE, data_cfg: VideoDataConfig, batch_size: int = 8) -> dict:
    """PSNR, SSIM and flicker of posterior-mean reconstructions of `data_cfg.count` clips."""
    videos = ClipSource(data_cfg).clips(range(data_cfg.count))[0]
    recon = reconstruct(vae, videos, batch_size)
    return {
        "psnr": psnr(recon, videos).mean().item(),
        "ssim": ssim(recon, videos).mean().item(),
        "flicker": flicker(recon, videos).mean().item(),
        "clips": len(videos),
        "videos": videos,
        "recon": recon,
    }
