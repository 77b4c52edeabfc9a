"""Similarity metrics between two latent spaces observed on the same frames.

Every metric is a plain function of two arrays ``X`` (n, d_x) and ``Y`` (n, d_y)
whose rows are paired frames; widths may differ. All arithmetic is float64.

========================  =========================================  ==========
registry name             function                                   better
========================  =========================================  ==========
``linear_cka``            :func:`linear_cka`                         higher
``linear_cka_debiased``   :func:`linear_cka` with ``debiased=True``  higher
``rbf_cka``               :func:`rbf_cka`                            higher
``procrustes_distance``   :func:`procrustes_distance`                lower
``shape_distance``        :func:`shape_distance`                     lower
``svcca``                 :func:`svcca`                              higher
``mutual_knn``            :func:`mutual_knn`                         higher
``rsa``                   :func:`rsa`                                higher
========================  =========================================  ==========

The registry (:func:`register_metric`, :func:`get_metric`) lets
:func:`~socialview.alignment.permutation_test`, :func:`~socialview.alignment.bootstrap_ci`
and :func:`~socialview.alignment.compare` name metrics. Each entry can
*prepare* a metric on one pair of arrays, caching whatever does not depend on
the pairing (Gram matrices, neighbour lists, distance ranks) so that the
hundreds of re-pairings of a permutation test cost little.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
import scipy.spatial.distance
import scipy.stats

from ._threads import blas_threads_for
from .maps import fit_map, get_map_class
from .validation import (
    as_generator,
    check_choice,
    check_fraction,
    check_paired,
    check_positive_int,
)

__all__ = [
    "MetricSpec",
    "PreparedMetric",
    "get_metric",
    "heldout_r2",
    "linear_cka",
    "metric_names",
    "mutual_knn",
    "procrustes_distance",
    "rbf_cka",
    "register_metric",
    "rsa",
    "shape_distance",
    "svcca",
    "train_test_indices",
]


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------


class PreparedMetric:
    """A metric bound to one pair of arrays, cheap to re-evaluate.

    ``permuted(perm)`` is the metric of ``(X, Y[perm])`` (a shuffled pairing);
    ``resampled(idx)`` is the metric of ``(X[idx], Y[idx])`` (a bootstrap
    resample; repeated rows are copies of one frame, and neighbour-based
    metrics do not count a copy as a neighbour). This generic version simply
    calls ``kernel``; metrics override it where caching helps.
    """

    def __init__(self, kernel: Callable[..., float], X: np.ndarray, Y: np.ndarray, **kwargs: Any):
        self._kernel = kernel
        self.X = X
        self.Y = Y
        self.kwargs = kwargs

    @property
    def n(self) -> int:
        """Number of paired rows."""
        return self.X.shape[0]

    def value(self) -> float:
        """The metric on the original pairing."""
        return float(self._kernel(self.X, self.Y, **self.kwargs))

    def permuted(self, perm: np.ndarray) -> float:
        """The metric after re-pairing row ``i`` of ``X`` with row ``perm[i]`` of ``Y``."""
        return float(self._kernel(self.X, self.Y[perm], **self.kwargs))

    def resampled(self, idx: np.ndarray) -> float:
        """The metric on the paired rows ``idx`` (drawn with replacement)."""
        return float(self._kernel(self.X[idx], self.Y[idx], **self.kwargs))


@dataclass(frozen=True)
class MetricSpec:
    """A registered metric.

    Attributes
    ----------
    name : str
        Registry key.
    function : callable
        The public function ``function(X, Y, **kwargs) -> float``.
    prepare : callable or None
        ``prepare(X, Y, **kwargs) -> PreparedMetric``; validates its inputs.
        None (for a third-party metric) validates the arrays and then calls
        ``function`` on every permutation and resample.
    higher_is_better : bool
        Direction of "more similar"; p-values count null values at least as
        similar as the observed one in this direction.
    summary : str
        One line for tables and reports.

    Examples
    --------
    >>> import numpy as np
    >>> def first_column_corr(X, Y):
    ...     return float(np.corrcoef(X[:, 0], Y[:, 0])[0, 1])
    >>> spec = MetricSpec("first_column_corr", first_column_corr, None, True)
    >>> X = np.arange(10.0).reshape(5, 2)
    >>> round(spec.prepare(X, 2 * X).value(), 12)
    1.0
    """

    name: str
    function: Callable[..., float]
    prepare: Callable[..., PreparedMetric] | None
    higher_is_better: bool
    summary: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string; got {self.name!r}.")
        if not callable(self.function):
            raise ValueError(f"function must be callable; got {self.function!r}.")
        if self.prepare is None:
            function = self.function

            def prepare(X: np.ndarray, Y: np.ndarray, **kwargs: Any) -> PreparedMetric:
                X, Y = check_paired(X, Y, min_rows=2)
                return PreparedMetric(function, X, Y, **kwargs)

            object.__setattr__(self, "prepare", prepare)


_METRIC_REGISTRY: dict[str, MetricSpec] = {}


def register_metric(spec: MetricSpec) -> MetricSpec:
    """Add ``spec`` to the registry.

    Raises
    ------
    ValueError
        If a metric with the same name is already registered.
    """
    if not isinstance(spec, MetricSpec):
        raise ValueError(f"spec must be a MetricSpec; got {type(spec).__name__}.")
    if spec.name in _METRIC_REGISTRY:
        raise ValueError(f"metric {spec.name!r} is already registered; choose another name.")
    _METRIC_REGISTRY[spec.name] = spec
    return spec


def metric_names() -> tuple[str, ...]:
    """Names of the registered metrics, in registration order."""
    return tuple(_METRIC_REGISTRY)


def get_metric(name: str) -> MetricSpec:
    """Return the registered :class:`MetricSpec` called ``name``.

    Raises
    ------
    ValueError
        If no such metric exists; the message lists the known names.
    """
    try:
        return _METRIC_REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"metric must be one of {list(_METRIC_REGISTRY)}; got {name!r}.") from None


def _centre(X: np.ndarray) -> np.ndarray:
    return X - X.mean(axis=0)


def _subsample(
    X: np.ndarray, Y: np.ndarray, max_rows: int | None, seed: int | np.random.Generator | None
) -> tuple[np.ndarray, np.ndarray]:
    if max_rows is None or X.shape[0] <= max_rows:
        return X, Y
    idx = np.sort(as_generator(seed).choice(X.shape[0], size=max_rows, replace=False))
    return X[idx], Y[idx]


def _check_max_rows(max_rows: Any) -> int | None:
    if max_rows is None:
        return None
    return check_positive_int(max_rows, "max_rows", minimum=4)


# ---------------------------------------------------------------------------
# Linear CKA
# ---------------------------------------------------------------------------


def _hsic_unbiased_linear(X: np.ndarray, Y: np.ndarray) -> float:
    """Unbiased HSIC (Song et al. 2012) of linear kernels without any n x n matrix.

    With ``K = X X^T`` and ``L = Y Y^T`` and tilde meaning "diagonal set to 0":
    ``HSIC_1 = [tr(K~L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3))``.
    Each term is rewritten with feature-space products (d x d) and row norms.
    """
    n = X.shape[0]
    dx = np.einsum("ij,ij->i", X, X)
    dy = np.einsum("ij,ij->i", Y, Y)
    sx = X.sum(axis=0)
    sy = Y.sum(axis=0)
    xty = X.T @ Y
    tr_kl = float(np.sum(xty * xty) - dx @ dy)
    sum_k = float(sx @ sx - dx.sum())
    sum_l = float(sy @ sy - dy.sum())
    k1 = X @ sx - dx
    l1 = Y @ sy - dy
    term = tr_kl + sum_k * sum_l / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * float(k1 @ l1)
    return term / (n * (n - 3))


def _linear_cka_kernel(
    X: np.ndarray, Y: np.ndarray, debiased: bool = False, in_place: bool = False
) -> float:
    """Linear CKA; ``in_place`` centres arrays the caller owns without copying them."""
    if in_place:
        X -= X.mean(axis=0)
        Y -= Y.mean(axis=0)
        Xc, Yc = X, Y
    else:
        Xc, Yc = _centre(X), _centre(Y)
    if debiased:
        xy = _hsic_unbiased_linear(Xc, Yc)
        xx = _hsic_unbiased_linear(Xc, Xc)
        yy = _hsic_unbiased_linear(Yc, Yc)
    else:
        xy = float(np.sum((Xc.T @ Yc) ** 2))
        xx = float(np.sum((Xc.T @ Xc) ** 2))
        yy = float(np.sum((Yc.T @ Yc) ** 2))
    denom = np.sqrt(xx * yy) if xx > 0 and yy > 0 else 0.0
    return xy / denom if denom > 0 else float("nan")


class _PreparedLinearCKA(PreparedMetric):
    def __init__(self, X: np.ndarray, Y: np.ndarray, debiased: bool = False):
        super().__init__(_linear_cka_kernel, X, Y, debiased=debiased)
        if not debiased:
            self._Xc, self._Yc = _centre(X), _centre(Y)
            xx = float(np.sum((self._Xc.T @ self._Xc) ** 2))
            yy = float(np.sum((self._Yc.T @ self._Yc) ** 2))
            self._denom = np.sqrt(xx * yy)

    def permuted(self, perm: np.ndarray) -> float:
        if self.kwargs["debiased"]:
            return super().permuted(perm)
        # Centring commutes with re-pairing, and the self-similarities do not change.
        return float(np.sum((self._Xc.T @ self._Yc[perm]) ** 2) / self._denom)


def linear_cka(X: np.ndarray, Y: np.ndarray, *, debiased: bool = False) -> float:
    """Linear centred kernel alignment (Kornblith et al. 2019).

    ``CKA = ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F)`` with column-centred
    ``Xc``, ``Yc``. It is invariant to orthogonal transforms and isotropic
    scaling of either space, and computed in feature space (d x d products),
    so 100k x 256 latents never build an n x n matrix.

    Parameters
    ----------
    X : array-like of shape (n, d_x)
    Y : array-like of shape (n, d_y)
    debiased : bool, default False
        Use the unbiased HSIC estimator of Song et al. (2012) for the three
        HSIC terms (the "debiased CKA" of Nguyen et al. 2021). The biased
        estimator is inflated for small ``n`` relative to ``d``; the debiased
        one is close to 0 for independent spaces and can be slightly negative.

    Returns
    -------
    float
        In [0, 1] for the biased estimator.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 8))
    >>> Q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    >>> round(linear_cka(X, 3.0 * X @ Q + 1.0), 6)
    1.0
    >>> abs(linear_cka(X, rng.normal(size=(500, 8)), debiased=True)) < 0.05
    True
    """
    X_in, Y_in = X, Y
    X, Y = check_paired(X, Y, min_rows=4 if debiased else 2, reason="for CKA")
    # Validation already copied float32 (or non-contiguous) input: centre that copy
    # in place instead of allocating another n x d array (matters at 100k x 256).
    owned = not np.may_share_memory(X, X_in) and not np.may_share_memory(Y, Y_in)
    with blas_threads_for(X.size + Y.size):
        return float(_linear_cka_kernel(X, Y, debiased=debiased, in_place=owned))


def _prepare_linear_cka(X: np.ndarray, Y: np.ndarray, *, debiased: bool = False) -> PreparedMetric:
    X, Y = check_paired(X, Y, min_rows=4, reason="for CKA")
    return _PreparedLinearCKA(X, Y, debiased=debiased)


# ---------------------------------------------------------------------------
# RBF CKA
# ---------------------------------------------------------------------------


def _sq_dists(X: np.ndarray) -> np.ndarray:
    Xc = _centre(X)
    sq = np.einsum("ij,ij->i", Xc, Xc)
    D = Xc @ Xc.T
    D *= -2.0
    D += sq[:, None]
    D += sq[None, :]
    np.maximum(D, 0.0, out=D)
    np.fill_diagonal(D, 0.0)
    return D


def _rbf_gram(D2: np.ndarray, bandwidth: float, debiased: bool) -> np.ndarray:
    """RBF Gram matrix with ``sigma^2 = bandwidth^2 * median off-diagonal D2``.

    The diagonal is zeroed for the debiased estimator.
    """
    n = D2.shape[0]
    off = D2[~np.eye(n, dtype=bool)]
    med = float(np.median(off)) if off.size else 0.0
    if med <= 0.0:
        med = float(off.mean()) if off.size and off.mean() > 0 else 1.0
    K = np.exp(D2 * (-1.0 / (2.0 * bandwidth**2 * med)))
    if debiased:
        np.fill_diagonal(K, 0.0)
    return K


def _hsic_unbiased_gram(K: np.ndarray, L: np.ndarray) -> float:
    """Unbiased HSIC of two n x n Gram matrices whose diagonals are already 0."""
    n = K.shape[0]
    k1 = K.sum(axis=1)
    l1 = L.sum(axis=1)
    term = (
        float(np.sum(K * L))
        + float(k1.sum()) * float(l1.sum()) / ((n - 1) * (n - 2))
        - 2.0 / (n - 2) * float(k1 @ l1)
    )
    return term / (n * (n - 3))


def _hsic_biased_gram(K: np.ndarray, L: np.ndarray) -> float:
    """``tr(K H L H)`` (up to the constant ``1/(n-1)^2``) without forming ``H K H``."""
    n = K.shape[0]
    k1 = K.sum(axis=1)
    l1 = L.sum(axis=1)
    return (
        float(np.einsum("ij,ij->", K, L))
        - 2.0 / n * float(k1 @ l1)
        + float(k1.sum()) * float(l1.sum()) / n**2
    )


def _cka_from_grams(K: np.ndarray, L: np.ndarray, debiased: bool) -> float:
    """CKA of two uncentred Gram matrices (diagonals zeroed if ``debiased``)."""
    hsic = _hsic_unbiased_gram if debiased else _hsic_biased_gram
    xy, xx, yy = hsic(K, L), hsic(K, K), hsic(L, L)
    denom = np.sqrt(xx * yy) if xx > 0 and yy > 0 else 0.0
    return xy / denom if denom > 0 else float("nan")


def _rbf_cka_kernel(
    X: np.ndarray, Y: np.ndarray, bandwidth: float = 1.0, debiased: bool = False
) -> float:
    K = _rbf_gram(_sq_dists(X), bandwidth, debiased)
    L = _rbf_gram(_sq_dists(Y), bandwidth, debiased)
    return _cka_from_grams(K, L, debiased)


class _PreparedRBFCKA(PreparedMetric):
    """Caches both Gram matrices; the bandwidth stays that of the original rows.

    Bootstrap resamples gather rows and columns of the cached Gram matrices,
    i.e. the kernel (and its median-distance bandwidth) is treated as fixed by
    the original sample, which keeps a resample cheap.
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray, bandwidth: float, debiased: bool):
        super().__init__(_rbf_cka_kernel, X, Y, bandwidth=bandwidth, debiased=debiased)
        self._K = _rbf_gram(_sq_dists(X), bandwidth, debiased)
        self._L = _rbf_gram(_sq_dists(Y), bandwidth, debiased)
        hsic = _hsic_unbiased_gram if debiased else _hsic_biased_gram
        self._kk = hsic(self._K, self._K)
        self._ll = hsic(self._L, self._L)

    def value(self) -> float:
        return _cka_from_grams(self._K, self._L, self.kwargs["debiased"])

    def permuted(self, perm: np.ndarray) -> float:
        # Re-pairing permutes rows and columns of L; its self-similarity is unchanged.
        hsic = _hsic_unbiased_gram if self.kwargs["debiased"] else _hsic_biased_gram
        xy = hsic(self._K, self._L.take(perm, axis=0).take(perm, axis=1))
        return xy / np.sqrt(self._kk * self._ll)

    def resampled(self, idx: np.ndarray) -> float:
        K = self._K.take(idx, axis=0).take(idx, axis=1)
        L = self._L.take(idx, axis=0).take(idx, axis=1)
        return _cka_from_grams(K, L, self.kwargs["debiased"])


