"""Maps between two latent spaces, fitted on paired frames.

Each map is a small estimator in the scikit-learn style: hyperparameters are
stored unmodified by ``__init__``; :meth:`AlignmentMap.fit` validates the data,
learns the attributes whose names end in ``_`` and returns ``self``;
:meth:`~AlignmentMap.transform` sends rows of the source space ``X`` into the
target space ``Y``; :meth:`~AlignmentMap.score` is the held-out R2.

Kinds (the registry key in brackets), from most to least constrained:

``orthogonal`` (:class:`OrthogonalMap`)
    Procrustes on centred data: ``y = (x - mean_x) W + mean_y`` with ``W`` the
    semi-orthogonal matrix closest to the cross-covariance. When the widths
    differ the narrower side is padded with zeros, so ``W`` has orthonormal
    rows if ``d_x <= d_y`` (an isometry of the ``X`` space onto a subspace of the
    ``Y`` space) and orthonormal columns if ``d_x > d_y`` (the rotation that best
    lines up a ``d_y``-dimensional subspace of ``X`` with ``Y``; distances
    orthogonal to that subspace are discarded).
``similarity`` (:class:`SimilarityMap`)
    The orthogonal map times one positive scale, the scale being the
    least-squares optimum given the rotation.
``linear`` (:class:`LinearMap`)
    A general matrix through the origin, ``y = x W``, by least squares. No
    centring and no intercept: a shift between the spaces counts against it.
``affine`` (:class:`AffineMap`)
    ``y = (x - mean_x) W + mean_y`` by least squares, i.e. a general linear map
    plus an intercept.
``ridge`` (:class:`RidgeMap`)
    The affine map with an L2 penalty whose strength is chosen by contiguous
    k-fold cross-validation over a log grid.

All maps centre with the *training* means; :meth:`~AlignmentMap.score` centres
the held-out ``Y`` by its own mean to form the total sum of squares.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import scipy.linalg

from ._threads import blas_threads_for
from .validation import check_latents, check_paired, check_positive_int

__all__ = [
    "AffineMap",
    "AlignmentMap",
    "LinearMap",
    "OrthogonalMap",
    "RidgeMap",
    "SimilarityMap",
    "fit_map",
    "get_map_class",
    "map_from_dict",
    "map_kinds",
    "r2_score",
    "register_map",
]

#: Map kinds by name, filled by :func:`register_map`.
_MAP_REGISTRY: dict[str, type[AlignmentMap]] = {}

#: Format version written by :meth:`AlignmentMap.to_dict`.
_DICT_VERSION = 1


def register_map(name: str) -> Callable[[type[AlignmentMap]], type[AlignmentMap]]:
    """Class decorator that registers a map kind under ``name``.

    Raises
    ------
    ValueError
        If ``name`` is already registered (names are never silently replaced).
    """

    def decorator(cls: type[AlignmentMap]) -> type[AlignmentMap]:
        if name in _MAP_REGISTRY:
            raise ValueError(
                f"map kind {name!r} is already registered to {_MAP_REGISTRY[name].__qualname__}; "
                "choose another name."
            )
        cls.kind = name
        _MAP_REGISTRY[name] = cls
        return cls

    return decorator


def map_kinds() -> tuple[str, ...]:
    """Names of the registered map kinds, in registration order."""
    return tuple(_MAP_REGISTRY)


def get_map_class(kind: str) -> type[AlignmentMap]:
    """Return the map class registered under ``kind``.

    Raises
    ------
    ValueError
        If ``kind`` is not registered; the message lists the known kinds.
    """
    try:
        return _MAP_REGISTRY[kind]
    except (KeyError, TypeError):
        raise ValueError(f"kind must be one of {list(_MAP_REGISTRY)}; got {kind!r}.") from None


def r2_score(Y_true: np.ndarray, Y_pred: np.ndarray) -> float:
    """Pooled coefficient of determination, ``1 - SS_res / SS_tot``.

    Both sums run over every entry of the ``(n, d)`` arrays; ``SS_tot`` centres
    ``Y_true`` by its own column means. No input checks (internal helper).
    """
    resid = Y_true - Y_pred
    centred = Y_true - Y_true.mean(axis=0)
    ss_tot = float(np.einsum("ij,ij->", centred, centred))
    ss_res = float(np.einsum("ij,ij->", resid, resid))
    if ss_tot == 0.0:
        return float("nan")
    return 1.0 - ss_res / ss_tot


class AlignmentMap:
    """Base class of the maps from a source space ``X`` to a target space ``Y``.

    Subclasses implement :meth:`_fit` and :meth:`_forward`, list the fitted
    array attributes in ``_fitted_attributes`` and, if the map can be inverted,
    :meth:`_backward`.
    """

    #: Registry name, set by :func:`register_map`.
    kind: ClassVar[str] = ""
    #: Names of the fitted attributes saved by :meth:`to_dict`.
    _fitted_attributes: ClassVar[tuple[str, ...]] = ()
    #: Whether :meth:`inverse_transform` is available.
    has_inverse: ClassVar[bool] = True
    #: Fewest training pairs the map accepts.
    _min_rows: ClassVar[int] = 2

    # -- scikit-learn style plumbing -------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters as passed to ``__init__``."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> AlignmentMap:
        """Set hyperparameters by name (checked at the next ``fit``); returns self."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"{type(self).__name__} has no hyperparameter {name!r}; valid: {valid}."
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _min_rows_for_fit(self) -> int:
        return self._min_rows

    def _check_is_fitted(self) -> None:
        missing = [a for a in self._fitted_attributes if not hasattr(self, a)]
        if missing:
            raise ValueError(
                f"this {type(self).__name__} is not fitted yet; call fit(X, Y) before using it."
            )

    # -- public API ------------------------------------------------------------------
    def fit(self, X: np.ndarray, Y: np.ndarray) -> AlignmentMap:
        """Learn the map from paired rows ``X`` (source) and ``Y`` (target).

        Parameters
        ----------
        X : array-like of shape (n, d_x)
        Y : array-like of shape (n, d_y)
            Row ``i`` of both arrays is the same frame seen by the two agents.

        Returns
        -------
        self
        """
        X, Y = check_paired(
            X,
            Y,
            min_rows=self._min_rows_for_fit(),
            reason=f"to fit a {self.kind} map",
            allow_constant=True,
        )
        self._validate_params()
        self.n_features_in_ = X.shape[1]
        self.n_features_out_ = Y.shape[1]
        with blas_threads_for(X.size + Y.size):
            self._fit(X, Y)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Map rows of the source space into the target space."""
        self._check_is_fitted()
        X = self._check_width(X, "X", self.n_features_in_)
        return self._forward(X)

    def inverse_transform(self, Y: np.ndarray) -> np.ndarray:
        """Map rows of the target space back into the source space.

        The inverse is exact for square invertible maps and the least-squares
        (Moore-Penrose) inverse otherwise.

        Raises
        ------
        NotImplementedError
            For maps without an inverse (``ridge``); fit a map in the other
            direction instead.
        """
        if not self.has_inverse:
            raise NotImplementedError(
                f"the {self.kind} map has no inverse; fit a map from Y to X instead."
            )
        self._check_is_fitted()
        Y = self._check_width(Y, "Y", self.n_features_out_)
        return self._backward(Y)

    def score(self, X: np.ndarray, Y: np.ndarray) -> float:
        """Held-out R2 of the map: ``1 - SS_res / SS_tot`` pooled over dimensions.

        ``SS_res = sum((Y - transform(X))**2)`` and
        ``SS_tot = sum((Y - Y.mean(0))**2)``, where the mean is that of the
        ``Y`` passed here (not the training mean). 1 is a perfect map; 0 is no
        better than predicting the mean; it can be negative.
        """
        self._check_is_fitted()
        X, Y = check_paired(X, Y, min_rows=2, reason="to score a map", allow_constant=True)
        self._check_width(X, "X", self.n_features_in_)
        self._check_width(Y, "Y", self.n_features_out_)
        ss_tot = np.sum((Y - Y.mean(axis=0)) ** 2)
        if ss_tot == 0.0:
            raise ValueError(
                "Y is constant (every row equal), so R2 is undefined; score on frames that vary."
            )
        return r2_score(Y, self._forward(X))

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python description (kind, hyperparameters, fitted arrays) for JSON."""
        self._check_is_fitted()
        fitted: dict[str, Any] = {}
        for attr in self._fitted_attributes:
            value = getattr(self, attr)
            fitted[attr] = value.tolist() if isinstance(value, np.ndarray) else value
        fitted["n_features_in_"] = int(self.n_features_in_)
        fitted["n_features_out_"] = int(self.n_features_out_)
        return {
            "kind": self.kind,
            "version": _DICT_VERSION,
            "params": _jsonable(self.get_params()),
            "fitted": fitted,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlignmentMap:
        """Rebuild a fitted map written by :meth:`to_dict`.

        Called on the base class it dispatches on ``data["kind"]``; called on a
        subclass it checks that the kind matches.
        """
        if not isinstance(data, dict) or "kind" not in data or "fitted" not in data:
            raise ValueError(
                "data must be a dict produced by AlignmentMap.to_dict() with keys "
                f"'kind', 'params' and 'fitted'; got {type(data).__name__}."
            )
        target = get_map_class(data["kind"])
        if cls is not AlignmentMap and target is not cls:
            raise ValueError(
                f"data describes a {data['kind']!r} map, not a {cls.kind!r} map; "
                "call AlignmentMap.from_dict(data) to dispatch on the kind."
            )
        if data.get("version", _DICT_VERSION) != _DICT_VERSION:
            raise ValueError(
                f"unsupported map format version {data.get('version')!r}; "
                f"this socialview reads version {_DICT_VERSION}."
            )
        params = dict(data.get("params", {}))
        obj = target(**{k: _unjson_param(v) for k, v in params.items()})
        fitted = data["fitted"]
        for attr in (*target._fitted_attributes, "n_features_in_", "n_features_out_"):
            if attr not in fitted:
                raise ValueError(f"data['fitted'] lacks {attr!r}; it was not written by to_dict().")
            value = fitted[attr]
            if isinstance(value, list):
                value = np.asarray(value, dtype=np.float64)
            setattr(obj, attr, value)
        return obj

    # -- hooks -------------------------------------------------------------------------
    def _validate_params(self) -> None:
        """Check hyperparameters (called by fit, never by __init__)."""

    def _fit(self, X: np.ndarray, Y: np.ndarray) -> None:
        raise NotImplementedError

    def _forward(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _backward(self, Y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def _check_width(A: np.ndarray, name: str, width: int) -> np.ndarray:
        A = check_latents(A, name, min_rows=1, allow_constant=True)
        if A.shape[1] != width:
            raise ValueError(
                f"{name} has {A.shape[1]} columns but the map was fitted with {width}; "
                "pass latents from the same agent the map was fitted on."
            )
        return A


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        if isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, tuple):
            v = list(v)
        elif isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


def _unjson_param(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def _procrustes_rotation(Xc: np.ndarray, Yc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Semi-orthogonal ``W`` maximising ``trace(W.T @ Xc.T @ Yc)``, and the singular values.

    LAPACK's divide-and-conquer SVD (``gesdd``, the fast one) can fail to converge on a
    matrix the QR-iteration driver (``gesvd``) decomposes; one did in a quick-sweep cell's
    permutation null (a shuffled pairing of 64-d latents, single-threaded OpenBLAS beside
    torch), so that driver is the fallback."""
    M = Xc.T @ Yc
    try:
        U, s, Vt = scipy.linalg.svd(M, full_matrices=False, lapack_driver="gesdd")
    except np.linalg.LinAlgError:
        U, s, Vt = scipy.linalg.svd(M, full_matrices=False, lapack_driver="gesvd")
    return U @ Vt, s


@register_map("orthogonal")
class OrthogonalMap(AlignmentMap):
    """Orthogonal Procrustes map on centred data, ``y = (x - mean_x_) @ W_ + mean_y_``.

    ``W_`` maximises ``trace(W.T Xc.T Yc)`` over semi-orthogonal matrices; it is
    ``U @ Vt`` from the thin SVD of ``Xc.T @ Yc``. With equal widths this is
    the classical solution (:func:`scipy.linalg.orthogonal_procrustes`); with
    different widths it is the solution after zero-padding the narrower side,
    restricted to the real coordinates: an isometry onto its image when
    ``d_x <= d_y`` (``W_ @ W_.T = I``), and a projection onto the best-aligned
    ``d_y``-dimensional subspace of ``X`` followed by a rotation when
    ``d_x > d_y`` (``W_.T @ W_ = I``).

    Attributes
    ----------
    W_ : ndarray of shape (d_x, d_y)
    mean_x_ : ndarray of shape (d_x,)
        Training mean of ``X``.
    mean_y_ : ndarray of shape (d_y,)
        Training mean of ``Y``.

    Examples
    --------
    >>> import numpy as np
    >>> from socialview.alignment import fit_map
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 8))
    >>> Q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    >>> m = fit_map(X, X @ Q + 3.0, "orthogonal")
    >>> round(m.score(X, X @ Q + 3.0), 6)
    1.0
    """

    _fitted_attributes = ("W_", "mean_x_", "mean_y_")

    def __init__(self) -> None:
        pass

    def _fit(self, X: np.ndarray, Y: np.ndarray) -> None:
        self.mean_x_ = X.mean(axis=0)
        self.mean_y_ = Y.mean(axis=0)
        self.W_, _ = _procrustes_rotation(X - self.mean_x_, Y - self.mean_y_)

    def _forward(self, X: np.ndarray) -> np.ndarray:
        return (X - self.mean_x_) @ self.W_ + self.mean_y_

    def _backward(self, Y: np.ndarray) -> np.ndarray:
        # W_ has orthonormal rows or columns, so its pseudo-inverse is W_.T.
        return (Y - self.mean_y_) @ self.W_.T + self.mean_x_


@register_map("similarity")
class SimilarityMap(AlignmentMap):
    """Orthogonal Procrustes map times one scale, ``y = scale_ (x - mean_x_) W_ + mean_y_``.

    ``W_`` is the :class:`OrthogonalMap` solution; ``scale_`` is the
    least-squares optimum given ``W_``: the sum of singular values of
    ``Xc.T Yc`` divided by ``||Xc W_||_F^2``. With ``d_x <= d_y`` this is the
    exact joint optimum (Umeyama / Schoenemann); with ``d_x > d_y`` it is the
    optimum scale for the Procrustes rotation.

    Attributes
    ----------
    W_ : ndarray of shape (d_x, d_y)
    scale_ : float
    mean_x_, mean_y_ : ndarray
        Training means.
    """

    _fitted_attributes = ("W_", "scale_", "mean_x_", "mean_y_")

    def __init__(self) -> None:
        pass

    def _fit(self, X: np.ndarray, Y: np.ndarray) -> None:
        self.mean_x_ = X.mean(axis=0)
        self.mean_y_ = Y.mean(axis=0)
        Xc = X - self.mean_x_
        W, s = _procrustes_rotation(Xc, Y - self.mean_y_)
        denom = float(np.sum((Xc @ W) ** 2))
        self.W_ = W
        self.scale_ = float(s.sum() / denom) if denom > 0 else 1.0

    def _forward(self, X: np.ndarray) -> np.ndarray:
        return self.scale_ * ((X - self.mean_x_) @ self.W_) + self.mean_y_

    def _backward(self, Y: np.ndarray) -> np.ndarray:
        if self.scale_ == 0.0:
            raise ValueError("the fitted scale is 0 (X and Y are uncorrelated); no inverse exists.")
        return ((Y - self.mean_y_) @ self.W_.T) / self.scale_ + self.mean_x_


@register_map("linear")
class LinearMap(AlignmentMap):
    """Least-squares linear map through the origin, ``y = x @ W_`` (no intercept).

    Use :class:`AffineMap` when the two spaces may also differ by a shift.
    With fewer rows than source features the minimum-norm solution is used.

    Attributes
    ----------
    W_ : ndarray of shape (d_x, d_y)
    """

    _fitted_attributes = ("W_",)

    def __init__(self) -> None:
        pass

    def _fit(self, X: np.ndarray, Y: np.ndarray) -> None:
        self.W_ = scipy.linalg.lstsq(X, Y, lapack_driver="gelsy")[0]

    def _forward(self, X: np.ndarray) -> np.ndarray:
        return X @ self.W_

    def _backward(self, Y: np.ndarray) -> np.ndarray:
        return Y @ np.linalg.pinv(self.W_)


@register_map("affine")
class AffineMap(AlignmentMap):
    """Least-squares affine map, ``y = (x - mean_x_) @ W_ + mean_y_``.

    Attributes
    ----------
    W_ : ndarray of shape (d_x, d_y)
    mean_x_, mean_y_ : ndarray
        Training means (the intercept is ``mean_y_ - mean_x_ @ W_``).
    """

    _fitted_attributes = ("W_", "mean_x_", "mean_y_")

    def __init__(self) -> None:
        pass

    def _fit(self, X: np.ndarray, Y: np.ndarray) -> None:
        self.mean_x_ = X.mean(axis=0)
        self.mean_y_ = Y.mean(axis=0)
        self.W_ = scipy.linalg.lstsq(X - self.mean_x_, Y - self.mean_y_, lapack_driver="gelsy")[0]

    def _forward(self, X: np.ndarray) -> np.ndarray:
        return (X - self.mean_x_) @ self.W_ + self.mean_y_

    def _backward(self, Y: np.ndarray) -> np.ndarray:
        return (Y - self.mean_y_) @ np.linalg.pinv(self.W_) + self.mean_x_


#: Default ridge grid: penalties relative to the mean eigenvalue of ``Xc.T @ Xc``.
DEFAULT_RIDGE_ALPHAS: tuple[float, ...] = tuple(float(a) for a in np.logspace(-6, 3, 10))


@register_map("ridge")
class RidgeMap(AlignmentMap):
    """Affine map with an L2 penalty chosen by cross-validation.

    ``W_ = (Xc.T Xc + penalty_ I)^-1 Xc.T Yc`` with ``penalty_ = alpha_ *
    trace(Xc.T Xc) / d_x``: the grid ``alphas`` is relative to the mean
    eigenvalue of the centred Gram matrix, so it does not depend on the scale
    of the latents. ``alpha_`` is the grid value with the smallest pooled
    held-out squared error over ``cv`` contiguous folds (contiguous, not
    shuffled, because neighbouring frames are correlated); each fold is centred
    with its own training means. Ties (within a relative 1e-9) go to the larger penalty.

    Parameters
    ----------
    alphas : sequence of float, default ``DEFAULT_RIDGE_ALPHAS`` = 1e-6, 1e-5, ..., 1e3
        Relative penalties to try.
    cv : int, default 5
        Number of folds.

    Attributes
    ----------
    W_ : ndarray of shape (d_x, d_y)
    mean_x_, mean_y_ : ndarray
        Training means.
    alpha_ : float
        Chosen relative penalty.
    penalty_ : float
        Absolute penalty used for the final fit.
    cv_errors_ : ndarray of shape (len(alphas),)
        Mean squared held-out error per grid value.
    """

    _fitted_attributes = ("W_", "mean_x_", "mean_y_", "alpha_", "penalty_", "cv_errors_")
    has_inverse = False

    def __init__(self, alphas: Sequence[float] = DEFAULT_RIDGE_ALPHAS, cv: int = 5) -> None:
        self.alphas = alphas
        self.cv = cv

    def _validate_params(self) -> None:
        check_positive_int(self.cv, "cv", minimum=2)
        alphas = np.asarray(self.alphas, dtype=np.float64)
        if (
            alphas.ndim != 1
            or alphas.size == 0
            or not np.all(np.isfinite(alphas))
            or np.any(alphas <= 0)
        ):
            raise ValueError(
                f"alphas must be a non-empty 1-D sequence of positive finite floats; got "
                f"{self.alphas!r}."
            )

    def _min_rows_for_fit(self) -> int:
        cv = self.cv if isinstance(self.cv, (int, np.integer)) and self.cv >= 2 else 2
        return 2 * int(cv)

    @staticmethod
    def _eig_path(G: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """Eigendecomposition of the Gram ``G``, ``V.T @ C`` and the mean eigenvalue."""
        lam, V = scipy.linalg.eigh(G)
        lam = np.clip(lam, 0.0, None)
        mean_eig = max(float(np.trace(G)) / G.shape[0], np.finfo(float).tiny)
        return lam, V, V.T @ C, mean_eig

    def _fit(self, X: np.ndarray, Y: np.ndarray) -> None:
        # Cross-validation from per-fold sufficient statistics (sums, X'X, X'Y, Y'Y),
        # so each fold costs O(d^3) instead of refitting and predicting on n rows.
        # Everything is first centred by the global means, which keeps the
        # mean-correction terms small and the subtraction accurate.
        alphas = np.asarray(self.alphas, dtype=np.float64)
        n = X.shape[0]
        self.mean_x_ = X.mean(axis=0)
        self.mean_y_ = Y.mean(axis=0)
        Xg, Yg = X - self.mean_x_, Y - self.mean_y_
        folds = []
        for idx in np.array_split(np.arange(n), int(self.cv)):
            Xf, Yf = Xg[idx], Yg[idx]
            folds.append(
                (
                    idx.size,
                    Xf.sum(axis=0),
                    Yf.sum(axis=0),
                    Xf.T @ Xf,
                    Xf.T @ Yf,
                    float(np.sum(Yf * Yf)),
                )
            )
        sx = sum(f[1] for f in folds)
        sy = sum(f[2] for f in folds)
        Sxx = sum(f[3] for f in folds)
        Sxy = sum(f[4] for f in folds)
        errors = np.zeros(alphas.size)
        for n_te, sx_te, sy_te, Sxx_te, Sxy_te, yy_te in folds:
            n_tr = n - n_te
            mx, my = (sx - sx_te) / n_tr, (sy - sy_te) / n_tr  # training-fold means
            G = (Sxx - Sxx_te) - n_tr * np.outer(mx, mx)
            C = (Sxy - Sxy_te) - n_tr * np.outer(mx, my)
            lam, V, B, mean_eig = self._eig_path(G, C)
            # Held-out fold, centred by the training-fold means.
            Gte = Sxx_te - np.outer(sx_te, mx) - np.outer(mx, sx_te) + n_te * np.outer(mx, mx)
            Cte = Sxy_te - np.outer(sx_te, my) - np.outer(mx, sy_te) + n_te * np.outer(mx, my)
            yy = yy_te - 2.0 * float(sy_te @ my) + n_te * float(my @ my)
            ZtZ = V.T @ Gte @ V
            ZtY = V.T @ Cte
            for i, p in enumerate(alphas * mean_eig):
                DB = B / (lam + p)[:, None]
                # ||Z D B - Yc||^2 expanded: tr(B'D Z'Z D B) - 2 tr(Yc'Z D B) + ||Yc||^2
                errors[i] += max(float(np.sum(DB * (ZtZ @ DB)) - 2.0 * np.sum(ZtY * DB) + yy), 0.0)
        errors /= n * Y.shape[1]
        # Largest alpha among the minimisers (ties favour the simpler model).
        candidates = np.flatnonzero(errors <= errors.min() * (1 + 1e-9))
        best = int(candidates[np.argmax(alphas[candidates])]) if candidates.size else 0
        self.cv_errors_ = errors
        self.alpha_ = float(alphas[best])
        G = Sxx - n * np.outer(sx / n, sx / n)
        C = Sxy - n * np.outer(sx / n, sy / n)
        lam, V, B, mean_eig = self._eig_path(G, C)
        self.penalty_ = float(self.alpha_ * mean_eig)
        self.W_ = V @ (B / (lam + self.penalty_)[:, None])

    def _forward(self, X: np.ndarray) -> np.ndarray:
        return (X - self.mean_x_) @ self.W_ + self.mean_y_


def fit_map(X: np.ndarray, Y: np.ndarray, kind: str = "orthogonal", **params: Any) -> AlignmentMap:
    """Fit a map of the given ``kind`` from ``X`` (source) to ``Y`` (target).

    Parameters
    ----------
    X : array-like of shape (n, d_x)
    Y : array-like of shape (n, d_y)
        Paired frames; widths may differ.
    kind : str, default "orthogonal"
        One of :func:`map_kinds`: ``"orthogonal"``, ``"similarity"``,
        ``"linear"``, ``"affine"``, ``"ridge"``.
    **params
        Hyperparameters of that kind (for example ``alphas`` and ``cv`` for
        ``"ridge"``).

    Returns
    -------
    AlignmentMap
        The fitted map; ``transform`` sends ``X`` rows to ``Y`` space.

    Examples
    --------
    >>> import numpy as np
    >>> from socialview.alignment import fit_map
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 5))
    >>> A = rng.normal(size=(5, 5))
    >>> m = fit_map(X[:200], X[:200] @ A, "linear")
    >>> round(m.score(X[200:], X[200:] @ A), 6)
    1.0
    >>> fit_map(X[:200], X[:200] @ A, "orthogonal").score(X[200:], X[200:] @ A) < 0.9
    True
    """
    return get_map_class(kind)(**params).fit(X, Y)


def map_from_dict(data: dict[str, Any]) -> AlignmentMap:
    """Rebuild any fitted map from :meth:`AlignmentMap.to_dict` output."""
    return AlignmentMap.from_dict(data)
