"""``object_pixels=False``: the costly info entry left out, nothing else changed."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import socialview.envs  # noqa: F401  (registers the env)
from socialview.envs import SocialViewEnv, record_dataset

SMALL = {"image_size": 24}


def test_object_pixels_is_on_by_default_and_in_the_registered_envs():
    for env_id in ("SocialView-v1", "SocialView-v0"):
        environment = gym.make(env_id, **SMALL)
        try:
            assert environment.unwrapped.object_pixels is True
            _, info = environment.reset(seed=0)
            assert info["object_pixels"].shape == (2, 3)
            *_, info = environment.step(np.zeros(2))
            assert info["object_pixels"].shape == (2, 3)
        finally:
            environment.close()


@pytest.mark.parametrize("obs_modes", [("rgb",), ("rgb", "depth", "segmentation")])
def test_object_pixels_false_leaves_the_key_out_and_the_world_unchanged(obs_modes):
    """Same seed, same actions: identical observations, positions, rewards and other info."""
    full = SocialViewEnv(**SMALL, obs_modes=obs_modes)
    lean = SocialViewEnv(**SMALL, obs_modes=obs_modes, object_pixels=False)
    try:
        assert lean.object_pixels is False
        obs_full, info_full = full.reset(seed=3)
        obs_lean, info_lean = lean.reset(seed=3)
        actions = np.random.default_rng(3).uniform(-1, 1, size=(15, 2))
        for action in [None, *actions]:
            if action is not None:
                obs_full, reward_full, term_full, trunc_full, info_full = full.step(action)
                obs_lean, reward_lean, term_lean, trunc_lean, info_lean = lean.step(action)
                assert (reward_full, term_full, trunc_full) == (reward_lean, term_lean, trunc_lean)
            assert "object_pixels" in info_full and "object_pixels" not in info_lean
            assert set(info_full) - set(info_lean) == {"object_pixels"}
            assert obs_full.keys() == obs_lean.keys()
            for key in obs_full:
                np.testing.assert_array_equal(obs_full[key], obs_lean[key])
            for key in info_lean:
                np.testing.assert_array_equal(info_full[key], info_lean[key])
            np.testing.assert_array_equal(full.data.qpos, lean.data.qpos)
            np.testing.assert_array_equal(full.data.qvel, lean.data.qvel)
    finally:
        full.close()
        lean.close()


def test_gym_make_passes_object_pixels_through():
    environment = gym.make("SocialView-v1", object_pixels=False, **SMALL)
    try:
        _, info = environment.reset(seed=0)
        assert "object_pixels" not in info and "label_pusher_grid" in info
    finally:
        environment.close()


@pytest.mark.parametrize("value", ["no", 0, 1, None, np.array([True])])
def test_bad_object_pixels_values_are_refused_with_a_clear_message(value):
    with pytest.raises(ValueError, match=r"object_pixels must be True or False, got "):
        SocialViewEnv(**SMALL, object_pixels=value)


def test_numpy_bools_are_accepted():
    environment = SocialViewEnv(**SMALL, object_pixels=np.False_)
    try:
        assert environment.object_pixels is False
    finally:
        environment.close()


def test_recording_refuses_object_pixels_false(tmp_path):
    with pytest.raises(ValueError, match=r"record_dataset needs object_pixels=True"):
        record_dataset(tmp_path / "data", steps=2, image_size=16, preview=False,
                       progress=False, env_kwargs={"object_pixels": False})
    assert not (tmp_path / "data").exists()
