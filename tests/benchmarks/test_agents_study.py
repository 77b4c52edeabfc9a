"""The agents study's variants: each names an agent that builds, and old rows keep their meaning."""

from __future__ import annotations

import math

import numpy as np
import pytest

from socialview.agents import make_agent
from socialview.benchmarks.agents_study import (
    FLATTEN_ERA,
    VARIANTS,
    _key_part,
    _map_r2,
    _study_config,
    _today,
    core_at,
    long_lens_cameras,
    whitened_principal,
)
from socialview.envs.cameras import CameraPose


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_variant_builds_its_agent(name):
    spec = VARIANTS[name]
    make_agent(spec["agent"], seed=0, **spec.get("config", {}))  # unknown keys raise


def test_rows_of_the_flatten_era_keep_their_head_unless_they_name_one():
    assert _today("jepa", "x")["config"] == FLATTEN_ERA
    assert _today("jepa", "x", head="moments")["config"]["head"] == "moments"
    assert _today("pca", "x")["config"] == {}
    assert VARIANTS["default_jepa"]["config"]["head"] == "flatten"
    assert VARIANTS["default_jepa_moments"]["config"]["head"] == "moments"


def test_rows_measured_before_the_default_depth_changed_keep_their_depth():
    assert _today("jepa", "x")["config"]["depth"] == 3
    assert VARIANTS["default_jepa_moments"]["config"]["depth"] == 3
    assert VARIANTS["default_jepa_moments_d2"]["config"]["depth"] == 2


def test_core_rows_measured_before_the_gap_threshold_changed_keep_it():
    """Rounds eight and nine read the core at an eigenvalue ratio of 3, round ten at 2,
    whatever the default."""
    for name, spec in VARIANTS.items():
        if spec["config"].get("readout") != "core":
            continue
        gap = make_agent(spec["agent"], **spec["config"]).encoder.readout.min_ratio
        assert gap == (2.0 if "_core_g2" in name else 3.0), name


def test_long_lenses_keep_the_poses_and_the_framing():
    wide, narrow = long_lens_cameras(45.0), long_lens_cameras(10.0)
    for w, n in zip(wide, narrow, strict=True):
        assert (n["azimuth"], n["elevation"], n["lookat"]) == (w["azimuth"], w["elevation"],
                                                             w["lookat"])
        assert n["fovy"] == 10.0
        # the half-height the view spans at the look-at point is unchanged
        half_wide = w["distance"] * math.tan(math.radians(w["fovy"] / 2))
        half_narrow = n["distance"] * math.tan(math.radians(n["fovy"] / 2))
        assert half_narrow == pytest.approx(half_wide)
        CameraPose.from_dict(n)  # a valid pose for SocialViewEnv(cameras=...)


def test_dataset_folder_names_digest_camera_lists_stably():
    cameras = long_lens_cameras(10.0)
    assert _key_part(0.7) == "0.7" and _key_part("zoom") == "zoom"
    assert _key_part(cameras) == _key_part(long_lens_cameras(10.0))
    assert _key_part(cameras) != _key_part(long_lens_cameras(20.0))
    assert len(_key_part(cameras)) == 10 and _key_part(cameras).isalnum()


def test_whitened_principal_keeps_the_strong_directions_whitened_on_the_fit_rows():
    rng = np.random.default_rng(0)
    state = rng.normal(size=(600, 3))
    noise = 0.05 * rng.normal(size=(600, 9))
    rotation = np.linalg.qr(rng.normal(size=(12, 12)))[0]
    latents = np.hstack([state * [3.0, 2.0, 1.5], noise]) @ rotation
    fit = np.arange(600) < 450
    cut = whitened_principal(latents, fit, 3)
    np.testing.assert_allclose(np.cov(cut[fit].T), np.eye(3), atol=1e-8)
    # the three kept directions are the state's: a linear read of it explains them all
    weights, *_ = np.linalg.lstsq(state[fit], cut[fit], rcond=None)
    residual = cut[~fit] - state[~fit] @ weights
    assert residual.var() / cut[~fit].var() < 0.01
    with pytest.raises(ValueError, match=r"k must be in \[1, 12\].*got 13"):
        whitened_principal(latents, fit, 13)


