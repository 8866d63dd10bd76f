"""The committed evaluator weights: checksums, offline loading, held-out accuracy."""

import json
import shutil

import pytest
import torch

from minilvdm.eval.evaluators import (
    KINDS,
    WEIGHTS_DIR,
    load_evaluator,
    load_evaluator_from,
    read_checksums,
    sha256,
)
from minilvdm.eval.train_evaluators import mnist_accuracy, sky_accuracy


def test_checksums_match_and_weights_are_small():
    sums = read_checksums()
    total = 0
    for kind in KINDS:
        path = WEIGHTS_DIR / f"{kind}.pt"
        assert sums[path.name] == sha256(path), f"{path} does not match CHECKSUMS.json"
        total += path.stat().st_size
    assert total < 5e6, f"evaluator weights take {total / 1e6:.1f} MB; keep them under 5 MB"


def test_load_is_cached_eval_mode_and_frozen():
    model = load_evaluator("mnist_clip")
    assert model is load_evaluator("mnist_clip")
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match="unknown evaluator"):
        load_evaluator("imagenet")


def test_tampered_weights_are_refused(tmp_path):
    src = WEIGHTS_DIR / "mnist_frame.pt"
    dst = tmp_path / "mnist_frame.pt"
    shutil.copy(src, dst)
    with open(dst, "r+b") as f:  # flip one byte near the end (inside the zip's tensor data)
        f.seek(-200, 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ValueError, match="sha256"):
        load_evaluator_from(dst, verify=sha256(src))
    (tmp_path / "CHECKSUMS.json").write_text(json.dumps({"mnist_frame.pt": sha256(src)}))
    with pytest.raises(ValueError, match="sha256"):
        load_evaluator("mnist_frame", folder=str(tmp_path))


def test_clip_encoder_digit_accuracy_on_unseen_digits():
    # TEST-split digit images, never seen in training. The target is 95 %: the committed
    # weights score 95.1 % on the 512-clip held-out set of BENCHMARKS.md and ~94-95 % on other
    # draws, so a fresh 256-clip draw is held to 94 % (its sampling error is about 1 %).
    result = mnist_accuracy(load_evaluator("mnist_clip"), clips=256, seed=777)
    assert result["digit_accuracy"] >= 0.94, result
    assert 0 <= result["direction_top_bin_accuracy"] <= 1  # reported, see BENCHMARKS.md


def test_frame_classifier_accuracy_on_unseen_digits():
    result = mnist_accuracy(load_evaluator("mnist_frame"), clips=32, seed=778)
    assert result["digit_accuracy"] >= 0.85, result  # per frame, with overlapping digits


def test_sky_encoder_reads_the_wind():
    result = sky_accuracy(load_evaluator("sky_clip"), clips=32, seed=779)
    assert result["wind_direction_mae_deg"] < 30, result  # chance is 90 degrees


def test_features_for_other_lengths_and_sizes():
    model = load_evaluator("mnist_clip")
    for shape in [(2, 1, 16, 64, 64), (2, 1, 40, 64, 64), (2, 1, 8, 64, 64), (2, 1, 16, 32, 32)]:
        feats = model.clip_features(torch.zeros(shape))
        assert feats.shape == (2, 64) and torch.isfinite(feats).all()
    with pytest.raises(ValueError, match="channel"):
        model.clip_features(torch.zeros(1, 3, 16, 64, 64))


def test_digit_reader_accuracy_on_unseen_digits():
    # The reader also learnt to reject non-digits (tests/test_eval_negatives.py); on digits
    # it must read as well as the frame classifier (0.926 on the 8192 frames of BENCHMARKS.md).
    result = mnist_accuracy(load_evaluator("mnist_reader"), clips=32, seed=778)
    assert result["digit_accuracy"] >= 0.85, result
