"""Permutation nulls and bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.spatial.distance
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from socialview.alignment import (
    bootstrap_ci,
    get_metric,
    linear_cka,
    map_permutation_test,
    metric_names,
    permutation_test,
)

PROPS = settings(max_examples=8, deadline=None, derandomize=True, database=None)


def related(seed: int, n: int = 120, d: int = 6, noise: float = 0.5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, X @ rng.normal(size=(d, d)) + noise * rng.normal(size=(n, d))


def test_p_value_formula_and_null_summary() -> None:
    X, Y = related(0)
    res = permutation_test("linear_cka", X, Y, n_permutations=50, seed=1)
    assert res.n_permutations == 50
    assert res.p_value == (1 + np.sum(res.null >= res.observed)) / 51
    assert res.null_mean == pytest.approx(res.null.mean())
    assert res.observed == pytest.approx(linear_cka(X, Y))


@pytest.mark.parametrize("name", metric_names())
def test_real_relation_gets_smallest_p_value(name: str) -> None:
    X, Y = related(2)
    res = permutation_test(name, X, Y, n_permutations=30, seed=0)
    assert res.p_value == pytest.approx(1 / 31)
    if res.higher_is_better:
        assert res.observed > res.null.max()
    else:
        assert res.observed < res.null.min()


@PROPS
@given(seed=st.integers(0, 2**31 - 1), d=st.integers(2, 8))
def test_independent_noise_p_value_is_not_small(seed: int, d: int) -> None:
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(80, d)), rng.normal(size=(80, d))
    for name in ("linear_cka", "linear_cka_debiased", "shape_distance", "rsa"):
        res = permutation_test(name, X, Y, n_permutations=60, seed=seed)
        assert res.p_value > 0.01, name
    # Under the null the p-values of many independent draws are spread over (0, 1].
    ps = [
        permutation_test(
            "linear_cka", rng.normal(size=(40, d)), rng.normal(size=(40, d)), 40, seed=i
        ).p_value
        for i in range(10)
    ]
    assert 0.2 < float(np.mean(ps)) < 0.8


def test_seeding_is_explicit_and_reproducible() -> None:
    X, Y = related(3)
    a = permutation_test("rsa", X, Y, n_permutations=20, seed=7)
    b = permutation_test("rsa", X, Y, n_permutations=20, seed=np.random.default_rng(7))
    c = permutation_test("rsa", X, Y, n_permutations=20, seed=8)
    np.testing.assert_array_equal(a.null, b.null)
    assert not np.array_equal(a.null, c.null)
    state = np.random.get_state()  # noqa: NPY002 - checking the legacy global RNG
    bootstrap_ci("svcca", X, Y, n_bootstrap=5, seed=0)
    after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(after[1], state[1])  # global RNG untouched


def test_callable_metric_and_direction() -> None:
    X, Y = related(4)

    def neg_corr(a: np.ndarray, b: np.ndarray) -> float:
        return -abs(np.corrcoef(a[:, 0], b[:, 0])[0, 1])

    res = permutation_test(neg_corr, X, Y, n_permutations=40, seed=0, higher_is_better=False)
    assert res.higher_is_better is False
    assert res.p_value == (1 + np.sum(res.null <= res.observed)) / 41


def test_bootstrap_interval_brackets_estimate_and_shrinks_with_n() -> None:
    X, Y = related(5, n=400, noise=2.0)
    wide = bootstrap_ci("linear_cka", X[:60], Y[:60], n_bootstrap=200, seed=0)
    narrow = bootstrap_ci("linear_cka", X, Y, n_bootstrap=200, seed=0)
    assert narrow.low <= narrow.estimate <= narrow.high
    assert narrow.high - narrow.low < wide.high - wide.low
    assert narrow.samples.shape == (200,)
    again = bootstrap_ci("linear_cka", X, Y, n_bootstrap=200, seed=0)
    assert (again.low, again.high) == (narrow.low, narrow.high)
    with pytest.raises(ValueError, match=r"confidence must be a float in \(0, 1\)"):
        bootstrap_ci("linear_cka", X, Y, confidence=95)
    with pytest.raises(ValueError, match=r"method must be one of \['centred', 'percentile'\]"):
        bootstrap_ci("linear_cka", X, Y, method="bca")


@pytest.mark.parametrize("name", metric_names())
def test_centred_interval_contains_estimate_even_for_independent_latents(name: str) -> None:
    rng = np.random.default_rng(11)
    X, Y = rng.normal(size=(150, 8)), rng.normal(size=(150, 8))
    centred = bootstrap_ci(name, X, Y, n_bootstrap=60, seed=0)
    raw = bootstrap_ci(name, X, Y, n_bootstrap=60, seed=0, method="percentile")
    assert centred.low <= centred.estimate <= centred.high
    assert centred.high - centred.low == pytest.approx(raw.high - raw.low)
    np.testing.assert_array_equal(centred.samples, raw.samples)
    shift = centred.estimate - np.median(raw.samples)
    assert centred.low == pytest.approx(raw.low + shift)
    assert (centred.method, raw.method) == ("centred", "percentile")


def test_percentile_interval_of_debiased_cka_misses_the_estimate() -> None:
    # Why "centred" is the default: repeated frames move the replicates.
    rng = np.random.default_rng(12)
    X, Y = rng.normal(size=(300, 32)), rng.normal(size=(300, 32))
    raw = bootstrap_ci("linear_cka_debiased", X, Y, n_bootstrap=40, seed=0, method="percentile")
    assert raw.low > raw.estimate


def test_bootstrap_of_neighbour_metrics_ignores_copies() -> None:
    from socialview.alignment.metrics import _mutual_knn_kernel

    X, Y = related(6, n=150)
    idx = np.random.default_rng(0).integers(0, 150, size=150)
    prepared = get_metric("mutual_knn").prepare(X, Y, k=5)
    uniq, counts = np.unique(idx, return_counts=True)
    expected = _mutual_knn_kernel(X[uniq], Y[uniq], k=5, weights=counts)
    assert prepared.resampled(idx) == pytest.approx(expected, abs=1e-12)
    # RSA: Spearman over resampled pairs, skipping pairs of a frame with its own copy.
    i, j = np.triu_indices(150, 1)
    a, b = idx[i], idx[j]
    keep = a != b
    dx = scipy.spatial.distance.cdist(X, X)[a[keep], b[keep]]
    dy = scipy.spatial.distance.cdist(Y, Y)[a[keep], b[keep]]
    rho = scipy.stats.spearmanr(dx, dy).statistic
    assert get_metric("rsa").prepare(X, Y).resampled(idx) == pytest.approx(rho, abs=1e-10)


def test_map_null_refits_on_shuffled_training_pairs() -> None:
    rng = np.random.default_rng(9)
    X = rng.normal(size=(300, 5))
    Y = X @ rng.normal(size=(5, 5)) + 0.1 * rng.normal(size=(300, 5))
    res = map_permutation_test(X[:200], Y[:200], X[200:], Y[200:], "affine", 15, seed=0)
    assert res.observed > 0.99
    assert res.p_value == pytest.approx(1 / 16)
    assert res.null_mean < 0.1  # a map fitted to scrambled pairs does not transfer
    Z = rng.normal(size=(300, 5))
    null_res = map_permutation_test(X[:200], Z[:200], X[200:], Z[200:], "ridge", 15, seed=0)
    assert null_res.observed < 0.05
    assert null_res.p_value > 0.05