def test_whitened_principal_subspaces_of_two_codes_of_one_state_are_an_orthogonal_map_apart():
    """Two cameras' latents: the same 4-d state through different invertible maps, plus
    each camera's own weaker detail. Whole, the orthogonal map misses; cut to the 4 leading
    whitened directions, it fits."""
    rng = np.random.default_rng(1)
    state = rng.uniform(-1, 1, size=(800, 4))
    def code(gains):  # an invertible, well-conditioned linear code of the state
        rotation = np.linalg.qr(rng.normal(size=(4, 4)))[0]
        return state @ (rotation * gains)

    views = [np.hstack([code([2.0, 1.5, 1.2, 1.0]), 0.3 * rng.normal(size=(800, 8))]),
             np.hstack([code([1.0, 2.5, 1.0, 1.5]), 0.3 * rng.normal(size=(800, 8))])]
    test = np.arange(800) >= 600
    whole = _map_r2(views[0], views[1], test)["orthogonal"]
    cut = [whitened_principal(v, ~test, 4) for v in views]
    assert _map_r2(cut[0], cut[1], test)["orthogonal"] > 0.9 > whole + 0.2


def test_core_rows_that_name_no_rest_drop_the_directions_outside_the_core():
    """Rows before round fifteen read the core alone, whatever the default ``core_rest``."""
    assert _study_config(VARIANTS["full45_jepa_lr2"])["core_rest"] == 0.0
    assert "core_rest" not in _study_config(VARIANTS["default_jepa_moments_d2"])  # latent


def test_core_rows_that_name_no_action_guard_ran_without_one():
    """Rows before round sixteen had no action guard, whatever the default."""
    assert _study_config(VARIANTS["full45_jepa_lr2"])["core_action_share"] == 0.0
    assert "core_action_share" not in _study_config(VARIANTS["default_jepa_moments_d2"])


def test_core_rows_that_name_no_reader_guard_ran_without_one():
    """Rows before round seventeen had no reader guard, whatever the default."""
    assert _study_config(VARIANTS["full45_jepa_lr2"])["core_reader_share"] == 0.0
    assert "core_reader_share" not in _study_config(VARIANTS["default_jepa_moments_d2"])


@pytest.mark.parametrize("rest", [0.0, 0.1, 0.5])
def test_replaying_a_core_with_a_rest_reads_what_the_readout_reads(rest):
    import torch

    from socialview.agents.nets import SpectralCoreReadout

    gen = np.random.default_rng(0)
    rotation = np.linalg.qr(gen.normal(size=(10, 10)))[0]
    scales = np.r_[3.0, 2.5, 2.0, np.full(7, 0.2)]
    raw = ((gen.normal(size=(2000, 10)) * scales) @ rotation).astype(np.float32)
    readout = SpectralCoreReadout(10, rest=rest)
    readout.calibrate(torch.from_numpy(raw))
    readout.eval()
    assert readout.rank() == 3
    expected = readout(torch.from_numpy(raw)).numpy()
    mean, cov = (buffer.numpy() for buffer in readout.statistics())
    replayed = core_at(raw, mean, cov, readout.rank(), rest=rest)
    np.testing.assert_allclose(np.abs(replayed), np.abs(expected), atol=1e-4)  # up to signs
    assert (np.count_nonzero(replayed[:, 3:]) == 0) == (rest == 0)


