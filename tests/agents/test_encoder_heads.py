"""The encoder's readout heads: what each one's features are a function of."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from socialview.agents import make_agent
from socialview.agents.nets import ConvEncoder, EncoderConfig, SpatialMoments


def _blob(side: int, row: int, col: int) -> torch.Tensor:
    """A ``(1, 1, side, side)`` map with a 2x2 block of ones at ``(row, col)``."""
    maps = torch.zeros(1, 1, side, side)
    maps[0, 0, row:row + 2, col:col + 2] = 1.0
    return maps


@settings(max_examples=40, deadline=None)
@given(row=st.integers(0, 14), col=st.integers(0, 13), shift=st.integers(1, 3))
def test_moments_move_linearly_with_what_the_map_shows(row, col, shift):
    moments = SpatialMoments()
    side = 16
    step = 2.0 / (side - 1)  # one pixel in [-1, 1] coordinates
    before = moments(_blob(side, row, col))
    after = moments(_blob(side, row, col + min(shift, side - 2 - col)))
    moved = min(shift, side - 2 - col)
    # x moment moves by (pixels moved) * (pixel size) * (blob mass / pixels); y stays
    assert float(after[0, 0] - before[0, 0]) == pytest.approx(moved * step * 4 / side**2,
                                                              abs=1e-6)
    assert float(after[0, 1]) == pytest.approx(float(before[0, 1]), abs=1e-7)


def test_moments_add_over_bodies_and_ignore_a_constant_map():
    moments = SpatialMoments()
    one, other = _blob(8, 1, 2), _blob(8, 5, 5)
    assert torch.allclose(moments(one + other), moments(one) + moments(other), atol=1e-7)
    assert torch.allclose(moments(torch.full((1, 1, 8, 8), 3.0)), torch.zeros(1, 2), atol=1e-6)


def test_centroids_do_not_grow_with_a_body_s_size_where_moments_do():
    small, large = _blob(16, 4, 10), torch.zeros(1, 1, 16, 16)
    large[0, 0, 3:7, 9:13] = 1.0  # same centre (row 4.5, col 10.5), four times the mass
    centroids = SpatialMoments(normalise=True, eps=1e-9)
    assert torch.allclose(centroids(small), centroids(large), atol=1e-5)
    moments = SpatialMoments()
    assert torch.allclose(moments(large), 4 * moments(small), atol=1e-6)
    step = 2.0 / 15
    assert float(centroids(small)[0, 0]) == pytest.approx(-1 + 10.5 * step, abs=1e-5)


def test_moments_head_builds_and_trains(synthetic_dataset):
    from socialview.agents import train_agent

    agent = make_agent("jepa", seed=0, width=8, keypoints=4, latent_dim=8, head="moments")
    result = train_agent(agent, synthetic_dataset, "cam0", steps=3, progress=False,
                         batch_size=8)
    assert result.steps == 3
    assert agent.encode(np.zeros((2, 32, 32, 3), dtype=np.uint8)).shape == (2, 8)


def test_unknown_head_names_the_choices():
    choices = r"'flatten', 'keypoints', 'moments' or 'centroids'.*'pool'"
    with pytest.raises(ValueError, match=choices):
        ConvEncoder(EncoderConfig(head="pool"))
