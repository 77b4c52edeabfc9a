"""Map estimators: exactness on constructed data, invariances, serialisation, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from socialview.alignment import (
    AlignmentMap,
    OrthogonalMap,
    RidgeMap,
    fit_map,
    get_map_class,
    map_from_dict,
    map_kinds,
    register_map,
)

PROPS = settings(max_examples=12, deadline=None, derandomize=True, database=None)


def random_rotation(rng: np.random.Generator, d: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def test_registry_lists_every_kind() -> None:
    assert map_kinds() == ("orthogonal", "similarity", "linear", "affine", "ridge")


def test_registry_refuses_duplicates() -> None:
    with pytest.raises(ValueError, match="already registered"):

        @register_map("orthogonal")
        class Dup(AlignmentMap):
            pass


def test_unknown_kind_lists_choices() -> None:
    with pytest.raises(ValueError, match=r"kind must be one of \['orthogonal'"):
        fit_map(np.eye(3), np.eye(3), "procrustes")


@PROPS
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(20, 80),
    d=st.integers(2, 10),
    scale=st.floats(0.2, 5.0),
)
def test_rotated_scaled_shifted_copy(seed: int, n: int, d: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Q = random_rotation(rng, d)
    shift = rng.normal(size=d) * 10
    Xtest = rng.normal(size=(n, d))
    rigid = fit_map(X, X @ Q + shift, "orthogonal")
    assert rigid.score(Xtest, Xtest @ Q + shift) == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(rigid.W_, Q, atol=1e-8)
    sim = fit_map(X, scale * X @ Q + shift, "similarity")
    assert sim.scale_ == pytest.approx(scale, rel=1e-9)
    assert sim.score(Xtest, scale * Xtest @ Q + shift) == pytest.approx(1.0, abs=1e-9)
    # A pure rotation cannot absorb a scale far from 1: R2 = 1 - (1 - 1/s)^2 exactly.
    if abs(scale - 1) > 0.3:
        r2 = fit_map(X, scale * X @ Q + shift, "orthogonal").score(Xtest, scale * Xtest @ Q)
        assert r2 < 0.99


@PROPS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(40, 120), d=st.integers(2, 8))
def test_general_linear_map_only_recovered_by_linear_kinds(seed: int, n: int, d: int) -> None:
    rng = np.random.default_rng(seed)
    sv = np.geomspace(0.2, 5.0, d)
    A = random_rotation(rng, d) @ np.diag(sv) @ random_rotation(rng, d)
    X, Xtest = rng.normal(size=(n, d)), rng.normal(size=(200, d))
    for kind in ("linear", "affine", "ridge"):
        assert fit_map(X, X @ A, kind).score(Xtest, Xtest @ A) > 0.999, kind
    assert fit_map(X, X @ A, "orthogonal").score(Xtest, Xtest @ A) < 0.9
    assert fit_map(X, X @ A, "similarity").score(Xtest, Xtest @ A) < 0.95


@PROPS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(5, 60), d=st.integers(1, 12))
def test_orthogonal_matches_scipy_procrustes(seed: int, n: int, d: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) + 3
    Y = X @ rng.normal(size=(d, d)) + rng.normal(size=(n, d)) - 1
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    R, _ = scipy.linalg.orthogonal_procrustes(Xc, Yc)
    m = fit_map(X, Y, "orthogonal")
    # Compare the fitted transforms (W is unique when Xc^T Yc has full rank).
    np.testing.assert_allclose(Xc @ m.W_, Xc @ R, atol=1e-8)
    np.testing.assert_allclose(m.W_ @ m.W_.T, np.eye(d), atol=1e-10)
    np.testing.assert_allclose(m.mean_x_, X.mean(0))


@pytest.mark.parametrize(("dx", "dy"), [(3, 7), (7, 3)])
def test_orthogonal_with_different_widths_is_semi_orthogonal(dx: int, dy: int) -> None:
    rng = np.random.default_rng(0)
    m = fit_map(rng.normal(size=(50, dx)), rng.normal(size=(50, dy)), "orthogonal")
    assert m.W_.shape == (dx, dy)
    small = min(dx, dy)
    gram = m.W_ @ m.W_.T if dx < dy else m.W_.T @ m.W_
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-10)


def test_narrow_space_embedded_in_wide_space_is_an_isometry() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(100, 4))
    Q = random_rotation(rng, 9)[:4]  # orthonormal rows: an isometric embedding R^4 -> R^9
    Y = X @ Q + 2.0
    m = fit_map(X, Y, "orthogonal")
    assert m.score(X, Y) == pytest.approx(1.0, abs=1e-10)
    np.testing.assert_allclose(m.inverse_transform(Y), X, atol=1e-10)
    # Distances are preserved by the forward map.
    d_in = np.linalg.norm(X[0] - X[1])
    d_out = np.linalg.norm(m.transform(X[:1]) - m.transform(X[1:2]))
    assert d_out == pytest.approx(d_in, rel=1e-12)


@pytest.mark.parametrize("kind", ["orthogonal", "similarity", "linear", "affine"])
def test_inverse_transform_round_trip(kind: str) -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(80, 5))
    Y = X @ rng.normal(size=(5, 5)) + rng.normal(size=(80, 5))
    m = fit_map(X, Y, kind)
    Yhat = m.transform(X)
    np.testing.assert_allclose(m.transform(m.inverse_transform(Yhat)), Yhat, atol=1e-8)


def test_ridge_has_no_inverse() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 3))
    m = fit_map(X, X, "ridge")
    with pytest.raises(NotImplementedError, match="fit a map from Y to X"):
        m.inverse_transform(X)


def test_score_is_pooled_r2_with_own_mean() -> None:
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(60, 4)), rng.normal(size=(60, 3))
    Xt, Yt = rng.normal(size=(30, 4)), rng.normal(size=(30, 3)) + 5.0
    m = fit_map(X, Y, "affine")
    pred = (Xt - X.mean(0)) @ m.W_ + Y.mean(0)  # training means
    expected = 1 - np.sum((Yt - pred) ** 2) / np.sum((Yt - Yt.mean(0)) ** 2)
    assert m.score(Xt, Yt) == pytest.approx(expected, rel=1e-12)


def test_linear_has_no_intercept_but_affine_does() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(100, 3))
    Y = X @ rng.normal(size=(3, 3)) + 10.0
    assert fit_map(X, Y, "affine").score(X, Y) == pytest.approx(1.0)
    assert fit_map(X, Y, "linear").score(X, Y) < 0.9


def test_ridge_chooses_alpha_from_grid_and_shrinks_noise() -> None:
    rng = np.random.default_rng(6)
    X = rng.normal(size=(40, 30))
    clean = fit_map(X, X @ rng.normal(size=(30, 5)), "ridge")
    noisy = fit_map(X, rng.normal(size=(40, 5)), "ridge")
    grid = RidgeMap().alphas
    assert clean.alpha_ in grid and noisy.alpha_ in grid
    assert noisy.alpha_ > clean.alpha_
    assert noisy.cv_errors_.shape == (len(grid),)
    assert clean.penalty_ > 0


def naive_ridge_cv(X: np.ndarray, Y: np.ndarray, alphas, cv: int) -> np.ndarray:
    """Refit on every training fold and predict the held-out fold, as written in the docs."""
    n = len(X)
    errors = np.zeros(len(alphas))
    for test in np.array_split(np.arange(n), cv):
        train = np.setdiff1d(np.arange(n), test)
        mx, my = X[train].mean(0), Y[train].mean(0)
        Xc, Yc = X[train] - mx, Y[train] - my
        G = Xc.T @ Xc
        for i, a in enumerate(alphas):
            W = np.linalg.solve(G + a * np.trace(G) / G.shape[0] * np.eye(len(G)), Xc.T @ Yc)
            errors[i] += np.sum(((X[test] - mx) @ W - (Y[test] - my)) ** 2)
    return errors / (n * Y.shape[1])


@PROPS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(20, 80), dx=st.integers(1, 12))
def test_ridge_cv_matches_explicit_refits(seed: int, n: int, dx: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, dx)) * rng.uniform(0.1, 10, size=dx) + rng.normal(size=dx) * 100
    Y = X @ rng.normal(size=(dx, 3)) + rng.normal(size=(n, 3)) * 5 - 50
    m = fit_map(X, Y, "ridge", cv=4)
    expected = naive_ridge_cv(X, Y, m.alphas, 4)
    np.testing.assert_allclose(m.cv_errors_, expected, rtol=1e-6)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    G = Xc.T @ Xc
    W = np.linalg.solve(G + m.penalty_ * np.eye(dx), Xc.T @ Yc)
    np.testing.assert_allclose(m.W_, W, rtol=1e-6, atol=1e-9)
    assert m.penalty_ == pytest.approx(m.alpha_ * np.trace(G) / dx)


def test_ridge_param_errors_raise_in_fit_not_init() -> None:
    X = np.random.default_rng(0).normal(size=(30, 2))
    m = RidgeMap(alphas=(-1.0,), cv=5)  # no error yet
    assert m.get_params() == {"alphas": (-1.0,), "cv": 5}
    with pytest.raises(ValueError, match="alphas must be"):
        m.fit(X, X)
    with pytest.raises(ValueError, match="cv must be an integer >= 2"):
        RidgeMap(cv=1).fit(X, X)
    with pytest.raises(ValueError, match="at least 10 are needed"):
        RidgeMap(cv=5).fit(X[:6], X[:6])


@pytest.mark.parametrize("kind", ["orthogonal", "similarity", "linear", "affine", "ridge"])
def test_to_dict_from_dict_round_trip(kind: str) -> None:
    rng = np.random.default_rng(7)
    X, Y = rng.normal(size=(50, 6)), rng.normal(size=(50, 4))
    m = fit_map(X, Y, kind)
    data = json.loads(json.dumps(m.to_dict()))
    back = map_from_dict(data)
    assert type(back) is type(m)
    assert back.get_params() == m.get_params()
    np.testing.assert_array_equal(back.transform(X), m.transform(X))
    assert get_map_class(kind).from_dict(data).score(X, Y) == m.score(X, Y)


def test_from_dict_rejects_wrong_kind_and_garbage() -> None:
    X = np.random.default_rng(8).normal(size=(20, 2))
    data = fit_map(X, X, "linear").to_dict()
    with pytest.raises(ValueError, match="not a 'orthogonal' map"):
        OrthogonalMap.from_dict(data)
    with pytest.raises(ValueError, match=r"produced by AlignmentMap\.to_dict"):
        map_from_dict({"W_": [1]})


def test_get_and_set_params() -> None:
    m = RidgeMap(cv=3)
    assert m.get_params() == {"alphas": RidgeMap().alphas, "cv": 3}
    assert m.set_params(cv=4) is m and m.cv == 4
    with pytest.raises(ValueError, match="has no hyperparameter 'alpha'"):
        m.set_params(alpha=1.0)
    assert repr(OrthogonalMap()) == "OrthogonalMap()"


def test_fit_returns_self_and_errors_before_fit() -> None:
    m = OrthogonalMap()
    with pytest.raises(ValueError, match="not fitted yet"):
        m.transform(np.zeros((2, 2)))
    X = np.random.default_rng(9).normal(size=(10, 2))
    assert m.fit(X, X) is m


def test_transform_checks_width() -> None:
    X = np.random.default_rng(10).normal(size=(10, 3))
    m = fit_map(X, X, "orthogonal")
    with pytest.raises(ValueError, match="has 2 columns but the map was fitted with 3"):
        m.transform(X[:, :2])


def test_centring_uses_training_means() -> None:
    rng = np.random.default_rng(11)
    X, Y = rng.normal(size=(30, 3)) + 4, rng.normal(size=(30, 3)) - 2
    for kind in ("orthogonal", "similarity", "affine", "ridge"):
        m = fit_map(X, Y, kind)
        np.testing.assert_allclose(m.transform(X.mean(0, keepdims=True))[0], Y.mean(0), atol=1e-12)


def test_the_orthogonal_map_falls_back_to_the_qr_svd_when_divide_and_conquer_fails(monkeypatch):
    """gesdd failed to converge in a quick-sweep cell's permutation null (and succeeded on
    the same matrix in another process); the map then takes gesvd's decomposition, the
    same rotation, instead of losing the cell."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6))
    rotation = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    Y = X @ rotation + 0.01 * rng.normal(size=(200, 6))
    expected = fit_map(X, Y, "orthogonal").W_
    real_svd, drivers = scipy.linalg.svd, []

    def failing_divide_and_conquer(a, *args, lapack_driver="gesdd", **kwargs):
        drivers.append(lapack_driver)
        if lapack_driver == "gesdd":
            raise np.linalg.LinAlgError("SVD did not converge")
        return real_svd(a, *args, lapack_driver=lapack_driver, **kwargs)

    monkeypatch.setattr(scipy.linalg, "svd", failing_divide_and_conquer)
    W = fit_map(X, Y, "orthogonal").W_
    assert drivers == ["gesdd", "gesvd"]
    np.testing.assert_allclose(W, expected, atol=1e-10)
    np.testing.assert_allclose(W, rotation, atol=0.01)