def _check_bandwidth(bandwidth: Any) -> float:
    if (
        isinstance(bandwidth, bool)
        or not isinstance(bandwidth, (int, float, np.floating))
        or not (np.isfinite(bandwidth) and bandwidth > 0)
    ):
        raise ValueError(f"bandwidth must be a positive finite float; got {bandwidth!r}.")
    return float(bandwidth)


def rbf_cka(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    bandwidth: float = 1.0,
    debiased: bool = False,
    max_rows: int | None = 4000,
    seed: int | np.random.Generator | None = 0,
) -> float:
    """CKA with Gaussian (RBF) kernels (Kornblith et al. 2019).

    ``K_ij = exp(-||x_i - x_j||^2 / (2 sigma^2))`` with
    ``sigma^2 = bandwidth^2 * median_{i != j} ||x_i - x_j||^2``, computed per
    space; then CKA of the double-centred Gram matrices.

    Parameters
    ----------
    X : array-like of shape (n, d_x)
    Y : array-like of shape (n, d_y)
    bandwidth : float, default 1.0
        Kernel width as a multiple of the median pairwise distance.
    debiased : bool, default False
        Use the unbiased HSIC estimator (see :func:`linear_cka`).
    max_rows : int or None, default 4000
        The estimator needs n x n matrices; above this many rows a random
        subset of paired rows (drawn with ``seed``) is used. ``None`` uses all.
    seed : int, Generator or None, default 0
        Seed of that subset.

    Returns
    -------
    float
    """
    X, Y = check_paired(X, Y, min_rows=4, reason="for RBF CKA")
    bandwidth = _check_bandwidth(bandwidth)
    X, Y = _subsample(X, Y, _check_max_rows(max_rows), seed)
    with blas_threads_for(X.size + Y.size):
        return float(_rbf_cka_kernel(X, Y, bandwidth=bandwidth, debiased=debiased))


