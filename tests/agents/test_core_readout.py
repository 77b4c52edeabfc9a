"""``readout="core"``: the latent's whitened spectral core at encode time, training untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from socialview.agents import make_agent, open_camera_stream
from socialview.agents.nets import SpectralCoreReadout, make_readout


def _signal_and_codes(rows: int, strong: int, dim: int,
                      seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A ``strong``-d signal of unequal scales, and it plus weak noise rotated into ``dim``
    units."""
    gen = torch.Generator().manual_seed(seed)
    signal = torch.randn(rows, strong, generator=gen) * torch.linspace(3.0, 1.5, strong)
    noise = 0.05 * torch.randn(rows, dim - strong, generator=gen)
    rotation = torch.linalg.qr(torch.randn(dim, dim, generator=gen))[0]
    return signal, torch.cat([signal, noise], dim=1) @ rotation


def _codes(rows: int, strong: int, dim: int, seed: int = 0) -> torch.Tensor:
    return _signal_and_codes(rows, strong, dim, seed)[1]


def _track(readout: SpectralCoreReadout, codes: torch.Tensor, batch: int = 64) -> None:
    readout.train()
    for start in range(0, len(codes), batch):
        assert torch.equal(readout(codes[start:start + batch]), codes[start:start + batch])


def test_training_passes_latents_through_and_encoding_returns_the_whitened_core():
    signal, codes = _signal_and_codes(4000, 3, 12)
    readout = SpectralCoreReadout(12)
    _track(readout, codes)
    assert readout.rank() == 3
    readout.eval()
    out = readout(codes)
    assert out.shape == codes.shape
    np.testing.assert_allclose(np.cov(out[:, :3].numpy().T), np.eye(3), atol=0.05)
    assert torch.count_nonzero(out[:, 3:]) == 0
    # the core is the signal, whitened: a linear read of the signal explains it
    signal = torch.cat([signal, torch.ones(len(signal), 1)], dim=1)
    weights = torch.linalg.lstsq(signal, out[:, :3]).solution
    residual = out[:, :3] - signal @ weights
    assert float(residual.var() / out[:, :3].var()) < 0.01


def test_the_rest_comes_back_damped_so_what_the_weak_directions_know_survives():
    """A core read where the state also lies beyond it (a false core): with ``rest`` the
    directions outside the core come back at ``rest`` of its weakest at most, and the
    readout is invertible, so a linear read of the latent (and of anything the latent
    holds linearly) from the output is exact; with ``rest=0`` they are zeros."""
    gen = torch.Generator().manual_seed(4)
    strong = torch.randn(4000, 3, generator=gen) * torch.tensor([3.0, 2.5, 2.0])
    weak = 0.1 * torch.randn(4000, 9, generator=gen)  # weak[:, 0] is a body the core misses
    rotation = torch.linalg.qr(torch.randn(12, 12, generator=gen))[0]
    codes = torch.cat([strong, weak], dim=1) @ rotation
    damped, dropped = SpectralCoreReadout(12, rest=0.1), SpectralCoreReadout(12)
    for readout in (damped, dropped):
        _track(readout, codes)
        readout.eval()
        assert readout.rank() == 3
    out, hard = damped(codes), dropped(codes)
    torch.testing.assert_close(out[:, :3], hard[:, :3])  # the core itself is unchanged
    assert torch.count_nonzero(hard[:, 3:]) == 0
    spread = out[:, 3:].std(dim=0)
    assert float(spread.min()) > 0 and float(spread.max()) <= 0.1
    ones = torch.ones(len(codes), 1)

    def explained(inputs: torch.Tensor, target: torch.Tensor) -> float:
        design = torch.cat([inputs, ones], dim=1).double()
        fitted = design @ torch.linalg.lstsq(design, target.double()).solution
        return 1.0 - float((target - fitted).var() / target.var())

    assert explained(out, codes) > 0.999999
    assert explained(out, weak[:, :1]) > 0.999 and explained(hard, weak[:, :1]) < 0.01


def test_without_a_gap_or_statistics_the_latent_comes_back_unchanged():
    flat = torch.randn(3000, 10, generator=torch.Generator().manual_seed(1))
    readout = SpectralCoreReadout(10)
    readout.eval()
    assert readout.rank() is None and torch.equal(readout(flat), flat)  # never trained
    _track(readout, flat)
    readout.eval()
    assert readout.rank() is None and torch.equal(readout(flat), flat)  # isotropic: no gap


