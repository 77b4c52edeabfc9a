"""The overlap sweep end to end: outputs, resume, config, failures, Ray."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from socialview.agents import RandomAgent, register_agent, unregister_agent
from socialview.benchmarks.cli import main
from socialview.benchmarks.sweep_cell import derived_seed, heldout_split
from socialview.benchmarks.sweep_config import PRESETS, SweepConfig, preset_config
from socialview.benchmarks.sweep_report import CSV_COLUMNS, TRANSFER_METRICS

#: Two cells at the smoke preset's sizes: enough for every output, a few seconds each.
TINY = {**PRESETS["smoke"], "overlaps": [0.2, 0.8], "agents": ["random"]}


def _measurements(cell):
    """A cell's measured numbers, without wall-clock timings."""
    return {
        agent: (
            {k: v for k, v in result["compare"].items() if k != "elapsed_s"},
            result["transfer"],
        )
        for agent, result in cell["agents"].items()
    }


def _assert_same_rows(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert (a["cell"], a["agent"], a["metric"]) == (b["cell"], b["agent"], b["metric"])
        assert a["value"] == pytest.approx(b["value"], rel=1e-6, abs=1e-9)


def _cells(out):
    return {p.name: p for p in (out / "cells").glob("*.json")}


@pytest.fixture(scope="module")
def smoke_sweep(tmp_path_factory):
    """The smoke preset run once through the command line, shared by the tests below."""
    out = tmp_path_factory.mktemp("smoke") / "sweep"
    code = main(["sweep", "--preset", "smoke", "--out", str(out), "--quiet"])
    return code, out


@pytest.mark.slow
def test_smoke_preset_end_to_end(smoke_sweep):
    code, out = smoke_sweep
    assert code == 0
    for name in ("sweep.csv", "sweep.json", "sweep.png", "sweep.svg", "views.png", "report.md"):
        assert (out / name).stat().st_size > 500, name
    result = json.loads((out / "sweep.json").read_text())
    config = preset_config("smoke")
    assert result["failed"] == []
    assert len(result["cells"]) == len(config.overlaps) * len(config.seeds)
    measured = [cell["overlap_measured"] for cell in result["cells"]]
    assert all(abs(m - t) <= 0.03 for m, t in zip(measured, config.overlaps, strict=True))
    with open(out / "sweep.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == CSV_COLUMNS
        rows = list(reader)
    metrics = {row["metric"] for row in rows}
    assert {"r2_orthogonal", "r2_linear", "linear_cka", "mutual_knn"} <= metrics
    assert set(TRANSFER_METRICS) <= metrics
    assert {row["agent"] for row in rows} == set(config.agents)
    assert len(rows) == len(result["cells"]) * len(config.agents) * len(metrics)
    report = (out / "report.md").read_text()
    assert "![metrics against measured overlap](sweep.png)" in report
    assert '"train_steps": 30' in report  # the resolved config is in the report


@pytest.mark.slow
def test_interrupted_sweep_resumes_without_redoing_finished_cells(tmp_path):
    out = tmp_path / "sweep"
    config = SweepConfig.from_dict(TINY)
    from socialview.benchmarks.overlap_sweep import run_sweep

    first = run_sweep(config, out, progress=False)
    cells = _cells(out)
    kept, lost = sorted(cells)
    kept_text, lost_text = cells[kept].read_text(), cells[lost].read_text()
    kept_mtime = cells[kept].stat().st_mtime_ns
    cells[lost].unlink()  # as if the sweep had been killed before this cell finished
    second = run_sweep(config, out, progress=False)
    assert cells[kept].stat().st_mtime_ns == kept_mtime  # reused, not recomputed
    assert cells[kept].read_text() == kept_text
    redone = json.loads(cells[lost].read_text())
    assert _measurements(redone) == _measurements(json.loads(lost_text))  # same seeds, numbers
    assert second["rows"] == first["rows"]


def test_out_folder_of_another_sweep_is_refused(tmp_path):
    from socialview.benchmarks.overlap_sweep import SweepError, prepare_out_dir

    out = tmp_path / "sweep"
    prepare_out_dir(out, SweepConfig.from_dict(TINY), force=False)
    (out / "cells").mkdir()
    (out / "cells" / "keep.json").write_text("{}")
    other = SweepConfig.from_dict({**TINY, "seeds": [5]})
    with pytest.raises(SweepError, match=r"holds another sweep's results .*'seeds'"):
        prepare_out_dir(out, other, force=False)
    assert (out / "cells" / "keep.json").exists()  # nothing lost
    prepare_out_dir(out, other, force=True)
    assert not (out / "cells").exists()


def test_config_round_trip_and_file_loading(tmp_path, capsys):
    config = preset_config("quick")
    assert SweepConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    yaml_file = tmp_path / "sweep.yaml"
    yaml_file.write_text("overlaps: [0.1, 0.9]\nseeds: [3]\nagents: [random]\n")
    import argparse

    from socialview.benchmarks.overlap_sweep import add_arguments, resolve_config

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    resolved = resolve_config(
        parser.parse_args(["--preset", "smoke", "--config", str(yaml_file), "--seeds", "4"])
    )
    assert resolved.overlaps == [0.1, 0.9] and resolved.seeds == [4]
    assert resolved.image_size == PRESETS["smoke"]["image_size"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--preset", "huge"], "unknown preset 'huge'; choose one of"),
        (
            ["--preset", "smoke", "--overlaps", "0.2", "1.5"],
            r"overlaps must lie in [0, 1], got 1.5",
        ),
        (["--preset", "smoke", "--agents", "jepa", "nosuchagent"], "nosuchagent"),
        (["--preset", "smoke", "--jobs", "0"], "jobs must be an integer >= 1, got 0"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(tmp_path, capsys, argv, message):
    out = tmp_path / "sweep"
    assert main(["sweep", *argv, "--out", str(out), "--quiet"]) == 2
    assert message in capsys.readouterr().err
    assert not (out / "cells").exists()


def test_unknown_config_key_is_reported():
    with pytest.raises(ValueError, match=r"unknown sweep setting\(s\) \['overlap'\]"):
        SweepConfig.from_dict({"overlap": [0.5]})


def test_heldout_split_falls_on_an_episode_boundary():
    episode = np.repeat(np.arange(8), 100)
    assert heldout_split(episode, 0.25) == 600
    assert heldout_split(np.repeat(np.arange(3), [50, 50, 33]), 0.25) == 100


@pytest.mark.slow
def test_a_crashing_cell_is_recorded_and_the_others_go_on(tmp_path, capsys):
    crash_seed = derived_seed(1, "crash-on-seed-1", "cam0")

    @register_agent("crash-on-seed-1")
    class CrashOnSeedOne(RandomAgent):
        def train_step(self, batch):
            if self.config.seed == crash_seed:
                raise RuntimeError("boom: this agent fails on purpose")
            return super().train_step(batch)

    try:
        out = tmp_path / "sweep"
        config = {
            **TINY,
            "overlaps": [0.5],
            "seeds": [0, 1],
            "agents": ["crash-on-seed-1"],
            "agent_steps": {"crash-on-seed-1": 2},
        }
        (tmp_path / "c.json").write_text(json.dumps(config))
        code = main(
            [
                "sweep",
                "--preset",
                "smoke",
                "--config",
                str(tmp_path / "c.json"),
                "--out",
                str(out),
                "--quiet",
            ]
        )
        assert code == 1
        assert "1 cell(s) failed: overlap0.50_seed1" in capsys.readouterr().err
        result = json.loads((out / "sweep.json").read_text())
        assert result["failed"] == ["overlap0.50_seed1"]
        failed = json.loads((out / "cells" / "overlap0.50_seed1.json").read_text())
        assert "boom: this agent fails on purpose" in failed["error"]
        assert "RuntimeError" in failed["traceback"]
        assert json.loads((out / "cells" / "overlap0.50_seed0.json").read_text())["status"] == "ok"
        assert "## Failed cells" in (out / "report.md").read_text()
    finally:
        unregister_agent("crash-on-seed-1")


@pytest.mark.slow
def test_ray_backend_runs_the_smoke_preset_like_the_local_run(tmp_path, smoke_sweep):
    pytest.importorskip("ray")
    from socialview.benchmarks.overlap_sweep import run_sweep

    _, local_out = smoke_sweep
    local = json.loads((local_out / "sweep.json").read_text())
    distributed = run_sweep(
        preset_config("smoke"), tmp_path / "ray", backend="ray", progress=False
    )  # no address: a local Ray instance
    assert distributed["failed"] == []
    _assert_same_rows(local["rows"], distributed["rows"])


def test_unreachable_ray_address_is_a_clear_error(tmp_path):
    pytest.importorskip("ray")
    from socialview.benchmarks.overlap_sweep import SweepError, run_sweep

    with pytest.raises(SweepError, match="could not reach a Ray cluster at --address"):
        run_sweep(
            SweepConfig.from_dict(TINY),
            tmp_path / "s",
            backend="ray",
            address="127.0.0.1:1",
            progress=False,
        )


@pytest.mark.slow
def test_parallel_jobs_match_the_sequential_run(tmp_path):
    from socialview.benchmarks.overlap_sweep import run_sweep

    config = SweepConfig.from_dict(TINY)
    sequential = run_sweep(config, tmp_path / "one", progress=False)
    parallel = run_sweep(config, tmp_path / "two", jobs=2, progress=False)
    assert parallel["failed"] == []
    _assert_same_rows(sequential["rows"], parallel["rows"])
