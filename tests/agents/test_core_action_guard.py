"""The core readout's action guard: a core must hold what the agent's actions move."""

from __future__ import annotations

import pytest
import torch

from socialview.agents import make_agent, open_camera_stream
from socialview.agents.nets import SpectralCoreReadout
from socialview.agents.torch_agent import spectral_gap


def _false_core(rows: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Codes whose 3 strong directions stand 6x above 9 weak ones, in a rotated basis,
    and two sets of action effects: one along a weak direction (a body the 3-d "core"
    leaves out, as the half-arena false core left out the pusher) and one along the
    strong ones."""
    gen = torch.Generator().manual_seed(seed)
    strong = torch.randn(rows, 3, generator=gen) * torch.tensor([3.0, 2.8, 2.6])
    weak = 0.4 * torch.randn(rows, 9, generator=gen)
    rotation = torch.linalg.qr(torch.randn(12, 12, generator=gen))[0]
    codes = torch.cat([strong, weak], dim=1) @ rotation
    push = torch.randn(rows, 1, generator=gen)
    outside = torch.cat([torch.zeros(rows, 3), push, torch.zeros(rows, 8)], dim=1) @ rotation
    inside = torch.cat([push, torch.zeros(rows, 11)], dim=1) @ rotation
    return codes, outside, inside


def _train(readout: SpectralCoreReadout, codes: torch.Tensor,
           effects: torch.Tensor | None, batch: int = 64) -> None:
    readout.train()
    for start in range(0, len(codes), batch):
        readout(codes[start:start + batch])
        if effects is not None:
            readout.track_effect(effects[start:start + batch])


@pytest.mark.parametrize(("where", "guard", "width"), [
    ("outside", 0.85, None),  # the actions move what the core leaves out: no core
    ("outside", 0.0, 3),      # the guard off: the gap alone decides
    ("inside", 0.85, 3),      # the actions move the core: kept
    (None, 0.85, 3),          # nothing tracked (no predictor): not guarded
])
def test_a_core_must_hold_what_the_actions_move(where, guard, width):
    codes, outside, inside = _false_core(64 * 500)
    effects = {"outside": outside, "inside": inside, None: None}[where]
    readout = SpectralCoreReadout(12, momentum=0.05, keep_ratio=1.5, sticky=True,
                                  action_share=guard)
    _train(readout, codes, effects)
    assert readout.widest_gap()[0] == 3  # the gap is reported either way
    assert readout.latched() == width and readout.rank() == width
    readout.calibrate(codes[:4000])  # and read from the calibrated statistics too
    assert readout.rank() == width
    share = readout.action_share_at(3)
    if where is None:
        assert share is None
    else:
        assert share == pytest.approx(0.0 if where == "outside" else 1.0, abs=0.02)


def test_the_action_share_is_the_effects_second_moment_in_the_leading_directions():
    readout = SpectralCoreReadout(4, action_share=0.5)
    readout.running_cov.copy_(torch.diag(torch.tensor([4.0, 3.0, 2.0, 1.0])))
    readout.track_effect(torch.tensor([[1.0, 0.0, 0.0, 2.0], [1.0, 0.0, 0.0, -2.0]]))
    # the effect's second moment is diag(1, 0, 0, 4): 1/5 in the first direction
    assert readout.action_shares().tolist() == pytest.approx([0.2, 0.2, 0.2, 1.0])
    assert readout.action_share_at(1) == pytest.approx(0.2)
    with pytest.raises(ValueError, match=r"width must be in \[1, 4\], got 5"):
        readout.action_share_at(5)
    readout.reset_running_stats()
    assert readout.action_shares() is None


def test_bad_effects_and_shares_name_the_parameter():
    with pytest.raises(ValueError, match=r"core_action_share must be in \[0, 1\).*got 1.0"):
        make_agent("jepa", latent_dim=8, core_action_share=1.0)
    with pytest.raises(ValueError, match=r"core_action_share .* got -0.1"):
        SpectralCoreReadout(8, action_share=-0.1)
    with pytest.raises(ValueError, match=r"track_effect needs \(B, 8\) effects, got \(4, 3\)"):
        SpectralCoreReadout(8).track_effect(torch.zeros(4, 3))


def test_jepa_tracks_its_actions_effect_and_the_guard_leaves_training_alone(synthetic_dataset):
    stream = open_camera_stream(synthetic_dataset, "cam0")
    guarded = make_agent("jepa", seed=0, latent_dim=8, width=8, core_momentum=1.0)
    bare = make_agent("jepa", seed=0, latent_dim=8, width=8, core_momentum=1.0,
                      core_action_share=0.0)
    assert guarded.encoder.readout.action_share == 0.8
    for step in range(5):
        batch = stream.sample(16, torch.Generator().manual_seed(step), guarded.horizon)
        assert guarded.train_step(batch)["loss"] == bare.train_step(batch)["loss"]
    for module in ("encoder", "predictor"):  # the same weights: only the readout differs
        guarded_weights = dict(getattr(guarded, module).named_parameters())
        for name, value in getattr(bare, module).named_parameters():
            assert torch.equal(guarded_weights[name], value), name
    readout = guarded.encoder.readout
    assert int(readout.effect_batches_tracked) == 5
    assert float(readout.running_effect.trace()) > 0.0
    assert 0.0 <= spectral_gap(guarded)["action_share"] <= 1.0
    readout.latched_width.fill_(3)  # the shares of a latched width are reported too
    gap = spectral_gap(guarded)
    assert gap["latched_action_share"] == pytest.approx(readout.action_share_at(3))
    assert gap["latched_share"] == pytest.approx(readout.variance_share(3))
    # an agent without an action-conditioned predictor tracks nothing: never guarded
    supervised = make_agent("supervised", seed=0, latent_dim=8, width=8)
    assert spectral_gap(supervised)["action_share"] is None


def test_the_effect_the_agent_hands_its_readout_is_what_other_actions_change():
    agent = make_agent("jepa", seed=0, latent_dim=8, width=8)
    context = torch.randn(5, 1, 8, generator=torch.Generator().manual_seed(1))
    actions = torch.randn(5, agent.config.horizon, 2,
                          generator=torch.Generator().manual_seed(2))
    effect = agent.action_effect(context, actions)
    own = agent._predict(context, actions)[:, -1]
    other = agent._predict(context, actions.roll(1, dims=0))[:, -1]
    torch.testing.assert_close(effect, own - other)
    same = actions[:1].expand(5, -1, -1)  # one action sequence for all: no effect
    assert torch.count_nonzero(agent.action_effect(context, same)) == 0


def test_a_state_saved_before_the_guard_loads_unguarded():
    codes, _, _ = _false_core(64 * 200, seed=3)
    readout = SpectralCoreReadout(12, momentum=0.05)
    _train(readout, codes, None)
    old = {k: v for k, v in readout.state_dict().items()
           if k not in ("running_effect", "effect_batches_tracked")}
    loaded = SpectralCoreReadout(12, momentum=0.05, action_share=0.85)
    loaded.load_state_dict(old)
    assert loaded.action_shares() is None and loaded.rank() == readout.rank() == 3
