"""The spectral gap along training: stops resume one run, and the last is the cell's agent."""

from __future__ import annotations

import dataclasses
import json

import pytest

from socialview.benchmarks.gap_trajectory import gap_trajectory, main
from socialview.benchmarks.sweep_config import preset_config


@pytest.fixture(scope="module")
def smoke():
    return dataclasses.replace(preset_config("smoke"), dataset_steps=120)


def test_the_trajectory_ends_where_an_unbroken_run_does(smoke, tmp_path):
    from socialview.agents import train_agent
    from socialview.agents.torch_agent import core_width, spectral_gap
    from socialview.benchmarks.sweep_cell import (
        dataset_seeds,
        derived_seed,
        make_cell_agent,
        record_once,
    )

    train = record_once(tmp_path / "train", smoke, smoke.overlaps[0], dataset_seeds(0)[0],
                        smoke.dataset_steps)
    rows = gap_trajectory(smoke, train, "jepa", 0, "cam0", [2, 6], tmp_path / "run")
    assert [row["step"] for row in rows] == [2, 6]
    assert all(len(row["ratios"]) == 15 and row["widest"][1] >= 1.0 for row in rows)  # 16-d
    unbroken = make_cell_agent(smoke, "jepa", 0, "cam0")
    train_agent(unbroken, train, "cam0", steps=6, seed=derived_seed(0, "jepa", "cam0", "batches"),
                batch_size=smoke.batch_size, device="cpu", progress=False,
                num_threads=smoke.threads_per_cell)
    gap = spectral_gap(unbroken)
    assert rows[-1]["widest"] == [gap["width"], pytest.approx(gap["ratio"])]
    assert rows[-1]["core"] == core_width(unbroken)
    assert rows[-1]["latched"] == (None if gap["latched"] is None
                                   else [gap["latched"], pytest.approx(gap["latched_ratio"])])


@pytest.mark.parametrize(("stops", "message"), [
    ([4, 2], r"stops must be increasing step counts >= 1, got \[4, 2\]"),
    ([0], r"stops must be increasing step counts >= 1, got \[0\]"),
])
def test_bad_stops_name_the_parameter(smoke, tmp_path, stops, message):
    with pytest.raises(ValueError, match=message):
        gap_trajectory(smoke, tmp_path, "jepa", 0, "cam0", stops, tmp_path / "run")


def test_an_agent_without_a_core_readout_is_refused(smoke, tmp_path):
    with pytest.raises(ValueError, match=r"agent 'random' has no core readout"):
        gap_trajectory(smoke, tmp_path, "random", 0, "cam0", [1], tmp_path / "run")


def test_the_command_writes_the_trajectory(smoke, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"config": smoke.to_dict()}))
    out = tmp_path / "out"
    assert main(["--config", str(config), "--overlap", str(smoke.overlaps[0]),
                 "--viewpoint-shift", str(smoke.viewpoint_shifts[0]), "--seed", "0",
                 "--stops", "1", "3", "--out", str(out)]) == 0
    rows = json.loads((out / "trajectory.json").read_text())
    assert [row["step"] for row in rows] == [1, 3] and "running" not in rows[0]


def test_the_running_statistics_are_recorded_between_stops(smoke, tmp_path):
    from socialview.benchmarks.sweep_cell import dataset_seeds, record_once

    train = record_once(tmp_path / "train", smoke, smoke.overlaps[0], dataset_seeds(0)[0],
                        smoke.dataset_steps)
    rows = gap_trajectory(smoke, train, "jepa", 0, "cam0", [2, 4], tmp_path / "run",
                          running_every=1)
    assert [[entry[0] for entry in row["running"]] for row in rows] == [[1, 2], [3, 4]]
    assert all(entry[2] >= 1.0 for row in rows for entry in row["running"])
    with pytest.raises(ValueError, match=r"running_every must be >= 1 or None, got 0"):
        gap_trajectory(smoke, train, "jepa", 0, "cam0", [2], tmp_path / "run2", running_every=0)
