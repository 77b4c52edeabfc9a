"""The emergence curve end to end: outputs, checkpoints, FLOPs, resume, config errors."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
import torch

from socialview.agents import QUICK_STEPS
from socialview.benchmarks.cli import main
from socialview.benchmarks.emergence_config import EmergenceConfig, preset_config
from socialview.benchmarks.emergence_report import CSV_COLUMNS, READOUT_KEYS, flat_point

#: The smoke preset with an even smaller budget: every output, a few seconds.
TINY_FLAGS = ["--train-steps", "20", "--dataset-steps", "200", "--eval-steps", "300"]


def _run(out):
    return main(["emergence", "--preset", "smoke", *TINY_FLAGS, "--out", str(out), "--quiet"])


def _numbers(record):
    """A record's measured numbers, without wall-clock timings and paths."""
    compare = {k: v for k, v in record["compare"].items() if k != "elapsed_s"}
    flops = {camera: train["total_flops"] for camera, train in record["train"].items()}
    return record["probe"], compare, record["transfer"], flops


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One tiny run through the command line, shared by the tests below (read-only)."""
    out = tmp_path_factory.mktemp("emergence") / "run"
    return _run(out), out


@pytest.mark.slow
def test_command_writes_every_output_with_checkpoints_and_flops(tiny_run):
    code, out = tiny_run
    assert code == 0
    for name in ("emergence.json", "emergence.csv", "emergence.png", "emergence.svg"):
        assert (out / name).stat().st_size > 500, name
    report = (out / "report.md").read_text()
    assert "Made by: `socialview emergence --preset smoke --dataset-steps 200" in report
    assert "![metrics against training FLOPs](emergence.png)" in report
    result = json.loads((out / "emergence.json").read_text())
    config = EmergenceConfig.from_dict(result["config"])
    assert config.train_steps == 20 and result["versions"]["torch"]
    by_agent = {}
    for record in result["records"]:
        by_agent.setdefault(record["agent"], []).append(record)
    assert set(by_agent) == {"jepa", "random"}
    jepa = by_agent["jepa"]
    # fractions 0, .01, .03, .1, .3, 1 of 20 steps: 0 and 0.2 both round to step 0
    assert [r["step"] for r in jepa] == config.checkpoints("jepa") == [0, 1, 2, 6, 20]
    assert [r["fraction"] for r in jepa] == [0.0, 0.05, 0.1, 0.3, 1.0]
    flops = [r["flops"] for r in jepa]
    assert flops[0] == 0.0 and np.all(np.diff(flops) > 0)
    assert flops[-1] == pytest.approx(20 * jepa[-1]["train"]["cam0"]["flops_per_step"])
    assert [r["step"] for r in by_agent["random"]] == [0]  # never trains: one checkpoint
    # which latent each checkpoint compared, and the spectral gap that decided it
    for train in jepa[-1]["train"].values():
        gap = train["spectral_gap"]
        assert 1 <= gap["width"] <= 8 and gap["ratio"] >= 1.0
        kept = gap["latched"] if (gap["latched_ratio"] or 0.0) >= 2.0 else None
        # a gap is a core if it also holds 80% of the variance and (jepa) 85% of what
        # the actions change in the predictions (findings 21-22); a head's reader guard
        # (finding 22) is None here: jepa has no state head
        guarded = gap["share"] >= 0.8 and (gap["action_share"] is None
                                            or gap["action_share"] >= 0.8)
        assert gap["reader_share"] is None
        assert train["core_width"] == (gap["width"] if gap["ratio"] >= 3.0 and guarded
                                       else kept)
    assert by_agent["random"][0]["train"]["cam0"]["spectral_gap"] is None  # latent readout
    with open(out / "emergence.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == CSV_COLUMNS
        rows = list(reader)
    metrics = {row["metric"] for row in rows}
    assert {"state_probe_r2", "r2_orthogonal", "r2_linear", "linear_cka", "mutual_knn"} <= metrics
    assert {"transfer_accuracy", "pusher_r2_cam0", "objects_knn_r2_cam1",
            "state_share_cam0"} <= metrics
    readout = {m for m in metrics if m.startswith(("core_", "gap_"))}  # jepa's cameras only
    assert readout == {name for camera in ("cam0", "cam1") for name in
                       (f"core_width_{camera}", *(f"gap_{k}_{camera}" for k in READOUT_KEYS))}
    assert len(rows) == 5 * len(metrics) + len(metrics - readout)  # 5 jepa checkpoints + random
    last_width = [row["value"] for row in rows if row["metric"] == "core_width_cam0"
                  and int(row["step"]) == 20]
    width = jepa[-1]["train"]["cam0"]["core_width"]
    assert last_width == ["" if width is None else str(width)]  # empty: the full latent
    report = (out / "report.md").read_text()
    assert "## What each camera compared" in report
    assert report.count("| jepa | 0 | cam") == 2 * len(jepa)  # every checkpoint, each camera
    assert "| random |" not in report.split("## What each camera compared")[1]


@pytest.mark.slow
def test_untrained_checkpoint_probe_equals_a_fresh_agent(tiny_run):
    from socialview.agents import embed, make_agent, world_state
    from socialview.benchmarks.agents_study import probe_summary
    from socialview.benchmarks.sweep_cell import derived_seed

    _, out = tiny_run
    record = json.loads((out / "measurements" / "jepa_seed0_step0.json").read_text())
    evaluation = out / "data" / "eval"
    for camera in ("cam0", "cam1"):
        agent = make_agent("jepa", seed=derived_seed(0, "jepa", camera), latent_dim=16)
        fresh = probe_summary(embed(agent, evaluation, camera), world_state(evaluation), camera)
        for key in ("pooled_r2", "knn_pooled_r2", "pusher_r2", "objects_r2", "state_share"):
            assert record["probe"][camera][key] == pytest.approx(fresh[key], rel=1e-6, abs=1e-9)


@pytest.mark.slow
def test_rerun_after_losing_measurements_gives_the_same_numbers(tiny_run, tmp_path):
    _, original = tiny_run
    out = tmp_path / "run"
    shutil.copytree(original, out)
    measurements = out / "measurements"
    kept = measurements / "jepa_seed0_step20.json"
    kept_mtime = kept.stat().st_mtime_ns
    before = {p.name: json.loads(p.read_text()) for p in measurements.glob("*.json")}
    # as if killed: one measurement lost; another lost with its cached latents, so the
    # run folder (already at step 20) must be retrained from scratch up to step 6
    (measurements / "jepa_seed0_step2.json").unlink()
    (measurements / "jepa_seed0_step6.json").unlink()
    for camera in ("cam0", "cam1"):
        (out / "latents" / "jepa_seed0" / f"{camera}_step6.npz").unlink()
    assert _run(out) == 0
    assert kept.stat().st_mtime_ns == kept_mtime  # reused, not recomputed
    for name in ("jepa_seed0_step2.json", "jepa_seed0_step6.json"):
        redone = json.loads((measurements / name).read_text())
        ours, theirs = _numbers(redone), _numbers(before[name])
        assert json.dumps(ours, sort_keys=True) == json.dumps(theirs, sort_keys=True), name


@pytest.mark.slow
def test_latents_and_runs_of_another_agent_config_are_not_reused(tiny_run, tmp_path):
    _, original = tiny_run
    out = tmp_path / "run"
    shutil.copytree(original, out)
    name = "jepa_seed0_step6.json"
    before = json.loads((out / "measurements" / name).read_text())
    # as if made before a default changed: the cache and the run say another config
    cache = out / "latents" / "jepa_seed0" / "cam0_step6.npz"
    with np.load(cache) as stored:
        kept = {key: stored[key] for key in stored.files}
    np.savez(cache, **{**kept, "agent": np.array('{"head": "flatten"}')})
    run_config = out / "runs" / "jepa_seed0" / "cam0" / "config.json"
    saved = json.loads(run_config.read_text())
    run_config.write_text(json.dumps({**saved, "agent_config": {"head": "flatten"}}))
    (out / "measurements" / name).unlink()
    assert _run(out) == 0
    with np.load(cache) as stored:
        assert str(stored["agent"]) != '{"head": "flatten"}'  # measured again
    assert json.loads(run_config.read_text())["agent_config"] == saved["agent_config"]
    redone = json.loads((out / "measurements" / name).read_text())
    assert json.dumps(_numbers(redone), sort_keys=True) == json.dumps(_numbers(before),
                                                                      sort_keys=True)


@pytest.mark.slow
def test_a_run_of_another_readout_is_read_again_not_retrained(tiny_run, tmp_path):
    """As if trained before jepa's readout default changed (the slowness rules off): the
    last checkpoint is measured again from the run folder, by calibration alone."""
    _, original = tiny_run
    out = tmp_path / "run"
    shutil.copytree(original, out)
    name = "jepa_seed0_step20.json"
    before = json.loads((out / "measurements" / name).read_text())
    for camera in ("cam0", "cam1"):
        run_config = out / "runs" / "jepa_seed0" / camera / "config.json"
        saved = json.loads(run_config.read_text())
        saved["agent_config"]["core_slow_step"] = 0.0
        run_config.write_text(json.dumps(saved))
        (out / "latents" / "jepa_seed0" / f"{camera}_step20.npz").unlink()
    (out / "measurements" / name).unlink()
    assert _run(out) == 0
    redone = json.loads((out / "measurements" / name).read_text())
    assert all(train["resumed_from"] == 20 for train in redone["train"].values())
    assert json.dumps(_numbers(redone), sort_keys=True) == json.dumps(_numbers(before),
                                                                      sort_keys=True)


@pytest.mark.slow
def test_adding_a_seed_reuses_the_measured_ones_and_other_changes_are_refused(
        tiny_run, tmp_path, capsys):
    _, original = tiny_run
    out = tmp_path / "run"
    shutil.copytree(original, out)
    kept = out / "measurements" / "jepa_seed0_step20.json"
    kept_mtime = kept.stat().st_mtime_ns
    grown = ["emergence", "--preset", "smoke", *TINY_FLAGS, "--seeds", "0", "1",
             "--out", str(out), "--quiet"]
    assert main(grown) == 0  # a seed more: seed 0's measurements are reused
    assert kept.stat().st_mtime_ns == kept_mtime
    assert (out / "measurements" / "jepa_seed1_step20.json").is_file()
    saved = json.loads((out / "config.json").read_text())["config"]
    assert saved["seeds"] == [0, 1] and saved["agents"] == ["jepa", "random"]
    changed = ["emergence", "--preset", "smoke", *TINY_FLAGS, "--seeds", "0", "1",
               "--overlap", "0.5", "--out", str(out), "--quiet"]
    assert main(changed) != 0
    assert "settings differ: ['overlap']" in capsys.readouterr().err


@pytest.mark.slow
def test_pixel_pca_is_measured_from_its_first_step(tiny_run, tmp_path):
    """pca has no latent before it has seen frames: its curve starts after one step."""
    _, original = tiny_run
    out = tmp_path / "run"
    shutil.copytree(original, out)
    grown = ["emergence", "--preset", "smoke", *TINY_FLAGS, "--agents", "jepa", "random",
             "pca", "--out", str(out), "--quiet"]
    assert main(grown) == 0
    config = EmergenceConfig.from_dict(json.loads((out / "config.json").read_text())["config"])
    steps = sorted(int(p.stem.rsplit("step", 1)[1])
                   for p in (out / "measurements").glob("pca_seed0_step*.json"))
    assert steps == config.checkpoints("pca") and steps[0] == 1
    first = json.loads((out / "measurements" / "pca_seed0_step1.json").read_text())
    assert all(np.isfinite(first["probe"][camera]["pooled_r2"]) for camera in first["probe"])


def test_a_control_without_counted_flops_is_drawn_where_it_ends():
    """pca learns (it keeps frames) without a counted FLOP: its line is its last
    checkpoint, not its first; an agent with counted FLOPs is a curve."""
    pca = [{"step": 64, "flops": 0.0, "mean": 0.6, "low": 0.59, "high": 0.61},
           {"step": 1, "flops": 0.0, "mean": 0.06, "low": 0.02, "high": 0.08}]
    assert flat_point(pca)["mean"] == 0.6
    random = [{"step": 0, "flops": 0.0, "mean": -0.2, "low": -0.5, "high": 0.0}]
    assert flat_point(random)["mean"] == -0.2
    assert flat_point([{**random[0]}, {"step": 5, "flops": 1e9, "mean": 0.5}]) is None


def test_checkpoints_are_distinct_rounded_fractions():
    config = EmergenceConfig.from_dict({"train_steps": 1000, "agent_steps": {"pca": 3}})
    assert config.checkpoints("jepa") == [0, 10, 30, 100, 300, 1000]
    # pca has no latent before it has seen frames: it starts after its first step
    assert config.checkpoints("pca") == [1, 3]
    assert EmergenceConfig.from_dict({"fractions": [0.0, 0.5, 1.0], "agent_steps": {
        "pca": 4}}).checkpoints("pca") == [1, 2, 4]
    with pytest.raises(ValueError, match=r"agent_steps\['pca'\] must be >= 1"):
        EmergenceConfig.from_dict({"agent_steps": {"pca": 0}}).checkpoints("pca")
    assert config.checkpoints("random") == [0]
    assert preset_config("quick").train_steps == 5 * QUICK_STEPS  # five times the quick budget
    assert EmergenceConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"fractions": [0.0, 0.5, 0.3]}, r"fractions must be .*strictly increasing.*0\.3"),
        ({"fractions": [0.0, 1.5]}, r"fractions must be .*in \[0, 1\].*1\.5"),
        ({"fractions": []}, r"fractions must be a non-empty"),
        ({"overlap": 1.2}, r"overlap must be a number in \[0, 1\], got 1\.2"),
        ({"train_steps": 0}, r"train_steps must be an integer >= 1, got 0"),
        ({"agent_steps": {"jepa": -1}}, r"agent_steps\['jepa'\] must be an integer >= 0"),
        ({"seeds": []}, r"seeds must be a non-empty list"),
        ({"image_size": 0}, r"image_size must be an integer >= 1, got 0"),
        ({"dataset_seed": -2}, r"dataset_seed must be an integer >= 0, got -2"),
        ({"overlaps": [0.5]}, r"unknown emergence setting\(s\) \['overlaps'\]; known.*'overlap'"),
        ({"device": "cuda:x"}, r"device must be 'cpu', 'auto' .*'cuda:N', got 'cuda:x'"),
    ],
)
def test_bad_settings_name_the_setting_and_what_is_allowed(values, message):
    with pytest.raises(ValueError, match=message):
        EmergenceConfig.from_dict(values)


def test_command_line_errors_exit_2_with_a_message(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["emergence", "--preset", "nope", "--out", out]) == 2
    assert "unknown preset 'nope'; choose one of ['full', 'quick', 'smoke']" in (
        capsys.readouterr().err
    )
    assert main(["emergence", "--preset", "smoke", "--agents", "nosuch", "--out", out]) == 2
    assert "nosuch" in capsys.readouterr().err
    config = tmp_path / "emergence.yaml"
    config.write_text("fractions: [0.0, 1.0]\ntrain_step: 5\n")
    assert main(["emergence", "--config", str(config), "--out", out]) == 2
    assert "unknown emergence setting(s) ['train_step']" in capsys.readouterr().err
    from socialview.benchmarks.emergence import main as module_main

    assert module_main(["--preset", "smoke", "--overlap", "1.5", "--out", out]) == 2
    assert "overlap must be a number in [0, 1], got 1.5" in capsys.readouterr().err
    if not torch.cuda.is_available():  # a GPU this machine lacks: refused before recording
        assert main(["emergence", "--preset", "smoke", "--device", "cuda", "--out", out]) == 2
        assert "device 'cuda' needs CUDA, but torch" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()  # nothing written before the config is valid


def test_config_file_and_flags_override_the_preset(tmp_path):
    import argparse

    from socialview.benchmarks.emergence import add_arguments, resolve_config

    config = tmp_path / "emergence.yaml"
    config.write_text("fractions: [0.0, 0.5, 1.0]\nseeds: [4]\n")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--preset", "smoke", "--config", str(config), "--seeds", "7"])
    resolved = resolve_config(args)
    assert resolved.fractions == [0.0, 0.5, 1.0]  # from the file
    assert resolved.seeds == [7]  # the flag wins over the file
    assert resolved.image_size == 32  # the preset underneath
    assert np.isclose(resolved.overlap, 1.0)


def _orthogonal_points(means, spread=0.01):
    return [{"agent": "jepa", "step": step, "metric": "r2_orthogonal", "flops": step * 1e9,
             "mean": mean, "low": mean - spread, "high": mean + spread, "n_seeds": 2}
            for step, mean in zip((0, 50, 1500, 50000), means, strict=True)]


def test_the_persistence_sentence_says_a_fall_from_the_peak_beyond_the_band():
    from socialview.benchmarks.emergence_report import persistence_sentence

    fell_back = persistence_sentence(_orthogonal_points([-0.4, 0.73, 0.945, 0.746]), "jepa")
    assert "did not change beyond the seed band" in fell_back  # first against last
    assert "fallen from there beyond the seed band (0.945 [0.935, 0.955] at the peak)" in fell_back
    held = persistence_sentence(_orthogonal_points([-0.4, 0.73, 0.945, 0.94]), "jepa")
    assert "rose beyond the seed band" in held and "fallen" not in held
