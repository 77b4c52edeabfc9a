"""The overlap sweep end to end: outputs, resume, config, failures, unreachable cells, Ray."""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from socialview.agents import RandomAgent, register_agent, unregister_agent
from socialview.benchmarks.cli import main
from socialview.benchmarks.sweep_cell import PIXELS, cell_id, derived_seed, heldout_split
from socialview.benchmarks.sweep_config import PRESETS, SweepConfig, preset_config
from socialview.benchmarks.sweep_report import CSV_COLUMNS, TRANSFER_METRICS
from socialview.envs.labels import DEFAULT_LABEL, LABELS

#: Slide rig at shift 90 (reachable ~[0.23, 0.72]): two cells that run, at the smoke
#: preset's sizes (a few seconds each), and one the rig cannot reach.
TINY = {
    **PRESETS["smoke"],
    "overlaps": [0.3, 0.6, 0.9],
    "viewpoint_shifts": [90.0],
    "rig": "slide",
    "agents": ["random"],
}
UNREACHABLE = cell_id(0.9, 90.0, 0)
CHARTS = ("sweep", "sweep_heatmap", "latent_vs_pixels")


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
        if b["value"] is None:  # e.g. a probe with no visible frames of a body
            assert a["value"] is None
        else:
            assert a["value"] == pytest.approx(b["value"], rel=1e-6, abs=1e-9)


def _cells(out):
    return {p.name: p for p in (out / "cells").glob("*.json")}


@pytest.fixture(scope="module")
def smoke_sweep(tmp_path_factory):
    """The smoke preset run once through the command line, shared by the tests below."""
    out = tmp_path_factory.mktemp("smoke") / "sweep"
    code = main(["sweep", "--preset", "smoke", "--out", str(out), "--quiet"])
    return code, out


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    """TINY run once through the command line (with its unreachable cell), shared below."""
    root = tmp_path_factory.mktemp("tiny")
    (root / "tiny.json").write_text(json.dumps(TINY))
    out = root / "sweep"
    code = main(["sweep", "--preset", "smoke", "--config", str(root / "tiny.json"),
                 "--out", str(out), "--quiet"])  # fmt: skip
    return code, out