def _prepare_rbf_cka(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    bandwidth: float = 1.0,
    debiased: bool = False,
    max_rows: int | None = 4000,
    seed: int | np.random.Generator | None = 0,
) -> PreparedMetric:
    X, Y = check_paired(X, Y, min_rows=4, reason="for RBF CKA")
    X, Y = _subsample(X, Y, _check_max_rows(max_rows), seed)
    return _PreparedRBFCKA(X, Y, _check_bandwidth(bandwidth), debiased)


# ---------------------------------------------------------------------------
# Procrustes / shape distance
# ---------------------------------------------------------------------------


def _nuclear_similarity(X: np.ndarray, Y: np.ndarray) -> float:
    """``max_Q tr(Q^T Xn^T Yn)`` over semi-orthogonal Q, for centred unit-norm Xn, Yn."""
    Xc, Yc = _centre(X), _centre(Y)
    nx, ny = np.linalg.norm(Xc), np.linalg.norm(Yc)
    if nx == 0 or ny == 0:
        return float("nan")
    s = scipy.linalg.svdvals((Xc.T @ Yc) / (nx * ny))
    return float(np.clip(s.sum(), 0.0, 1.0))


def _procrustes_kernel(X: np.ndarray, Y: np.ndarray) -> float:
    return float(np.sqrt(max(0.0, 2.0 - 2.0 * _nuclear_similarity(X, Y))))


