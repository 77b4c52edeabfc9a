"""Every built-in agent follows the Agent protocol (like Gymnasium's check_env over all envs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from socialview.agents import (
    Agent,
    AgentStateError,
    list_agents,
    make_agent,
    open_camera_stream,
)

BUILTINS = ["jepa", "autoencoder", "random", "pca"]


def _batch(dataset, horizon=1, n=8, seed=0):
    stream = open_camera_stream(dataset, "cam0")
    return stream.sample(n, torch.Generator().manual_seed(seed), horizon)


def test_builtins_are_listed():
    assert set(BUILTINS) <= set(list_agents())


@pytest.mark.parametrize("kind", BUILTINS)
def test_conforms_to_protocol(kind, synthetic_dataset):
    agent = make_agent(kind, seed=3, latent_dim=16)
    assert isinstance(agent, Agent)
    assert agent.latent_dim == 16
    batch = _batch(synthetic_dataset, getattr(agent, "horizon", 1))
    metrics = agent.train_step(batch)
    assert "loss" in metrics
    assert all(isinstance(v, float) and np.isfinite(v) for v in metrics.values())
    frames = batch.obs.numpy()
    z_np = agent.encode(frames)
    z_t = agent.encode(torch.from_numpy(frames))
    assert isinstance(z_np, torch.Tensor) and z_np.dtype == torch.float32
    assert z_np.shape == (frames.shape[0], 16)
    torch.testing.assert_close(z_np, z_t, rtol=0, atol=0)
    assert torch.isfinite(z_np).all()


@pytest.mark.parametrize("kind", BUILTINS)
def test_encode_rejects_non_uint8(kind):
    agent = make_agent(kind, seed=0)
    with pytest.raises(ValueError, match="uint8"):
        agent.encode(np.zeros((2, 32, 32, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(B, H, W, 3\)"):
        agent.encode(np.zeros((32, 32, 3), np.uint8))


@pytest.mark.parametrize("kind", BUILTINS)
def test_state_dict_round_trip(kind, synthetic_dataset):
    trained = make_agent(kind, seed=1, latent_dim=8)
    for seed in range(3):
        trained.train_step(_batch(synthetic_dataset, getattr(trained, "horizon", 1), seed=seed))
    state = trained.state_dict()
    fresh = make_agent(kind, seed=2, latent_dim=8)
    fresh.load_state_dict(state)
    frames = _batch(synthetic_dataset, seed=9).obs
    torch.testing.assert_close(fresh.encode(frames), trained.encode(frames), rtol=0, atol=0)
    # and they keep training identically (optimizer moments and generator came along)
    batch = _batch(synthetic_dataset, getattr(trained, "horizon", 1), seed=10)
    assert fresh.train_step(batch) == trained.train_step(batch)


def test_state_dict_of_another_kind_is_refused():
    jepa, ae = make_agent("jepa"), make_agent("autoencoder")
    with pytest.raises(AgentStateError, match="Autoencoder"):
        jepa.load_state_dict(ae.state_dict())


def test_random_is_jepa_initial_encoder(synthetic_dataset):
    frames = _batch(synthetic_dataset).obs
    z_random = make_agent("random", seed=5).encode(frames)
    z_jepa = make_agent("jepa", seed=5).encode(frames)
    torch.testing.assert_close(z_random, z_jepa, rtol=0, atol=0)


def test_random_never_changes(synthetic_dataset):
    agent = make_agent("random", seed=0)
    frames = _batch(synthetic_dataset).obs
    before = agent.encode(frames)
    agent.train_step(_batch(synthetic_dataset, getattr(agent, "horizon", 1), seed=1))
    torch.testing.assert_close(agent.encode(frames), before, rtol=0, atol=0)


def test_pca_recovers_pixel_principal_components(synthetic_dataset):
    stream = open_camera_stream(synthetic_dataset, "cam0")
    agent = make_agent("pca", latent_dim=5, max_samples=1000)
    agent.train_step(stream.batch(np.arange(len(stream) - 1)))
    x = stream.frames[: len(stream) - 1].reshape(len(stream) - 1, -1).astype(np.float64) / 255
    x -= x.mean(0)
    _, s, _ = np.linalg.svd(x, full_matrices=False)
    z = agent.encode(stream.frames[: len(stream) - 1]).double().numpy()
    # projections onto the principal axes: their variances are the top eigenvalues
    np.testing.assert_allclose(z.var(0, ddof=1), s[:5] ** 2 / (len(x) - 1), rtol=1e-3)


def test_jepa_reports_collapse_metrics(synthetic_dataset):
    agent = make_agent("jepa", seed=0, regularizer="vicreg", horizon=1)
    m = agent.train_step(_batch(synthetic_dataset, n=16))
    assert {"emb_std", "eff_rank", "pred_loss", "var_loss", "cov_loss"} <= set(m)
    assert 1.0 <= m["eff_rank"] <= 16.0
    off = make_agent("jepa", seed=0, anti_collapse=False, horizon=1)
    m_off = off.train_step(_batch(synthetic_dataset, n=16))
    assert "var_loss" not in m_off and m_off["loss"] == pytest.approx(m_off["pred_loss"])
    assert m_off["pred_loss"] == pytest.approx(m_off["pred_mse"])  # no contrastive term


def test_jepa_momentum_schedule():
    agent = make_agent("jepa", ema_momentum=0.9, ema_momentum_end=1.0, ema_schedule_steps=100)
    assert agent.momentum(0) == pytest.approx(0.9)
    assert agent.momentum(50) == pytest.approx(0.95)
    assert agent.momentum(100) == pytest.approx(1.0)
    assert agent.momentum(1000) == pytest.approx(1.0)


@pytest.mark.parametrize("rollout", [False, True])
def test_jepa_multistep(rollout, synthetic_dataset):
    agent = make_agent("jepa", horizon=3, rollout=rollout)
    batch = _batch(synthetic_dataset, horizon=3)
    assert batch.next_obs.shape[1] == 3 and batch.action.shape[1] == 3
    assert np.isfinite(agent.train_step(batch)["loss"])
    with pytest.raises(ValueError, match="horizon"):
        agent.train_step(_batch(synthetic_dataset, horizon=1))