@pytest.mark.slow
def test_smoke_preset_end_to_end(smoke_sweep):
    code, out = smoke_sweep
    assert code == 0
    outputs = ["sweep.csv", "sweep.json", "views.png", "report.md"]
    outputs += [f"{chart}.{suffix}" for chart in CHARTS for suffix in ("png", "svg")]
    for name in outputs:
        assert (out / name).stat().st_size > 500, name
    result = json.loads((out / "sweep.json").read_text())
    config = preset_config("smoke")
    assert len(config.overlaps) >= 2 and len(config.viewpoint_shifts) >= 2  # a 2-D grid
    assert result["failed"] == [] and result["unreachable"] == []
    assert len(result["cells"]) == (
        len(config.overlaps) * len(config.viewpoint_shifts) * len(config.seeds)
    )
    grid = {(c["overlap_target"], c["viewpoint_shift"]) for c in result["cells"]}
    assert grid == {(o, s) for o in config.overlaps for s in config.viewpoint_shifts}
    assert all(abs(c["overlap_measured"] - c["overlap_target"]) <= 0.03 for c in result["cells"])
    assert {c["cell"] for c in result["cells"]} >= {cell_id(0.3, 90.0, 0)}
    # which latent each camera of the core-readout agent compared, cell by cell
    for entry in result["cells"]:
        assert set(entry["readout"]) == {"jepa"}  # random keeps its latent: nothing to say
        for camera in ("cam0", "cam1"):
            readout = entry["readout"]["jepa"][camera]
            gap = readout["spectral_gap"]
            # a latched width whose ratio holds at core_keep (1.5) comes first (sticky);
            # else the widest gap, if it reaches core_gap (3) and holds core_share (0.8)
            # of the variance and core_action_share (0.8) of the actions' effect
            held = gap["latched"] if (gap["latched_ratio"] or 0.0) >= 1.5 else None
            guarded = gap["share"] >= 0.8 and gap["action_share"] >= 0.8
            assert gap["reader_share"] is None  # jepa has no state head to guard it
            found = gap["width"] if gap["ratio"] >= 3.0 and guarded else None
            assert readout["core_width"] == (held or found)
    with open(out / "sweep.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == CSV_COLUMNS
        rows = list(reader)
    metrics = {row["metric"] for row in rows}
    assert {"r2_orthogonal", "r2_linear", "linear_cka", "mutual_knn"} <= metrics
    assert set(TRANSFER_METRICS) <= metrics
    assert {f"transfer_accuracy_{label}" for label in LABELS} <= metrics  # every task label
    cell = json.loads(next((out / "cells").glob("*.json")).read_text())
    transfer = cell["agents"]["random"]["transfer"]
    assert transfer["label"] == DEFAULT_LABEL
    assert transfer["transfer_accuracy"] == transfer["labels"][DEFAULT_LABEL]["transfer_accuracy"]
    probes = {"state_probe_r2", "state_probe_r2_cam0", "state_probe_r2_cam1",
              "state_probe_knn_r2", "state_probe_pusher_r2", "state_probe_objects_r2",
              "state_share", "state_share_cam0"}
    assert probes <= metrics
    # every agent and the raw-pixel reference: one row per cell x agent x metric
    assert {row["agent"] for row in rows} == {*config.agents, PIXELS}
    assert len(rows) == len(result["cells"]) * (len(config.agents) + 1) * len(metrics)
    assert {float(row["viewpoint_shift"]) for row in rows} == set(config.viewpoint_shifts)
    assert {row["reference"] for row in rows if row["agent"] == PIXELS} == {"True"}
    report = (out / "report.md").read_text()
    knows, alike = report.index("## Does each agent know the world?"), report.index("## How alike")
    assert knows < alike < report.index("![state probe and alignment")
    assert "| pixels | raw pixels (reference) |" in report
    assert "`jepa` state-probe R²" in report and "`random` untrained control" in report
    assert "| state share |" in report
    jepa_row = next(line for line in report.splitlines() if line.startswith("| jepa |"))
    assert not jepa_row.rstrip(" |").endswith("–")  # the share is measured, not missing
    assert '"train_steps": 30' in report  # the resolved config is in the report
    assert "### Zero-shot transfer per task label" in report
    assert f"| `{DEFAULT_LABEL}` (default) |" in report
    # which latent each camera compared: one row per cell x camera of the core agent
    compared = report.split("### What each camera compared")[1].split("## Configuration")[0]
    table = [line for line in compared.splitlines() if line.startswith("| ")][1:]
    assert len(table) == 2 * len(result["cells"])
    assert all(line.split(" | ")[3] == "jepa" for line in table)  # random has no core
    first = result["cells"][0]
    width = first["readout"]["jepa"]["cam0"]["core_width"]
    assert (f"| {first['viewpoint_shift']:g}° | {first['overlap_target']:.2f} | "
            f"{first['seed']} | jepa | cam0 | "
            f"{'full latent' if width is None else f'{width}-d core'} |") in compared


@pytest.mark.slow
def test_unreachable_cells_are_recorded_and_skipped(tiny_sweep):
    code, out = tiny_sweep
    assert code == 0  # a hole in the grid is not a failure
    result = json.loads((out / "sweep.json").read_text())
    assert result["failed"] == [] and result["unreachable"] == [UNREACHABLE]
    hole = json.loads((out / "cells" / f"{UNREACHABLE}.json").read_text())
    assert hole["status"] == "unreachable" and hole["viewpoint_shift"] == 90.0
    low, high = hole["reachable"]
    assert high < 0.9 - 0.02 and low <= 0.3  # outside the env's tolerance
    assert not (out / "cells" / UNREACHABLE).exists()  # nothing was recorded or trained
    assert all(row["cell"] != UNREACHABLE for row in result["rows"])
    assert {c["status"] for c in result["cells"]} == {"ok", "unreachable"}
    report = (out / "report.md").read_text()
    assert "## Unreachable settings" in report and "overlap 0.90 at shift 90°" in report
    assert "| random | 90° | 0.90 | unreachable |" in report  # a blank row in the numbers
    for chart in CHARTS:
        assert (out / f"{chart}.png").stat().st_size > 500, chart


@pytest.mark.slow
def test_interrupted_sweep_resumes_without_redoing_finished_cells(tmp_path, tiny_sweep):
    from socialview.benchmarks.overlap_sweep import run_sweep

    out = tmp_path / "sweep"
    shutil.copytree(tiny_sweep[1], out)
    first = json.loads((out / "sweep.json").read_text())
    cells = _cells(out)
    kept, lost = sorted(name for name in cells if not name.startswith(UNREACHABLE))
    kept_text, lost_text = cells[kept].read_text(), cells[lost].read_text()
    kept_mtime = cells[kept].stat().st_mtime_ns
    cells[lost].unlink()  # as if the sweep had been killed before this cell finished
    second = run_sweep(SweepConfig.from_dict(TINY), out, progress=False)
    assert cells[kept].stat().st_mtime_ns == kept_mtime  # reused, not recomputed
    assert cells[kept].read_text() == kept_text
    redone = json.loads(cells[lost].read_text())
    assert _measurements(redone) == _measurements(json.loads(lost_text))  # same seeds, numbers
    assert second["rows"] == first["rows"]


def test_old_single_shift_configs_still_load(tmp_path):
    import argparse

    from socialview.benchmarks.overlap_sweep import add_arguments, prepare_out_dir, resolve_config

    old = {**TINY, "viewpoint_shift": 45.0}
    del old["viewpoint_shifts"]
    config = SweepConfig.from_dict(old)
    assert config.viewpoint_shifts == [45.0] and "viewpoint_shift" not in config.to_dict()
    with pytest.raises(ValueError, match="not both"):
        SweepConfig.from_dict({**old, "viewpoint_shifts": [0.0]})
    # an old sweep folder's config.json is the same sweep in today's form
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "config.json").write_text(json.dumps({"config": old}))
    prepare_out_dir(out, config, force=False)
    # an old file, or the old flag, replaces the preset's shifts
    (tmp_path / "old.json").write_text(json.dumps({"viewpoint_shift": 30}))
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    from_file = resolve_config(parser.parse_args(["--preset", "smoke", "--config",
                                                  str(tmp_path / "old.json")]))  # fmt: skip
    assert from_file.viewpoint_shifts == [30]
    flag = resolve_config(parser.parse_args(["--preset", "smoke", "--viewpoint-shift", "135"]))
    assert flag.viewpoint_shifts == [135.0]
    both = parser.parse_args(["--viewpoint-shifts", "0", "45", "--rig", "zoom"])
    assert resolve_config(both).viewpoint_shifts == [0.0, 45.0]
    assert resolve_config(both).rig == "zoom"


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
        (
            ["--preset", "smoke", "--viewpoint-shifts", "0", "200"],
            r"viewpoint_shifts must lie in [0, 180], got 200.0",
        ),
        (["--preset", "smoke", "--rig", "orbit"], "rig must be one of ['slide', 'zoom']"),
        (["--preset", "smoke", "--rig", "zoom", "--footprint", "0.4"], "applies to rig='slide'"),
        (["--preset", "smoke", "--device", "gpu"], "device must be 'cpu', 'auto'"),
        pytest.param(
            ["--preset", "smoke", "--device", "cuda:0"],
            "device 'cuda:0' needs CUDA, but torch",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA"),
        ),
        (["--preset", "smoke", "--device", "cuda:0", "--backend", "ray"], "use 'cpu' or 'cuda'"),
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
        assert "1 cell(s) failed: overlap0.50_shift90_seed1" in capsys.readouterr().err
        result = json.loads((out / "sweep.json").read_text())
        assert result["failed"] == ["overlap0.50_shift90_seed1"]
        failed = json.loads((out / "cells" / "overlap0.50_shift90_seed1.json").read_text())
        assert "boom: this agent fails on purpose" in failed["error"]
        assert "RuntimeError" in failed["traceback"]
        ok = json.loads((out / "cells" / "overlap0.50_shift90_seed0.json").read_text())
        assert ok["status"] == "ok"
        assert "## Failed cells" in (out / "report.md").read_text()
    finally:
        unregister_agent("crash-on-seed-1")


