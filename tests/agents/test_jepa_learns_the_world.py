"""The default JEPA, trained briefly on a small real recording, knows more than its init."""

from __future__ import annotations

import pytest

from socialview.agents import embed, make_agent, train_agent, world_state
from socialview.alignment import state_probe


@pytest.mark.slow
def test_default_jepa_beats_the_untrained_encoder_on_the_state_probe(whole_arena_recordings):
    train, evaluation = whole_arena_recordings
    state = world_state(evaluation)

    def probe(agent):
        result = state_probe(embed(agent, evaluation, "cam0"), state.values, state.episode,
                             mask=state.mask("cam0"))
        return result.pooled_r2

    jepa = make_agent("jepa", seed=0)
    untrained = probe(jepa)
    train_agent(jepa, train, "cam0", steps=300, batch_size=64, progress=False, device="cpu")
    trained = probe(jepa)
    assert trained > untrained + 0.2, (trained, untrained)
    assert trained > probe(make_agent("random", seed=0)) + 0.2
