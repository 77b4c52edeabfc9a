"""The distillation-migration benchmark: a tiny end-to-end run, its accounting, its CLI."""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math

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
)

TOP_KEYS = {"benchmark", "format_version", "config", "accounting", "ratios", "chance",
            "reference", "a",
            "scratch", "distill", "probe", "datasets", "versions", "wall_time_s", "files"}
RATIO_KEYS = {"target_accuracy", "scratch_flops_at_target", "distill_flops_at_target",
              "ratio_at_target", "ratio_at_target_including_a", "reason",
              "best_accuracy_scratch", "best_accuracy_distill", "common_level",
              "ratio_at_common_level", "ratio_at_common_level_including_a", "paper_ratio"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="socialview")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """One run of the smoke preset, shared by the tests that read its outputs."""
    out = tmp_path_factory.mktemp("migration")
    result = run_migration(PRESETS["smoke"], out, progress=False)
    return out, result


@pytest.mark.slow
def test_smoke_run_writes_a_consistent_result(smoke):
    out, result = smoke
    cfg = PRESETS["smoke"]
    on_disk = json.loads((out / "migration.json").read_text())
    assert set(on_disk) == TOP_KEYS
    assert on_disk["ratios"] == pytest.approx(result["ratios"], nan_ok=True)
    assert MigrationConfig.from_dict(on_disk["config"]) == cfg
    assert RATIO_KEYS <= set(on_disk["ratios"])
    assert "FlopCounterMode" in on_disk["accounting"]

    expected_steps = list(range(0, cfg.b_steps + 1, cfg.eval_every))
    for key in ("scratch", "distill"):
        curve = on_disk[key]["curve"]
        assert [p["step"] for p in curve] == expected_steps
        flops = [p["cumulative_flops"] for p in curve]
        assert all(b > a for a, b in itertools.pairwise(flops)), key
        assert all(0.0 <= p["accuracy"] <= 1.0 for p in curve)
        assert on_disk[key]["flops_per_step"] > 0
        # Normal training costs the same per step on both paths (same architecture).
        assert [p["train_flops"] for p in curve] == pytest.approx(
            [s * on_disk[key]["flops_per_step"] for s in expected_steps])

    dist = on_disk["distill"]["distillation"]
    assert dist["steps"] == cfg.distill_steps
    assert min(dist["teacher_flops"], dist["student_flops"], dist["map_flops"]) > 0
    assert dist["total_flops"] == pytest.approx(
        dist["teacher_flops"] + dist["student_flops"] + dist["map_flops"])
    # The distill path starts where distillation left it, the scratch path at zero.
    assert on_disk["distill"]["curve"][0]["cumulative_flops"] == pytest.approx(dist["total_flops"])
    assert on_disk["scratch"]["curve"][0]["cumulative_flops"] == 0.0
    assert on_disk["scratch"]["flops_per_step"] == on_disk["distill"]["flops_per_step"]
    # Regressing onto A's mapped latents does reduce the regression loss.
    assert dist["loss_last"] < dist["loss_first"]

    a = on_disk["a"]
    assert a["steps"] == cfg.a_steps
    assert a["train_flops"] > 0
    assert a["train_flops"] == pytest.approx(a["flops_per_step"] * cfg.a_steps)
    assert 0.0 <= a["probe_accuracy"] <= 1.0
    assert 0.25 <= on_disk["chance"] <= 1.0  # four quadrants: majority share is >= 1/4
    pixels = on_disk["reference"]["raw_pixels_probe_accuracy"]
    assert set(pixels) == {cfg.camera_a, cfg.camera_b}
    assert all(0.0 <= v <= 1.0 for v in pixels.values())

    probe = on_disk["probe"]
    assert probe["train_episodes"] and probe["test_episodes"]
    assert max(probe["train_episodes"]) < min(probe["test_episodes"])  # later, whole episodes
    assert probe["n_train"] + probe["n_test"] == cfg.eval_steps
    assert on_disk["datasets"]["train"]["seed"] != on_disk["datasets"]["eval"]["seed"]


@pytest.mark.slow
def test_smoke_ratios_follow_the_curves(smoke):
    _, result = smoke
    r = result["ratios"]
    target = r["target_accuracy"]
    f_s = flops_to_reach(result["scratch"]["curve"], target)
    f_d = flops_to_reach(result["distill"]["curve"], target)
    assert r["scratch_flops_at_target"] == f_s and r["distill_flops_at_target"] == f_d
    if f_s is None or f_d is None or f_s == 0:
        assert r["ratio_at_target"] is None
        assert r["reason"]
    else:
        assert r["ratio_at_target"] == pytest.approx(f_d / f_s)
        assert r["ratio_at_target_including_a"] == pytest.approx(
            (f_d + result["a"]["train_flops"]) / f_s)
    best = [max(p["accuracy"] for p in result[k]["curve"]) for k in ("scratch", "distill")]
    assert r["common_level"] == pytest.approx(min(best))
    # Both paths reach the common level by construction.
    assert r["scratch_flops_at_common_level"] is not None
    assert r["distill_flops_at_common_level"] is not None


@pytest.mark.slow
def test_teacher_flops_match_one_forward_per_paired_frame(smoke):
    out, result = smoke
    cfg = PRESETS["smoke"]
    agent_a = load_agent(out / "runs" / "a")
    frame = torch.zeros((1, cfg.image_size, cfg.image_size, 3), dtype=torch.uint8)
    with FlopCounterMode(display=False) as counter:
        agent_a.encode(frame)
    dist = result["distill"]["distillation"]
    assert dist["teacher_flops"] == pytest.approx(counter.get_total_flops()
                                                  * dist["teacher_frames"])
    assert dist["teacher_frames"] <= cfg.distill_steps * cfg.batch_size + cfg.map_anchors


@pytest.mark.slow
def test_charts_are_written(smoke):
    out, result = smoke
    png, svg = out / "migration.png", out / "migration.svg"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    assert "<svg" in svg.read_text()[:2000] and svg.stat().st_size > 5000
    assert sorted(result["files"]) == sorted([str(png), str(svg)])
    assert not list(out.glob(".*partial*"))  # atomic writes leave no temporary file


@pytest.mark.slow
def test_rerun_reuses_datasets_and_agent_a_and_is_deterministic(smoke):
    out, first = smoke
    short = PRESETS["smoke"].replace(b_steps=10, distill_steps=5)
    again = run_migration(short, out, progress=False)
    assert again["datasets"]["train"]["reused"] and again["datasets"]["eval"]["reused"]
    assert again["a"]["reused"]
    assert again["a"]["probe_accuracy"] == first["a"]["probe_accuracy"]
    # Same seeds, same data, CPU: the scratch path repeats bit for bit.
    assert again["scratch"]["curve"][:2] == [
        {**p, "wall_time_s": q["wall_time_s"]}
        for p, q in zip(first["scratch"]["curve"][:2], again["scratch"]["curve"][:2],
                        strict=True)]


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
    assert math.isclose(MigrationConfig().target_accuracy, 0.85)