def test_a_rank_deficient_latent_is_not_mistaken_for_a_gap():
    """Zero eigenvalues (a latent wider than the features under it) are skipped."""
    codes = _codes(4000, 3, 8) @ torch.randn(8, 16, generator=torch.Generator().manual_seed(2))
    readout = SpectralCoreReadout(16)
    _track(readout, codes)
    assert readout.rank() == 3


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"readout": "pca"}, r"readout must be 'latent' or 'core', got 'pca'"),
    ({"readout": "core", "core_gap": 1.0}, r"core_gap must be > 1 .*got 1.0"),
    ({"readout": "core", "core_momentum": 0.0}, r"core_momentum must be in \(0, 1\], got 0.0"),
    ({"readout": "core", "core_rest": -0.1}, r"core_rest must be in \[0, 1\] .*got -0.1"),
    ({"readout": "core", "core_rest": 2.0}, r"core_rest must be in \[0, 1\] .*got 2.0"),
])
def test_bad_readout_settings_name_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_agent("jepa", **kwargs)


def test_the_latent_readout_is_the_latent_itself_and_core_is_the_default():
    assert isinstance(make_readout("latent", 8), torch.nn.Identity)
    for name in ("jepa", "supervised"):
        assert isinstance(make_agent(name, latent_dim=8).encoder.readout, SpectralCoreReadout)
    # the untrained control and the unwitnessed autoencoder keep their full latents
    # (finding 29), unless asked
    for name in ("random", "autoencoder"):
        assert isinstance(make_agent(name, latent_dim=8).encoder.readout, torch.nn.Identity)
        core = make_agent(name, latent_dim=8, readout="core").encoder.readout
        assert isinstance(core, SpectralCoreReadout)


def test_a_core_readout_agent_trains_as_the_plain_one_and_encodes_to_its_width(
        synthetic_dataset):
    stream = open_camera_stream(synthetic_dataset, "cam0")
    plain = make_agent("jepa", seed=0, latent_dim=8, width=8, readout="latent")
    # momentum 1: the latch is checked from the 4th batch on, so training runs through it
    core = make_agent("jepa", seed=0, latent_dim=8, width=8, core_momentum=1.0)
    for step in range(6):
        batch = stream.sample(16, torch.Generator().manual_seed(step), plain.horizon)
        assert plain.train_step(batch)["loss"] == core.train_step(batch)["loss"]
    for name, weight in plain.encoder.state_dict().items():
        assert torch.equal(core.encoder.state_dict()[name], weight), name
    frames = stream.sample(8, torch.Generator().manual_seed(9), plain.horizon).obs
    assert core.encode(frames).shape == plain.encode(frames).shape == (8, 8)
    assert int(core.encoder.readout.num_batches_tracked) == 6


def test_a_smooth_spectrum_ending_in_weak_directions_has_no_core():
    """As under half-arena views: eigenvalues decay smoothly to below 1% of the first and
    then to zero. The drop after the last weak direction is not a core; whitening up to
    there would lift directions of 0.3% of the variance to unit variance."""
    gen = torch.Generator().manual_seed(3)
    scales = torch.cat([0.75 ** torch.arange(20.0), torch.zeros(12)])  # 1 ... 0.004, then 0
    codes = (torch.randn(6000, 32, generator=gen) * scales) @ torch.linalg.qr(
        torch.randn(32, 32, generator=gen))[0]
    readout = SpectralCoreReadout(32)
    _track(readout, codes)
    assert readout.rank() is None


def test_calibrate_sets_the_statistics_of_the_latents_given():
    codes = _codes(3000, 3, 12, seed=4)
    readout = SpectralCoreReadout(12)
    _track(readout, _codes(3000, 5, 12, seed=5))  # statistics of another code
    assert readout.rank() == 5
    running = readout.running_cov.clone()
    readout.calibrate(codes)
    assert readout.rank() == 3 and readout.is_calibrated
    mean, cov = readout.statistics()
    np.testing.assert_allclose(mean.numpy(), codes.mean(0).numpy(), atol=1e-5)
    np.testing.assert_allclose(cov.numpy(), np.cov(codes.numpy().T), atol=1e-4)
    assert torch.equal(readout.running_cov, running)  # the running statistics stay
    # the next training batch makes the calibration stale: the running statistics count
    readout.train()
    readout(codes[:64])
    assert not readout.is_calibrated and readout.rank() == 5
    with pytest.raises(ValueError, match=r"calibrate needs \(N, 12\) latents with N > 12"):
        readout.calibrate(codes[:12])


