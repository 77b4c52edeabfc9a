"""One-call comparison of two latent spaces, and anchor-count curves.

:func:`compare` is what a sweep calls once per (overlap, seed, agent pair): it
splits the paired frames once, fits every map on the training split only,
scores it on the held-out split, computes every registered metric on the
held-out split, and puts a permutation null, a p-value and a bootstrap interval
next to each number. The result is a :class:`CompareResult` that serialises to
plain JSON.

:func:`anchor_curve` asks how many paired frames ("anchors") a map needs:
held-out R2, and zero-shot transfer accuracy when labels are given, as a
function of the number of training pairs the map is fitted on.
"""

from __future__ import annotations

import json
import math
import time
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ._threads import single_blas_threaded
from .maps import fit_map, get_map_class, r2_score
from .maps import map_kinds as registered_map_kinds
from .metrics import get_metric, metric_names, train_test_indices
from .stats import (
    CI_METHODS,
    _bootstrap_prepared,
    _summarise_null,
    bootstrap_interval,
    map_permutation_test,
)
from .transfer import LogisticProbe, _check_labels
from .validation import (
    check_choice,
    check_fraction,
    check_paired,
    check_positive_int,
    drop_constant_columns,
)

__all__ = ["AnchorCurve", "CompareResult", "anchor_curve", "compare"]

_RESULT_VERSION = 1