@pytest.mark.slow
def test_a_hysteresis_readout_leaves_its_latch_history_in_the_row(tmp_path, monkeypatch):
    """A row of a readout with hysteresis records, per camera, the running statistics'
    widest gap and the latched width at every latch update, up to the last batch."""
    from socialview.benchmarks import agents_study

    monkeypatch.setitem(agents_study.WORLD, "train_steps", 120)
    monkeypatch.setitem(agents_study.WORLD, "eval_steps", 120)
    monkeypatch.setitem(agents_study.WORLD, "episode_steps", 20)
    config = {**agents_study.FINE_MOMENTS, **agents_study.CORE_HYST, "core_momentum": 0.2,
              "width": 8, "latent_dim": 8}
    spec = _today("jepa", "tiny", steps=30, **config)
    spec["batch_size"] = 8
    saved = tmp_path / "row.npz"
    row = agents_study.run_variant("tiny", spec, 0, tmp_path, threads=1, latents_to=saved)
    history = row["latch_history"]["cam0"]
    assert [entry[0] for entry in history] == list(range(1, 31))  # every batch at momentum 0.2
    assert all(len(entry) == 6 and entry[2] >= 1.0 for entry in history)
    assert all(entry[2] == max(entry[5]) for entry in history)  # widest among the ratios
    assert all((entry[3] is None) == (entry[4] is None) for entry in history)
    # nothing latches before the statistics settle (4 / momentum batches)
    assert all(entry[3] is None for entry in history if entry[0] < 20)
    # after that, a widest gap at a ratio of 3 or more is what is latched
    settled = [entry for entry in history if entry[0] >= 20 and entry[2] >= 3.0]
    assert settled and all(entry[3] == entry[1] for entry in settled)
    # the saved latents before the readout and its statistics give back the core it read
    assert row["core_rank"]["cam0"] is not None
    with np.load(saved) as arrays:
        replayed = agents_study.core_at(arrays["cam0_raw"], arrays["cam0_calibrated_mean"],
                                        arrays["cam0_calibrated_cov"], row["core_rank"]["cam0"])
        np.testing.assert_allclose(np.abs(replayed), np.abs(arrays["cam0"]), atol=1e-3)
        latents = dict(arrays)
    # replaying the row's own rule from its history reads what the readout read
    same = agents_study.replay_latch(row, latents, 2.0, False, tmp_path)
    assert same["core_rank"] == row["core_rank"]
    assert same["map_r2"]["orthogonal"] == pytest.approx(row["map_r2"]["orthogonal"], abs=1e-4)
    with pytest.raises(ValueError, match="has no latch_history"):
        without = {key: value for key, value in row.items() if key != "latch_history"}
        agents_study.replay_latch(without, latents, 2.0, False, tmp_path)


def test_a_variant_naming_train_frames_trains_on_a_recording_that_long(tmp_path, monkeypatch):
    """The ``full_*`` rows train on the full preset's 20,000 frames; the row's world says
    how many frames its agents saw, and the evaluation recording stays the study's."""
    from socialview.benchmarks import agents_study

    assert VARIANTS["full_jepa_moments_d2_core_sticky"]["train_frames"] == 20000
    monkeypatch.setitem(agents_study.WORLD, "train_steps", 40)
    monkeypatch.setitem(agents_study.WORLD, "eval_steps", 80)
    monkeypatch.setitem(agents_study.WORLD, "episode_steps", 20)
    spec = {**_today("random", "tiny", steps=0, width=8, latent_dim=8), "train_frames": 60}
    row = agents_study.run_variant("tiny", spec, 0, tmp_path, threads=1, cameras=("cam0",))
    assert row["world"]["train_steps"] == 60
    recorded = sorted(path.name.rsplit("_n", 1)[1] for path in (tmp_path / "data").iterdir())
    assert recorded == ["60_ep20", "80_ep20"]


def test_an_offline_analysis_of_a_row_it_cannot_read_is_a_usage_error(tmp_path, capsys):
    """``--replay-rest`` on a row saved without the latents before its readout (not a core
    readout) says which flag, which row and why, instead of a traceback."""
    from socialview.benchmarks.agents_study import main

    rows = tmp_path / "rows"
    rows.mkdir()
    (rows / "full45_pca_seed0.json").write_text('{"variant": "full45_pca", "seed": 0}')
    np.savez(rows / "full45_pca_seed0.npz", test=np.zeros(4, dtype=bool))
    with pytest.raises(SystemExit) as exit_info:
        main(["--variant", "full45_pca", "--seed", "0", "--replay-rest", "0.05",
              "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "--replay-rest: row 'full45_pca' seed 0 saved no latents before its readout" in (
        capsys.readouterr().err)
