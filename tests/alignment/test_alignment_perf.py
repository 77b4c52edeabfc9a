"""The alignment performance benchmark runs, reports every metric and writes JSON atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from socialview.alignment import map_kinds, metric_names
from socialview.benchmarks import alignment_perf


def test_run_benchmark_reports_every_metric_and_map() -> None:
    out = alignment_perf.run_benchmark(
        sizes=[(150, 6)], quick=True, pairwise_limit=100, compare_size=(120, 6)
    )
    json.dumps(out, allow_nan=False)
    (size,) = out["sizes"]
    assert (size["n"], size["d"]) == (150, 6)
    assert set(size["metrics"]) == set(metric_names())
    assert set(size["maps"]) == set(map_kinds())
    knn = size["metrics"]["mutual_knn"]
    assert knn["seconds"] is None and "pairwise_limit=100" in knn["note"]
    cka = size["metrics"]["linear_cka"]
    assert cka["seconds"] > 0 and cka["value"] > 0.5
    ref = size["reference"]
    assert ref["values_agree"] is True
    assert ref["linear_cka_ratio_ours_over_bare"] > 0
    assert out["compare"]["n"] == 120 and out["compare"]["seconds"] > 0


def test_main_writes_json_atomically(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "sub" / "perf.json"
    assert (
        alignment_perf.main(
            ["--sizes", "100x4", "--repeats", "1", "--skip-compare", "--out", str(target)]
        )
        == 0
    )
    data = json.loads(target.read_text())
    assert data["sizes"][0]["n"] == 100 and "compare" not in data
    assert [p.name for p in target.parent.iterdir()] == ["perf.json"]  # no temp file left
    assert "linear_cka" in capsys.readouterr().out


def test_bad_sizes_are_rejected() -> None:
    with pytest.raises(SystemExit):
        alignment_perf.main(["--sizes", "100by4"])
