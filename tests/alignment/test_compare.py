"""compare() and anchor_curve(): splits, nulls, serialisation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from socialview.alignment import (
    CompareResult,
    anchor_curve,
    compare,
    map_kinds,
    metric_names,
)

FAST = {"n_permutations": 20, "n_map_permutations": 4, "n_bootstrap": 20}
FIELDS = {"value", "ci_low", "ci_high", "null_mean", "null_std", "p_value"}


def rotated_copy(seed: int = 0, n: int = 400, d: int = 8, noise: float = 0.05):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.linspace(0.5, 2, d)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return X, X @ Q + 3.0 + noise * rng.normal(size=(n, d))


@pytest.fixture(scope="module")
def related_result() -> CompareResult:
    X, Y = rotated_copy()
    return compare(X, Y, test_size=0.25, seed=3, **FAST)


def test_schema_and_values_for_a_rotated_copy(related_result: CompareResult) -> None:
    r = related_result
    assert (r.n_train, r.n_test, r.n_metric_rows) == (300, 100, 100)
    assert set(r.map_r2) == set(map_kinds()) == set(r.map_r2_reverse)
    assert set(r.metrics) == set(metric_names()) | {f"r2_{k}" for k in map_kinds()}
    for name, entry in r.metrics.items():
        assert set(entry) == FIELDS, name
        assert entry["p_value"] == pytest.approx(
            1 / (1 + (FAST["n_map_permutations"] if name.startswith("r2_") else 20))
        ), name
        assert entry["ci_low"] <= entry["value"] <= entry["ci_high"], name
    assert r.map_r2["orthogonal"] > 0.99
    assert r.map_r2_reverse["orthogonal"] > 0.99
    assert r.metrics["linear_cka"]["value"] > 0.99
    assert r.metrics["procrustes_distance"]["value"] < 0.05
    assert r.higher_is_better["procrustes_distance"] is False


def test_json_round_trip(related_result: CompareResult) -> None:
    text = related_result.to_json()
    data = json.loads(text)
    assert data == related_result.to_dict()
    assert CompareResult.from_json(text) == related_result
    for entry in data["metrics"].values():
        assert all(isinstance(v, float) for v in entry.values())


def test_same_seed_same_result_other_seed_other_split() -> None:
    X, Y = rotated_copy(1, n=120, noise=1.0)
    kw = dict(metrics=["linear_cka", "rsa"], map_kinds=["affine"], **FAST)
    a, b = compare(X, Y, seed=5, **kw), compare(X, Y, seed=5, **kw)
    a.elapsed_s = b.elapsed_s = 0.0
    assert a == b
    c = compare(X, Y, seed=6, **kw)
    assert c.map_r2 != a.map_r2


def test_adding_a_metric_does_not_change_the_others() -> None:
    X, Y = rotated_copy(2, n=120, noise=1.0)
    a = compare(X, Y, metrics=["rsa"], map_kinds=[], **FAST)
    b = compare(X, Y, metrics=["linear_cka", "rsa"], map_kinds=[], **FAST)
    assert a.metrics["rsa"] == b.metrics["rsa"]


def test_maps_are_fitted_on_the_training_split_only() -> None:
    # Training rows are unrelated noise; held-out rows are an exact rotated copy.
    # A map fitted on the training rows alone cannot know the rotation.
    rng = np.random.default_rng(4)
    n, d = 200, 5
    X = rng.normal(size=(n, d))
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    Y = rng.normal(size=(n, d))
    Y[150:] = X[150:] @ Q
    r = compare(X, Y, test_size=0.25, shuffle=False, metrics=["linear_cka"], **FAST)
    assert r.n_test == 50
    assert max(r.map_r2.values()) < 0.3
    assert r.metrics["linear_cka"]["value"] > 0.99  # metrics see the held-out rows only


def test_independent_latents_look_independent() -> None:
    rng = np.random.default_rng(7)
    X, Y = rng.normal(size=(400, 6)), rng.normal(size=(400, 6))
    r = compare(X, Y, seed=0, n_permutations=50, n_map_permutations=5, n_bootstrap=20)
    assert max(r.map_r2.values()) < 0.05
    ps = [r.metrics[m]["p_value"] for m in metric_names()]
    assert np.median(ps) > 0.1
    assert abs(r.metrics["linear_cka_debiased"]["value"]) < 0.05


def test_metric_params_and_row_cap() -> None:
    X, Y = rotated_copy(5, n=200)
    r = compare(
        X,
        Y,
        metrics=["mutual_knn"],
        map_kinds=["ridge"],
        metric_params={"mutual_knn": {"k": 3}},
        map_params={"ridge": {"cv": 3}},
        max_metric_rows=20,
        **FAST,
    )
    assert r.n_metric_rows == 20
    with pytest.raises(ValueError, match="metric must be one of"):
        compare(X, Y, metrics=["cka"])
    with pytest.raises(ValueError, match="kind must be one of"):
        compare(X, Y, map_kinds=["rotation"])


def test_different_widths_and_units_constant_on_the_held_out_rows() -> None:
    rng = np.random.default_rng(10)
    X = rng.normal(size=(200, 6))
    Y = np.hstack([X @ rng.normal(size=(6, 3)), np.zeros((200, 1))])
    Y[:150, 3] = rng.normal(size=150)  # varies overall, constant on the last 50 rows
    r = compare(X, Y, shuffle=False, **FAST)
    assert (r.dim_x, r.dim_y) == (6, 4)
    assert r.metrics["svcca"]["value"] > 0.99
    assert r.map_r2_reverse["orthogonal"] < r.map_r2_reverse["affine"]


def test_seed_none_is_recorded() -> None:
    X, Y = rotated_copy(6, n=60)
    r = compare(X, Y, seed=None, metrics=["linear_cka"], map_kinds=["orthogonal"], **FAST)
    again = compare(X, Y, seed=r.seed, metrics=["linear_cka"], map_kinds=["orthogonal"], **FAST)
    assert r.metrics == again.metrics


def test_anchor_curve_improves_with_anchors() -> None:
    rng = np.random.default_rng(8)
    n, d = 1200, 12
    Z = rng.normal(size=(n, d))
    labels = (Z[:, 0] > 0).astype(int) + (Z[:, 1] > 0).astype(int)
    A = Z + 0.1 * rng.normal(size=(n, d))
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    B = Z @ Q + 0.1 * rng.normal(size=(n, d))
    curve = anchor_curve(
        A,
        B,
        labels,
        anchors=(10, 30, 300, 5000),
        map_kinds=("orthogonal", "affine"),
        n_repeats=2,
        seed=0,
    )
    assert curve.anchors == [10, 30, 300]  # 5000 > n_train = 900
    r2 = curve.r2["affine"]
    assert r2[0] < r2[-1] and r2[-1] > 0.95
    assert curve.r2["orthogonal"][-1] > 0.95
    acc = curve.transfer_accuracy["orthogonal"]
    assert acc[-1] >= curve.source_accuracy - 0.05
    assert acc[-1] > curve.chance + 0.2
    data = json.loads(curve.to_json())
    assert data["anchors"] == [10, 30, 300]
    assert np.isfinite(data["native_accuracy"])


def test_anchor_curve_without_labels_and_with_unfittable_kinds() -> None:
    rng = np.random.default_rng(9)
    A, B = rng.normal(size=(100, 3)), rng.normal(size=(100, 3))
    curve = anchor_curve(A, B, anchors=(4, 50), map_kinds=("ridge",), n_repeats=1)
    assert curve.transfer_accuracy == {} and curve.chance is None
    assert np.isnan(curve.r2["ridge"][0])  # ridge needs 2 * cv = 10 pairs
    assert curve.to_dict()["r2"]["ridge"][0] is None
    with pytest.raises(ValueError, match="exceeds the 75 training rows"):
        anchor_curve(A, B, anchors=(500,))