def _shape_kernel(X: np.ndarray, Y: np.ndarray) -> float:
    return float(np.arccos(_nuclear_similarity(X, Y)))


def procrustes_distance(X: np.ndarray, Y: np.ndarray) -> float:
    """Full Procrustes distance between the two centred, unit-norm configurations.

    ``min_Q ||Xn Q - Yn||_F`` over (semi-)orthogonal ``Q``, where
    ``Xn = Xc / ||Xc||_F`` (same for ``Y``); the narrower space is zero-padded.
    It equals ``sqrt(2 - 2 * nuclear_norm(Xn^T Yn))``, lies in
    ``[0, sqrt(2)]``, is 0 exactly when ``Y`` is a rotated, scaled and shifted
    copy of ``X``, and is a metric (Williams et al. 2021).
    """
    X, Y = check_paired(X, Y, min_rows=2, reason="for the Procrustes distance")
    with blas_threads_for(X.size + Y.size):
        return float(_procrustes_kernel(X, Y))


def shape_distance(X: np.ndarray, Y: np.ndarray) -> float:
    """Angular shape metric of Williams et al. (2021), in radians.

    ``arccos(max_Q <Xn Q, Yn>) = arccos(nuclear_norm(Xn^T Yn))`` for centred,
    unit-Frobenius-norm configurations; in ``[0, pi/2]``, 0 for identical
    shapes. It is the angle whose chord is :func:`procrustes_distance`
    (``procrustes = 2 sin(angle / 2)``), and satisfies the triangle inequality.
    """
    X, Y = check_paired(X, Y, min_rows=2, reason="for the shape distance")
    with blas_threads_for(X.size + Y.size):
        return float(_shape_kernel(X, Y))


