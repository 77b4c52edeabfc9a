"""Recording: dataset round trip, atomicity, overwrite protection, loader checks, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from socialview.benchmarks.cli import main
from socialview.envs import SocialViewEnv, load_dataset, record_dataset

KWARGS = {"image_size": 24, "overlap": 0.6, "num_cameras": 2}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("rec") / "data"
    return record_dataset(out, steps=50, seed=3, episode_steps=20, progress=False, **KWARGS)


def test_round_trip_matches_a_replay_of_the_same_seeds(dataset):
    loaded = load_dataset(dataset)
    assert len(loaded) == 50
    assert loaded.camera_names == ["cam0", "cam1"]
    episode = loaded.array("episode")
    lengths = np.bincount(episode)
    assert episode[0] == 0 and np.all(np.diff(episode) >= 0)
    assert loaded.meta["num_episodes"] == len(lengths) >= 3
    assert lengths.max() <= 20  # cut at episode_steps; an episode may also end at the goal
    frames = loaded.frames("cam1")
    assert isinstance(frames, np.memmap) and frames.shape == (50, 24, 24, 3)
    start = int(np.flatnonzero(episode == 1)[0])
    env = SocialViewEnv(image_size=24, overlap=0.6, num_cameras=2)
    try:
        obs, info = env.reset(seed=3 + 1)  # episode e is reset with seed + e
        np.testing.assert_array_equal(frames[start], obs["cam1"])
        np.testing.assert_allclose(loaded.array("object_pos")[start], info["object_pos"], rtol=1e-6)
        obs, *_ = env.step(loaded.array("actions")[start])
        np.testing.assert_array_equal(frames[start + 1], obs["cam1"])
    finally:
        env.close()


def test_metadata_describes_the_recording(dataset):
    meta = load_dataset(dataset).meta
    assert meta["env_kwargs"]["overlap"] == 0.6
    assert abs(meta["overlap"] - 0.6) <= 0.03
    assert np.asarray(meta["overlap_matrix"]).shape == (2, 2)
    camera = meta["cameras"][0]
    assert np.asarray(camera["intrinsics"]).shape == (3, 3)
    assert np.asarray(camera["world_to_camera"]).shape == (4, 4)
    assert {"mujoco", "gymnasium", "numpy", "socialview"} <= set(meta["versions"])
    assert meta["seed"] == 3
    assert (dataset / "preview.mp4").exists() or (dataset / "preview.gif").exists()


def test_arena_share_and_object_pixels_are_recorded(dataset):
    loaded = load_dataset(dataset)
    share = loaded.array("arena_share")
    pixels = loaded.array("object_pixels")
    assert share.shape == (50, 2) and share.dtype == np.float32
    assert pixels.shape == (50, 2, 3) and pixels.dtype == np.int32
    np.testing.assert_allclose(share, np.broadcast_to(loaded.meta["arena_share"], share.shape))
    assert loaded.meta["rig"] == "slide" and loaded.meta["footprint"] == 0.5
    assert pixels.sum() > 0
    env = SocialViewEnv(image_size=24, overlap=0.6, num_cameras=2)
    try:
        _, info = env.reset(seed=3)  # frame 0 is episode 0's reset
        np.testing.assert_array_equal(pixels[0], info["object_pixels"])
    finally:
        env.close()


def test_transition_mask_respects_episode_boundaries(dataset):
    loaded = load_dataset(dataset)
    episode = loaded.array("episode")
    for horizon in (1, 3):
        mask = loaded.transition_mask(horizon=horizon)
        expected = np.zeros(len(episode), dtype=bool)
        expected[:-horizon] = episode[:-horizon] == episode[horizon:]
        np.testing.assert_array_equal(mask, expected)
        assert not mask[-horizon:].any()
    assert not loaded.transition_mask(1)[np.flatnonzero(np.diff(episode))].any()


def test_refuses_to_overwrite_without_force(dataset):
    before = (dataset / "meta.json").read_text()
    with pytest.raises(FileExistsError, match="already exists; pass force=True"):
        record_dataset(dataset, steps=5, progress=False, **KWARGS)
    assert (dataset / "meta.json").read_text() == before


def test_force_replaces_only_after_the_new_dataset_is_complete(tmp_path):
    out = tmp_path / "data"
    record_dataset(out, steps=5, preview=False, progress=False, **KWARGS)
    record_dataset(out, steps=8, preview=False, progress=False, force=True, **KWARGS)
    assert len(load_dataset(out)) == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_interrupted_recording_leaves_nothing_behind(tmp_path):
    calls = []

    def interrupting_policy(obs, info, rng):
        calls.append(1)
        if len(calls) == 10:
            raise KeyboardInterrupt
        return rng.uniform(-1, 1, 2)

    with pytest.raises(KeyboardInterrupt):
        record_dataset(tmp_path / "data", steps=30, policy=interrupting_policy, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_custom_policy_actions_are_recorded(tmp_path):
    def push_right(obs, info, rng):
        return np.array([1.0, 0.0])

    out = record_dataset(tmp_path / "d", steps=6, policy=push_right, preview=False, progress=False)
    np.testing.assert_array_equal(load_dataset(out).array("actions"), [[1.0, 0.0]] * 6)


def test_loader_reports_missing_and_inconsistent_files(tmp_path, dataset):
    with pytest.raises(FileNotFoundError, match=r"no meta\.json"):
        load_dataset(tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    meta = json.loads((dataset / "meta.json").read_text())
    (broken / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="is incomplete"):
        load_dataset(broken)
    meta["format_version"] = 99
    (broken / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="format_version=99"):
        load_dataset(broken)
    loaded = load_dataset(dataset)
    with pytest.raises(KeyError, match=r"no camera 'cam7'; cameras: \['cam0', 'cam1'\]"):
        loaded.frames("cam7")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": 0}, "steps must be a positive integer, got 0"),
        ({"steps": 5, "overlap": 1.7}, r"overlap must be in \[0.0, 1.0\], got 1.7"),
        ({"steps": 5, "env_kwargs": {"obs_modes": ["x"]}}, "obs_modes has unknown mode"),
    ],
)
def test_bad_recording_arguments_write_nothing(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        record_dataset(tmp_path / "d", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_cli_record_and_view(tmp_path, capsys):
    out = tmp_path / "cli-data"
    code = main(
        [
            "record",
            "--steps",
            "12",
            "--out",
            str(out),
            "--image-size",
            "16",
            "--overlap",
            "0.3",
            "--no-preview",
        ]
    )
    assert code == 0
    assert len(load_dataset(out)) == 12
    assert main(["record", "--steps", "3", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["record", "--steps", "3", "--out", str(tmp_path / "x"), "--overlap", "1.7"]) == 2
    assert "overlap must be in [0.0, 1.0], got 1.7" in capsys.readouterr().err
    image = tmp_path / "views.png"
    assert main(["view", "--overlap", "0.2", "0.8", "--out", str(image), "--image-size", "32"]) == 0
    assert image.stat().st_size > 1000
