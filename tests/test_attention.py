"""Attention layers: RoPE's relative-position property, the relative bias, identity at init."""

import pytest
import torch

from minilvdm.diffusion.attention import (
    Attention,
    JointAttention,
    SpatialAttention,
    TemporalAttention,
    apply_rope,
    rope_angles,
)


def randomize(module, scale=0.2, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=g) * scale)
    return module


def test_rope_logits_depend_only_on_offset():
    d, frames = 16, 12
    cos, sin = rope_angles(torch.arange(frames), d)
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(d, generator=g), torch.randn(d, generator=g)
    # The same q and k at every frame: logits[i, j] = <R_i q, R_j k> must be a function of j - i.
    rq, rk = apply_rope(q.expand(frames, d), cos, sin), apply_rope(k.expand(frames, d), cos, sin)
    logits = rq @ rk.T  # (T, T)
    for offset in range(-frames + 1, frames):
        diagonal = torch.diagonal(logits, offset)
        assert torch.allclose(diagonal, diagonal[0].expand_as(diagonal), atol=1e-4)
    # Shifting every position by the same amount leaves all logits unchanged.
    cos2, sin2 = rope_angles(torch.arange(frames) + 7, d)
    qs, ks = torch.randn(frames, d, generator=g), torch.randn(frames, d, generator=g)
    before = apply_rope(qs, cos, sin) @ apply_rope(ks, cos, sin).T
    after = apply_rope(qs, cos2, sin2) @ apply_rope(ks, cos2, sin2).T
    assert torch.allclose(before, after, atol=1e-4)
    # Rotations preserve norms and position 0 is the identity.
    assert torch.allclose(rq.norm(dim=-1), q.norm().expand(frames), atol=1e-5)
    assert torch.allclose(rq[0], q)
    with pytest.raises(ValueError, match="even"):
        rope_angles(torch.arange(3), 5)


def test_relative_bias_depends_only_on_offset():
    layer = TemporalAttention(32, 16, "relative", max_relative=4)
    with torch.no_grad():
        layer.relative_bias.normal_()
    bias = layer.bias(10, "cpu")  # (heads, T, T)
    assert bias.shape == (2, 10, 10)
    assert torch.allclose(bias[:, 1:, 1:], bias[:, :-1, :-1])
    assert torch.allclose(bias[:, 0, 9], bias[:, 0, 4])  # offsets beyond max_relative are clipped


@pytest.mark.parametrize("position", ["rope", "relative", "none"])
def test_temporal_attention_identity_at_init_and_shapes(position):
    layer = TemporalAttention(32, 16, position)
    x = torch.randn(2 * 6, 32, 4, 5)  # (B*T, C, H, W)
    assert torch.equal(layer(x, 6), x)  # zero-initialised output projection
    randomize(layer)
    out = layer(x, 6)
    assert out.shape == x.shape and not torch.allclose(out, x)


def test_temporal_attention_mixes_only_frames_at_the_same_position():
    layer = randomize(TemporalAttention(16, 16, "rope"))
    x = torch.randn(1 * 5, 16, 3, 3)
    y = x.clone()
    y[:, :, 0, 0] += 1.0  # change one position in every frame
    changed = (layer(x, 5) - layer(y, 5)).abs().sum(dim=(0, 1)) > 1e-6  # (H, W)
    assert changed[0, 0] and changed.sum() == 1


def test_joint_attention_without_time_is_spatial_attention():
    joint, spatial = randomize(JointAttention(32, 16)), SpatialAttention(32, 16)
    spatial.load_state_dict(joint.state_dict())
    x = torch.randn(3 * 4, 32, 4, 4)
    assert torch.allclose(joint(x, 4, enable_time=False), spatial(x), atol=1e-5)
    assert not torch.allclose(joint(x, 4), spatial(x), atol=1e-3)


def test_attention_rejects_bad_heads():
    with pytest.raises(ValueError, match="divisible"):
        Attention(35, 16)
    with pytest.raises(ValueError, match="temporal position"):
        TemporalAttention(32, 16, "alibi")
