"""The distillation-migration benchmark: a tiny three-seed run, its accounting, its CLI."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import itertools
import json
import math
import shutil

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from socialview.agents import load_agent
from socialview.benchmarks.migration import (
    PRESETS,
    MigrationConfig,
    RatioSummary,
    config_from_args,
    flops_ratio_at_target,
    flops_to_reach,
    get_preset,
    load_config,
    register,
    relative_target,
    run_migration,
    summarise_ratios,
    summary_lines,
    upgrade_result,
)
from socialview.benchmarks.migration_curves import curve_ratios
from socialview.benchmarks.migration_data import probe_split
from socialview.envs import load_dataset
from socialview.envs.labels import DEFAULT_LABEL, LABELS, dataset_labels

TOP_KEYS = {"benchmark", "format_version", "config", "accounting", "summary", "seeds",
            "versions", "wall_time_s", "files"}
SEED_KEYS = {"format_version", "seed", "config", "agent_config", "reused", "ratios", "chance",
             "reference", "a", "scratch", "distill", "probe", "datasets", "wall_time_s"}
RATIO_KEYS = {"target_accuracy", "scratch_flops_at_target", "distill_flops_at_target",
              "ratio_at_target", "ratio_at_target_including_a", "reason",
              "best_accuracy_scratch", "best_accuracy_distill", "relative_fraction",
              "relative_level", "ratio_at_relative_level",
              "ratio_at_relative_level_including_a", "common_level",
              "ratio_at_common_level", "ratio_at_common_level_including_a", "paper_ratio"}
SUMMARY_RATIOS = ("ratio_at_target", "ratio_at_target_including_a", "ratio_at_relative_level",
                  "ratio_at_relative_level_including_a")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="socialview")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def _pairs(curve, extra=0.0):
    return [(p["cumulative_flops"] + extra, p["accuracy"]) for p in curve]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """One run of the smoke preset (three seeds), shared by the tests that read its outputs.

    Tests that run again work on a copy (:func:`_copy_of`), so this folder stays as made.
    """
    out = tmp_path_factory.mktemp("migration")
    result = run_migration(PRESETS["smoke"], out, progress=False)
    return out, result


def _copy_of(smoke, tmp_path):
    out, _ = smoke
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    return copy


@pytest.mark.slow
def test_smoke_run_writes_a_consistent_result(smoke):
    out, _ = smoke
    cfg = PRESETS["smoke"]
    assert cfg.seeds == [0, 1, 2]
    on_disk = json.loads((out / "migration.json").read_text())
    assert set(on_disk) == TOP_KEYS
    assert on_disk["format_version"] == 2
    assert MigrationConfig.from_dict(on_disk["config"]) == cfg
    assert "FlopCounterMode" in on_disk["accounting"]
    assert "relative_fraction" in on_disk["accounting"]
    assert [s["seed"] for s in on_disk["seeds"]] == [0, 1, 2]

    summary = on_disk["summary"]
    assert summary["seeds"] == [0, 1, 2] and summary["n_seeds"] == 3
    for name in SUMMARY_RATIOS:
        assert summary[name]["n_seeds"] == 3
        assert 0 <= summary[name]["n_reached"] <= 3
    for name in ("best_accuracy_scratch", "best_accuracy_distill", "a_probe_accuracy",
                 "chance", "raw_pixels_b_accuracy"):
        spread = summary[name]
        assert spread["min"] <= spread["mean"] <= spread["max"], name

    expected_steps = list(range(0, cfg.b_steps + 1, cfg.eval_every))
    for seed, entry in zip(cfg.seeds, on_disk["seeds"], strict=True):
        assert set(entry) == SEED_KEYS
        assert entry["reused"] is False
        # Its own folder, its own result, the same content as in migration.json.
        folder = out / f"seed{seed}"
        assert json.loads((folder / "result.json").read_text()) == entry
        assert (folder / "data" / "train" / "meta.json").is_file()
        meta = json.loads((folder / "data" / "train" / "meta.json").read_text())
        assert meta["env_kwargs"]["rig"] == "zoom" and meta["target_overlap"] == 1.0
        assert (folder / "runs" / "a").is_dir()
        assert "seeds" not in entry["config"] and "seed" not in entry["config"]
        assert RATIO_KEYS <= set(entry["ratios"])
        # Derived seeds as with one seed: A and the recordings use the seed, B and B' seed + 1.
        assert entry["a"]["seed"] == seed == entry["datasets"]["train"]["seed"]
        assert entry["scratch"]["seed"] == entry["distill"]["seed"] == seed + 1
        assert entry["datasets"]["eval"]["seed"] == seed + 1_000_000

        for key in ("scratch", "distill"):
            curve = entry[key]["curve"]
            assert [p["step"] for p in curve] == expected_steps
            flops = [p["cumulative_flops"] for p in curve]
            assert all(b > a for a, b in itertools.pairwise(flops)), key
            assert all(0.0 <= p["accuracy"] <= 1.0 for p in curve)
            assert entry[key]["flops_per_step"] > 0
            # Normal training costs the same per step on both paths (same architecture).
            assert [p["train_flops"] for p in curve] == pytest.approx(
                [s * entry[key]["flops_per_step"] for s in expected_steps])

        dist = entry["distill"]["distillation"]
        assert dist["steps"] == cfg.distill_steps
        assert min(dist["teacher_flops"], dist["student_flops"], dist["map_flops"]) > 0
        assert dist["total_flops"] == pytest.approx(
            dist["teacher_flops"] + dist["student_flops"] + dist["map_flops"])
        # The distill path starts where distillation left it, the scratch path at zero.
        assert entry["distill"]["curve"][0]["cumulative_flops"] == pytest.approx(
            dist["total_flops"])
        assert entry["scratch"]["curve"][0]["cumulative_flops"] == 0.0
        assert entry["scratch"]["flops_per_step"] == entry["distill"]["flops_per_step"]
        # Regressing onto A's mapped latents does reduce the regression loss.
        assert dist["loss_last"] < dist["loss_first"]

        a = entry["a"]
        assert a["steps"] == cfg.a_steps
        assert a["train_flops"] > 0
        assert a["train_flops"] == pytest.approx(a["flops_per_step"] * cfg.a_steps)
        assert 0.0 <= a["probe_accuracy"] <= 1.0
        pixels = entry["reference"]["raw_pixels_probe_accuracy"]
        assert set(pixels) == {cfg.camera_a, cfg.camera_b}
        assert all(0.0 <= v <= 1.0 for v in pixels.values())

        probe = entry["probe"]
        spec = LABELS[DEFAULT_LABEL]
        assert (probe["label"], probe["description"]) == (DEFAULT_LABEL, spec.description)
        assert probe["classes"] >= 2
        assert 1.0 / probe["classes"] <= entry["chance"] <= 1.0  # majority share
        assert probe["train_episodes"] and probe["test_episodes"]
        assert max(probe["train_episodes"]) < min(probe["test_episodes"])  # whole episodes
        assert probe["n_train"] + probe["n_test"] + probe["n_undefined"] == cfg.eval_steps


@pytest.mark.slow
def test_smoke_ratios_follow_the_curves(smoke):
    _, result = smoke
    cfg = PRESETS["smoke"]
    for entry in result["seeds"]:
        r = entry["ratios"]
        scratch, distill = entry["scratch"]["curve"], entry["distill"]["curve"]
        a_flops = entry["a"]["train_flops"]
        target = cfg.target_accuracy
        assert r["scratch_flops_at_target"] == flops_to_reach(scratch, target)
        assert r["distill_flops_at_target"] == flops_to_reach(distill, target)
        level = relative_target(_pairs(scratch), cfg.relative_fraction)
        assert r["relative_level"] == pytest.approx(level)
        expected = {
            "ratio_at_target": flops_ratio_at_target(_pairs(scratch), _pairs(distill), target),
            "ratio_at_target_including_a": flops_ratio_at_target(
                _pairs(scratch), _pairs(distill, a_flops), target),
            "ratio_at_relative_level": flops_ratio_at_target(
                _pairs(scratch), _pairs(distill), level),
            "ratio_at_relative_level_including_a": flops_ratio_at_target(
                _pairs(scratch), _pairs(distill, a_flops), level),
        }
        for name, value in expected.items():
            if value is None:
                assert r[name] is None, name
            else:
                assert r[name] == pytest.approx(value), name
        if r["ratio_at_target"] is None:
            assert r["reason"]
        # The scratch path reaches its own relative level by construction.
        assert r["scratch_flops_at_relative_level"] is not None
        best = [max(p["accuracy"] for p in c) for c in (scratch, distill)]
        assert r["common_level"] == pytest.approx(min(best))
    for name in SUMMARY_RATIOS:
        assert result["summary"][name] == summarise_ratios(
            [e["ratios"][name] for e in result["seeds"]]).to_json()


@pytest.mark.slow
def test_teacher_flops_match_one_forward_per_paired_frame(smoke):
    out, result = smoke
    cfg = PRESETS["smoke"]
    agent_a = load_agent(out / "seed0" / "runs" / "a")
    frame = torch.zeros((1, cfg.image_size, cfg.image_size, 3), dtype=torch.uint8)
    with FlopCounterMode(display=False) as counter:
        agent_a.encode(frame)
    dist = result["seeds"][0]["distill"]["distillation"]
    assert dist["teacher_flops"] == pytest.approx(counter.get_total_flops()
                                                  * dist["teacher_frames"])
    assert dist["teacher_frames"] <= cfg.distill_steps * cfg.batch_size + cfg.map_anchors


@pytest.mark.slow
def test_charts_csv_and_summary_are_written(smoke):
    out, result = smoke
    png, svg, table = out / "migration.png", out / "migration.svg", out / "migration.csv"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    assert "<svg" in svg.read_text()[:2000] and svg.stat().st_size > 5000
    assert sorted(result["files"]) == sorted([str(png), str(svg), str(table)])
    assert not list(out.rglob(".*partial*"))  # atomic writes leave no temporary file

    with table.open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["seed", "path", "step", "cumulative_flops", "accuracy"]
    cfg = PRESETS["smoke"]
    assert len(rows) == len(cfg.seeds) * 2 * (cfg.b_steps // cfg.eval_every + 1)
    last = result["seeds"][2]["distill"]["curve"][-1]
    assert rows[-1] == {"seed": "2", "path": "distill", "step": str(last["step"]),
                        "cumulative_flops": repr(last["cumulative_flops"]),
                        "accuracy": repr(last["accuracy"])}

    lines = summary_lines(result)
    assert DEFAULT_LABEL in lines[0]
    assert [line.split(":")[0] for line in lines[1:4]] == ["seed 0", "seed 1", "seed 2"]
    text = "\n".join(lines)
    assert text.count("of 3)") == 4  # both levels, with and without A
    assert "0.9 x best scratch" in text and "85%" in text


@pytest.mark.slow
def test_rerun_with_another_seed_reuses_the_finished_ones(smoke, tmp_path):
    out = _copy_of(smoke, tmp_path)
    (out / "migration.json").unlink()  # as if killed before the end
    stamps = {s: (out / f"seed{s}" / "result.json").stat().st_mtime_ns for s in (0, 1, 2)}
    cfg = PRESETS["smoke"].replace(seeds=[0, 1, 2, 3])
    again = run_migration(cfg, out, progress=False)
    assert [e["seed"] for e in again["seeds"]] == [0, 1, 2, 3]
    assert [e["reused"] for e in again["seeds"]] == [True, True, True, False]
    for s, mtime in stamps.items():
        assert (out / f"seed{s}" / "result.json").stat().st_mtime_ns == mtime
    assert (out / "seed3" / "result.json").is_file()
    assert again["summary"]["n_seeds"] == 4
    assert all(again["summary"][name]["n_seeds"] == 4 for name in SUMMARY_RATIOS)
    _, first = smoke
    assert again["seeds"][1]["ratios"] == first["seeds"][1]["ratios"]
    assert json.loads((out / "migration.json").read_text())["config"]["seeds"] == [0, 1, 2, 3]


def test_a_finished_seed_made_under_other_agent_defaults_is_not_reused(smoke, tmp_path):
    from socialview.agents.jepa import JEPAConfig
    from socialview.benchmarks.migration_run import _finished_seed, resolved_agent_config

    out, _ = smoke
    cfg = PRESETS["smoke"]
    resolved = resolved_agent_config(cfg, 0)
    assert resolved["lr"] == JEPAConfig.lr  # the default, though the config names none
    path = out / "seed0" / "result.json"
    assert _finished_seed(path, cfg, 0) is not None
    entry = json.loads(path.read_text())
    entry["agent_config"] = {**resolved, "lr": resolved["lr"] / 2}  # an older default
    stale = tmp_path / "result.json"
    stale.write_text(json.dumps(entry))
    assert _finished_seed(stale, cfg, 0) is None


@pytest.mark.slow
def test_rerun_reuses_datasets_and_agent_a_and_is_deterministic(smoke, tmp_path):
    out = _copy_of(smoke, tmp_path)
    _, first = smoke
    short = PRESETS["smoke"].replace(b_steps=10, distill_steps=5, seeds=[0])
    again = run_migration(short, out, progress=False)
    (entry,) = again["seeds"]
    assert not entry["reused"]  # another config: the seed runs again ...
    assert entry["datasets"]["train"]["reused"] and entry["datasets"]["eval"]["reused"]
    assert entry["a"]["reused"]  # ... but its recordings and A are reused
    assert entry["a"]["probe_accuracy"] == first["seeds"][0]["a"]["probe_accuracy"]
    # Same seeds, same data, CPU: the scratch path repeats bit for bit.
    assert entry["scratch"]["curve"][:2] == [
        {**p, "wall_time_s": q["wall_time_s"]}
        for p, q in zip(first["seeds"][0]["scratch"]["curve"][:2],
                        entry["scratch"]["curve"][:2], strict=True)]


@pytest.mark.slow
@pytest.mark.parametrize("label", ["pusher_heading", "contact_soon"])
def test_probe_drops_frames_whose_label_is_undefined(smoke, label):
    out, _ = smoke
    eval_dir = out / "seed0" / "data" / "eval"
    episode = np.asarray(load_dataset(eval_dir).array("episode"))
    labels = dataset_labels(eval_dir, label)
    undefined = labels < 0
    assert undefined.any()  # future-looking: an episode's last frames have no label
    split = probe_split(eval_dir, 0.6, label)
    assert (split.labels[split.train] >= 0).all() and (split.labels[split.test] >= 0).all()
    kept = np.zeros(labels.size, dtype=bool)
    kept[split.train] = kept[split.test] = True
    assert (kept == ~undefined).all()  # every defined frame is used, no undefined one
    assert set(episode[split.train]).isdisjoint(episode[split.test])
    probe = split.to_json(1e-3)
    assert probe["n_undefined"] == int(undefined.sum())
    assert (probe["label"], probe["classes"]) == (label, LABELS[label].classes(3))
    latents = np.eye(LABELS[label].classes(3))[np.maximum(labels, 0)]  # the label itself
    assert split.accuracy(latents, 1e-3) == pytest.approx(1.0)
    # A current-frame label is defined everywhere.
    whole = probe_split(eval_dir, 0.6, "quadrant")
    assert whole.train.size + whole.test.size == labels.size


@pytest.mark.slow
def test_format_1_results_are_read_as_one_seed(smoke):
    _, result = smoke
    entry = result["seeds"][0]
    old = {"benchmark": "migration", "format_version": 1,
           "config": {**entry["config"], "seed": 0},
           "ratios": {"target_accuracy": entry["ratios"]["target_accuracy"]},
           **{k: entry[k] for k in ("a", "scratch", "distill", "chance", "reference",
                                    "probe", "datasets")}}
    del old["config"]["label"], old["config"]["relative_fraction"]
    upgraded = upgrade_result(old)
    assert upgraded["format_version"] == 2 and upgraded["config"]["seeds"] == [0]
    assert upgraded["config"]["label"] == "quadrant"
    assert upgraded["summary"]["n_seeds"] == 1
    assert upgraded["seeds"][0]["ratios"]["ratio_at_target"] == entry["ratios"]["ratio_at_target"]
    assert summary_lines(old)[1].startswith("seed 0")
    assert upgrade_result(result) is result


def test_flops_to_reach_interpolates_between_evaluations():
    curve = [{"cumulative_flops": f, "accuracy": a}
             for f, a in ((0.0, 0.2), (10.0, 0.6), (20.0, 0.9), (30.0, 0.7))]
    assert flops_to_reach(curve, 0.8) == pytest.approx(10.0 + 10.0 * 0.2 / 0.3)
    assert flops_to_reach(curve, 0.6) == 10.0
    assert flops_to_reach(curve, 0.1) == 0.0
    assert flops_to_reach(curve, 0.95) is None


# Synthetic (flops, accuracy) curves: scratch climbs 0.25 -> 0.9 over 30 FLOPs; the
# distilled path pays 4 FLOPs of distillation and starts higher.
SCRATCH = [(0.0, 0.25), (10.0, 0.5), (20.0, 0.7), (30.0, 0.9)]
DISTILLED = [(4.0, 0.5), (9.0, 0.8), (14.0, 0.85), (19.0, 0.95)]


def test_ratio_at_target_when_both_paths_reach_it():
    # Scratch reaches 0.8 between 20 and 30 FLOPs (25); distilled exactly at its checkpoint 9.
    assert flops_ratio_at_target(SCRATCH, DISTILLED, 0.8) == pytest.approx(9.0 / 25.0)
    # At a checkpoint's own accuracy, no interpolation: scratch 20, distilled 4 + 5 * 2/3.
    assert flops_ratio_at_target(SCRATCH, DISTILLED, 0.7) == pytest.approx(
        (4.0 + 5.0 * 0.2 / 0.3) / 20.0)
    # Same answer as the run's own reader of dict curves.
    as_dicts = [{"cumulative_flops": f, "accuracy": a} for f, a in DISTILLED]
    assert flops_to_reach(as_dicts, 0.8) == 9.0


def test_ratio_at_target_is_none_when_a_path_never_reaches_it():
    assert flops_ratio_at_target(SCRATCH, DISTILLED, 0.92) is None  # scratch tops out at 0.9
    assert flops_ratio_at_target(SCRATCH, DISTILLED[:2], 0.85) is None  # distilled stops at 0.8
    assert flops_ratio_at_target(SCRATCH, DISTILLED, 0.99) is None  # neither


def test_ratio_at_target_reached_at_step_zero():
    # The distilled path above target at its first point: its FLOPs are the distillation cost.
    assert flops_ratio_at_target(SCRATCH, DISTILLED, 0.5) == pytest.approx(4.0 / 10.0)
    # A first reach counts even if the curve dips below the target later.
    dipping = [(4.0, 0.6), (9.0, 0.3), (14.0, 0.9)]
    assert flops_ratio_at_target(SCRATCH, dipping, 0.5) == pytest.approx(4.0 / 10.0)
    # Scratch at the target before training (0 FLOPs): nothing to save, no ratio.
    assert flops_ratio_at_target(SCRATCH, DISTILLED, 0.2) is None
    # Both at 0 FLOPs: no ratio either; distilled at 0 FLOPs against a trained scratch: 0.
    assert flops_ratio_at_target([(0.0, 0.9)], [(0.0, 0.9)], 0.5) is None
    assert flops_ratio_at_target(SCRATCH, [(0.0, 0.9)], 0.5) == 0.0


def test_ratio_at_target_refuses_malformed_curves():
    with pytest.raises(ValueError, match="empty"):
        flops_ratio_at_target([], DISTILLED, 0.5)
    with pytest.raises(ValueError, match="decrease"):
        flops_ratio_at_target(SCRATCH, [(4.0, 0.5), (2.0, 0.8)], 0.5)
    with pytest.raises(ValueError, match="non-finite"):
        flops_ratio_at_target(SCRATCH, [(4.0, float("nan"))], 0.5)
    with pytest.raises(ValueError, match="target"):
        flops_ratio_at_target(SCRATCH, DISTILLED, float("nan"))


def test_relative_target_is_a_share_of_the_best_scratch_accuracy():
    level = relative_target(SCRATCH, 0.9)
    assert level == pytest.approx(0.81)  # 90% of 0.9, the best scratch checkpoint
    # The scratch path reaches its own relative level by construction.
    assert flops_ratio_at_target(SCRATCH, DISTILLED, level) == pytest.approx(
        (9.0 + 5.0 * 0.01 / 0.05) / (20.0 + 10.0 * 0.11 / 0.2))
    assert relative_target(SCRATCH, 1.0) == pytest.approx(0.9)
    # Best accuracy anywhere on the curve, not the last checkpoint's.
    assert relative_target([(0.0, 0.3), (10.0, 0.8), (20.0, 0.6)], 0.5) == pytest.approx(0.4)
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="fraction"):
            relative_target(SCRATCH, bad)


def test_curve_ratios_reads_the_relative_level_with_and_without_a():
    scratch = [{"cumulative_flops": f, "accuracy": a} for f, a in SCRATCH]
    distilled = [{"cumulative_flops": f, "accuracy": a} for f, a in DISTILLED]
    r = curve_ratios(scratch, distilled, 0.8, a_flops=10.0, relative_fraction=0.9)
    assert r["relative_level"] == pytest.approx(0.81)
    ratio = flops_ratio_at_target(SCRATCH, DISTILLED, 0.81)
    assert r["ratio_at_relative_level"] == pytest.approx(ratio)
    with_a = [(f + 10.0, a) for f, a in DISTILLED]
    assert r["ratio_at_relative_level_including_a"] == pytest.approx(
        flops_ratio_at_target(SCRATCH, with_a, 0.81))
    assert r["ratio_at_target"] == pytest.approx(9.0 / 25.0)
    assert r["relative_level_reason"] is None
    # A distilled path that never gets there: no ratio, and the reason says why.
    short = curve_ratios(scratch, distilled[:1], 0.8, a_flops=10.0, relative_fraction=0.9)
    assert short["ratio_at_relative_level"] is None
    assert "never reached" in short["relative_level_reason"]


def test_summarise_ratios_gives_a_t_interval_and_counts_seeds_that_reached():
    summary = summarise_ratios([0.2, 0.3, None, 0.4])
    assert isinstance(summary, RatioSummary)
    assert (summary.n_seeds, summary.n_reached) == (4, 3)
    assert summary.mean == pytest.approx(0.3)
    # t(0.975, 2 dof) = 4.302653; sample sd 0.1; half-width t * sd / sqrt(3).
    half = 4.302653 * 0.1 / math.sqrt(3)
    assert summary.ci_low == pytest.approx(0.3 - half, rel=1e-6)
    assert summary.ci_high == pytest.approx(0.3 + half, rel=1e-6)
    assert summary.method.startswith("Student t") and summary.confidence == 0.95
    assert json.loads(json.dumps(summary.to_json())) == summary.to_json()
    narrower = summarise_ratios([0.2, 0.3, 0.4], confidence=0.5)
    assert summary.ci_low < narrower.ci_low < narrower.mean < narrower.ci_high < summary.ci_high


def test_summarise_ratios_with_few_or_no_seeds_reaching():
    one = summarise_ratios([None, 0.5])
    assert (one.mean, one.ci_low, one.ci_high, one.n_reached, one.n_seeds) == (
        0.5, None, None, 1, 2)
    none = summarise_ratios([None, None])
    assert (none.mean, none.ci_low, none.ci_high, none.n_reached, none.n_seeds) == (
        None, None, None, 0, 2)
    assert summarise_ratios([]).n_seeds == 0
    same = summarise_ratios([0.3, 0.3])
    assert same.ci_low == pytest.approx(0.3) and same.ci_high == pytest.approx(0.3)
    with pytest.raises(ValueError, match="finite"):
        summarise_ratios([0.3, float("inf")])
    with pytest.raises(ValueError, match="confidence"):
        summarise_ratios([0.3, 0.4], confidence=1.0)


def test_unknown_preset_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "never"
    args = _parser().parse_args(["migrate", "--preset", "nope", "--out", str(out)])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert "nope" in err and all(name in err for name in PRESETS)
    assert not out.exists()
    with pytest.raises(ValueError, match="smoke, quick, full"):
        get_preset("nope")


def test_unknown_or_unfit_agent_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "never"
    args = _parser().parse_args(["migrate", "--preset", "smoke", "--agent", "no-such-agent",
                                 "--out", str(out)])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert "no-such-agent" in err and "jepa" in err
    with pytest.raises(ValueError, match="no trainable `encoder`"):
        PRESETS["smoke"].replace(agent="pca").validate()
    with pytest.raises(ValueError, match="no-such-agent"):
        run_migration(PRESETS["smoke"].replace(agent="no-such-agent"), out, progress=False)
    assert not out.exists()


@pytest.mark.parametrize(("change", "match"), [
    ({"camera_b": "cam0"}, "must differ"),
    ({"camera_b": "left"}, "cam0"),
    ({"map_kind": "ridge"}, "orthogonal"),
    ({"target_accuracy": 1.5}, "target_accuracy"),
    ({"eval_steps": 40}, "2 episodes"),
    ({"b_steps": 0}, "b_steps"),
    ({"seeds": []}, r"seeds must be a non-empty list of integers >= 0, got \[\]"),
    ({"seeds": [0, 1, 0]}, r"seeds must be unique .* \[0, 1, 0\]"),
    ({"seeds": [-1]}, r"seeds .* got \[-1\]"),
    ({"seeds": 3}, "seeds .* got 3"),
    ({"seeds": ["0"]}, "seeds .* got"),
    ({"seeds": [True]}, "seeds .* got"),
    ({"label": "quadrants"}, "label='quadrants' .* contact_soon, nearest_object, .*quadrant"),
    ({"relative_fraction": 0.0}, "relative_fraction .* got 0.0"),
    ({"relative_fraction": 1.5}, "relative_fraction .* got 1.5"),
    ({"relative_fraction": "0.5"}, "relative_fraction"),
    ({"env_kwargs": "zoom"}, "env_kwargs must be a mapping"),
])
def test_bad_values_are_refused(change, match):
    with pytest.raises(ValueError, match=match):
        PRESETS["smoke"].replace(**change).validate()


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_config_round_trips(name, tmp_path):
    cfg = get_preset(name)
    assert cfg.validate() is cfg
    data = cfg.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert MigrationConfig.from_dict(data) == cfg
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    assert load_config(path) == cfg
    assert cfg.replace() is not PRESETS[name]  # presets are never handed out to be mutated
    assert cfg.seeds == PRESETS[name].seeds and cfg.seeds is not PRESETS[name].seeds


def test_presets_run_several_seeds_and_the_default_label():
    assert get_preset("quick").seeds == [0, 1, 2]
    assert get_preset("smoke").seeds == [0, 1, 2]
    assert get_preset("full").seeds == [0, 1, 2, 3, 4]
    assert MigrationConfig().seeds == [0]
    assert MigrationConfig().label == DEFAULT_LABEL
    assert MigrationConfig().relative_fraction == 0.9
    assert MigrationConfig(label="quadrant").validate().label == "quadrant"


def test_legacy_seed_key_loads_as_one_seed(tmp_path):
    assert MigrationConfig.from_dict({"seed": 3}).seeds == [3]
    # A format 1 result's whole config entry (no label, no relative_fraction, one seed).
    old = {k: v for k, v in PRESETS["smoke"].to_dict().items()
           if k not in ("seeds", "label", "relative_fraction")}
    assert MigrationConfig.from_dict({**old, "seed": 7}) == PRESETS["smoke"].replace(seeds=[7])
    path = tmp_path / "old.yaml"
    path.write_text("seed: 4\nb_steps: 20\n")
    assert load_config(path, base=get_preset("smoke")) == PRESETS["smoke"].replace(
        seeds=[4], b_steps=20)
    with pytest.raises(ValueError, match=r"either seeds .* or the legacy seed"):
        MigrationConfig.from_dict({"seed": 1, "seeds": [1, 2]})
    path.write_text("seed: 4\nseeds: [1]\n")
    with pytest.raises(ValueError, match=r"old\.yaml: give either seeds"):
        load_config(path)


def test_config_file_and_overrides_layer_over_the_preset(tmp_path):
    path = tmp_path / "override.yaml"
    path.write_text("b_steps: 20\nmap_kind: linear\nagent_kwargs:\n  width: 8\n")
    args = _parser().parse_args(["migrate", "--preset", "smoke", "--config", str(path),
                                 "--b-steps", "40", "--num-threads", "none",
                                 "--target-accuracy", "0.5"])
    cfg = config_from_args(args)
    expected = PRESETS["smoke"].replace(b_steps=40, map_kind="linear", num_threads=None,
                                        agent_kwargs={"width": 8}, target_accuracy=0.5)
    assert cfg == expected
    args = _parser().parse_args(["migrate", "--preset", "smoke", "--seeds", "3", "1", "4",
                                 "--label", "contact_soon", "--relative-fraction", "0.8"])
    assert config_from_args(args) == PRESETS["smoke"].replace(
        seeds=[3, 1, 4], label="contact_soon", relative_fraction=0.8)
    # The old one-seed flag still works: argparse reads --seed as --seeds.
    args = _parser().parse_args(["migrate", "--preset", "smoke", "--seed", "5"])
    assert config_from_args(args).seeds == [5]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"b_step": 3}))
    with pytest.raises(ValueError, match="b_step"):
        load_config(bad)
    with pytest.raises(ValueError, match="unknown migration config key"):
        MigrationConfig.from_dict({"bogus": 1})


def test_every_field_is_documented_and_has_a_flag():
    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    migrate = sub.choices["migrate"]
    flags = {opt: action for action in migrate._actions for opt in action.option_strings}
    for f in dataclasses.fields(MigrationConfig):
        action = flags[f"--{f.name.replace('_', '-')}"]
        assert action.help, f.name
    assert flags["--seeds"].nargs == "+"
    assert math.isclose(MigrationConfig().target_accuracy, 0.85)
