"""The core readout's reader guard: a core must pass what the agent's own head reads."""

from __future__ import annotations

import pytest
import torch

from socialview.agents import make_agent, open_camera_stream
from socialview.agents.nets import SpectralCoreReadout
from socialview.agents.torch_agent import spectral_gap

#: A spectrum with a clear gap after 3 directions (ratio 4, 0.83 of the variance).
SPECTRUM = torch.tensor([4.0, 3.6, 3.2, 0.8, 0.5, 0.4, 0.3, 0.2])


def _readout(reader_share: float = 0.99) -> SpectralCoreReadout:
    """An 8-d readout whose statistics have :data:`SPECTRUM` in a rotated basis (read it
    back with ``readout.spectrum()``)."""
    rotation = torch.linalg.qr(torch.randn(8, 8, generator=torch.Generator().manual_seed(0)))[0]
    readout = SpectralCoreReadout(8, reader_share=reader_share)
    readout.running_cov.copy_(rotation @ torch.diag(SPECTRUM) @ rotation.T)
    return readout


def _head(readout: SpectralCoreReadout, gains: list[float]) -> torch.Tensor:
    """A head ``(len(gains), 8)`` whose row ``i`` reads principal direction ``i`` with
    gain ``gains[i]``."""
    vectors = readout.spectrum()[1].float()
    return torch.diag(torch.tensor(gains)) @ vectors[:, :len(gains)].T


@pytest.mark.parametrize(("gains", "guard", "width"), [
    ([1.0, 1.0, 1.0], 0.99, 3),        # the head reads the core alone: kept
    ([1.0, 1.0, 1.0, 1.0], 0.99, None),  # and the 4th (0.07 of it): no core
    ([1.0, 1.0, 1.0, 1.0], 0.0, 3),    # the guard off: the gap alone decides
    (None, 0.99, 3),                   # no head tracked: not guarded
])
def test_a_core_must_pass_what_the_head_reads(gains, guard, width):
    readout = _readout(guard)
    if gains is not None:
        readout.track_reader(_head(readout, gains))
    assert readout.widest_gap() == (3, pytest.approx(4.0))  # reported either way
    assert readout.rank() == width


def test_the_reader_share_is_the_heads_output_variance_through_the_leading_directions():
    readout = _readout()
    assert readout.reader_shares() is None and readout.reader_share_at(3) is None
    readout.track_reader(_head(readout, [1.0, 0.0, 1.0, 2.0]))
    # the head's output variance through each direction: 4 * 1, 0, 3.2 * 1, 0.8 * 4
    passed = torch.tensor([4.0, 0.0, 3.2, 3.2])
    expected = (passed.cumsum(0) / passed.sum()).tolist() + [1.0] * 4
    assert readout.reader_shares().tolist() == pytest.approx(expected, abs=1e-5)
    assert readout.reader_share_at(3) == pytest.approx(7.2 / 10.4, abs=1e-5)
    with pytest.raises(ValueError, match=r"width must be in \[1, 8\], got 0"):
        readout.reader_share_at(0)
    readout.reset_running_stats()
    assert readout.reader_shares() is None


def test_bad_heads_and_shares_name_the_parameter():
    with pytest.raises(ValueError, match=r"core_reader_share must be in \[0, 1\).*got 1.0"):
        make_agent("supervised", latent_dim=8, core_reader_share=1.0)
    with pytest.raises(ValueError, match=r"core_reader_share .* got -0.5"):
        SpectralCoreReadout(8, reader_share=-0.5)
    with pytest.raises(ValueError, match=r"track_reader needs \(S, 8\) head weights, "
                                         r"got \(8,\)"):
        SpectralCoreReadout(8).track_reader(torch.zeros(8))


def test_supervised_hands_its_head_to_the_readout_and_training_is_unchanged(recorded_dataset):
    stream = open_camera_stream(recorded_dataset, "cam0", with_state=True)
    guarded = make_agent("supervised", seed=0, latent_dim=8, width=8, core_momentum=1.0)
    bare = make_agent("supervised", seed=0, latent_dim=8, width=8, core_momentum=1.0,
                      core_reader_share=0.0)
    assert guarded.encoder.readout.reader_share == 0.99
    for step in range(4):
        batch = stream.sample(16, torch.Generator().manual_seed(step), 1)
        assert guarded.train_step(batch)["loss"] == bare.train_step(batch)["loss"]
    for module in ("encoder", "head"):  # the same weights: only the readout differs
        guarded_weights = dict(getattr(guarded, module).named_parameters())
        for name, value in getattr(bare, module).named_parameters():
            assert torch.equal(guarded_weights[name], value), name
    readout = guarded.encoder.readout
    head = guarded.head.weight.detach()
    torch.testing.assert_close(readout.reader_gram, head.T @ head)
    assert 0.0 <= spectral_gap(guarded)["reader_share"] <= 1.0
    # the head travels with the agent's state
    copy = make_agent("supervised", seed=1, latent_dim=8, width=8, core_momentum=1.0)
    copy.load_state_dict(guarded.state_dict())
    torch.testing.assert_close(copy.encoder.readout.reader_gram, readout.reader_gram)
    # an agent with no head of its own reading the latent is never reader-guarded
    assert spectral_gap(make_agent("jepa", seed=0, latent_dim=8, width=8))["reader_share"] is None


def test_a_state_saved_before_the_guard_loads_unguarded():
    readout = _readout()
    readout.track_reader(_head(readout, [1.0, 1.0, 1.0, 1.0]))
    assert readout.rank() is None
    old = {k: v for k, v in readout.state_dict().items() if k != "reader_gram"}
    loaded = SpectralCoreReadout(8, reader_share=0.99)
    loaded.load_state_dict(old)
    assert loaded.reader_shares() is None and loaded.rank() == 3