def test_the_trainer_calibrates_a_core_readout_on_the_final_encoder(synthetic_dataset):
    """After training, the readout's statistics are those of the final encoder's eval-mode
    latents on the calibration frames; the weights are those of an uncalibrated run."""
    from socialview.agents import train_agent
    from socialview.agents.trainer import calibration_frames

    settings = dict(seed=0, latent_dim=8, width=8, output_norm="total")
    core = make_agent("jepa", readout="core", **settings)
    plain = make_agent("jepa", readout="latent", **settings)
    assert core.needs_calibration and not plain.needs_calibration
    for agent in (core, plain):
        train_agent(agent, synthetic_dataset, "cam0", steps=4, batch_size=16, progress=False,
                    device="cpu")
    for name, weight in plain.encoder.state_dict().items():
        torch.testing.assert_close(core.encoder.state_dict()[name], weight)
    frames = calibration_frames(open_camera_stream(synthetic_dataset, "cam0"))
    latents = plain.encode(frames).double()  # the same encoder, its latent as it is
    mean, cov = core.encoder.readout.statistics()
    np.testing.assert_allclose(mean.numpy(), latents.mean(0).numpy(), atol=1e-5)
    np.testing.assert_allclose(cov.numpy(), np.cov(latents.numpy().T), rtol=1e-4, atol=1e-6)


def test_calibration_frames_spread_over_the_stream_without_repeats(synthetic_dataset):
    from socialview.agents.trainer import calibration_frames

    stream = open_camera_stream(synthetic_dataset, "cam0")
    assert np.array_equal(calibration_frames(stream, count=len(stream) + 5), stream.frames)
    assert len(stream) == 120
    assert np.array_equal(calibration_frames(stream, count=3), stream.frames[[0, 60, 119]])
    with pytest.raises(ValueError, match=r"count must be >= 1, got 0"):
        calibration_frames(stream, count=0)


def test_a_resumed_core_run_ends_calibrated_as_an_unbroken_one(synthetic_dataset, tmp_path):
    from socialview.agents import train_agent

    settings = dict(seed=1, latent_dim=8, width=8, output_norm="total", readout="core")
    train = dict(batch_size=16, progress=False, device="cpu")
    unbroken = make_agent("jepa", **settings)
    train_agent(unbroken, synthetic_dataset, "cam0", steps=4, out_dir=tmp_path / "a", **train)
    resumed = make_agent("jepa", **settings)
    train_agent(resumed, synthetic_dataset, "cam0", steps=2, out_dir=tmp_path / "b", **train)
    resumed = make_agent("jepa", **settings)
    train_agent(resumed, synthetic_dataset, "cam0", steps=4, out_dir=tmp_path / "b", **train)
    for name, value in unbroken.encoder.state_dict().items():
        torch.testing.assert_close(resumed.encoder.state_dict()[name], value)


def test_an_untrained_core_agent_is_calibrated_too(synthetic_dataset):
    """steps=0 (the emergence curve's first checkpoint) reads the untrained encoder's own
    statistics, as a trained call reads the trained one's; calibrate=False keeps none."""
    from socialview.agents import train_agent

    for calibrate in (True, False):
        agent = make_agent("jepa", seed=2, latent_dim=8, width=8, readout="core")
        train_agent(agent, synthetic_dataset, "cam0", steps=0, progress=False, device="cpu",
                    calibrate=calibrate)
        cov = agent.encoder.readout.statistics()[1]
        assert torch.equal(cov, torch.eye(8)) is not calibrate


def test_a_new_agent_starts_without_statistics():
    readout = make_agent("jepa", seed=0, latent_dim=8, width=8, readout="core").encoder.readout
    assert torch.equal(readout.running_cov, torch.eye(8))
    assert int(readout.num_batches_tracked) == 0 and readout.rank() is None
    assert readout.latched() is None and not readout.is_calibrated


def _with_spectrum(values: list[float]) -> SpectralCoreReadout:
    """A readout whose statistics have exactly the eigenvalues ``values``, in a rotated basis."""
    dim = len(values)
    rotation = torch.linalg.qr(torch.randn(dim, dim, generator=torch.Generator().manual_seed(6),
                                           dtype=torch.float64))[0]
    readout = SpectralCoreReadout(dim)
    readout.running_cov.copy_((rotation * torch.tensor(values, dtype=torch.float64))
                              @ rotation.T)
    return readout