def _prepare_procrustes(X: np.ndarray, Y: np.ndarray) -> PreparedMetric:
    X, Y = check_paired(X, Y, min_rows=2, reason="for the Procrustes distance")
    return PreparedMetric(_procrustes_kernel, X, Y)


def _prepare_shape(X: np.ndarray, Y: np.ndarray) -> PreparedMetric:
    X, Y = check_paired(X, Y, min_rows=2, reason="for the shape distance")
    return PreparedMetric(_shape_kernel, X, Y)


# ---------------------------------------------------------------------------
# SVCCA
# ---------------------------------------------------------------------------


def _top_basis(X: np.ndarray, keep: float | int) -> np.ndarray:
    """Orthonormal basis (n, k) of the top principal components of ``X``."""
    Xc = _centre(X)
    lam, V = scipy.linalg.eigh(Xc.T @ Xc)
    lam, V = lam[::-1], V[:, ::-1]
    rank = int(np.sum(lam > max(lam[0], 0.0) * 1e-10)) if lam.size else 0
    rank = max(rank, 1)
    if isinstance(keep, (int, np.integer)) and not isinstance(keep, bool):
        k = min(int(keep), rank)
    else:
        frac = np.cumsum(lam[:rank]) / lam[:rank].sum()
        k = int(np.searchsorted(frac, float(keep) - 1e-12) + 1)
        k = min(k, rank)
    return Xc @ (V[:, :k] / np.sqrt(lam[:k]))


def _cca_of_bases(Ux: np.ndarray, Uy: np.ndarray) -> float:
    rho = np.clip(scipy.linalg.svdvals(Ux.T @ Uy), 0.0, 1.0)
    m = min(Ux.shape[1], Uy.shape[1])
    return float(rho[:m].mean())


def _svcca_kernel(X: np.ndarray, Y: np.ndarray, keep: float | int = 0.99) -> float:
    return _cca_of_bases(_top_basis(X, keep), _top_basis(Y, keep))


class _PreparedSVCCA(PreparedMetric):
    def __init__(self, X: np.ndarray, Y: np.ndarray, keep: float | int):
        super().__init__(_svcca_kernel, X, Y, keep=keep)
        self._Ux, self._Uy = _top_basis(X, keep), _top_basis(Y, keep)

    def value(self) -> float:
        return _cca_of_bases(self._Ux, self._Uy)

    def permuted(self, perm: np.ndarray) -> float:
        # The SVD reduction of each space does not depend on the pairing.
        return _cca_of_bases(self._Ux, self._Uy[perm])


def _check_keep(keep: Any) -> float | int:
    if isinstance(keep, (int, np.integer)) and not isinstance(keep, bool):
        return check_positive_int(keep, "keep")
    if isinstance(keep, (float, np.floating)) and 0.0 < keep <= 1.0:
        return float(keep)
    raise ValueError(
        "keep must be a float in (0, 1] (fraction of variance kept) or a positive int "
        f"(number of components); got {keep!r}."
    )


def svcca(X: np.ndarray, Y: np.ndarray, *, keep: float | int = 0.99) -> float:
    """Singular-vector CCA (Raghu et al. 2017): mean canonical correlation.

    Each space is reduced to its top principal components (``keep`` as a
    fraction of variance, or a number of components); the canonical
    correlations between the two reduced spaces are the singular values of
    ``Ux^T Uy`` for orthonormal bases ``Ux``, ``Uy``; the result is their
    mean over ``min(k_x, k_y)`` components. ``keep=1.0`` is plain CCA over all
    non-degenerate directions. Like every CCA it is biased upward when the
    number of components approaches ``n``; read it against its permutation null.

    Parameters
    ----------
    X : array-like of shape (n, d_x)
    Y : array-like of shape (n, d_y)
    keep : float in (0, 1] or int, default 0.99

    Returns
    -------
    float in [0, 1]
    """
    X, Y = check_paired(X, Y, min_rows=3, reason="for SVCCA")
    keep = _check_keep(keep)
    with blas_threads_for(X.size + Y.size):
        return float(_svcca_kernel(X, Y, keep=keep))


def _prepare_svcca(X: np.ndarray, Y: np.ndarray, *, keep: float | int = 0.99) -> PreparedMetric:
    X, Y = check_paired(X, Y, min_rows=3, reason="for SVCCA")
    return _PreparedSVCCA(X, Y, _check_keep(keep))


# ---------------------------------------------------------------------------
# Mutual k nearest neighbours
# ---------------------------------------------------------------------------


