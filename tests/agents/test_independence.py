"""Agents made with different seeds share no storage or random stream, and diverge."""

from __future__ import annotations

import pytest
import torch

from socialview.agents import make_agent, open_camera_stream


def _storages(agent):
    ptrs = set()
    for t in agent.parameters():
        ptrs.add(t.untyped_storage().data_ptr())
    for opt_state in agent.optimizer.state.values() if agent.optimizer else ():
        for v in opt_state.values():
            if isinstance(v, torch.Tensor) and v.numel() > 1:
                ptrs.add(v.untyped_storage().data_ptr())
    return ptrs


@pytest.mark.parametrize("kind", ["jepa", "autoencoder"])
def test_no_shared_storage_and_divergence(kind, synthetic_dataset):
    a, b = make_agent(kind, seed=0), make_agent(kind, seed=1)
    assert a.generator is not b.generator
    stream = open_camera_stream(synthetic_dataset, "cam0")
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):  # same batches for both: only their own state differs
        batch = stream.sample(8, gen, getattr(a, "horizon", 1))
        a.train_step(batch)
        b.train_step(batch)
    assert _storages(a).isdisjoint(_storages(b))
    frames = stream.sample(8, gen).obs
    assert not torch.allclose(a.encode(frames), b.encode(frames))
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert not torch.equal(pa, pb)


def test_same_seed_same_agent_and_global_rng_untouched(synthetic_dataset):
    before = torch.random.get_rng_state()
    a, b = make_agent("jepa", seed=7), make_agent("jepa", seed=7)
    assert torch.equal(torch.random.get_rng_state(), before)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb) and pa.data_ptr() != pb.data_ptr()


def test_training_one_agent_leaves_the_other_alone(synthetic_dataset):
    a, b = make_agent("jepa", seed=0), make_agent("jepa", seed=0)
    stream = open_camera_stream(synthetic_dataset, "cam0")
    frames = stream.frames[:4]
    z_b = b.encode(frames)
    a.train_step(stream.sample(8, torch.Generator().manual_seed(0), a.horizon))
    torch.testing.assert_close(b.encode(frames), z_b, rtol=0, atol=0)
    assert not torch.equal(a.encode(frames), z_b)