@pytest.mark.parametrize(("ratio", "width"), [(3.5, 3), (2.47, None), (2.9, None)])
def test_a_ratio_of_three_is_the_default_gap(ratio, width):
    """A half-arena view's widest ratio reached 2.47 (a 12-d "core" that read the state
    worse; agents study, finding 14): under the default threshold it is no gap."""
    values = [1.0, 0.95, 0.9] + [0.9 / ratio * 0.97 ** i for i in range(9)]
    readout = _with_spectrum(values)
    k, found = readout.widest_gap()
    assert k == 3 and found == pytest.approx(ratio)
    assert readout.rank() == width


def test_the_widest_gap_is_reported_found_or_not_and_spectral_gap_reads_it():
    from socialview.agents.torch_agent import core_width, spectral_gap

    readout = _with_spectrum([1.0, 0.9, 0.5, 0.45, 0.4, 0.36, 0.33, 0.3])
    assert readout.widest_gap() == (2, pytest.approx(1.8)) and readout.rank() is None
    strict = SpectralCoreReadout(8, min_ratio=1.5)
    strict.running_cov.copy_(readout.running_cov)
    assert strict.rank() == 2
    # untrained, it awaits its action effect (finding 29): the action guard off, it reads
    # the gaps alone
    agent = make_agent("jepa", seed=0, latent_dim=8, width=8, core_share=0.0,
                       core_slow_step=0, core_action_share=0.0)
    agent.encoder.readout.running_cov.copy_(readout.running_cov)
    share = 1.9 / sum([1.0, 0.9, 0.5, 0.45, 0.4, 0.36, 0.33, 0.3])
    assert spectral_gap(agent) == {"width": 2, "ratio": pytest.approx(1.8),
                                   "share": pytest.approx(share), "action_share": None,
                                   "reader_share": None,
                                   "latched": None, "latched_ratio": None,
                                   "latched_share": None, "latched_action_share": None,
                                   "latched_reader_share": None}
    agent.encoder.readout.latched_width.fill_(4)  # as if latched at a clear gap in training
    gap = spectral_gap(agent)
    assert gap["latched_ratio"] == pytest.approx(0.45 / 0.4)
    assert gap["latched_share"] == pytest.approx(2.85 / sum([1.0, 0.9, 0.5, 0.45, 0.4, 0.36,
                                                               0.33, 0.3]))
    assert gap["latched_action_share"] is None and gap["latched_reader_share"] is None
    assert core_width(agent) is None  # 1.125 is under core_keep (1.5): not kept
    assert core_width(agent) is None
    assert spectral_gap(make_agent("jepa", latent_dim=8, readout="latent")) is None
    assert SpectralCoreReadout(1).widest_gap() is None


def test_a_gap_after_directions_that_hold_too_little_variance_is_no_core():
    """A clear ratio after the first direction, which holds under half the variance (the
    1-d "core" of a half-arena camera, finding 19): no core under the default guard, a
    1-d one without it; the gap is still reported, with its share."""
    from socialview.agents.torch_agent import spectral_gap

    values = [1.0] + [0.3 * 0.97 ** i for i in range(7)]
    held = 1.0 / sum(values)
    assert held < 0.8
    # the action guard off: untrained, it would refuse every width (finding 29)
    guarded = make_agent("jepa", seed=0, latent_dim=8, width=8, core_slow_step=0,
                         core_action_share=0.0)
    bare = make_agent("jepa", seed=0, latent_dim=8, width=8, core_share=0.0, core_slow_step=0,
                      core_action_share=0.0)
    for agent in (guarded, bare):
        agent.encoder.readout.running_cov.copy_(_with_spectrum(values).running_cov)
        agent.encoder.readout.latched_width.fill_(1)  # latched, as a sticky latch keeps it
    assert guarded.encoder.readout.rank() is None and bare.encoder.readout.rank() == 1
    assert spectral_gap(guarded) == {"width": 1, "ratio": pytest.approx(1 / 0.3),
                                     "share": pytest.approx(held), "action_share": None,
                                     "reader_share": None,
                                     "latched": 1, "latched_ratio": 0.0,
                                     "latched_share": pytest.approx(held),
                                     "latched_action_share": None,
                                     "latched_reader_share": None}
    with pytest.raises(ValueError, match=r"core_share must be in \[0, 1\).*got 1.0"):
        make_agent("jepa", latent_dim=8, core_share=1.0)


