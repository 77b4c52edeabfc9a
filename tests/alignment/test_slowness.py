"""SlowFeatures on synthetic latents whose speeds are known."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialview.alignment.slowness import SlowFeatures


def _slow_and_fast(rng: np.random.Generator, episodes: int = 60, length: int = 40
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Column 0 a slow random walk, column 1 white noise (uncorrelated frame to frame)."""
    slow = np.cumsum(rng.normal(scale=0.05, size=(episodes, length)), axis=1)
    slow += rng.uniform(-1, 1, size=(episodes, 1))
    fast = rng.normal(size=(episodes, length))
    return np.c_[slow.ravel(), fast.ravel()], np.repeat(np.arange(episodes), length)


def test_the_slowest_feature_is_the_slow_signal_and_noise_moves_at_two():
    rng = np.random.default_rng(0)
    signals, episode = _slow_and_fast(rng)
    mixed = signals @ np.array([[1.0, 2.0], [0.5, -1.0]])  # both columns mix both signals
    sfa = SlowFeatures().fit(mixed, episode)
    assert sfa.slowness_[0] < 0.05
    assert sfa.slowness_[1] == pytest.approx(2.0, abs=0.1)  # white noise, unit variance
    first = sfa.transform(mixed)[:, 0]
    assert abs(np.corrcoef(first, signals[:, 0])[0, 1]) > 0.99


def test_features_are_white_on_the_fitting_rows_and_n_components_keeps_the_slowest():
    rng = np.random.default_rng(1)
    state, episode = _slow_and_fast(rng)
    latents = np.c_[state, rng.normal(size=(len(state), 3))] @ rng.normal(size=(5, 7))
    full = SlowFeatures().fit_transform(latents, episode)
    assert full.shape == (len(latents), 5)  # 7 columns, rank 5: the null directions dropped
    np.testing.assert_allclose(np.cov(full.T), np.eye(5), atol=1e-8)
    two = SlowFeatures(n_components=2).fit(latents, episode)
    np.testing.assert_allclose(two.transform(latents), full[:, :2], atol=1e-8)
    assert np.all(np.diff(two.slowness_) >= 0)


@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 10_000), width=st.integers(6, 12), lag=st.integers(1, 3))
def test_the_spectrum_is_invariant_under_invertible_linear_maps(seed, width, lag, world):
    """Two agents that encode one state linearly, in any coordinates, share its speeds.
    The map's singular values lie in [0.5, 2]: a nearly singular one squeezes a
    direction under ``rtol`` of the first, which the fit drops by design."""
    rng = np.random.default_rng(seed)
    state, episode = world(rng, episodes=40)
    code = np.c_[state, rng.normal(size=(len(state), width - state.shape[1]))]
    rotations = [np.linalg.qr(rng.normal(size=(width, width)))[0] for _ in range(2)]
    mixing = rotations[0] @ np.diag(rng.uniform(0.5, 2.0, size=width)) @ rotations[1]
    a = SlowFeatures(lag=lag).fit(code, episode)
    b = SlowFeatures(lag=lag).fit(code @ mixing + rng.normal(size=width), episode)
    np.testing.assert_allclose(a.slowness_, b.slowness_, rtol=1e-6, atol=1e-9)


def test_pairs_across_episodes_are_left_out():
    """A jump between episodes is not motion: the spectrum ignores it."""
    rng = np.random.default_rng(2)
    signals, episode = _slow_and_fast(rng)
    shifted = signals + np.where(episode % 2 == 0, 50.0, -50.0)[:, None] * [1.0, 0.0]
    centred = SlowFeatures().fit(signals, episode).slowness_
    # the offsets change the variance, so the whitened speeds shrink, but no change across
    # a boundary is counted: the slow column stays far slower than the noise
    moved = SlowFeatures().fit(shifted, episode).slowness_
    assert moved[0] < centred[0]
    assert moved[1] == pytest.approx(2.0, abs=0.1)


def test_jumps_show_where_the_speeds_step():
    rng = np.random.default_rng(3)
    slow = np.cumsum(rng.normal(scale=0.02, size=(80, 30, 3)), axis=1).reshape(-1, 3)
    fast = rng.normal(size=(80 * 30, 4))
    episode = np.repeat(np.arange(80), 30)
    jumps = SlowFeatures().fit(np.c_[slow + rng.uniform(-1, 1, 3), fast], episode).jumps()
    assert jumps.shape == (6,)
    assert int(np.argmax(jumps)) + 1 == 3  # three slow directions, then the noise


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"lag": 0}, "lag must be an integer >= 1"),
    ({"n_components": 0}, "n_components must be an integer >= 1"),
    ({"rtol": 1.0}, "rtol must be in"),
])
def test_bad_settings_name_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SlowFeatures(**kwargs)


def test_bad_input_names_what_is_wrong():
    rng = np.random.default_rng(4)
    latents, episode = _slow_and_fast(rng, episodes=5, length=4)
    with pytest.raises(ValueError, match="episodes must hold one id per latent row"):
        SlowFeatures().fit(latents, episode[:-1])
    with pytest.raises(ValueError, match="lag=4 leaves 0 pairs"):
        SlowFeatures(lag=4).fit(latents, episode)
    with pytest.raises(ValueError, match="n_components=3 exceeds the 2 directions"):
        SlowFeatures(n_components=3).fit(latents, episode)
    with pytest.raises(ValueError, match="not fitted"):
        SlowFeatures().transform(latents)
    fitted = SlowFeatures().fit(latents, episode)
    with pytest.raises(ValueError, match="fitted on 2"):
        fitted.transform(latents[:, :1])
