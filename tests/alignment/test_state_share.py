"""state_share on synthetic latents whose share of state is known."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialview.alignment import state_probe, state_share


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), width=st.integers(2, 40))
def test_a_linear_code_of_the_state_is_all_state(seed, width, world):
    rng = np.random.default_rng(seed)
    state, episode = world(rng, episodes=100)
    latents = state @ rng.normal(size=(6, width)) + rng.normal(size=width)
    assert state_share(latents, state, episode) == pytest.approx(1.0, abs=1e-4)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(1e-3, 1e3))
def test_half_noise_is_half_state_at_any_scale(seed, scale, world):
    """Equal variance of state and of independent noise: share ~0.5, whatever the units."""
    rng = np.random.default_rng(seed)
    state, episode = world(rng, episodes=100)
    signal = (state - state.mean(0)) / state.std(0)
    latents = np.c_[signal, rng.normal(size=signal.shape)] * scale
    assert state_share(latents, state, episode) == pytest.approx(0.5, abs=0.06)


def test_a_nonlinear_code_is_read_by_the_probe_but_is_not_all_state(world):
    """Quadratic features of the state: the probe reads the state, the share stays low.

    This is the case the share exists for: knowing the world (probe) is not the same
    as being a linear code of it, which is what an isometry between agents needs.
    """
    rng = np.random.default_rng(0)
    state, episode = world(rng, episodes=100)
    squares = np.stack([state[:, i] * state[:, j] for i in range(6) for j in range(i, 6)], 1)
    latents = np.c_[state, 3 * squares / squares.std(0)]
    assert state_probe(latents, state, episode).pooled_r2 > 0.95
    assert state_share(latents, state, episode) < 0.5


def test_noise_has_no_share(world):
    rng = np.random.default_rng(1)
    state, episode = world(rng, episodes=100)
    assert abs(state_share(rng.normal(size=(state.shape[0], 16)), state, episode)) < 0.05


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"state": np.zeros((10, 2))}, "same frames"),
    ({"episodes": np.zeros(7)}, "same frames"),
    ({"test_size": 1.5}, "test_size"),
    ({"ridge": -1.0}, "ridge"),
])
def test_bad_input_names_the_parameter(kwargs, match, world):
    rng = np.random.default_rng(2)
    state, episode = world(rng, episodes=10, length=4)
    args = {"latents": rng.normal(size=(40, 3)), "state": state, "episodes": episode, **kwargs}
    with pytest.raises(ValueError, match=match):
        state_share(args.pop("latents"), args.pop("state"), args.pop("episodes"), **args)
