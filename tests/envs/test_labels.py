"""Task labels: checked against the simulator's own state, frame by frame."""

from __future__ import annotations

import numpy as np
import pytest

from socialview.envs import SocialViewEnv, load_dataset, record_dataset
from socialview.envs.labels import (
    CONTACT_DISTANCE,
    DEFAULT_LABEL,
    LABELS,
    LOOKAHEAD,
    compute_labels,
    current_labels,
    dataset_labels,
)
from socialview.envs.scene import ARENA_HALF_SIZE


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    out = tmp_path_factory.mktemp("labels") / "data"
    return load_dataset(record_dataset(out, steps=60, seed=5, episode_steps=20, image_size=24,
                                       overlap=1.0, progress=False, preview=False,
                                       env_kwargs={"rig": "zoom"}))


def test_recording_stores_every_label_and_info_matches_the_simulator(recording):
    assert DEFAULT_LABEL in LABELS
    for name in LABELS:
        assert f"label_{name}" in recording.meta["arrays"]
    env = SocialViewEnv(image_size=24, overlap=1.0, num_cameras=2, rig="zoom")
    try:
        _, info = env.reset(seed=5)  # episode 0 of the recording
        actions = recording.array("actions")
        for t in np.flatnonzero(np.asarray(recording.array("episode")) == 0):
            pusher = env.data.xpos[env._pusher_body][:2]
            objects = env.data.xpos[env._object_body][:, :2]
            nearest = int(np.argmin(np.linalg.norm(objects - pusher, axis=1)))
            assert info["label_nearest_object"] == nearest
            assert recording.array("label_nearest_object")[t] == nearest
            x, y = objects[0]
            assert info["label_quadrant"] == info["quadrant"]
            assert info["label_object0_grid"] == int(min((y + 1) * 1.5, 2)) * 3 + int(
                min((x + 1) * 1.5, 2))
            for name in ("quadrant", "object0_grid", "pusher_grid"):
                assert recording.array(f"label_{name}")[t] == info[f"label_{name}"]
            *_, info = env.step(actions[t])
    finally:
        env.close()


def test_future_labels_look_ahead_within_the_episode_only(recording):
    episode = np.asarray(recording.array("episode"))
    pusher = np.asarray(recording.array("agent_pos"))[:, :2]
    objects = np.asarray(recording.array("object_pos"))[:, :, :2]
    heading = dataset_labels(recording, "pusher_heading")
    contact = dataset_labels(recording, "contact_soon")
    last = np.r_[episode[1:] != episode[:-1], True]
    assert np.all(heading[last] == -1) and np.all(heading[~last] >= 0)
    for t in np.flatnonzero(~last):
        dx, dy = pusher[t + 1] - pusher[t]
        expected = {0: dx > abs(dy), 1: dy > abs(dx), 2: -dx > abs(dy), 3: -dy > abs(dx)}
        assert expected[int(heading[t])] or np.isclose(abs(dx), abs(dy))
    for t in range(len(episode)):
        ahead = range(t + 1, t + LOOKAHEAD + 1)
        if t + LOOKAHEAD >= len(episode) or episode[t + LOOKAHEAD] != episode[t]:
            assert contact[t] == -1
            continue
        near = any(np.linalg.norm(objects[s] - pusher[s], axis=1).min() < CONTACT_DISTANCE
                   for s in ahead)
        assert contact[t] == int(near)


def test_labels_computed_on_the_fly_equal_the_stored_ones(recording):
    computed = compute_labels(recording.array("object_pos"), recording.array("agent_pos"),
                              recording.array("episode"))
    for name, values in computed.items():
        np.testing.assert_array_equal(values, recording.array(f"label_{name}"))
        assert values.max() < LABELS[name].classes(3)


def test_bad_label_names_and_shapes_are_refused():
    with pytest.raises(ValueError, match=r"label='colour'.*choose from"):
        compute_labels(np.zeros((4, 3, 2)), np.zeros((4, 2)), np.zeros(4), ["colour"])
    with pytest.raises(ValueError, match="disagree on the number of frames"):
        compute_labels(np.zeros((4, 3, 2)), np.zeros((5, 2)), np.zeros(4))


def test_per_frame_labels_equal_the_batch_formula_exactly():
    """current_labels (plain floats, the env's per-step path) against compute_labels.

    Random frames in and beyond the arena, with coordinates set to the cells' and
    quadrants' edges (0, -0, +-1/3 and +-1 of the half size) and to tied distances.
    """
    rng = np.random.default_rng(0)
    edges = ARENA_HALF_SIZE * np.array([0.0, -0.0, 1 / 3, -1 / 3, 1.0, -1.0, 1.2, -1.2])
    frames = 3000
    objects = rng.uniform(-1.2, 1.2, (frames, 4, 3)) * ARENA_HALF_SIZE
    pusher = rng.uniform(-1.2, 1.2, (frames, 3)) * ARENA_HALF_SIZE
    on_edge = rng.random((frames, 2)) < 0.4
    objects[:, 0, :2] = np.where(on_edge, rng.choice(edges, (frames, 2)), objects[:, 0, :2])
    pusher[:, :2] = np.where(on_edge[::-1], rng.choice(edges, (frames, 2)), pusher[:, :2])
    objects[::7, 2] = objects[::7, 1]  # two objects equally near: the first one wins
    batch = compute_labels(objects, pusher, np.arange(frames))
    causal = [name for name, spec in LABELS.items() if spec.causal]
    assert all(LABELS[name].frame is not None for name in causal)
    for t in range(frames):
        labels = current_labels(objects[t], pusher[t])
        assert labels == {f"label_{name}": int(batch[name][t]) for name in causal}
        assert all(type(value) is int for value in labels.values())
