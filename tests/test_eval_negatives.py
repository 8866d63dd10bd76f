"""Non-digit frames for the digit reader, and the reader's verdicts on the committed weights."""

import pytest
import torch

from minilvdm.eval import real_clips, recognisability
from minilvdm.eval.metrics import confident_from_probs, digit_probs, reader_probs
from minilvdm.eval.negatives import FAMILIES, make_family, negatives, shuffled


@pytest.fixture(scope="module")
def real_frames():
    clips, _ = real_clips("mnist", 16, part=0)
    return clips[:, :, 0]  # (16, 1, 64, 64)


@pytest.mark.parametrize("family", FAMILIES)
def test_family_shape_range_and_seed(real_frames, family):
    a = make_family(family, real_frames, torch.Generator().manual_seed(0))
    b = make_family(family, real_frames, torch.Generator().manual_seed(0))
    c = make_family(family, real_frames, torch.Generator().manual_seed(1))
    assert a.shape == real_frames.shape and a.dtype == torch.float32
    assert a.min() >= -1 - 1e-6 and a.max() <= 1 + 1e-6  # [-1, 1] up to float rounding
    assert torch.equal(a, b), "same seed, same frames"
    assert not torch.equal(a, c), "another seed, other frames"


def test_shuffled_moves_tiles_and_keeps_every_pixel(real_frames):
    out = shuffled(real_frames, torch.Generator().manual_seed(0))
    assert torch.equal(out.flatten(1).sort(1).values, real_frames.flatten(1).sort(1).values)
    assert not torch.equal(out, real_frames)


def test_negatives_mix_every_family_and_check_input(real_frames):
    out = negatives(real_frames, 21, torch.Generator().manual_seed(0))
    assert out.shape == (21, 1, 64, 64)
    with pytest.raises(ValueError, match="real frames"):
        negatives(real_frames[:, :, :32], 4, torch.Generator())
    with pytest.raises(ValueError, match="unknown negative family"):
        make_family("cat", real_frames, torch.Generator())


def test_reader_recognises_real_digits_and_rejects_non_digits(real_frames):
    clips, _ = real_clips("mnist", 16, part=1)
    assert recognisability(clips) > 0.8  # BENCHMARKS.md: ~0.9 on 256 clips (overlaps cost some)
    gen = torch.Generator().manual_seed(123)
    for family in FAMILIES:
        fakes = make_family(family, real_frames, gen)[:, :, None]  # (16, 1, 1, 64, 64)
        share = confident_from_probs(reader_probs(fakes)).float().mean().item()
        assert share <= 0.25, f"the reader sees a digit in {share:.0%} of {family} frames"


def test_why_the_reader_exists():
    # The frame classifier never saw a frame without a digit: it names one in noise.
    noise = (torch.randn(8, 1, 4, 64, 64, generator=torch.Generator().manual_seed(0)) * 0.5 - 0.5).clamp(
        -1, 1
    )
    assert confident_from_probs(digit_probs(noise)).float().mean() > 0.5
    assert recognisability(noise) < 0.1
