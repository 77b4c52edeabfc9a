"""Perf plumbing: the env benchmark on a tiny budget and the ratio table built from it."""

from __future__ import annotations

import json

import pytest
import torch

from socialview.benchmarks import env_perf
from socialview.benchmarks.cli import main
from socialview.benchmarks.perf import _env_rows, format_table


def test_env_benchmark_reports_ratios_against_the_bare_loop(tmp_path):
    args = env_perf.EnvPerfArgs(
        image_sizes=(32,), steps=20, record_steps=20, repeats=1, default_steps=2, cycles=5
    )
    result = env_perf.run_benchmark(args=args)
    json.dumps(result)  # JSON-ready as written by main()
    (size,) = result["sizes"]
    assert size["image_size"] == 32
    for key in ("env_vs_bare", "env_no_object_pixels_vs_bare", "record_vs_bare",
                "speedup_over_mujoco_defaults"):
        assert size[key] > 0
    loops = {"bare", "env", "env_no_object_pixels", "record", "defaults"}
    assert set(size["steps_per_s"]) == set(size["configurations"]) == loops
    assert set(result["goal_configurations"]) == set(result["goals"])
    assert result["gl_release"]["cycles"] == 5
    table = [
        {
            "benchmark": "env",
            "ratio": label,
            "value": value,
            "goal": goal,
            "meets_goal": None if goal is None else value >= goal,
        }
        for label, value, goal in _env_rows(result)
    ]
    text = format_table(table)
    assert "env step (32px, 2 cameras) / bare MuJoCo loop" in text
    assert "env step, object_pixels=False (32px, 2 cameras) / bare MuJoCo loop" in text
    assert len(text.splitlines()) == 1 + 4
    assert [row["goal"] for row in table] == [0.8, None, 0.7, None]


def test_env_rows_read_results_from_before_the_object_pixels_option():
    size = {"image_size": 64, "num_cameras": 2, "env_vs_bare": 0.6, "record_vs_bare": 0.6,
            "speedup_over_mujoco_defaults": 40.0}
    assert [goal for _, _, goal in _env_rows({"sizes": [size]})] == [0.8, 0.7, None]


def test_env_benchmark_main_writes_json(tmp_path, monkeypatch):
    tiny = env_perf.EnvPerfArgs(
        image_sizes=(16,), steps=5, record_steps=5, repeats=1, default_steps=1, cycles=0
    )
    monkeypatch.setattr(env_perf, "EnvPerfArgs", lambda **_: tiny)
    out = tmp_path / "env.json"
    assert env_perf.main(["--quick", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["sizes"][0]["image_size"] == 16


def test_perf_refuses_a_gpu_this_machine_lacks_before_any_benchmark(tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    out = tmp_path / "perf.json"
    assert main(["perf", "--quick", "--device", "cuda:0", "--out", str(out)]) == 2
    assert "device 'cuda:0' needs CUDA, but torch" in capsys.readouterr().err
    assert not out.exists()
