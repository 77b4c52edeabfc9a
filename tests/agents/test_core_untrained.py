"""Before its first training batch, an agent whose guards await a witness reads no core.

At an emergence curve's step 0 the untrained encoder's spectrum can show a gap, and the
action and reader guards had nothing to weigh it with, so a 2- or 4-d "core" of an
untrained ``jepa`` was read (agents study, finding 29).
"""

from __future__ import annotations

import pytest
import torch

from socialview.agents import make_agent
from socialview.agents.nets import SpectralCoreReadout

#: A spectrum with a clear gap after 3 directions (ratio 4, 0.83 of the variance).
SPECTRUM = torch.tensor([4.0, 3.6, 3.2, 0.8, 0.5, 0.4, 0.3, 0.2])


def _gapped_codes(rows: int = 4000, seed: int = 0) -> torch.Tensor:
    """Codes ``(rows, 8)`` whose covariance has :data:`SPECTRUM` in a rotated basis."""
    gen = torch.Generator().manual_seed(seed)
    rotation = torch.linalg.qr(torch.randn(8, 8, generator=gen))[0]
    white = torch.linalg.qr(torch.randn(rows, 8, generator=gen))[0] * (rows - 1) ** 0.5
    white = white - white.mean(0)
    return (white * SPECTRUM.sqrt()) @ rotation.T


def _calibrated(codes: torch.Tensor, **guards: float) -> SpectralCoreReadout:
    readout = SpectralCoreReadout(8, **guards)
    readout.eval()
    readout.calibrate(codes)
    return readout


@pytest.mark.parametrize(("witness", "guard"), [("effect", "action_share"),
                                                 ("reader", "reader_share")])
def test_an_awaited_witness_not_yet_heard_refuses_every_width(witness, guard):
    codes = _gapped_codes()
    declared = _calibrated(codes, **{guard: 0.8})
    declared.await_witnesses(**{witness: True})
    silent = _calibrated(codes, **{guard: 0.8})  # an agent that tracks nothing
    assert silent.rank() == 3
    assert declared.widest_gap() == (3, pytest.approx(4.0, rel=1e-3))  # still reported
    assert declared.rank() is None
    out = declared(codes[:5])
    torch.testing.assert_close(out, codes[:5])  # the whole latent, as it is
    off = _calibrated(codes, **{guard: 0.0})  # the guard off: nothing awaited to refuse
    off.await_witnesses(**{witness: True})
    assert off.rank() == 3


def test_after_the_first_training_batch_the_witness_is_weighed_as_before():
    codes = _gapped_codes()
    readout = _calibrated(codes, action_share=0.8)
    readout.await_witnesses(effect=True)
    readout.train()
    readout(codes[:64])  # one training batch, and its effect along the core
    vectors = torch.linalg.eigh(torch.cov(codes.T).double())[1].flip(1).float()
    readout.track_effect(codes[:64] @ vectors[:, :3] @ vectors[:, :3].T)
    readout.eval()
    readout.calibrate(codes)
    assert readout.rank() == 3
    assert readout.action_share_at(3) == pytest.approx(1.0, abs=1e-4)


def test_a_trained_state_that_tracked_no_effect_stays_unguarded():
    """A state saved before the action guard existed trained batches but tracked no
    effect: as before, nothing tracked is nothing guarded."""
    codes = _gapped_codes()
    readout = SpectralCoreReadout(8, momentum=0.05)
    readout.train()
    for start in range(0, len(codes), 64):
        readout(codes[start:start + 64])
    readout.eval()
    readout.calibrate(codes)
    loaded = SpectralCoreReadout(8, momentum=0.05, action_share=0.8)
    loaded.await_witnesses(effect=True)
    loaded.load_state_dict(readout.state_dict())
    assert loaded.rank() == readout.rank() == 3


@pytest.mark.parametrize(("agent", "width"), [("jepa", None), ("supervised", None),
                                              ("random", 3)])
def test_untrained_agents_read_no_core_but_the_untrained_control_does(agent, width):
    """``jepa`` awaits an action effect and ``supervised`` its head; ``random`` never
    trains, so its opt-in core is read from the gap alone, as before."""
    model = make_agent(agent, seed=0, latent_dim=8, width=8, readout="core")
    readout = model.encoder.readout
    readout.eval()
    readout.calibrate(_gapped_codes())
    assert readout.rank() == width
