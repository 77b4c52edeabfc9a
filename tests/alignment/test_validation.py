"""Bad input: every public entry point raises a ValueError that says what and how to fix."""

from __future__ import annotations

import numpy as np
import pytest

from socialview.alignment import (
    compare,
    constant_columns,
    drop_constant_columns,
    fit_map,
    get_metric,
    linear_cka,
    metric_names,
    mutual_knn,
    permutation_test,
    rsa,
    svcca,
)

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 5))
Y = rng.normal(size=(40, 3))


def with_value(A: np.ndarray, value: float) -> np.ndarray:
    A = A.copy()
    A[3, 1] = value
    return A


@pytest.mark.parametrize("name", metric_names())
def test_every_metric_rejects_mismatched_rows(name: str) -> None:
    with pytest.raises(ValueError, match=r"same number of rows.*got 40 and 39"):
        get_metric(name).function(X, Y[:39])


@pytest.mark.parametrize("name", metric_names())
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_every_metric_rejects_non_finite(name: str, bad: float) -> None:
    with pytest.raises(ValueError, match=r"Y contains .* in 1 rows \(first bad rows: \[3\]\)"):
        get_metric(name).function(X, with_value(Y, bad))


@pytest.mark.parametrize("name", metric_names())
def test_every_metric_rejects_constant_columns(name: str) -> None:
    Xc = X.copy()
    Xc[:, 2] = 7.0
    with pytest.raises(ValueError, match=r"X has 1 constant column\(s\) \(indices \[2\]\).*drop_"):
        get_metric(name).function(Xc, Y)


@pytest.mark.parametrize("kind", ["orthogonal", "similarity", "linear", "affine", "ridge"])
def test_every_map_rejects_bad_input(kind: str) -> None:
    with pytest.raises(ValueError, match="same number of rows"):
        fit_map(X, Y[:30], kind)
    with pytest.raises(ValueError, match="NaN"):
        fit_map(with_value(X, np.nan), Y, kind)
    with pytest.raises(ValueError, match="at least"):
        fit_map(X[:1], Y[:1], kind)


def test_shape_errors_explain_the_fix() -> None:
    with pytest.raises(ValueError, match=r"must be 2-D.*reshape\(-1, 1\)"):
        linear_cka(X[:, 0], Y)
    with pytest.raises(ValueError, match="3-D"):
        linear_cka(X.reshape(40, 5, 1), Y)
    with pytest.raises(ValueError, match="cannot be converted to float"):
        linear_cka([["a", "b"], ["c", "d"]], Y[:2])
    with pytest.raises(ValueError, match="at least one feature"):
        linear_cka(np.zeros((40, 0)), Y)


def test_too_few_samples() -> None:
    with pytest.raises(ValueError, match=r"k=10 neighbours.*lower k"):
        mutual_knn(X[:8], Y[:8], k=10)
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        mutual_knn(X, Y, k=0)
    with pytest.raises(ValueError, match="at least 4 are needed"):
        linear_cka(X[:3], Y[:3], debiased=True)
    with pytest.raises(ValueError, match="both need at least 2"):
        compare(X[:10], Y[:10], test_size=0.05)
    with pytest.raises(ValueError, match="at least 8 are needed"):
        compare(X[:5], Y[:5])


def test_parameter_errors_name_value_and_choices() -> None:
    with pytest.raises(ValueError, match=r"distance must be one of \['euclidean'.*got 'l1'"):
        rsa(X, Y, distance="l1")
    with pytest.raises(ValueError, match="keep must be a float in"):
        svcca(X, Y, keep=1.5)
    with pytest.raises(ValueError, match=r"test_size must be a float in \(0, 1\); got 1.0"):
        compare(X, Y, test_size=1.0)
    with pytest.raises(ValueError, match="n_permutations must be an integer >= 1; got 0"):
        permutation_test("linear_cka", X, Y, n_permutations=0)
    with pytest.raises(ValueError, match="seed must be an int"):
        permutation_test("linear_cka", X, Y, seed="zero")


def test_zero_rows_rejected_for_cosine_neighbours() -> None:
    Z = X.copy()
    Z[5] = 0.0
    with pytest.raises(ValueError, match=r"all-zero rows.*cosine"):
        mutual_knn(Z, Y, k=3)


def test_constant_column_helpers() -> None:
    A = np.column_stack([np.ones(5), np.arange(5.0), np.zeros(5), np.full(5, 1e9)])
    A[2, 3] += 1e-4  # round-off-sized (1e-13 relative) variation still counts as constant
    np.testing.assert_array_equal(constant_columns(A), [0, 2, 3])
    assert drop_constant_columns(A).shape == (5, 1)
