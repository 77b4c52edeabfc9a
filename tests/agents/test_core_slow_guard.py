"""The core readout's slowness guard: a core must end where the latent's speeds step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from socialview.agents import make_agent, open_camera_stream, train_agent
from socialview.agents.nets import SpectralCoreReadout
from socialview.agents.torch_agent import spectral_gap
from socialview.agents.trainer import calibration_pairs
from socialview.alignment import SlowFeatures


def _sequences(strong_is_slow: bool, episodes: int = 200, length: int = 20,
               seed: int = 0) -> tuple[torch.Tensor, np.ndarray]:
    """Codes with 3 strong directions 6x above 9 weak ones, in a rotated basis, in
    episodes. With ``strong_is_slow`` the strong ones are slow random walks and the weak
    ones jitter (a true core: the world moving at its pace, detail beside it); else the
    other way round (a gap that is no core: what stands out is fast)."""
    gen = torch.Generator().manual_seed(seed)

    def walk(width: int) -> torch.Tensor:
        steps = 0.1 * torch.randn(episodes, length, width, generator=gen)
        start = torch.randn(episodes, 1, width, generator=gen)
        walks = (start + steps.cumsum(1)).reshape(-1, width)
        return walks / walks.std(0)

    def jitter(width: int) -> torch.Tensor:
        return torch.randn(episodes * length, width, generator=gen)

    strong = (walk(3) if strong_is_slow else jitter(3)) * torch.tensor([3.0, 2.8, 2.6])
    weak = 0.4 * (jitter(9) if strong_is_slow else walk(9))
    rotation = torch.linalg.qr(torch.randn(12, 12, generator=gen))[0]
    return torch.cat([strong, weak], dim=1) @ rotation, np.repeat(np.arange(episodes), length)


def _calibrated(codes: torch.Tensor, episode: np.ndarray, slow_step: float,
                change: bool = True, **settings: float) -> SpectralCoreReadout:
    readout = SpectralCoreReadout(12, min_ratio=1.5, keep_ratio=1.5, slow_step=slow_step,
                                  **settings)
    readout.calibrate(codes)
    if change:
        within = torch.from_numpy(episode[1:] == episode[:-1])
        readout.calibrate_change((codes[1:] - codes[:-1])[within])
    return readout


@pytest.mark.parametrize(("strong_is_slow", "slow_step", "width"), [
    (True, 1.4, 3),    # the strong directions are the slow ones: a core
    (False, 1.4, None),  # the strong directions jitter: no core, whatever the gap
    (False, 0.0, 3),   # the guard off: the gap alone decides
])
def test_a_core_must_end_where_the_speeds_step(strong_is_slow, slow_step, width):
    codes, episode = _sequences(strong_is_slow)
    readout = _calibrated(codes, episode, slow_step)
    assert readout.widest_gap()[0] == 3  # the variance gap is there either way
    assert readout.rank() == width
    if slow_step:
        step = readout.slow_step_at(3)
        assert (step > 3.0) if strong_is_slow else (step < 1.4)


def test_the_slowness_spectrum_is_slow_feature_analysis_of_the_calibration():
    codes, episode = _sequences(True, seed=1)
    readout = _calibrated(codes, episode, 1.4)
    found = SlowFeatures().fit(codes.double().numpy(), episode)
    # the same covariance (N - 1) and the same change moment (over the within-episode pairs)
    np.testing.assert_allclose(readout.slowness().numpy(), found.slowness_, rtol=1e-6)
    np.testing.assert_allclose(readout.slow_steps().numpy()[:5], found.jumps()[:5], rtol=1e-6)


def test_no_known_change_means_no_core_under_the_guard():
    codes, episode = _sequences(True, seed=2)
    readout = _calibrated(codes, episode, 1.4, change=False)
    assert readout.slowness() is None and readout.rank() is None
    assert readout.slow_step_at(3) is None
    readout = _calibrated(codes, episode, 1.4)
    assert readout.rank() == 3
    readout.train()
    readout(codes[:64])  # a training batch: the calibration no longer describes the encoder
    assert readout.slowness() is None and readout.ratio_at(3) == 0.0


def test_bad_settings_and_changes_name_the_parameter():
    with pytest.raises(ValueError, match=r"core_slow_step must be 0 \(no guard\) or > 1.*1.0"):
        SpectralCoreReadout(8, slow_step=1.0)
    with pytest.raises(ValueError, match=r"core_slow_step .* got -2"):
        make_agent("jepa", latent_dim=8, core_slow_step=-2)
    with pytest.raises(ValueError, match=r"calibrate_change needs \(N, 8\) changes"):
        SpectralCoreReadout(8, slow_step=1.5).calibrate_change(torch.zeros(4, 3))


def test_a_state_saved_before_the_guard_loads_with_no_change_known():
    codes, episode = _sequences(True, seed=3)
    readout = _calibrated(codes, episode, 0.0)
    old = {k: v for k, v in readout.state_dict().items()
           if k not in ("calibrated_change", "change_calibrated_at")}
    loaded = SpectralCoreReadout(12, min_ratio=1.5, keep_ratio=1.5)
    loaded.load_state_dict(old)
    assert loaded.slowness() is None and loaded.rank() == readout.rank() == 3


def test_the_trainer_calibrates_consecutive_frames_only_where_the_guard_wants_them(
        synthetic_dataset, tmp_path):
    stream = open_camera_stream(synthetic_dataset, "cam0")
    before, after = calibration_pairs(stream, count=10)
    assert len(before) == len(after) == 10
    with pytest.raises(ValueError, match="count must be >= 1"):
        calibration_pairs(stream, count=0)
    guarded = make_agent("jepa", seed=0, latent_dim=8, width=8, core_slow_step=1.4,
                         core_slow_fallback=0)
    bare = make_agent("jepa", seed=0, latent_dim=8, width=8, core_slow_step=0)
    assert guarded.needs_change_calibration and not bare.needs_change_calibration
    for agent, name in ((guarded, "guarded"), (bare, "bare")):
        train_agent(agent, synthetic_dataset, "cam0", steps=3, batch_size=8,
                    out_dir=tmp_path / name, seed=0, progress=False)
    assert guarded.encoder.readout.slowness() is not None
    assert bare.encoder.readout.slowness() is None  # nothing asked, nothing computed
    gap = spectral_gap(guarded)
    readout = guarded.encoder.readout
    assert gap["slow_step"] == readout.slow_step_at(gap["width"])
    read = readout.rank()
    assert gap["read_slow_step"] == (None if read is None else readout.slow_step_at(read))
    assert "slow_step" not in spectral_gap(bare)  # the record is as before without it
    # training is untouched: the same weights come out
    for module in ("encoder", "predictor"):
        weights = dict(getattr(guarded, module).named_parameters())
        for name, value in getattr(bare, module).named_parameters():
            assert torch.equal(weights[name], value), name


def test_of_two_gaps_the_guard_reads_the_one_where_the_speeds_step_most():
    """A wider variance gap further out that steps in speed too (as a 14-d one did at 5x
    the quick budget) does not displace the core where the speeds step most."""
    gen = torch.Generator().manual_seed(4)
    episodes, length = 200, 20

    def walk(width: int, step: float) -> torch.Tensor:
        start = torch.randn(episodes, 1, width, generator=gen)
        moves = step * torch.randn(episodes, length, width, generator=gen)
        walks = (start + moves.cumsum(1)).reshape(-1, width)
        return walks / walks.std(0)

    codes = torch.cat([3.0 * walk(3, 0.02), 2.0 * walk(3, 0.3),
                       0.4 * torch.randn(episodes * length, 6, generator=gen)], dim=1)
    codes = codes @ torch.linalg.qr(torch.randn(12, 12, generator=gen))[0]
    episode = np.repeat(np.arange(episodes), length)
    guarded = _calibrated(codes, episode, 1.4)
    bare = _calibrated(codes, episode, 0.0)
    assert bare.widest_gap()[0] == 6 and bare.rank() == 6  # the widest variance gap
    assert guarded.slow_step_at(3) > guarded.slow_step_at(6) > 1.4  # both step
    assert guarded.rank() == 3


def test_calibration_pairs_must_match(synthetic_dataset):
    stream = open_camera_stream(synthetic_dataset, "cam0")
    agent = make_agent("jepa", seed=0, latent_dim=8, width=8, core_slow_step=1.4)
    before, after = calibration_pairs(stream, count=10)
    with pytest.raises(ValueError, match="pairs must hold as many frames after as before, "
                                         "got 10 and 9"):
        agent.calibrate(stream.frames[:20], pairs=(before, after[:-1]))
    agent.calibrate(stream.frames[:20], pairs=(before, after))
    assert agent.encoder.readout.slowness() is not None


# the slowness fallback (finding 27): heard only where the other rules find no core.
# The 3 strong directions of ``_sequences`` hold 0.94 of the variance.


@pytest.mark.parametrize("strong_is_slow", [True, False])
def test_the_fallback_leaves_a_core_the_other_rules_read_alone(strong_is_slow):
    codes, episode = _sequences(strong_is_slow, seed=5)
    fallback = _calibrated(codes, episode, 1.4, core_share=0.8, slow_fallback=0.6)
    bare = _calibrated(codes, episode, 0.0, core_share=0.8)
    assert bare.rank() == fallback.rank() == 3  # read whether or not the speeds step
    assert not fallback.read_by_fallback()
    # nor does the primary rule need the speeds: uncalibrated, the same core
    unknown = _calibrated(codes, episode, 1.4, change=False, core_share=0.8, slow_fallback=0.6)
    assert unknown.slowness() is None and unknown.rank() == 3


@pytest.mark.parametrize(("strong_is_slow", "slow_fallback", "width"), [
    (True, 0.6, 3),      # refused by the variance share, but the speeds step: read
    (False, 0.6, None),  # refused, and the speeds do not step: nothing
    (True, 0.96, None),  # the fallback's own share (0.96 > 0.94) refuses it too
])
def test_the_fallback_reads_a_refused_core_only_where_the_speeds_step(
        strong_is_slow, slow_fallback, width):
    codes, episode = _sequences(strong_is_slow, seed=6)
    readout = _calibrated(codes, episode, 1.4, core_share=0.97, slow_fallback=slow_fallback)
    assert _calibrated(codes, episode, 0.0, core_share=0.97).rank() is None
    assert readout.rank() == width
    assert readout.read_by_fallback() == (width is not None)


def test_the_fallback_needs_the_speeds_known():
    codes, episode = _sequences(True, seed=7)
    readout = _calibrated(codes, episode, 1.4, change=False, core_share=0.97, slow_fallback=0.6)
    assert readout.rank() is None and not readout.read_by_fallback()


def test_bad_fallback_settings_name_the_parameter():
    with pytest.raises(ValueError, match=r"core_slow_fallback must be in \[0, 1\).*got 1.5"):
        SpectralCoreReadout(8, slow_step=1.4, slow_fallback=1.5)
    with pytest.raises(ValueError, match=r"core_slow_fallback must be in .*got -0.1"):
        make_agent("jepa", latent_dim=8, core_slow_step=1.4, core_slow_fallback=-0.1)


def test_without_a_slowness_step_the_fallback_is_off():
    """``core_slow_step`` 0 turns every slowness rule off, the fallback included (so
    an agent whose default has both on gets the rule without them by setting it)."""
    codes, episode = _sequences(True, seed=8)
    readout = _calibrated(codes, episode, 0.0, core_share=0.97, slow_fallback=0.6)
    assert readout.slow_fallback == 0.0 and readout.rank() is None
    assert not readout.read_by_fallback()


def test_an_agent_trained_with_the_fallback_records_which_rule_read_its_core(
        synthetic_dataset, tmp_path):
    fallback = make_agent("jepa", seed=0, latent_dim=8, width=8)  # jepa's default
    assert (fallback.config.core_slow_step, fallback.config.core_slow_fallback) == (1.4, 0.6)
    bare = make_agent("jepa", seed=0, latent_dim=8, width=8, core_slow_step=0)
    assert fallback.needs_change_calibration
    for agent, name in ((fallback, "fallback"), (bare, "bare")):
        train_agent(agent, synthetic_dataset, "cam0", steps=3, batch_size=8,
                    out_dir=tmp_path / name, seed=0, progress=False)
    gap = spectral_gap(fallback)
    assert gap["fallback"] == fallback.encoder.readout.read_by_fallback()
    assert "fallback" not in spectral_gap(bare)
    for module in ("encoder", "predictor"):  # training is untouched
        weights = dict(getattr(fallback, module).named_parameters())
        for name, value in getattr(bare, module).named_parameters():
            assert torch.equal(weights[name], value), name
