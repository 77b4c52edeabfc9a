"""Honesty: permutation nulls and bootstrap confidence intervals.

A similarity number alone says little: CKA of two *independent* 64-d spaces on
200 frames is far from 0, and a linear map fitted on few frames overfits. The
functions here put every number next to its chance level.

* :func:`permutation_test` re-pairs the rows at random (frame ``i`` of ``X``
  with frame ``perm[i]`` of ``Y``), which keeps each space intact and destroys
  only the correspondence; the p-value is ``(1 + #{null at least as similar as
  observed}) / (1 + n_permutations)``, never 0.
* :func:`map_permutation_test` is the honest null for held-out map R2: the map
  is *refitted* on shuffled training pairs and scored on the untouched
  held-out pairs.
* :func:`bootstrap_ci` is the bootstrap over paired rows; its interval is
  centred on the estimate by default (see there for why).

Randomness always comes from a :class:`numpy.random.Generator` built from the
``seed`` argument (an int, a Generator, or None); no global state is touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._threads import single_blas_threaded
from .maps import fit_map, get_map_class, r2_score
from .metrics import MetricSpec, PreparedMetric, get_metric
from .validation import (
    as_generator,
    check_choice,
    check_fraction,
    check_paired,
    check_positive_int,
)

__all__ = [
    "CI_METHODS",
    "BootstrapResult",
    "PermutationResult",
    "bootstrap_ci",
    "bootstrap_interval",
    "map_permutation_test",
    "permutation_test",
]

MetricLike = str | MetricSpec | Callable[[np.ndarray, np.ndarray], float]


@dataclass(frozen=True)
class PermutationResult:
    """Outcome of a permutation test.

    Attributes
    ----------
    observed : float
        The statistic on the true pairing.
    null : ndarray of shape (n_permutations,)
        The statistic under each shuffled pairing.
    p_value : float
        ``(1 + #{null at least as similar as observed}) / (1 + n_permutations)``.
    null_mean, null_std : float
        Mean and standard deviation of ``null`` (NaN entries ignored).
    higher_is_better : bool
        Direction used for "at least as similar".
    """

    observed: float
    null: np.ndarray = field(repr=False)
    p_value: float
    null_mean: float
    null_std: float
    higher_is_better: bool

    @property
    def n_permutations(self) -> int:
        """Number of shuffled pairings drawn."""
        return int(self.null.size)


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap confidence interval.

    Attributes
    ----------
    estimate : float
        The statistic on the original rows.
    low, high : float
        Lower and upper percentile bounds.
    confidence : float
        Coverage, e.g. 0.95.
    samples : ndarray of shape (n_bootstrap,)
        The bootstrap replicates (NaN where a resample was degenerate).
    method : str
        ``"centred"`` or ``"percentile"`` (see :func:`bootstrap_ci`).
    """

    estimate: float
    low: float
    high: float
    confidence: float
    samples: np.ndarray = field(repr=False)
    method: str = "centred"


def _resolve(metric: MetricLike) -> tuple[Callable[..., PreparedMetric], bool | None]:
    """Return (prepare, higher_is_better or None if unknown) for a metric-like."""
    if isinstance(metric, str):
        metric = get_metric(metric)
    if isinstance(metric, MetricSpec):
        return metric.prepare, metric.higher_is_better
    if callable(metric):

        def prepare(X: np.ndarray, Y: np.ndarray, **kwargs: Any) -> PreparedMetric:
            X, Y = check_paired(X, Y, min_rows=2, allow_constant=True)
            return PreparedMetric(metric, X, Y, **kwargs)

        return prepare, None
    raise ValueError(
        "metric must be a registered metric name, a MetricSpec or a callable "
        f"f(X, Y) -> float; got {type(metric).__name__}."
    )


def p_value_from_null(observed: float, null: np.ndarray, higher_is_better: bool) -> float:
    """``(1 + #{null at least as similar as observed}) / (1 + len(null))``.

    NaN null values are counted as at least as similar (the conservative
    choice), so a degenerate null never makes a result look significant.
    """
    null = np.asarray(null, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        as_extreme = null >= observed if higher_is_better else null <= observed
    as_extreme |= np.isnan(null)
    return float((1 + np.count_nonzero(as_extreme)) / (1 + null.size))


def _summarise_null(observed: float, null: np.ndarray, higher_is_better: bool) -> PermutationResult:
    finite = null[np.isfinite(null)]
    return PermutationResult(
        observed=float(observed),
        null=null,
        p_value=p_value_from_null(observed, null, higher_is_better),
        null_mean=float(finite.mean()) if finite.size else float("nan"),
        null_std=float(finite.std(ddof=1)) if finite.size > 1 else float("nan"),
        higher_is_better=higher_is_better,
    )


@single_blas_threaded
def permutation_test(
    metric: MetricLike,
    X: np.ndarray,
    Y: np.ndarray,
    n_permutations: int = 100,
    seed: int | np.random.Generator | None = 0,
    *,
    higher_is_better: bool | None = None,
    **metric_kwargs: Any,
) -> PermutationResult:
    """Shuffled-pairing permutation test of a similarity metric.

    Parameters
    ----------
    metric : str, MetricSpec or callable
        A registered metric name (see :func:`~socialview.alignment.metric_names`)
        or any ``f(X, Y) -> float``.
    X : array-like of shape (n, d_x)
    Y : array-like of shape (n, d_y)
        Paired rows.
    n_permutations : int, default 100
    seed : int, Generator or None, default 0
    higher_is_better : bool, optional
        Direction of "more similar". Defaults to the registry's value, or True
        for a plain callable.
    **metric_kwargs
        Passed to the metric (e.g. ``k=5`` for ``"mutual_knn"``).

    Returns
    -------
    PermutationResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> res = permutation_test("linear_cka", X, X + rng.normal(size=(200, 4)), 99, seed=0)
    >>> res.p_value
    0.01
    """
    n_permutations = check_positive_int(n_permutations, "n_permutations")
    prepare, direction = _resolve(metric)
    if higher_is_better is None:
        higher_is_better = True if direction is None else direction
    prepared = prepare(X, Y, **metric_kwargs)
    rng = as_generator(seed)
    observed = prepared.value()
    null = np.array([prepared.permuted(rng.permutation(prepared.n)) for _ in range(n_permutations)])
    return _summarise_null(observed, null, higher_is_better)


#: Interval methods of :func:`bootstrap_ci`.
CI_METHODS = ("centred", "percentile")


def bootstrap_interval(
    samples: np.ndarray, estimate: float, confidence: float, method: str = "centred"
) -> tuple[float, float]:
    """Bootstrap interval from replicates (NaN replicates ignored).

    ``"percentile"``: the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2``
    quantiles of the replicates. ``"centred"``: the same quantiles after
    shifting the replicates so that their median equals ``estimate``; the width
    and shape come from the bootstrap, the location from the estimate.
    """
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    if method == "centred" and np.isfinite(estimate):
        shift = float(estimate) - float(np.median(finite))
        low, high = low + shift, high + shift
    return float(low), float(high)


@single_blas_threaded
def bootstrap_ci(
    metric: MetricLike,
    X: np.ndarray,
    Y: np.ndarray,
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = 0,
    *,
    method: str = "centred",
    **metric_kwargs: Any,
) -> BootstrapResult:
    """Bootstrap interval of a metric over paired rows.

    Each replicate draws ``n`` row indices with replacement and evaluates the
    metric on ``(X[idx], Y[idx])``: pairs stay together.

    A with-replacement resample holds only about 63% distinct frames, and most
    similarity metrics depend on the number of distinct frames (the bias of
    CKA, the chance overlap of neighbour sets, the overfit of CCA). On
    independent 500 x 64 latents the debiased linear CKA is 0.001 while its
    bootstrap replicates sit around 0.11, so a plain percentile interval would
    not even contain the estimate. The default ``method="centred"`` therefore
    keeps the spread of the replicates (the quantiles) but centres them on the
    estimate (shifts them so their median equals it); ``method="percentile"``
    gives the raw percentile interval. Registered metrics also treat copies of
    a frame explicitly where that is possible: ``mutual_knn`` uses the ``k``
    nearest *distinct* frames and weights rows by their count, ``rsa`` skips
    the zero-distance pairs of a frame with its own copy, and ``rbf_cka`` keeps
    the kernel bandwidth of the original rows.

    Parameters
    ----------
    metric : str, MetricSpec or callable
    X : array-like of shape (n, d_x)
    Y : array-like of shape (n, d_y)
    n_bootstrap : int, default 200
    confidence : float in (0, 1), default 0.95
    seed : int, Generator or None, default 0
    method : {"centred", "percentile"}, default "centred"
    **metric_kwargs
        Passed to the metric.

    Returns
    -------
    BootstrapResult
    """
    n_bootstrap = check_positive_int(n_bootstrap, "n_bootstrap")
    confidence = check_fraction(confidence, "confidence")
    method = check_choice(method, "method", CI_METHODS)
    prepare, _ = _resolve(metric)
    prepared = prepare(X, Y, **metric_kwargs)
    return _bootstrap_prepared(prepared, n_bootstrap, confidence, as_generator(seed), method)


def _bootstrap_prepared(
    prepared: PreparedMetric,
    n_bootstrap: int,
    confidence: float,
    rng: np.random.Generator,
    method: str = "centred",
) -> BootstrapResult:
    n = prepared.n
    samples = np.empty(n_bootstrap)
    for b in range(n_bootstrap):
        idx = rng.integers(0, n, size=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            samples[b] = prepared.resampled(idx)
    estimate = float(prepared.value())
    low, high = bootstrap_interval(samples, estimate, confidence, method)
    return BootstrapResult(estimate, low, high, confidence, samples, method)


@single_blas_threaded
def map_permutation_test(
    X_train: np.ndarray,
    Y_train: np.ndarray,
    X_test: np.ndarray,
    Y_test: np.ndarray,
    kind: str = "orthogonal",
    n_permutations: int = 20,
    seed: int | np.random.Generator | None = 0,
    **params: Any,
) -> PermutationResult:
    """Null distribution of held-out map R2 under shuffled training pairs.

    The observed value is the R2 on ``(X_test, Y_test)`` of a map fitted on
    ``(X_train, Y_train)``; each null value refits the map on
    ``(X_train, Y_train[perm])`` and scores it on the same held-out pairs.
    This is the honest null for a fitted map: with enough parameters a map can
    fit any training pairing, but only a real correspondence transfers.

    Parameters
    ----------
    X_train, Y_train : array-like of shape (n_train, d_x), (n_train, d_y)
    X_test, Y_test : array-like of shape (n_test, d_x), (n_test, d_y)
    kind : str, default "orthogonal"
    n_permutations : int, default 20
    seed : int, Generator or None, default 0
    **params
        Hyperparameters of the map.

    Returns
    -------
    PermutationResult
    """
    n_permutations = check_positive_int(n_permutations, "n_permutations")
    get_map_class(kind)
    X_train, Y_train = check_paired(X_train, Y_train, ("X_train", "Y_train"), allow_constant=True)
    X_test, Y_test = check_paired(X_test, Y_test, ("X_test", "Y_test"), allow_constant=True)
    rng = as_generator(seed)
    observed = fit_map(X_train, Y_train, kind, **params).score(X_test, Y_test)
    null = np.empty(n_permutations)
    for i in range(n_permutations):
        perm = rng.permutation(X_train.shape[0])
        m = fit_map(X_train, Y_train[perm], kind, **params)
        null[i] = r2_score(Y_test, m.transform(X_test))
    return _summarise_null(observed, null, True)