@pytest.mark.slow
def test_ray_backend_runs_the_cells_like_the_local_run(tmp_path, tiny_sweep):
    pytest.importorskip("ray")
    from socialview.benchmarks.overlap_sweep import run_sweep

    local = json.loads((tiny_sweep[1] / "sweep.json").read_text())
    distributed = run_sweep(
        SweepConfig.from_dict(TINY), tmp_path / "ray", backend="ray", progress=False
    )  # no address: a local Ray instance
    assert distributed["failed"] == [] and distributed["unreachable"] == [UNREACHABLE]
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
def test_parallel_jobs_match_the_sequential_run(tmp_path, tiny_sweep):
    from socialview.benchmarks.overlap_sweep import run_sweep

    sequential = json.loads((tiny_sweep[1] / "sweep.json").read_text())
    parallel = run_sweep(SweepConfig.from_dict(TINY), tmp_path / "two", jobs=2, progress=False)
    assert parallel["failed"] == []
    _assert_same_rows(sequential["rows"], parallel["rows"])


def test_alignment_ignores_the_zero_columns_a_core_readout_pads_with(tmp_path):
    """readout="core" returns its whitened core padded with zeros: a cell measures the
    core, exactly as if the zeros were not there, instead of refusing constant columns."""
    from socialview.benchmarks.sweep_cell import measure_alignment
    from socialview.envs import record_dataset

    evaluation = record_dataset(tmp_path / "eval", steps=160, overlap=0.5, num_cameras=2,
                                image_size=32, seed=3, preview=False, progress=False,
                                episode_steps=20)
    config = dataclasses.replace(preset_config("smoke"), n_permutations=5,
                                 n_map_permutations=2, n_bootstrap=10)
    rng = np.random.default_rng(0)
    state = rng.normal(size=(160, 4))
    cores = {"cam0": state @ rng.normal(size=(4, 4)),
             "cam1": state @ rng.normal(size=(4, 4)) + 0.1 * rng.normal(size=(160, 4))}
    padded = {cam: np.hstack([z, np.zeros((160, 12))]) for cam, z in cores.items()}
    plain, plain_transfer = measure_alignment(config, cores, evaluation, seed=0)
    ours, ours_transfer = measure_alignment(config, padded, evaluation, seed=0)
    ours.pop("elapsed_s", None), plain.pop("elapsed_s", None)
    assert json.loads(json.dumps(ours), parse_float=lambda x: round(float(x), 6)) == \
        json.loads(json.dumps(plain), parse_float=lambda x: round(float(x), 6))
    assert ours_transfer["transfer_accuracy"] == pytest.approx(
        plain_transfer["transfer_accuracy"], abs=1e-9)


