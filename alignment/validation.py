"""Input checks shared by maps, metrics and statistics.

Every public entry point of :mod:`socialview.alignment` passes its arrays through
these helpers before doing any work, so a bad input fails early with a
``ValueError`` that names the parameter, shows the offending value and says what
is allowed or how to fix it. Internal loops (permutations, bootstrap resamples)
call the unchecked kernels directly, so the checks cost nothing there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "as_generator",
    "check_choice",
    "check_fraction",
    "check_latents",
    "check_paired",
    "check_positive_int",
    "constant_columns",
    "drop_constant_columns",
]


def constant_columns(X: np.ndarray) -> np.ndarray:
    """Return the indices of the columns of ``X`` whose values are all equal.

    A column counts as constant when its range is at most ``1e-12`` times its
    largest absolute value (so float round-off in an otherwise constant column
    does not hide it). An all-zero column is constant.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        return np.zeros(0, dtype=np.intp)
    hi, lo = X.max(axis=0), X.min(axis=0)
    scale = np.maximum(np.abs(hi), np.abs(lo))
    return np.flatnonzero(hi - lo <= 1e-12 * scale)


def drop_constant_columns(X: np.ndarray) -> np.ndarray:
    """Return ``X`` without its constant columns (see :func:`constant_columns`).

    Constant latent units (for example dead ReLUs) carry no information about
    the frame, and they make covariance matrices singular; dropping them is the
    usual fix before comparing two latent spaces. Widths of the two spaces may
    differ afterwards, which every map and metric accepts.
    """
    X = np.asarray(X)
    keep = np.setdiff1d(np.arange(X.shape[1]), constant_columns(X))
    return X[:, keep]


def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"array of shape {x.shape} and dtype {x.dtype}"
    return f"{type(x).__name__} {x!r}"


def check_latents(
    X: Any,
    name: str = "X",
    *,
    min_rows: int = 2,
    reason: str = "",
    allow_constant: bool = False,
) -> np.ndarray:
    """Validate one latent array and return it as a C-contiguous float64 array.

    Parameters
    ----------
    X : array-like of shape (n, d)
        Latent vectors, one row per frame.
    name : str
        Parameter name used in error messages.
    min_rows : int
        Smallest number of rows the caller can work with.
    reason : str
        Why ``min_rows`` rows are needed (appended to the error message).
    allow_constant : bool
        If False, constant columns are an error.

    Returns
    -------
    numpy.ndarray of shape (n, d), float64

    Raises
    ------
    ValueError
        If ``X`` is not a 2-D numeric array, has fewer than ``min_rows`` rows,
        contains NaN or infinity, or (unless allowed) has constant columns.
    """
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a numeric array of shape (n_samples, n_features); got "
            f"{_describe(X)} which cannot be converted to float ({exc})."
        ) from None
    if arr.ndim == 1:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features); got a 1-D array of shape "
            f"{arr.shape}. Use {name}.reshape(-1, 1) for a single feature or "
            f"{name}.reshape(1, -1) for a single sample."
        )
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features); got {arr.ndim}-D shape "
            f"{arr.shape}. Flatten the feature axes first, e.g. {name}.reshape(len({name}), -1)."
        )
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has shape {arr.shape}: it needs at least one feature column.")
    if arr.shape[0] < min_rows:
        why = f" ({reason})" if reason else ""
        raise ValueError(
            f"{name} has {arr.shape[0]} rows but at least {min_rows} are needed{why}; "
            "pass more paired frames."
        )
    # max/min propagate NaN and keep inf, so one reduction pass screens for both and
    # also gives the column ranges for the constant-column check.
    hi, lo = arr.max(axis=0), arr.min(axis=0)
    if not (np.isfinite(hi).all() and np.isfinite(lo).all()):
        finite = np.isfinite(arr)
        bad_rows = np.flatnonzero(~finite.all(axis=1))
        n_nan = int(np.isnan(arr).sum())
        n_inf = int(np.isinf(arr).sum())
        raise ValueError(
            f"{name} contains {n_nan} NaN and {n_inf} infinite values in {bad_rows.size} rows "
            f"(first bad rows: {bad_rows[:5].tolist()}). Drop those rows from both arrays "
            "(keep the pairing) or fix the encoder that produced them."
        )
    if not allow_constant:
        const = np.flatnonzero(hi - lo <= 1e-12 * np.maximum(np.abs(hi), np.abs(lo)))
        if const.size:
            raise ValueError(
                f"{name} has {const.size} constant column(s) (indices {const[:10].tolist()}"
                f"{' ...' if const.size > 10 else ''}); they carry no information and make "
                "the comparison ill-defined. Remove them first, e.g. with "
                f"socialview.alignment.drop_constant_columns({name})."
            )
    return np.ascontiguousarray(arr)


def check_paired(
    X: Any,
    Y: Any,
    names: tuple[str, str] = ("X", "Y"),
    *,
    min_rows: int = 2,
    reason: str = "",
    allow_constant: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate two arrays whose rows are paired frames (same count, same order).

    Widths may differ. See :func:`check_latents` for the per-array checks.
    """
    X = check_latents(X, names[0], min_rows=min_rows, reason=reason, allow_constant=allow_constant)
    Y = check_latents(Y, names[1], min_rows=min_rows, reason=reason, allow_constant=allow_constant)
    if X.shape[0] != Y.shape[0]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same number of rows (row i of both is "
            f"the same frame); got {X.shape[0]} and {Y.shape[0]}. Pass latents of the same "
            "frames in the same order."
        )
    return X, Y


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int, raising if it is not an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}; got {_describe(value)}.")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}.")
    return int(value)


def check_fraction(value: Any, name: str) -> float:
    """Return ``value`` as a float strictly between 0 and 1, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name} must be a float in (0, 1); got {_describe(value)}.")
    if not 0.0 < float(value) < 1.0:
        raise ValueError(f"{name} must be a float in (0, 1); got {value}.")
    return float(value)


def check_choice(value: Any, name: str, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed`` (strings), else raise."""
    allowed = list(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}.")
    return value


def as_generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """Turn ``seed`` into a :class:`numpy.random.Generator`.

    An existing generator is returned unchanged (so callers can thread one
    generator through several calls); an int or None seeds a new PCG64.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ValueError(
            f"seed must be an int, a numpy.random.Generator or None; got {_describe(seed)}."
        )
    return np.random.default_rng(seed)