def _unit_rows(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1)
    norms[norms == 0] = 1.0
    return X / norms[:, None]


def _topk_from_sims(S: np.ndarray, k: int) -> np.ndarray:
    return np.argpartition(-S, k - 1, axis=1)[:, :k]


def _knn_indices(X: np.ndarray, k: int, block: int = 1024) -> np.ndarray:
    """Indices of the ``k`` nearest rows by cosine similarity, self excluded.

    Works in row blocks so memory is ``block * n``.
    """
    Xn = _unit_rows(X)
    n = Xn.shape[0]
    out = np.empty((n, k), dtype=np.intp)
    for start in range(0, n, block):
        stop = min(start + block, n)
        S = Xn[start:stop] @ Xn.T
        S[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        out[start:stop] = _topk_from_sims(S, k)
    return out


def _neighbour_overlap(nx: np.ndarray, ny: np.ndarray) -> float:
    k = nx.shape[1]
    shared = (nx[:, :, None] == ny[:, None, :]).sum(axis=(1, 2))
    return float(shared.mean() / k)


def _mutual_knn_kernel(
    X: np.ndarray, Y: np.ndarray, k: int = 10, weights: np.ndarray | None = None
) -> float:
    """Mutual k-NN share; ``weights`` (one per row) weight the mean over rows."""
    nx, ny = _knn_indices(X, k), _knn_indices(Y, k)
    if weights is None:
        return _neighbour_overlap(nx, ny)
    shared = (nx[:, :, None] == ny[:, None, :]).sum(axis=(1, 2))
    return float(np.sum(weights * shared) / (weights.sum() * k))


class _PreparedMutualKNN(PreparedMetric):
    """Caches neighbour lists (for permutations) and neighbour orderings (for resamples).

    A bootstrap resample holds some frames several times. A frame's copies are
    not its neighbours, and a neighbour held twice counts once: each row's
    neighbours are its ``k`` nearest *distinct* frames present in the resample,
    and rows are weighted by how often their frame was drawn.
    """

    #: Above this many rows the n x n neighbour orderings are not cached.
    _cache_limit = 4096

    def __init__(self, X: np.ndarray, Y: np.ndarray, k: int):
        super().__init__(_mutual_knn_kernel, X, Y, k=k)
        self._nx, self._ny = _knn_indices(X, k), _knn_indices(Y, k)
        self._ox = self._oy = None
        if X.shape[0] <= self._cache_limit:
            self._ox, self._oy = self._orderings(X), self._orderings(Y)

    @staticmethod
    def _orderings(X: np.ndarray) -> np.ndarray:
        Xn = _unit_rows(X)
        S = Xn @ Xn.T
        np.fill_diagonal(S, -np.inf)
        # Each row: the other rows from most to least similar (self sorted last, dropped).
        return np.argsort(-S, axis=1, kind="stable")[:, :-1].astype(np.int32)

    def value(self) -> float:
        return _neighbour_overlap(self._nx, self._ny)

    def permuted(self, perm: np.ndarray) -> float:
        # Row i of Y[perm] is Y[perm[i]]; its neighbours, in the new numbering,
        # are inv[neighbours of perm[i] in Y].
        inv = np.empty_like(perm)
        inv[perm] = np.arange(perm.size)
        return _neighbour_overlap(self._nx, inv[self._ny[perm]])

    @staticmethod
    def _first_present(order: np.ndarray, present: np.ndarray, k: int) -> np.ndarray:
        mask = present[order]
        mask &= np.cumsum(mask, axis=1) <= k
        return order[mask].reshape(order.shape[0], k)

    def resampled(self, idx: np.ndarray) -> float:
        k = self.kwargs["k"]
        uniq, counts = np.unique(idx, return_counts=True)
        if uniq.size <= k:
            return float("nan")
        if self._ox is None:
            return _mutual_knn_kernel(self.X[uniq], self.Y[uniq], k=k, weights=counts)
        present = np.zeros(self.n, dtype=bool)
        present[uniq] = True
        nx = self._first_present(self._ox[uniq], present, k)
        ny = self._first_present(self._oy[uniq], present, k)
        shared = (nx[:, :, None] == ny[:, None, :]).sum(axis=(1, 2))
        return float(np.sum(counts * shared) / (counts.sum() * k))


def _check_knn_inputs(X: Any, Y: Any, k: Any) -> tuple[np.ndarray, np.ndarray, int]:
    k = check_positive_int(k, "k")
    X, Y = check_paired(
        X, Y, min_rows=k + 1, reason=f"k={k} neighbours per row, self excluded; lower k"
    )
    for name, A in (("X", X), ("Y", Y)):
        zero = np.flatnonzero(~np.any(A != 0, axis=1))
        if zero.size:
            raise ValueError(
                f"{name} has {zero.size} all-zero rows (first: {zero[:5].tolist()}); cosine "
                "neighbours are undefined for them. Drop those frames from both arrays."
            )
    return X, Y, k


def mutual_knn(X: np.ndarray, Y: np.ndarray, k: int = 10) -> float:
    """Mutual k-nearest-neighbour alignment (Huh et al. 2024).

    For every row, find its ``k`` nearest other rows by cosine similarity in
    ``X`` and in ``Y`` (the row itself excluded), and take the fraction of the
    ``k`` that the two sets share; return the mean over rows. 1 means identical
    neighbourhoods; independent spaces give about ``k / (n - 1)``. Exact, in
    row blocks, so memory stays ``O(n)`` per block (time is ``O(n^2 d)``).

    Parameters
    ----------
    X : array-like of shape (n, d_x)
    Y : array-like of shape (n, d_y)
    k : int, default 10
        Neighbours per row; needs ``n >= k + 1``.

    Returns
    -------
    float in [0, 1]
    """
    X, Y, k = _check_knn_inputs(X, Y, k)
    with blas_threads_for(X.size + Y.size):
        return float(_mutual_knn_kernel(X, Y, k=k))


def _prepare_mutual_knn(X: np.ndarray, Y: np.ndarray, *, k: int = 10) -> PreparedMetric:
    X, Y, k = _check_knn_inputs(X, Y, k)
    return _PreparedMutualKNN(X, Y, k)


# ---------------------------------------------------------------------------
# RSA
# ---------------------------------------------------------------------------

_RSA_DISTANCES = ("euclidean", "cosine", "correlation")


def _ranks(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks (1-based, ties share their mean rank) and tie-group codes of ``v``.

    Same as ``scipy.stats.rankdata(v)`` and ``rankdata(v, method="min") - 1``
    from one sort, about twice as fast on millions of distances.
    """
    order = np.argsort(v)
    sorted_v = v[order]
    starts = np.flatnonzero(np.r_[True, sorted_v[1:] != sorted_v[:-1]])
    sizes = np.diff(np.r_[starts, v.size])
    codes = np.empty(v.size, dtype=np.int64)
    codes[order] = np.repeat(starts, sizes)
    avg = np.empty(v.size)
    avg[order] = np.repeat(starts + (sizes + 1) / 2.0, sizes)
    return avg, codes


def _centred_ranks(X: np.ndarray, distance: str) -> np.ndarray:
    r, _ = _ranks(scipy.spatial.distance.pdist(X, metric=distance))
    return r - r.mean()


def _rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    denom = np.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b) / denom if denom > 0 else float("nan")


def _rsa_kernel(X: np.ndarray, Y: np.ndarray, distance: str = "euclidean") -> float:
    return _rank_correlation(_centred_ranks(X, distance), _centred_ranks(Y, distance))


class _PreparedRSA(PreparedMetric):
    def __init__(self, X: np.ndarray, Y: np.ndarray, distance: str):
        super().__init__(_rsa_kernel, X, Y, distance=distance)
        n = X.shape[0]
        self._iu = np.triu_indices(n, 1)
        dx = scipy.spatial.distance.pdist(X, metric=distance)
        dy = scipy.spatial.distance.pdist(Y, metric=distance)
        # Integer codes that order the distances (equal distances share a code),
        # so a resample can be re-ranked by counting instead of sorting.
        # int32 halves the memory; n (n - 1) / 2 < 2**31 for any n that fits in memory here.
        rx, cx = _ranks(dx)
        ry, cy = _ranks(dy)
        self._cx = scipy.spatial.distance.squareform(cx.astype(np.int32), checks=False)
        self._cy = scipy.spatial.distance.squareform(cy.astype(np.int32), checks=False)
        self._rx = rx - rx.mean()
        self._Ry = scipy.spatial.distance.squareform(ry - ry.mean(), checks=False)

    def value(self) -> float:
        return _rank_correlation(self._rx, self._Ry[self._iu])

    def permuted(self, perm: np.ndarray) -> float:
        # Re-pairing permutes the rows and columns of Y's distance matrix, so
        # its ranks are permuted, not recomputed.
        return _rank_correlation(self._rx, self._Ry[perm[self._iu[0]], perm[self._iu[1]]])

    @staticmethod
    def _twice_average_ranks(codes: np.ndarray, size: int) -> np.ndarray:
        """Twice the average (1-based) ranks of ``codes``, centred; ties share a rank."""
        counts = np.bincount(codes, minlength=size)
        twice = 2 * np.cumsum(counts) - counts + 1
        r = twice.take(codes).astype(np.float64)
        r -= r.mean()
        return r

    def resampled(self, idx: np.ndarray) -> float:
        a = idx.take(self._iu[0])
        b = idx.take(self._iu[1])
        keep = a != b  # a frame and its own copy are not a pair
        flat = (a * self.n + b)[keep]
        size = self._rx.size
        rx = self._twice_average_ranks(self._cx.take(flat), size)
        ry = self._twice_average_ranks(self._cy.take(flat), size)
        return _rank_correlation(rx, ry)


def rsa(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    distance: str = "euclidean",
    max_rows: int | None = 4000,
    seed: int | np.random.Generator | None = 0,
) -> float:
    """Representational similarity analysis (Kriegeskorte et al. 2008).

    Spearman rank correlation between the condensed pairwise-distance
    matrices (upper triangles, ``i < j``) of ``X`` and ``Y``; ties get average
    ranks, as in :func:`scipy.stats.spearmanr`.

    Parameters
    ----------
    X : array-like of shape (n, d_x)
    Y : array-like of shape (n, d_y)
    distance : {"euclidean", "cosine", "correlation"}, default "euclidean"
        Dissimilarity used within each space.
    max_rows : int or None, default 4000
        The estimator ranks ``n (n - 1) / 2`` distances; above this many rows a
        random subset of paired rows (drawn with ``seed``) is used.
    seed : int, Generator or None, default 0

    Returns
    -------
    float in [-1, 1]
    """
    X, Y = check_paired(X, Y, min_rows=3, reason="for RSA (at least two distinct pairs)")
    distance = check_choice(distance, "distance", _RSA_DISTANCES)
    X, Y = _subsample(X, Y, _check_max_rows(max_rows), seed)
    with blas_threads_for(X.size + Y.size):
        return float(_rsa_kernel(X, Y, distance=distance))


def _prepare_rsa(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    distance: str = "euclidean",
    max_rows: int | None = 4000,
    seed: int | np.random.Generator | None = 0,
) -> PreparedMetric:
    X, Y = check_paired(X, Y, min_rows=3, reason="for RSA (at least two distinct pairs)")
    distance = check_choice(distance, "distance", _RSA_DISTANCES)
    X, Y = _subsample(X, Y, _check_max_rows(max_rows), seed)
    return _PreparedRSA(X, Y, distance)


# ---------------------------------------------------------------------------
# Held-out R2 of a map
# ---------------------------------------------------------------------------


def train_test_indices(
    n: int, test_size: float, seed: int | np.random.Generator | None, shuffle: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``range(n)`` into sorted train and test indices.

    ``shuffle=False`` holds out the last ``test_size`` fraction (contiguous),
    which is the honest split for correlated consecutive frames.
    """
    test_size = check_fraction(test_size, "test_size")
    n_test = round(n * test_size)
    if n_test < 2 or n - n_test < 2:
        raise ValueError(
            f"test_size={test_size} of {n} rows leaves {n - n_test} training and {n_test} "
            "held-out rows; both need at least 2. Pass more rows or change test_size."
        )
    if shuffle:
        order = as_generator(seed).permutation(n)
        return np.sort(order[n_test:]), np.sort(order[:n_test])
    return np.arange(n - n_test), np.arange(n - n_test, n)


def heldout_r2(
    X: np.ndarray,
    Y: np.ndarray,
    kind: str = "orthogonal",
    *,
    test_size: float = 0.25,
    seed: int | np.random.Generator | None = 0,
    shuffle: bool = True,
    **params: Any,
) -> float:
    """Held-out R2 of a map of ``kind`` from ``X`` to ``Y``.

    Splits the paired rows (see ``shuffle``), fits the map on the training
    rows only and returns :meth:`~socialview.alignment.maps.AlignmentMap.score`
    on the held-out rows.

    Parameters
    ----------
    X : array-like of shape (n, d_x)
    Y : array-like of shape (n, d_y)
    kind : str, default "orthogonal"
        A registered map kind.
    test_size : float in (0, 1), default 0.25
    seed : int, Generator or None, default 0
        Seed of the random split.
    shuffle : bool, default True
        Random split if True, else the last rows are held out.
    **params
        Hyperparameters of the map.
    """
    get_map_class(kind)
    X, Y = check_paired(X, Y, min_rows=4, reason="to split into training and held-out rows")
    train, test = train_test_indices(X.shape[0], test_size, seed, shuffle)
    return fit_map(X[train], Y[train], kind, **params).score(X[test], Y[test])


# ---------------------------------------------------------------------------
# Built-in registrations
# ---------------------------------------------------------------------------


def _linear_cka_debiased(X: np.ndarray, Y: np.ndarray) -> float:
    """Debiased linear CKA; see :func:`linear_cka`."""
    return linear_cka(X, Y, debiased=True)


def _prepare_linear_cka_debiased(X: np.ndarray, Y: np.ndarray) -> PreparedMetric:
    return _prepare_linear_cka(X, Y, debiased=True)


for _spec in (
    MetricSpec("linear_cka", linear_cka, _prepare_linear_cka, True, "linear CKA (biased HSIC)"),
    MetricSpec(
        "linear_cka_debiased",
        _linear_cka_debiased,
        _prepare_linear_cka_debiased,
        True,
        "linear CKA (unbiased HSIC)",
    ),
    MetricSpec("rbf_cka", rbf_cka, _prepare_rbf_cka, True, "RBF-kernel CKA, median bandwidth"),
    MetricSpec(
        "procrustes_distance",
        procrustes_distance,
        _prepare_procrustes,
        False,
        "Procrustes distance of unit-norm shapes",
    ),
    MetricSpec("shape_distance", shape_distance, _prepare_shape, False, "angular shape metric"),
    MetricSpec("svcca", svcca, _prepare_svcca, True, "mean SVCCA correlation (99% variance)"),
    MetricSpec("mutual_knn", mutual_knn, _prepare_mutual_knn, True, "mutual 10-NN share"),
    MetricSpec("rsa", rsa, _prepare_rsa, True, "Spearman RSA, Euclidean distances"),
):
    register_metric(_spec)
del _spec
