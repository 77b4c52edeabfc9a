"""The labels study's scoring and its readout option (docs/labels.md): a label that is a
linear function of the features is read perfectly, one that is independent of them at
about chance, and ``--readout`` names its caches apart and reaches only agents that
have a readout."""

from __future__ import annotations

import numpy as np
import pytest

from socialview.benchmarks.labels_study import _agent_config, _suffix, label_accuracies, main


def _episodes(n_episodes: int, length: int) -> np.ndarray:
    return np.repeat(np.arange(n_episodes), length)


def test_a_linearly_separable_label_is_read_perfectly_and_noise_at_chance():
    rng = np.random.default_rng(0)
    episode = _episodes(40, 25)
    labels = rng.integers(0, 3, size=episode.size)
    one_hot = np.eye(3)[labels] * 5.0 + rng.normal(scale=0.1, size=(episode.size, 3))
    noise = rng.normal(size=(episode.size, 3))
    scores = label_accuracies({"known": one_hot, "noise": noise}, labels, episode)
    assert scores["known"] == 1.0
    assert abs(scores["noise"] - 1 / 3) < 0.08
    assert 1 / 3 <= scores["chance"] < 0.45


def test_undefined_frames_are_left_out_of_fitting_and_scoring():
    rng = np.random.default_rng(1)
    episode = _episodes(40, 25)
    labels = rng.integers(0, 2, size=episode.size)
    features = np.eye(2)[labels] * 5.0
    scrambled = labels.copy()
    undefined = rng.random(episode.size) < 0.3
    scrambled[undefined] = -1
    # the undefined frames carry features of the wrong class: scored, they would cost accuracy
    features[undefined] = features[undefined][:, ::-1]
    assert label_accuracies({"x": features}, scrambled, episode)["x"] == 1.0


def test_readout_caches_are_named_apart_and_a_bad_readout_is_refused():
    assert _suffix("default") == ""
    assert _suffix("latent") == "_readout-latent"
    with pytest.raises(ValueError, match="readout must be one of default, latent; got 'core'"):
        _suffix("core")
    with pytest.raises(SystemExit):
        main(["--readout", "core"])


def test_the_latent_readout_reaches_only_agents_that_have_a_readout():
    assert _agent_config("jepa", "latent") == {"readout": "latent"}
    assert _agent_config("supervised", "latent") == {"readout": "latent"}
    assert _agent_config("jepa", "default") == {}
    assert _agent_config("pca", "latent") == {}
