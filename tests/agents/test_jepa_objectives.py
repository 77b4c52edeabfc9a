"""The JEPA objective's pieces: InfoNCE, SIGReg, history and online targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from socialview.agents import make_agent, open_camera_stream
from socialview.agents.jepa import correlation_loss, covariance_loss, infonce_loss, sigreg_loss


def test_infonce_prefers_each_prediction_matching_its_own_target():
    gen = torch.Generator().manual_seed(0)
    targets = torch.randn(32, 1, 16, generator=gen)
    right = infonce_loss(targets + 0.01 * torch.randn(32, 1, 16, generator=gen), targets, 0.1)
    shuffled = infonce_loss(targets[torch.randperm(32, generator=gen)], targets, 0.1)
    assert right < 0.05 < np.log(32) - 1 < shuffled


def test_infonce_extra_negatives_count_only_when_they_are_close():
    gen = torch.Generator().manual_seed(0)
    targets = torch.randn(32, 1, 16, generator=gen)
    pred = targets + 0.3 * torch.randn(32, 1, 16, generator=gen)
    plain = infonce_loss(pred, targets, 0.1)
    far = infonce_loss(pred, targets, 0.1, extra_negatives=100 + targets[:, 0])
    close = infonce_loss(pred, targets, 0.1, extra_negatives=targets[:, 0] + 0.01)
    assert float(far) == pytest.approx(float(plain), abs=1e-6)
    assert close > plain + 0.2  # a near-copy of each target is a hard wrong answer


def test_infonce_prediction_negatives_make_each_target_tell_its_own_prediction():
    gen = torch.Generator().manual_seed(0)
    targets = torch.randn(32, 1, 16, generator=gen)
    pred = targets + 0.3 * torch.randn(32, 1, 16, generator=gen)
    plain = infonce_loss(pred, targets, 0.1)
    far = infonce_loss(pred, targets, 0.1, prediction_negatives=100 + targets[:, :, None])
    close = infonce_loss(pred, targets, 0.1,
                         prediction_negatives=(targets + 0.01)[:, :, None].expand(-1, -1, 3, -1))
    assert float(far) == pytest.approx(float(plain), abs=1e-6)
    assert close > plain + 0.2  # three near-copies of each target are hard wrong answers


def test_correlation_loss_sees_a_duplicate_however_small_its_scale():
    gen = torch.Generator().manual_seed(0)
    body = 0.05 * torch.randn(256, 2, generator=gen)  # two keypoints on one small-scale body
    other = 0.05 * torch.randn(256, 2, generator=gen)  # and one on another body
    same = torch.cat([body, body + 0.001 * torch.randn(256, 2, generator=gen)], dim=1)
    apart = torch.cat([body, other], dim=1)
    assert float(covariance_loss(same)) < 1e-5  # the covariance term barely acts
    assert float(correlation_loss(same)) > 0.9 > 0.1 > float(correlation_loss(apart))
    assert float(correlation_loss(100 * same)) == pytest.approx(float(correlation_loss(same)),
                                                                rel=1e-2)


def test_sigreg_is_small_for_gaussian_latents_and_large_for_others():
    gen = torch.Generator().manual_seed(0)
    gaussian = torch.randn(512, 8, generator=gen)
    collapsed = torch.zeros(512, 8) + 0.01 * torch.randn(512, 8, generator=gen)
    uniform = (torch.rand(512, 8, generator=gen) - 0.5) * 6
    scores = [float(sigreg_loss(z, torch.Generator().manual_seed(1)))
              for z in (gaussian, collapsed, uniform)]
    assert scores[0] < 0.2 * scores[2] and scores[0] < 0.01 * scores[1]


def test_sigreg_gradient_pushes_collapsed_latents_apart():
    z = (0.01 * torch.randn(256, 4, generator=torch.Generator().manual_seed(0))).requires_grad_()
    sigreg_loss(z, torch.Generator().manual_seed(1)).backward()
    # descending the gradient increases the spread
    spread_after = (z - 0.1 * z.grad).std(0).mean()
    assert spread_after > z.std(0).mean()


@pytest.mark.parametrize(
    "config",
    [
        {"regularizer": "infonce", "target": "online", "output_norm": True, "horizon": 4},
        {"regularizer": "sigreg", "target": "online", "history": 2, "horizon": 1},
        {"regularizer": "vicreg", "history": 3, "horizon": 2, "rollout": True},
        {"regularizer": "infonce", "context_negatives": True, "horizon": 2},
        {"regularizer": "infonce", "inverse_weight": 1.0, "head": "keypoints", "keypoints": 4,
         "horizon": 2},
        {"regularizer": "infonce", "head": "keypoints", "keypoints": 4,
         "keypoint_correlation": True, "horizon": 2},
        {"regularizer": "infonce", "projector_hidden": 16, "context_negatives": True,
         "horizon": 2},
        {"regularizer": "infonce", "projector_hidden": 16, "output_norm": "total", "horizon": 2,
         "latent_penalty": 0.1},
        {"regularizer": "infonce", "output_norm": "whiten", "horizon": 2},
        {"regularizer": "infonce", "action_negatives": 3, "horizon": 2},
        {"regularizer": "infonce", "action_negatives": 2, "projector_hidden": 16,
         "rollout": True, "horizon": 2},
    ],
)
def test_objective_variants_train_and_need_their_horizon(config, synthetic_dataset):
    agent = make_agent("jepa", seed=0, latent_dim=8, width=8, **config)
    expected = config.get("history", 1) - 1 + config.get("horizon", 1)
    assert agent.horizon == expected
    stream = open_camera_stream(synthetic_dataset, "cam0")
    gen = torch.Generator().manual_seed(0)
    metrics = agent.train_step(stream.sample(16, gen, expected))
    assert np.isfinite(metrics["loss"]) and "pred_mse" in metrics
    with pytest.raises(ValueError, match="horizon"):
        agent.train_step(stream.sample(16, gen, expected + 1))


def test_online_targets_keep_the_target_copy_in_step(synthetic_dataset):
    agent = make_agent("jepa", seed=0, latent_dim=8, width=8, target="online",
                       regularizer="sigreg")
    stream = open_camera_stream(synthetic_dataset, "cam0")
    agent.train_step(stream.sample(16, torch.Generator().manual_seed(0), agent.horizon))
    for a, b in zip(agent.encoder.state_dict().values(),
                    agent.target_encoder.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_output_norm_uses_running_statistics_at_encode_time(synthetic_dataset):
    agent = make_agent("jepa", seed=0, latent_dim=8, width=8, output_norm=True,
                       regularizer="infonce", target="online", readout="latent")
    stream = open_camera_stream(synthetic_dataset, "cam0")
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):
        agent.train_step(stream.sample(16, gen, agent.horizon))
    norm = agent.encoder.out_norm
    assert norm.num_batches_tracked == 3  # one batch-norm pass per step (context and target)
    frames = torch.from_numpy(np.asarray(stream.frames[:10]))
    with torch.no_grad():
        raw = agent.encoder.head(agent.encoder.pool(agent.encoder.convs(
            agent.encoder.preprocess(frames))))
    expected = (raw - norm.running_mean) / torch.sqrt(norm.running_var + norm.eps)
    torch.testing.assert_close(agent.encode(frames), expected)


def test_total_variance_norm_fixes_only_the_total():
    from socialview.agents.nets import TotalVarianceNorm

    gen = torch.Generator().manual_seed(0)
    scales = torch.tensor([5.0, 1.0, 0.1, 0.0])
    h = torch.randn(512, 4, generator=gen) * scales + 3.0
    norm = TotalVarianceNorm(4, momentum=1.0)
    z = norm(h)
    torch.testing.assert_close(z.mean(0), torch.zeros(4), atol=1e-5, rtol=0)
    variances = z.var(0, unbiased=False)
    assert float(variances.mean()) == pytest.approx(1.0, rel=1e-4)  # the total is fixed...
    assert float(variances[0]) > 100 * float(variances[2])  # ...not each unit's share
    norm.eval()  # momentum 1: the running statistics are this batch's
    torch.testing.assert_close(norm(h), z, atol=1e-5, rtol=1e-5)


def test_batch_whitening_gives_identity_covariance_and_keeps_running_statistics():
    from socialview.agents.nets import BatchWhitening

    gen = torch.Generator().manual_seed(0)
    mixing = torch.randn(4, 4, generator=gen)
    h = torch.randn(512, 4, generator=gen) @ mixing + 3.0
    norm = BatchWhitening(4, momentum=1.0)
    z = norm(h)
    torch.testing.assert_close(z.mean(0), torch.zeros(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(z.T @ z / (len(z) - 1), torch.eye(4), atol=1e-3, rtol=0)
    norm.eval()  # momentum 1: the running statistics are this batch's
    torch.testing.assert_close(norm(h), z, atol=1e-4, rtol=1e-4)
    h.requires_grad_()
    norm.train()
    norm(h).pow(3).sum().backward()
    assert torch.isfinite(h.grad).all() and h.grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r"needs batches of more rows .* got 4 rows for "
                                         r"latent_dim=4"):
        norm(h[:4])


def test_shrunk_whitening_whitens_strong_directions_and_keeps_weak_ones_weak():
    from socialview.agents.nets import BatchWhitening

    gen = torch.Generator().manual_seed(2)
    # 3 strong directions in a 12-d latent, the rest faint; fewer rows than units is allowed
    h = (torch.randn(10, 3, generator=gen) @ torch.randn(3, 12, generator=gen)
         + 0.01 * torch.randn(10, 12, generator=gen))
    z = BatchWhitening(12, shrinkage=0.1)(h)
    eigenvalues = torch.linalg.eigvalsh(z.T @ z / (len(z) - 1))
    assert torch.all(eigenvalues[-3:] > 0.9) and torch.all(eigenvalues[-3:] <= 1.0)
    assert torch.all(eigenvalues[:-3] < 0.01)
    with pytest.raises(ValueError, match=r"whiten_shrinkage must be >= 0 .* got -0.5"):
        make_agent("jepa", output_norm="whiten", whiten_shrinkage=-0.5)
    with pytest.raises(ValueError, match=r"output_norm='whiten' only; got 0.3 with "
                                         r"output_norm=True"):
        make_agent("jepa", whiten_shrinkage=0.3)


def test_whitened_linear_codes_of_one_state_are_an_orthogonal_map_apart():
    """The reason for ``output_norm="whiten"``: two whitened invertible linear functions
    of the same state differ by an orthogonal map, whatever the two functions were."""
    from socialview.agents.nets import BatchWhitening
    from socialview.alignment import fit_map

    gen = torch.Generator().manual_seed(1)
    state = 3.0 * torch.rand(2000, 6, generator=gen)  # uniform, not Gaussian: no matter
    # two well-conditioned (invertible) random linear codes of it, as two cameras' agents
    mixings = [torch.randn(6, 6, generator=gen) + 2.0 * torch.eye(6) for _ in range(2)]

    def orthogonal_r2(norm: torch.nn.Module) -> float:
        a, b = (norm(state @ m).detach().numpy().astype(np.float64) for m in mixings)
        return fit_map(a[:1500], b[:1500], kind="orthogonal").score(a[1500:], b[1500:])

    assert orthogonal_r2(BatchWhitening(6, momentum=1.0)) > 0.999
    # BatchNorm's unit variances alone leave the map far from orthogonal
    assert orthogonal_r2(torch.nn.BatchNorm1d(6, affine=False)) < 0.9


def test_unknown_output_norm_is_refused():
    with pytest.raises(ValueError, match=r"output_norm must be .* got 'bogus'"):
        make_agent("jepa", output_norm="bogus")


def test_projector_scores_a_projection_but_encode_returns_the_latent(synthetic_dataset):
    agent = make_agent("jepa", seed=0, latent_dim=8, width=8, projector_hidden=16,
                       projector_dim=32, latent_penalty=0.5)
    stream = open_camera_stream(synthetic_dataset, "cam0")
    metrics = agent.train_step(stream.sample(16, torch.Generator().manual_seed(0),
                                             agent.horizon))
    assert metrics["latent_penalty"] > 0 and np.isfinite(metrics["pred_loss"])
    assert agent.projector[-1].num_batches_tracked == 1  # predictions and targets: one pass
    assert tuple(agent.encode(np.asarray(stream.frames[:5])).shape) == (5, 8)
    restored = make_agent("jepa", seed=1, latent_dim=8, width=8, projector_hidden=16,
                          projector_dim=32, latent_penalty=0.5)
    restored.load_state_dict(agent.state_dict())
    for a, b in zip(agent.projector.state_dict().values(),
                    restored.projector.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_a_state_without_the_stateless_projector_still_loads(synthetic_dataset):
    """States saved before the projector existed lack its (empty) entry."""
    agent = make_agent("jepa", seed=0, latent_dim=8, width=8)
    state = agent.state_dict()
    del state["modules"]["projector"]
    make_agent("jepa", seed=1, latent_dim=8, width=8).load_state_dict(state)


@pytest.mark.parametrize(("key", "value"), [("regularizer", "barlow"), ("target", "slow"),
                                            ("history", 0), ("projector_hidden", -1),
                                            ("latent_penalty", -0.5),
                                            ("inverse_weight", -1.0),
                                            ("action_negatives", -1)])
def test_bad_objective_settings_name_the_parameter(key, value):
    with pytest.raises(ValueError, match=key):
        make_agent("jepa", **{key: value})


def test_projector_and_context_negatives_need_the_infonce_objective():
    with pytest.raises(ValueError, match=r"projector_hidden=8 needs regularizer='infonce'"):
        make_agent("jepa", projector_hidden=8, regularizer="vicreg")
    with pytest.raises(ValueError, match=r"context_negatives=True needs regularizer='infonce'"):
        make_agent("jepa", context_negatives=True, regularizer="sigreg")
    with pytest.raises(ValueError, match=r"action_negatives=2 needs regularizer='infonce'"):
        make_agent("jepa", action_negatives=2, regularizer="vicreg")


def test_action_negatives_need_a_larger_batch_and_depend_on_the_actions(synthetic_dataset):
    agent = make_agent("jepa", seed=0, latent_dim=8, width=8, action_negatives=4, horizon=2)
    stream = open_camera_stream(synthetic_dataset, "cam0")
    gen = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match=r"action_negatives=4 needs batches of more than 4"):
        agent.train_step(stream.sample(4, gen, agent.horizon))
    batch = stream.sample(16, gen, agent.horizon)
    context = agent.encoder(batch.obs)[:, None]
    wrong = agent._action_negatives(context, batch.action)
    assert wrong.shape == (16, 1, 4, 8)
    # the first negative of sample b is its own context under sample b-1's actions
    own = agent._predict(context, batch.action.roll(1, dims=0))
    torch.testing.assert_close(wrong[:, :, 0], own)


def test_inverse_dynamics_head_learns_the_actions(synthetic_dataset):
    """The inverse-dynamics term is reported, trained, and off (stateless) by default."""
    assert not make_agent("jepa", latent_dim=8, width=8).inverse.state_dict()
    agent = make_agent("jepa", seed=0, latent_dim=8, width=8, inverse_weight=1.0,
                       inverse_hidden=32)
    stream = open_camera_stream(synthetic_dataset, "cam0")
    gen = torch.Generator().manual_seed(0)
    batch = stream.sample(32, gen, agent.horizon)
    first = agent.train_step(batch)["inverse_loss"]
    for _ in range(30):
        last = agent.train_step(batch)["inverse_loss"]
    assert last < 0.7 * first  # fits the actions of a fixed batch