def test_variance_share_is_the_leading_directions_share_of_the_spectrum():
    values = [4.0, 2.0, 1.0, 0.5, 0.25, 0.25]
    readout = _with_spectrum(values)
    shares = [readout.variance_share(k) for k in range(1, 7)]
    assert shares == pytest.approx(list(np.cumsum(values) / sum(values)))
    for width in (0, 7):
        with pytest.raises(ValueError, match=f"width must be in \\[1, 6\\], got {width}"):
            readout.variance_share(width)


def _spectrum_codes(values: list[float], rows: int, seed: int) -> torch.Tensor:
    """``rows`` codes whose covariance has the eigenvalues ``values`` in one fixed basis."""
    dim = len(values)
    gen = torch.Generator().manual_seed(seed)
    rotation = torch.linalg.qr(torch.randn(dim, dim, generator=torch.Generator().manual_seed(7)))[0]
    return (torch.randn(rows, dim, generator=gen) * torch.tensor(values).sqrt()) @ rotation.T


def _eroding(second_ratio: float) -> tuple[torch.Tensor, torch.Tensor]:
    """A 3-d core whose gap is 6 for 500 batches (long enough to latch) and
    ``second_ratio`` for the 600 after."""
    def spectrum(ratio: float) -> list[float]:
        return [1.0, 0.9, 0.8] + [0.8 / ratio * 0.97 ** i for i in range(13)]

    early = _spectrum_codes(spectrum(6.0), 64 * 500, seed=8)
    late = _spectrum_codes(spectrum(second_ratio), 64 * 600, seed=9)
    return early, late


@pytest.mark.parametrize(("keep", "later", "width"), [
    (2.0, 2.5, 3),     # latched at 6, eroded to 2.5: kept
    (3.0, 2.5, None),  # no hysteresis: an eroded gap is no gap
    (2.0, 1.5, None),  # eroded under the lower bound: dropped
])
def test_a_width_latched_in_training_is_kept_while_its_ratio_holds(keep, later, width):
    early, late = _eroding(later)
    readout = SpectralCoreReadout(16, keep_ratio=keep)
    _track(readout, early)
    assert readout.widest_gap()[0] == 3 and readout.rank() == 3
    assert readout.latched() == (3 if keep < 3 else None)
    _track(readout, late)
    assert readout.widest_gap() == (3, pytest.approx(later, rel=0.15))
    assert readout.rank() == width
    assert readout.latched() == width
    # the calibrated statistics of the same code are read with the same latch
    readout.calibrate(late[:4000])
    assert readout.rank() == width


def test_a_spectrum_that_never_reaches_the_gap_latches_nothing():
    """As under half-arena views: a widest ratio of about 2.5 all through training is under
    the lower bound's reach only if it had once reached ``core_gap``; it never did."""
    codes = _spectrum_codes([1.0, 0.9, 0.8 / 2.5] + [0.3 * 0.97 ** i for i in range(13)],
                            64 * 500, seed=10)
    readout = SpectralCoreReadout(16, keep_ratio=2.0)
    _track(readout, codes)
    assert readout.widest_gap()[1] > 2.0
    assert readout.latched() is None and readout.rank() is None


def test_nothing_is_latched_before_the_early_batches_are_forgotten():
    """The first window's batches (early training) must weigh under 5% first: 4 windows."""
    early, _ = _eroding(2.5)
    readout = SpectralCoreReadout(16, keep_ratio=2.0, momentum=0.1)  # window: 10 batches
    _track(readout, early[:64 * 39])
    assert readout.latched() is None and readout.rank() == 3  # the gap itself is read
    _track(readout, early[64 * 39:64 * 40])
    assert readout.latched() == 3