def _nan_to_none(obj: Any) -> Any:
    """Recursively turn NaN/inf floats into None and numpy scalars into Python ones."""
    if isinstance(obj, dict):
        return {str(k): _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_nan_to_none(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _nan_to_none(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _none_to_nan(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _none_to_nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_none_to_nan(v) for v in obj]
    return float("nan") if obj is None else obj


def _stream(seed: int, *tags: str) -> np.random.Generator:
    """Independent generator per (seed, tag...), stable when other tags are added."""
    return np.random.default_rng([seed, *(zlib.crc32(t.encode()) for t in tags)])


@dataclass
class CompareResult:
    """Everything :func:`compare` measured, JSON-ready through :meth:`to_dict`.

    Attributes
    ----------
    n_train, n_test : int
        Rows in the training split (maps are fitted on these only) and in the
        held-out split (everything is scored on these).
    n_metric_rows : int
        Held-out rows the similarity metrics used (``n_test`` unless capped
        by ``max_metric_rows``).
    dim_x, dim_y : int
        Widths of the two spaces.
    seed : int
        Seed of the split, nulls and bootstraps (drawn and recorded if None was given).
    test_size : float
    shuffle : bool
        Random split (True) or last rows held out (False).
    n_permutations, n_map_permutations, n_bootstrap : int
    confidence : float
        Coverage of the bootstrap intervals.
    ci_method : str
        ``"centred"`` (bootstrap spread centred on the value) or ``"percentile"``.
    map_r2 : dict of str to float
        Held-out R2 of each map kind fitted from X to Y.
    map_r2_reverse : dict of str to float
        Held-out R2 of each map kind fitted from Y to X.
    metrics : dict of str to dict
        For each metric, and for each map kind as ``"r2_<kind>"`` (X to Y):
        ``{"value", "ci_low", "ci_high", "null_mean", "null_std", "p_value"}``.
        For map R2 the null refits the map on shuffled training pairs and the
        interval resamples held-out rows with the map fixed.
    higher_is_better : dict of str to bool
        Direction of each entry of ``metrics``.
    elapsed_s : float
        Wall time of the call.
    """

    n_train: int
    n_test: int
    n_metric_rows: int
    dim_x: int
    dim_y: int
    seed: int
    test_size: float
    shuffle: bool
    n_permutations: int
    n_map_permutations: int
    n_bootstrap: int
    confidence: float
    ci_method: str = "centred"
    map_r2: dict[str, float] = field(default_factory=dict)
    map_r2_reverse: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    higher_is_better: dict[str, bool] = field(default_factory=dict)
    elapsed_s: float = 0.0
    version: int = _RESULT_VERSION

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict; NaN becomes None so the JSON is standard."""
        return _nan_to_none(asdict(self))

    def to_json(self, **kwargs: Any) -> str:
        """JSON text of :meth:`to_dict` (keyword arguments go to :func:`json.dumps`)."""
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompareResult:
        """Inverse of :meth:`to_dict`."""
        if data.get("version") != _RESULT_VERSION:
            raise ValueError(
                f"unsupported CompareResult version {data.get('version')!r}; expected "
                f"{_RESULT_VERSION}."
            )
        return cls(**_none_to_nan(dict(data)))

    @classmethod
    def from_json(cls, text: str) -> CompareResult:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))


def _stats_entry(value: float, low: float, high: float, null: np.ndarray, hib: bool) -> dict:
    res = _summarise_null(value, null, hib)
    return {
        "value": float(value),
        "ci_low": float(low),
        "ci_high": float(high),
        "null_mean": res.null_mean,
        "null_std": res.null_std,
        "p_value": res.p_value,
    }


@single_blas_threaded
def compare(
    X: np.ndarray,
    Y: np.ndarray,
    test_size: float = 0.25,
    seed: int | None = 0,
    *,
    metrics: Sequence[str] | None = None,
    map_kinds: Sequence[str] | None = None,
    n_permutations: int = 100,
    n_map_permutations: int = 20,
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    ci_method: str = "centred",
    shuffle: bool = True,
    max_metric_rows: int | None = 2000,
    metric_params: dict[str, dict[str, Any]] | None = None,
    map_params: dict[str, dict[str, Any]] | None = None,
) -> CompareResult:
    """Fit every map, compute every metric, each with a null and an interval.

    Parameters
    ----------
    X : array-like of shape (n, d_x)
        Latents of agent A.
    Y : array-like of shape (n, d_y)
        Latents of agent B on the same frames, same order.
    test_size : float in (0, 1), default 0.25
        Held-out fraction.
    seed : int or None, default 0
        Seeds the split and every null and bootstrap (each metric gets its own
        stream, so adding a metric does not change the others). None draws a
        seed and records it in the result.
    metrics : sequence of str, optional
        Registered metric names; default all (:func:`metric_names`).
    map_kinds : sequence of str, optional
        Map kinds; default all registered kinds.
    n_permutations : int, default 100
        Shuffled pairings per metric.
    n_map_permutations : int, default 20
        Refits on shuffled training pairs per map kind (fits cost more).
    n_bootstrap : int, default 200
        Bootstrap resamples per metric and map kind.
    confidence : float, default 0.95
    ci_method : {"centred", "percentile"}, default "centred"
        Bootstrap interval method; see :func:`~socialview.alignment.bootstrap_ci`.
    shuffle : bool, default True
        Random split; False holds out the last rows, which is stricter for
        temporally correlated frames.
    max_metric_rows : int or None, default 2000
        Metrics use at most this many held-out rows (a seeded random subset,
        the same for every metric), because kernel, neighbour and RSA metrics
        cost ``O(n^2)`` per permutation and bootstrap resample; maps use every
        held-out row. Columns that happen to be constant on those rows are
        dropped for the metrics (``X`` itself must have no constant column).
    metric_params : dict, optional
        Keyword arguments per metric, e.g. ``{"mutual_knn": {"k": 5}}``.
    map_params : dict, optional
        Hyperparameters per map kind, e.g. ``{"ridge": {"cv": 3}}``.

    Returns
    -------
    CompareResult

    Examples
    --------
    >>> import numpy as np
    >>> from socialview.alignment import compare
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(400, 6))
    >>> Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    >>> r = compare(A, A @ Q + 0.1 * rng.normal(size=(400, 6)), seed=0, n_permutations=20)
    >>> r.map_r2["orthogonal"] > 0.95, r.metrics["linear_cka"]["p_value"] < 0.05
    (True, True)
    >>> sorted(r.to_dict())[:4]
    ['ci_method', 'confidence', 'dim_x', 'dim_y']
    """
    start = time.perf_counter()
    X, Y = check_paired(X, Y, min_rows=8, reason="to split into training and held-out rows")
    test_size = check_fraction(test_size, "test_size")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)
    elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an int or None; got {seed!r}.")
    seed = int(seed)
    n_permutations = check_positive_int(n_permutations, "n_permutations")
    n_map_permutations = check_positive_int(n_map_permutations, "n_map_permutations", minimum=0)
    n_bootstrap = check_positive_int(n_bootstrap, "n_bootstrap")
    confidence = check_fraction(confidence, "confidence")
    ci_method = check_choice(ci_method, "ci_method", CI_METHODS)
    if max_metric_rows is not None:
        max_metric_rows = check_positive_int(max_metric_rows, "max_metric_rows", minimum=8)
    metric_list = list(metric_names() if metrics is None else metrics)
    kind_list = list(registered_map_kinds() if map_kinds is None else map_kinds)
    specs = [get_metric(m) for m in metric_list]
    for kind in kind_list:
        get_map_class(kind)
    metric_params = dict(metric_params or {})
    map_params = dict(map_params or {})
    for name in metric_params:
        get_metric(name)
    for name in map_params:
        get_map_class(name)

    train, test = train_test_indices(X.shape[0], test_size, _stream(seed, "split"), shuffle)
    Xtr, Ytr, Xte, Yte = X[train], Y[train], X[test], Y[test]

    result = CompareResult(
        n_train=int(train.size),
        n_test=int(test.size),
        n_metric_rows=int(test.size),
        dim_x=int(X.shape[1]),
        dim_y=int(Y.shape[1]),
        seed=seed,
        test_size=test_size,
        shuffle=bool(shuffle),
        n_permutations=n_permutations,
        n_map_permutations=n_map_permutations,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        ci_method=ci_method,
    )

    for kind in kind_list:
        params = map_params.get(kind, {})
        forward = fit_map(Xtr, Ytr, kind, **params)
        pred = forward.transform(Xte)
        value = r2_score(Yte, pred)
        result.map_r2[kind] = value
        backward = fit_map(Ytr, Xtr, kind, **params)
        result.map_r2_reverse[kind] = r2_score(Xte, backward.transform(Yte))
        if n_map_permutations:
            null = map_permutation_test(
                Xtr, Ytr, Xte, Yte, kind, n_map_permutations, _stream(seed, "null", kind), **params
            ).null
        else:
            null = np.zeros(0)
        rng = _stream(seed, "boot", kind)
        boots = np.empty(n_bootstrap)
        for b in range(n_bootstrap):
            idx = rng.integers(0, test.size, size=test.size)
            boots[b] = r2_score(Yte[idx], pred[idx])
        low, high = bootstrap_interval(boots, value, confidence, ci_method)
        result.metrics[f"r2_{kind}"] = _stats_entry(value, low, high, null, True)
        result.higher_is_better[f"r2_{kind}"] = True

    Xm, Ym = Xte, Yte
    if max_metric_rows is not None:
        if test.size > max_metric_rows:
            sub = np.sort(
                _stream(seed, "metric_rows").choice(test.size, max_metric_rows, replace=False)
            )
            Xm, Ym = Xte[sub], Yte[sub]
    result.n_metric_rows = int(Xm.shape[0])
    # A unit that varies over all frames can still be constant on the held-out rows
    # (a rarely active ReLU). It carries no information there and every metric but
    # cosine neighbours ignores it anyway, so drop it rather than fail the call.
    Xm, Ym = drop_constant_columns(Xm), drop_constant_columns(Ym)
    if Xm.shape[1] == 0 or Ym.shape[1] == 0:
        raise ValueError(
            "every column of X or Y is constant on the held-out rows; nothing varies to "
            "compare. Pass more frames or check the encoders."
        )

    for spec in specs:
        prepared = spec.prepare(Xm, Ym, **metric_params.get(spec.name, {}))
        value = prepared.value()
        rng = _stream(seed, "null", spec.name)
        null = np.array(
            [prepared.permuted(rng.permutation(prepared.n)) for _ in range(n_permutations)]
        )
        boot = _bootstrap_prepared(
            prepared, n_bootstrap, confidence, _stream(seed, "boot", spec.name), ci_method
        )
        result.metrics[spec.name] = _stats_entry(
            value, boot.low, boot.high, null, spec.higher_is_better
        )
        result.higher_is_better[spec.name] = spec.higher_is_better

    result.elapsed_s = time.perf_counter() - start
    return result


@dataclass
class AnchorCurve:
    """Held-out R2 and transfer accuracy against the number of anchor pairs.

    The map runs from target (B) to source (A), the direction used for
    transfer. Lists are aligned with ``anchors``; each entry is the mean over
    ``n_repeats`` random anchor subsets (``*_std`` the standard deviation).

    Attributes
    ----------
    anchors : list of int
        Anchor counts actually used (those above ``n_train`` are dropped).
    r2, r2_std : dict of str to list of float
        Held-out R2 of the map per kind.
    transfer_accuracy, transfer_accuracy_std : dict of str to list of float
        Source probe (trained on all training frames of A with labels) applied
        to mapped held-out target latents; empty without labels.
    native_accuracy, source_accuracy, chance : float or None
        Target's own probe (ceiling), source probe on source, majority rate;
        None without labels.
    n_train, n_test, n_repeats, seed : int
    """

    anchors: list[int]
    r2: dict[str, list[float]]
    r2_std: dict[str, list[float]]
    transfer_accuracy: dict[str, list[float]]
    transfer_accuracy_std: dict[str, list[float]]
    native_accuracy: float | None
    source_accuracy: float | None
    chance: float | None
    n_train: int
    n_test: int
    n_repeats: int
    seed: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict; NaN becomes None."""
        return _nan_to_none(asdict(self))

    def to_json(self, **kwargs: Any) -> str:
        """JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)


@single_blas_threaded
def anchor_curve(
    source: np.ndarray,
    target: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    anchors: Sequence[int] = (10, 30, 100, 300, 1000, 3000, 10000),
    map_kinds: Sequence[str] = ("orthogonal", "similarity", "affine", "ridge"),
    test_size: float = 0.25,
    n_repeats: int = 3,
    seed: int = 0,
    shuffle: bool = True,
    l2: float = 1e-3,
    map_params: dict[str, dict[str, Any]] | None = None,
) -> AnchorCurve:
    """How many paired frames does the map need?

    The rows are split once into training and held-out frames. For each
    anchor count ``m`` and repeat, ``m`` training frames are drawn without
    replacement, the map from ``target`` to ``source`` is fitted on them, and
    scored on all held-out frames. With ``labels``, a probe trained on all
    training frames of ``source`` (labels from the source side only) classifies
    the mapped held-out ``target`` latents.

    Parameters
    ----------
    source : array-like of shape (n, d_a)
        Agent A's latents (the probe's space).
    target : array-like of shape (n, d_b)
        Agent B's latents of the same frames.
    labels : array-like of shape (n,), optional
        Class label per frame, for transfer accuracy.
    anchors : sequence of int
        Anchor counts; those larger than the training split are skipped.
    map_kinds : sequence of str
        Map kinds to fit. A kind that cannot be fitted on ``m`` pairs (e.g.
        ``ridge`` below ``2 * cv``) records NaN.
    test_size : float, default 0.25
    n_repeats : int, default 3
        Random anchor subsets per count.
    seed : int, default 0
    shuffle : bool, default True
        Random split, or the last rows held out.
    l2 : float, default 1e-3
        Probe penalty.
    map_params : dict, optional
        Hyperparameters per map kind.

    Returns
    -------
    AnchorCurve
    """
    source, target = check_paired(
        source, target, ("source", "target"), min_rows=8, reason="to split into train and test"
    )
    n_repeats = check_positive_int(n_repeats, "n_repeats")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an int; got {seed!r}.")
    anchor_list = sorted({check_positive_int(a, "anchors entry", minimum=2) for a in anchors})
    for kind in map_kinds:
        get_map_class(kind)
    map_params = dict(map_params or {})
    train, test = train_test_indices(source.shape[0], test_size, _stream(seed, "split"), shuffle)
    used = [a for a in anchor_list if a <= train.size]
    if not used:
        raise ValueError(
            f"every anchor count {anchor_list} exceeds the {train.size} training rows; "
            "pass smaller anchors or more rows."
        )
    S_tr, T_tr, S_te, T_te = source[train], target[train], source[test], target[test]

    probe = None
    native = source_acc = chance = None
    if labels is not None:
        y = _check_labels(labels, "labels", source.shape[0])
        y_tr, y_te = y[train], y[test]
        probe = LogisticProbe(l2=l2).fit(S_tr, y_tr)
        source_acc = float(np.mean(probe.predict(S_te) == y_te))
        native = float(LogisticProbe(l2=l2).fit(T_tr, y_tr).score(T_te, y_te))
        _, counts = np.unique(y_te, return_counts=True)
        chance = float(counts.max() / y_te.size)

    r2 = {k: [] for k in map_kinds}
    r2_std = {k: [] for k in map_kinds}
    acc = {k: [] for k in map_kinds} if probe is not None else {}
    acc_std = {k: [] for k in map_kinds} if probe is not None else {}
    rng = _stream(seed, "anchors")
    for m in used:
        subsets = [np.sort(rng.choice(train.size, size=m, replace=False)) for _ in range(n_repeats)]
        for kind in map_kinds:
            scores, accs = [], []
            for sub in subsets:
                try:
                    mp = fit_map(T_tr[sub], S_tr[sub], kind, **map_params.get(kind, {}))
                except ValueError:
                    scores.append(float("nan"))
                    accs.append(float("nan"))
                    continue
                mapped = mp.transform(T_te)
                scores.append(r2_score(S_te, mapped))
                if probe is not None:
                    accs.append(float(np.mean(probe.predict(mapped) == y_te)))
            r2[kind].append(float(np.mean(scores)))
            r2_std[kind].append(float(np.std(scores)))
            if probe is not None:
                acc[kind].append(float(np.mean(accs)))
                acc_std[kind].append(float(np.std(accs)))

    return AnchorCurve(
        anchors=used,
        r2=r2,
        r2_std=r2_std,
        transfer_accuracy=acc,
        transfer_accuracy_std=acc_std,
        native_accuracy=native,
        source_accuracy=source_acc,
        chance=chance,
        n_train=int(train.size),
        n_test=int(test.size),
        n_repeats=n_repeats,
        seed=int(seed),
    )