def _children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines()
                          if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid) and \
                not fields.get("State", "").startswith("Z"):
            found.append(int(status.parent.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_parallel_sweep_takes_its_workers_with_it(tmp_path):
    """`kill` on a --jobs 2 sweep stops its workers too: none is left writing cells."""
    (tmp_path / "tiny.json").write_text(json.dumps(TINY))
    command = [sys.executable, "-m", "socialview.benchmarks", "sweep", "--preset", "smoke",
               "--config", str(tmp_path / "tiny.json"), "--jobs", "2",
               "--out", str(tmp_path / "sweep"), "--quiet"]
    sweep = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(_children(sweep.pid)) < 2 and time.monotonic() < deadline:
            assert sweep.poll() is None, "the sweep ended before its workers started"
            time.sleep(0.2)
        workers = _children(sweep.pid)
        assert len(workers) >= 2
        sweep.send_signal(signal.SIGTERM)
        sweep.wait(timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() and
                                                  not _zombie(w) for w in workers):
            time.sleep(0.2)
        assert not [w for w in workers if Path(f"/proc/{w}").exists() and not _zombie(w)]
    finally:
        if sweep.poll() is None:
            sweep.kill()


def _zombie(pid: int) -> bool:
    try:
        return "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_gpu_sweep_trains_its_agents_on_the_gpu(tmp_path):
    from socialview.benchmarks.overlap_sweep import run_sweep

    config = SweepConfig.from_dict({**TINY, "overlaps": [0.3], "agents": ["jepa", "random"],
                                    "device": "cuda"})
    result = run_sweep(config, tmp_path / "gpu", progress=False)
    (cell,) = [c for c in result["cells"] if c["status"] == "ok"]
    stored = json.loads((tmp_path / "gpu" / "cells" / f"{cell['cell']}.json").read_text())
    devices = {train["device"] for train in stored["agents"]["jepa"]["train"].values()}
    assert devices and all(d.startswith("cuda") for d in devices)
    assert np.isfinite(stored["agents"]["jepa"]["state_probe"]["cam0"]["pooled_r2"])
