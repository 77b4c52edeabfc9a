"""The labelled reference: world state in batches, and a probe it must reach."""

from __future__ import annotations

import numpy as np
import pytest

from socialview.agents import embed, make_agent, open_camera_stream, train_agent, world_state
from socialview.alignment import state_probe


def test_world_state_matches_the_recording(recorded_dataset):
    state = world_state(recorded_dataset)
    pusher = np.load(recorded_dataset / "agent_pos.npy")
    objects = np.load(recorded_dataset / "object_pos.npy")
    assert state.names[:4] == ["pusher_x", "pusher_y", "object0_x", "object0_y"]
    np.testing.assert_allclose(state.values[:, :2], pusher[:, :2])
    np.testing.assert_allclose(state.values[:, 2:4], objects[:, 0, :2])
    visible = np.load(recorded_dataset / "visible.npy")
    np.testing.assert_array_equal(state.mask("cam1")[:, 2::2], visible[:, 1, :])
    assert state.mask("cam0")[:, 0].any()  # the pusher is projected into the image
    with pytest.raises(ValueError, match="cam7"):
        state.mask("cam7")


def test_only_agents_that_ask_get_the_state(recorded_dataset):
    gen = __import__("torch").Generator().manual_seed(0)
    plain = open_camera_stream(recorded_dataset, "cam0").sample(4, gen)
    labelled = open_camera_stream(recorded_dataset, "cam0", with_state=True).sample(4, gen)
    assert plain.state is None
    assert labelled.state.shape == (4, 8)


def test_supervised_refuses_batches_without_state(recorded_dataset):
    agent = make_agent("supervised", width=8, latent_dim=8)
    batch = open_camera_stream(recorded_dataset, "cam0").sample(4, agent.generator)
    with pytest.raises(ValueError, match="world state"):
        agent.train_step(batch)


@pytest.mark.slow
def test_supervised_reaches_a_high_held_out_probe(whole_arena_recordings):
    train, evaluation = whole_arena_recordings
    agent = make_agent("supervised", seed=0, input_size=None, depth=2, latent_dim=32)
    train_agent(agent, train, "cam0", steps=400, batch_size=64, progress=False, device="cpu")
    state = world_state(evaluation)
    probe = state_probe(embed(agent, evaluation, "cam0"), state.values, state.episode,
                        mask=state.mask("cam0"))
    untrained = make_agent("random", seed=0, input_size=None, depth=2, latent_dim=32)
    control = state_probe(embed(untrained, evaluation, "cam0"), state.values, state.episode,
                          mask=state.mask("cam0"))
    assert probe.pooled_r2 > 0.8
    assert probe.pooled_r2 > control.pooled_r2 + 0.3
