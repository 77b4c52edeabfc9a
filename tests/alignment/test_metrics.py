"""Metrics against naive published formulas, invariances and the registry."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import scipy.linalg
import scipy.spatial.distance
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from socialview.alignment import (
    MetricSpec,
    get_metric,
    heldout_r2,
    linear_cka,
    metric_names,
    mutual_knn,
    procrustes_distance,
    rbf_cka,
    register_metric,
    rsa,
    shape_distance,
    svcca,
)

PROPS = settings(max_examples=10, deadline=None, derandomize=True, database=None)


def random_rotation(rng: np.random.Generator, d: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


# -- naive references, written from the papers with explicit n x n matrices ----------


def naive_hsic(K: np.ndarray, L: np.ndarray) -> float:
    n = K.shape[0]
    H = np.eye(n) - np.ones((n, n)) / n
    return float(np.trace(K @ H @ L @ H)) / (n - 1) ** 2


def naive_hsic_unbiased(K: np.ndarray, L: np.ndarray) -> float:
    """Song et al. (2012), eq. 5."""
    n = K.shape[0]
    K, L = K.copy(), L.copy()
    np.fill_diagonal(K, 0)
    np.fill_diagonal(L, 0)
    one = np.ones(n)
    return float(
        np.trace(K @ L)
        + (one @ K @ one) * (one @ L @ one) / ((n - 1) * (n - 2))
        - 2 / (n - 2) * (one @ K @ L @ one)
    ) / (n * (n - 3))


def naive_cka(K: np.ndarray, L: np.ndarray, hsic=naive_hsic) -> float:
    return hsic(K, L) / np.sqrt(hsic(K, K) * hsic(L, L))


def naive_rbf_gram(X: np.ndarray, bandwidth: float = 1.0) -> np.ndarray:
    D2 = scipy.spatial.distance.squareform(scipy.spatial.distance.pdist(X, "sqeuclidean"))
    med = np.median(D2[~np.eye(len(X), dtype=bool)])
    return np.exp(-D2 / (2 * bandwidth**2 * med))


def correlated_pair(seed: int, n: int, dx: int, dy: int, noise: float = 1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, dx)) * rng.uniform(0.5, 3, size=dx) + rng.normal(size=dx)
    Y = X @ rng.normal(size=(dx, dy)) + noise * rng.normal(size=(n, dy))
    return X, Y


# -- agreement with the formulas --------------------------------------------------------


@PROPS
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(6, 60),
    dx=st.integers(1, 12),
    dy=st.integers(1, 12),
)
def test_linear_cka_matches_gram_formula(seed: int, n: int, dx: int, dy: int) -> None:
    X, Y = correlated_pair(seed, n, dx, dy)
    K, L = X @ X.T, Y @ Y.T
    assert linear_cka(X, Y) == pytest.approx(naive_cka(K, L), rel=1e-9)
    assert linear_cka(X, Y, debiased=True) == pytest.approx(
        naive_cka(K, L, naive_hsic_unbiased), rel=1e-7, abs=1e-10
    )


@PROPS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(6, 50), d=st.integers(1, 6))
def test_rbf_cka_matches_gram_formula(seed: int, n: int, d: int) -> None:
    X, Y = correlated_pair(seed, n, d, d + 1)
    K, L = naive_rbf_gram(X, 0.8), naive_rbf_gram(Y, 0.8)
    assert rbf_cka(X, Y, bandwidth=0.8) == pytest.approx(naive_cka(K, L), rel=1e-9)
    assert rbf_cka(X, Y, bandwidth=0.8, debiased=True) == pytest.approx(
        naive_cka(K, L, naive_hsic_unbiased), rel=1e-7, abs=1e-10
    )


@PROPS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(3, 40), d=st.integers(1, 8))
def test_procrustes_and_shape_match_scipy(seed: int, n: int, d: int) -> None:
    X, Y = correlated_pair(seed, n, d, d)
    Xn = (X - X.mean(0)) / np.linalg.norm(X - X.mean(0))
    Yn = (Y - Y.mean(0)) / np.linalg.norm(Y - Y.mean(0))
    R, _ = scipy.linalg.orthogonal_procrustes(Xn, Yn)
    assert procrustes_distance(X, Y) == pytest.approx(np.linalg.norm(Xn @ R - Yn), abs=1e-7)
    cos = np.clip(np.sum((Xn @ R) * Yn), -1, 1)
    assert shape_distance(X, Y) == pytest.approx(np.arccos(cos), abs=1e-6)
    theta = shape_distance(X, Y)
    assert procrustes_distance(X, Y) == pytest.approx(2 * np.sin(theta / 2), abs=1e-7)


@PROPS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(10, 40), d=st.integers(2, 6))
def test_shape_distance_triangle_inequality(seed: int, n: int, d: int) -> None:
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, d))
    B = A @ rng.normal(size=(d, d)) + rng.normal(size=(n, d))
    C = rng.normal(size=(n, d + 1))
    ab, bc, ac = shape_distance(A, B), shape_distance(B, C), shape_distance(A, C)
    assert ac <= ab + bc + 1e-9
    assert shape_distance(A, B) == pytest.approx(shape_distance(B, A), abs=1e-12)


@PROPS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(20, 80), d=st.integers(1, 5))
def test_svcca_full_rank_is_classical_cca(seed: int, n: int, d: int) -> None:
    X, Y = correlated_pair(seed, n, d, d + 2, noise=2.0)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    Cxx, Cyy, Cxy = Xc.T @ Xc, Yc.T @ Yc, Xc.T @ Yc
    Wx = np.linalg.inv(scipy.linalg.sqrtm(Cxx).real)
    Wy = np.linalg.inv(scipy.linalg.sqrtm(Cyy).real)
    rho = np.linalg.svd(Wx @ Cxy @ Wy, compute_uv=False)[:d]
    assert svcca(X, Y, keep=1.0) == pytest.approx(rho.mean(), abs=1e-7)


def test_svcca_keeps_requested_components() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 10)) * np.array([10] * 3 + [0.01] * 7)
    Y = np.hstack([X[:, :3], 0.01 * rng.normal(size=(200, 7))])
    # Top three directions of X are copied into Y; discarding the rest leaves ~perfect CCA.
    assert svcca(X, Y, keep=3) == pytest.approx(1.0, abs=1e-6)
    assert svcca(X, Y, keep=0.99) == pytest.approx(1.0, abs=1e-6)
    assert svcca(X, Y, keep=1.0) < 0.9


def brute_force_mutual_knn(X: np.ndarray, Y: np.ndarray, k: int) -> float:
    def neighbours(A):
        A = A / np.linalg.norm(A, axis=1, keepdims=True)
        S = A @ A.T
        out = []
        for i in range(len(A)):
            order = [j for j in np.argsort(-S[i], kind="stable") if j != i]
            out.append(set(order[:k]))
        return out

    nx, ny = neighbours(X), neighbours(Y)
    return float(np.mean([len(a & b) / k for a, b in zip(nx, ny, strict=True)]))


@PROPS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(8, 60), k=st.integers(1, 7))
def test_mutual_knn_matches_brute_force(seed: int, n: int, k: int) -> None:
    X, Y = correlated_pair(seed, n, 4, 3, noise=0.5)
    assert mutual_knn(X, Y, k=k) == pytest.approx(brute_force_mutual_knn(X, Y, k), abs=1e-12)


def test_mutual_knn_blocks_agree_with_single_block() -> None:
    from socialview.alignment.metrics import _knn_indices

    X, _ = correlated_pair(1, 300, 5, 5)
    a = np.sort(_knn_indices(X, 4, block=7), axis=1)
    b = np.sort(_knn_indices(X, 4, block=10_000), axis=1)
    np.testing.assert_array_equal(a, b)


@PROPS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(4, 50))
def test_rsa_matches_scipy_spearman(seed: int, n: int) -> None:
    X, Y = correlated_pair(seed, n, 3, 5)
    for distance in ("euclidean", "cosine"):
        expected = scipy.stats.spearmanr(
            scipy.spatial.distance.pdist(X, distance), scipy.spatial.distance.pdist(Y, distance)
        ).statistic
        assert rsa(X, Y, distance=distance) == pytest.approx(expected, abs=1e-10)


@PROPS
@given(values=st.lists(st.integers(0, 6), min_size=1, max_size=60))
def test_fast_ranks_match_scipy_with_ties(values: list[int]) -> None:
    from socialview.alignment.metrics import _ranks

    v = np.asarray(values, dtype=np.float64)
    avg, codes = _ranks(v)
    np.testing.assert_array_equal(avg, scipy.stats.rankdata(v))
    np.testing.assert_array_equal(codes, scipy.stats.rankdata(v, method="min") - 1)


# -- invariances -------------------------------------------------------------------------


@PROPS
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(30, 100),
    d=st.integers(2, 10),
    scale=st.floats(0.1, 10.0),
)
def test_similarity_transform_gives_perfect_scores(seed: int, n: int, d: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) + rng.normal(size=d)
    Q = random_rotation(rng, d)
    Y_shifted = scale * X @ Q + 5 * rng.normal(size=d)
    Y = scale * X @ Q  # cosine neighbours are not shift invariant
    assert linear_cka(X, Y_shifted) == pytest.approx(1.0, abs=1e-9)
    assert linear_cka(X, Y_shifted, debiased=True) == pytest.approx(1.0, abs=1e-7)
    assert rbf_cka(X, Y_shifted) == pytest.approx(1.0, abs=1e-9)
    assert procrustes_distance(X, Y_shifted) == pytest.approx(0.0, abs=1e-6)
    assert shape_distance(X, Y_shifted) == pytest.approx(0.0, abs=1e-6)
    assert svcca(X, Y_shifted) == pytest.approx(1.0, abs=1e-7)
    assert rsa(X, Y_shifted) == pytest.approx(1.0, abs=1e-9)
    assert mutual_knn(X, Y, k=min(5, n - 1)) >= 0.95  # exact up to cosine ties


@PROPS
@given(seed=st.integers(0, 2**31 - 1), d=st.integers(2, 8))
def test_general_linear_map_lowers_cka_and_raises_shape_distance(seed: int, d: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, d))
    A = random_rotation(rng, d) @ np.diag(np.geomspace(0.1, 10, d)) @ random_rotation(rng, d)
    assert linear_cka(X, X @ A) < 0.95
    assert shape_distance(X, X @ A) > 0.1
    assert svcca(X, X @ A, keep=1.0) == pytest.approx(1.0, abs=1e-7)  # CCA is affine invariant


@PROPS
@given(seed=st.integers(0, 2**31 - 1), d=st.integers(2, 16))
def test_independent_noise_scores_near_zero(seed: int, d: int) -> None:
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(400, d)), rng.normal(size=(400, d))
    assert abs(linear_cka(X, Y, debiased=True)) < 0.05
    assert abs(rsa(X, Y)) < 0.1
    assert mutual_knn(X, Y, k=10) < 0.1
    assert heldout_r2(X, Y, "affine", seed=seed) < 0.05


# -- scale: no n x n matrix ----------------------------------------------------------------


def test_linear_cka_never_builds_an_n_by_n_matrix() -> None:
    rng = np.random.default_rng(0)
    n, d = 30_000, 8
    X = rng.normal(size=(n, d))
    Y = X + rng.normal(size=(n, d))
    tracemalloc.start()
    try:
        linear_cka(X, Y)
        linear_cka(X, Y, debiased=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * n * d * 8  # an n x n float64 matrix would be 7.2 GB


def test_subsampling_is_seeded() -> None:
    X, Y = correlated_pair(3, 300, 4, 4)
    a = rbf_cka(X, Y, max_rows=100, seed=1)
    assert a == rbf_cka(X, Y, max_rows=100, seed=1)
    assert a != rbf_cka(X, Y, max_rows=100, seed=2)
    assert rsa(X, Y, max_rows=100, seed=5) == rsa(X, Y, max_rows=100, seed=5)
    assert rbf_cka(X, Y, max_rows=None) == rbf_cka(X, Y, max_rows=300)


# -- registry ----------------------------------------------------------------------------


def test_registry_names_and_directions() -> None:
    assert set(metric_names()) == {
        "linear_cka",
        "linear_cka_debiased",
        "rbf_cka",
        "procrustes_distance",
        "shape_distance",
        "svcca",
        "mutual_knn",
        "rsa",
    }
    assert get_metric("procrustes_distance").higher_is_better is False
    assert get_metric("linear_cka").higher_is_better is True


def test_registry_refuses_duplicates_and_unknown_names() -> None:
    spec = get_metric("linear_cka")
    with pytest.raises(ValueError, match="already registered"):
        register_metric(MetricSpec("linear_cka", spec.function, spec.prepare, True))
    with pytest.raises(ValueError, match=r"metric must be one of \["):
        get_metric("cka")


def test_third_party_metric_plugs_into_tests_and_compare(monkeypatch: pytest.MonkeyPatch) -> None:
    from socialview.alignment import compare, metrics, permutation_test

    monkeypatch.setattr(metrics, "_METRIC_REGISTRY", dict(metrics._METRIC_REGISTRY))

    def first_column_corr(X: np.ndarray, Y: np.ndarray) -> float:
        return float(abs(np.corrcoef(X[:, 0], Y[:, 0])[0, 1]))

    register_metric(MetricSpec("first_column_corr", first_column_corr, None, True))
    X, Y = correlated_pair(8, 200, 3, 3, noise=0.1)
    Y[:, 0] = X[:, 0]
    assert permutation_test("first_column_corr", X, Y, 20).p_value == pytest.approx(1 / 21)
    r = compare(
        X, Y, metrics=["first_column_corr"], map_kinds=[], n_permutations=10, n_bootstrap=10
    )
    assert r.metrics["first_column_corr"]["value"] == pytest.approx(1.0)


def test_metric_registry_is_restored_after_plugin_test() -> None:
    assert "first_column_corr" not in metric_names()


@pytest.mark.parametrize("name", metric_names())
def test_prepared_metric_agrees_with_function(name: str) -> None:
    X, Y = correlated_pair(4, 120, 6, 5)
    spec = get_metric(name)
    prepared = spec.prepare(X, Y)
    assert prepared.value() == pytest.approx(spec.function(X, Y), abs=1e-12)
    perm = np.random.default_rng(0).permutation(120)
    assert prepared.permuted(perm) == pytest.approx(spec.function(X, Y[perm]), abs=1e-10)
    idx = np.random.default_rng(1).choice(120, size=120, replace=False)  # no repeats
    assert prepared.resampled(idx) == pytest.approx(spec.function(X[idx], Y[idx]), abs=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", metric_names())
def test_metrics_never_modify_their_inputs(name: str, dtype: type) -> None:
    X, Y = correlated_pair(9, 60, 4, 3)
    X, Y = X.astype(dtype), Y.astype(dtype)
    X0, Y0 = X.copy(), Y.copy()
    get_metric(name).function(X, Y)
    get_metric(name).function(X, X)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)