def test_training_in_calibrated_stages_ends_as_an_unbroken_run(synthetic_dataset, tmp_path):
    """Calibration leaves the running statistics and the latch alone, so the emergence
    curve's staged agents are the unbroken run's, readout included."""
    from socialview.agents import train_agent

    settings = dict(seed=1, latent_dim=8, width=8, output_norm="total", core_momentum=0.5)
    train = dict(batch_size=16, progress=False, device="cpu")
    unbroken = make_agent("jepa", **settings)
    train_agent(unbroken, synthetic_dataset, "cam0", steps=6, **train)
    staged = make_agent("jepa", **settings)
    for stop in (2, 3, 6):
        train_agent(staged, synthetic_dataset, "cam0", steps=stop, out_dir=tmp_path, **train)
        assert staged.encoder.readout.is_calibrated
    readout = staged.encoder.readout
    assert readout.calibrated_at == readout.num_batches_tracked == 6
    for name, value in unbroken.encoder.state_dict().items():
        torch.testing.assert_close(staged.encoder.state_dict()[name], value)


def test_a_state_saved_before_the_latch_loads_and_encodes_as_it_did():
    codes = _codes(3000, 3, 12, seed=11)
    readout = SpectralCoreReadout(12)
    _track(readout, codes)
    old = {k: v for k, v in readout.state_dict().items()
           if k in ("running_mean", "running_cov", "num_batches_tracked")}
    loaded = SpectralCoreReadout(12, keep_ratio=2.0)
    loaded.load_state_dict(old)
    readout.eval()
    loaded.eval()
    assert loaded.is_calibrated and loaded.latched() is None
    torch.testing.assert_close(loaded(codes), readout(codes))


def test_a_lower_bound_above_the_gap_is_refused():
    with pytest.raises(ValueError, match=r"core_keep must be > 1 and at most core_gap "
                                         r"\(3.0\), got 3.5"):
        make_agent("jepa", core_keep=3.5)
    with pytest.raises(ValueError, match=r"core_keep .* got 1.0"):
        make_agent("jepa", core_keep=1.0)


def _moving_gap() -> tuple[torch.Tensor, torch.Tensor]:
    """A 3-d core at a ratio of 6 for 60 batches, then eroded to 2.5 while a 5-d gap
    reaches 4 for 100 batches: as one whole-arena camera's latch moved from its 8-d core
    to a passing 14-d gap at 10,000 steps (agents study, finding 16)."""
    early = _spectrum_codes([1.0, 0.9, 0.8] + [0.8 / 6 * 0.97 ** i for i in range(13)],
                            64 * 60, seed=11)
    late = _spectrum_codes([1.0, 0.9, 0.8, 0.32, 0.31] + [0.31 / 4 * 0.97 ** i for i in range(11)],
                           64 * 100, seed=12)
    return early, late


@pytest.mark.parametrize(("sticky", "width"), [(False, 5), (True, 3)])
def test_a_sticky_latch_keeps_its_width_when_another_gap_passes_later(sticky, width):
    early, late = _moving_gap()
    readout = SpectralCoreReadout(16, keep_ratio=2.0, momentum=0.1, sticky=sticky)
    _track(readout, early)
    assert readout.latched() == 3
    _track(readout, late)
    assert readout.widest_gap() == (5, pytest.approx(4.0, rel=0.15))
    assert readout.ratio_at(3) == pytest.approx(2.5, rel=0.15)
    assert readout.latched() == width and readout.rank() == width
    readout.calibrate(late[:4000])  # read first from the calibrated statistics too
    assert readout.rank() == width


def test_a_sticky_latch_whose_ratio_fails_lets_a_new_gap_latch():
    early, late = _moving_gap()
    readout = SpectralCoreReadout(16, keep_ratio=2.6, momentum=0.1, sticky=True)
    _track(readout, early)
    assert readout.latched() == 3
    _track(readout, late)  # the 3-d ratio, about 2.5, is under 2.6: the 5-d gap takes over
    assert readout.latched() == 5 and readout.rank() == 5


def test_the_sticky_latch_kept_at_1_5_is_the_default_and_the_options_reach_the_readout():
    default = make_agent("jepa", latent_dim=8, width=8).encoder.readout
    assert default.sticky and default.keep_ratio == 1.5 and default.min_ratio == 3.0
    old = make_agent("jepa", latent_dim=8, width=8, core_sticky=False, core_keep=2.0)
    assert not old.encoder.readout.sticky and old.encoder.readout.keep_ratio == 2.0


def test_the_rest_is_dropped_by_default_and_kept_when_asked():
    assert make_agent("jepa", latent_dim=8, width=8).encoder.readout.rest == 0.0
    assert make_agent("supervised", latent_dim=8, width=8).encoder.readout.rest == 0.0
    assert make_agent("jepa", latent_dim=8, width=8, core_rest=0.05).encoder.readout.rest == 0.05
