"""The state probe on synthetic latents whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialview.alignment import episode_split, state_probe


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), width=st.integers(6, 40))
def test_exact_linear_code_scores_one(seed, width, world):
    rng = np.random.default_rng(seed)
    state, episode = world(rng)
    mixing = rng.normal(size=(6, width))
    result = state_probe(state @ mixing + rng.normal(size=width), state, episode)
    assert result.pooled_r2 == pytest.approx(1.0, abs=1e-3)
    assert min(result.r2) > 0.99


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_noise_scores_about_zero_or_less(seed, world):
    rng = np.random.default_rng(seed)
    state, episode = world(rng)
    result = state_probe(rng.normal(size=(state.shape[0], 32)), state, episode)
    assert -0.2 < result.pooled_r2 < 0.05
    assert result.knn_pooled_r2 < 0.05


def test_knn_reads_a_nonlinear_code_the_ridge_cannot(world):
    rng = np.random.default_rng(0)
    state, episode = world(rng, episodes=200)
    state = state[:, :2]  # one body: k-NN needs few dimensions to be sharp
    phase = 2 * np.pi * (state - state.min(0)) / np.ptp(state, axis=0)  # one full turn each
    code = np.concatenate([np.cos(phase), np.sin(phase)], axis=1)  # injective, not linear
    result = state_probe(code, state, episode)
    assert result.knn_pooled_r2 > 0.95
    assert result.pooled_r2 < result.knn_pooled_r2 - 0.1


def test_mask_scores_each_target_on_its_own_rows(world):
    rng = np.random.default_rng(1)
    state, episode = world(rng)
    latents = state.copy()
    hidden = rng.random(state.shape[0]) < 0.5
    latents[hidden, :2] = rng.normal(size=(hidden.sum(), 2))  # body 0 unseen on these rows
    mask = np.ones(state.shape, dtype=bool)
    mask[hidden, :2] = False
    masked = state_probe(latents, state, episode, mask=mask)
    unmasked = state_probe(latents, state, episode)
    assert min(masked.r2) > 0.99
    assert unmasked.r2[0] < 0.8
    assert masked.n_fit[0] < masked.n_fit[2]


def test_split_holds_out_whole_final_episodes():
    episode = np.repeat(np.arange(8), 5)
    test = episode_split(episode, 0.25)
    assert set(episode[test]) == {6, 7} and not set(episode[~test]) & {6, 7}


def test_grouped_and_json(world):
    rng = np.random.default_rng(2)
    state, episode = world(rng)
    result = state_probe(state, state, episode, target_names=[f"t{i}" for i in range(6)])
    groups = result.grouped({"first": ["t0", "t1"], "rest": ["t2", "t3", "t4", "t5"]})
    assert groups["first"]["r2"] == pytest.approx(1.0, abs=1e-3)
    d = result.to_dict()
    assert d["n_fit_episodes"] == 90 and d["n_test_episodes"] == 30 and len(d["alphas"]) == 6


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"targets": np.zeros((5, 2))}, "targets must have shape"),
        ({"episodes": np.zeros(5)}, "episodes must have shape"),
        ({"mask": np.ones((10, 3), bool)}, "mask must have"),
        ({"alphas": []}, "alphas"),
        ({"test_size": 1.5}, "test_size"),
        ({"target_names": ["a"]}, "target_names"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, match):
    rng = np.random.default_rng(0)
    args = {"latents": rng.normal(size=(10, 4)), "targets": rng.normal(size=(10, 2)),
            "episodes": np.repeat(np.arange(5), 2)}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        state_probe(**args)


def test_zero_columns_change_nothing(world):
    """A core readout pads its whitened core with zeros: the probe reads the core as it is
    (no 0/0 in the unpenalised ridge), k-NN distances are the same too."""
    rng = np.random.default_rng(5)
    state, episode = world(rng)
    code = state @ rng.normal(size=(6, 6)) + 0.3 * rng.normal(size=state.shape)
    padded = np.hstack([code, np.zeros((len(code), 10))])
    plain, ours = state_probe(code, state, episode), state_probe(padded, state, episode)
    assert ours.pooled_r2 == pytest.approx(plain.pooled_r2, abs=1e-9)
    assert ours.knn_pooled_r2 == pytest.approx(plain.knn_pooled_r2, abs=1e-9)
