"""Zero-shot transfer of a linear probe through a fitted map.

The question: if a classifier is trained on agent A's latents only, does it
work on agent B's latents once B is mapped into A's coordinates, without a
single gradient step on B? :func:`transfer_probe` answers it and puts the
answer between two reference points: chance (majority class of the test
labels) and B's *native* probe (trained on B's own latents with the same
labels, the ceiling that a perfect map would reach).

The probe is a multinomial logistic regression in float64 fitted by full-batch
L-BFGS from a zero start, so it is deterministic (no seed).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.optimize
import scipy.special

from ._threads import single_blas_threaded
from .maps import fit_map, get_map_class, r2_score
from .validation import check_latents, check_paired, check_positive_int

__all__ = ["LogisticProbe", "TransferResult", "transfer_probe"]


def _check_labels(labels: Any, name: str, n: int) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of class labels; got shape {y.shape}. "
            "Pass integer or string class ids, one per frame."
        )
    if y.shape[0] != n:
        raise ValueError(
            f"{name} has {y.shape[0]} labels but the paired latents have {n} rows; "
            "pass one label per frame."
        )
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"{name} contains NaN or infinite labels; drop those frames.")
    return y


class LogisticProbe:
    """Multinomial logistic regression on standardised features.

    Minimises ``mean cross-entropy + l2 / 2 * ||W||_F^2`` (the bias is not
    penalised) with L-BFGS from zeros. Features are standardised with the
    training mean and standard deviation (a constant feature keeps scale 1),
    and that standardisation is part of the probe, so latents mapped into the
    training space are treated exactly like the training latents.

    Parameters
    ----------
    l2 : float, default 1e-3
        Penalty on the weights (in units of the standardised features).
    max_iter : int, default 500
        L-BFGS iterations.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (d, n_classes)
    intercept_ : ndarray of shape (n_classes,)
    mean_, scale_ : ndarray of shape (d,)
        Standardisation.
    """

    def __init__(self, l2: float = 1e-3, max_iter: int = 500) -> None:
        self.l2 = l2
        self.max_iter = max_iter

    @single_blas_threaded
    def fit(self, X: np.ndarray, y: np.ndarray) -> LogisticProbe:
        """Fit on latents ``X`` (n, d) and labels ``y`` (n,); returns self."""
        X = check_latents(X, "X", min_rows=2, allow_constant=True)
        y = _check_labels(y, "y", X.shape[0])
        if not (isinstance(self.l2, (int, float, np.floating)) and self.l2 >= 0):
            raise ValueError(f"l2 must be a float >= 0; got {self.l2!r}.")
        max_iter = check_positive_int(self.max_iter, "max_iter")
        self.classes_, codes = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError(
                f"y has a single class ({self.classes_[0]!r}); a probe needs at least two. "
                "Pass frames with different labels."
            )
        self.mean_ = X.mean(axis=0)
        scale = X.std(axis=0)
        scale[scale == 0] = 1.0
        self.scale_ = scale
        Z = (X - self.mean_) / self.scale_
        n, d = Z.shape
        c = self.classes_.size
        onehot = np.zeros((n, c))
        onehot[np.arange(n), codes] = 1.0
        l2 = float(self.l2)

        def loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
            W = theta[: d * c].reshape(d, c)
            b = theta[d * c :]
            logits = Z @ W + b
            lse = scipy.special.logsumexp(logits, axis=1)
            loss = float(np.mean(lse - np.sum(logits * onehot, axis=1))) + 0.5 * l2 * float(
                np.sum(W * W)
            )
            P = np.exp(logits - lse[:, None])
            G = (P - onehot) / n
            gW = Z.T @ G + l2 * W
            return loss, np.concatenate([gW.ravel(), G.sum(axis=0)])

        res = scipy.optimize.minimize(
            loss_grad,
            np.zeros(d * c + c),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": max_iter, "gtol": 1e-8},
        )
        self.coef_ = res.x[: d * c].reshape(d, c)
        self.intercept_ = res.x[d * c :]
        self.n_iter_ = int(res.nit)
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Logits, shape (n, n_classes)."""
        if not hasattr(self, "coef_"):
            raise ValueError("this LogisticProbe is not fitted yet; call fit(X, y) first.")
        X = check_latents(X, "X", min_rows=1, allow_constant=True)
        if X.shape[1] != self.coef_.shape[0]:
            raise ValueError(
                f"X has {X.shape[1]} columns but the probe was fitted on {self.coef_.shape[0]}; "
                "map the latents into the probe's space first."
            )
        return ((X - self.mean_) / self.scale_) @ self.coef_ + self.intercept_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), columns ordered as ``classes_``."""
        return scipy.special.softmax(self.decision_function(X), axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class label per row."""
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        """Accuracy on ``(X, y)``."""
        X = check_latents(X, "X", min_rows=1, allow_constant=True)
        y = _check_labels(y, "y", X.shape[0])
        return float(np.mean(self.predict(X) == y))


@dataclass(frozen=True)
class TransferResult:
    """Outcome of :func:`transfer_probe`.

    Attributes
    ----------
    transfer_accuracy : float
        Source probe applied to ``map(target_test)``; no training on the target.
    native_accuracy : float
        Probe trained on ``target_train`` (with ``labels_train``) on
        ``target_test``: the ceiling for transfer.
    source_accuracy : float
        Source probe on ``source_test``.
    chance : float
        Share of the most frequent class in ``labels_test``.
    map_r2 : float
        Held-out R2 of the target -> source map on ``(target_test, source_test)``.
    map_kind : str
    n_train, n_test, n_classes : int
    """

    transfer_accuracy: float
    native_accuracy: float
    source_accuracy: float
    chance: float
    map_r2: float
    map_kind: str
    n_train: int
    n_test: int
    n_classes: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict of the fields (NaN becomes None)."""
        return {
            k: (None if isinstance(v, float) and np.isnan(v) else v)
            for k, v in asdict(self).items()
        }


@single_blas_threaded
def transfer_probe(
    source_train: np.ndarray,
    target_train: np.ndarray,
    labels_train: np.ndarray,
    source_test: np.ndarray,
    target_test: np.ndarray,
    labels_test: np.ndarray,
    map_kind: str = "orthogonal",
    *,
    l2: float = 1e-3,
    max_iter: int = 500,
    map_params: dict[str, Any] | None = None,
) -> TransferResult:
    """Zero-shot transfer of a source-trained probe to the target through a map.

    Rows with the same index in ``source_*`` and ``target_*`` are the same
    frame seen by agents A (source) and B (target).

    1. Train a :class:`LogisticProbe` on ``(source_train, labels_train)``:
       labels from A's side only.
    2. Fit the ``map_kind`` map from B to A on ``(target_train, source_train)``:
       paired frames, no labels.
    3. Classify ``map.transform(target_test)`` with A's probe and compare to
       ``labels_test``: no gradient step on B.

    For reference, B's native probe is trained on ``(target_train,
    labels_train)`` and evaluated on ``target_test`` (the ceiling), and chance
    is the majority-class rate of ``labels_test``.

    Parameters
    ----------
    source_train : array-like of shape (n_train, d_a)
    target_train : array-like of shape (n_train, d_b)
    labels_train : array-like of shape (n_train,)
    source_test : array-like of shape (n_test, d_a)
    target_test : array-like of shape (n_test, d_b)
    labels_test : array-like of shape (n_test,)
    map_kind : str, default "orthogonal"
        A registered map kind.
    l2 : float, default 1e-3
        Probe weight penalty.
    max_iter : int, default 500
        Probe L-BFGS iterations.
    map_params : dict, optional
        Hyperparameters of the map.

    Returns
    -------
    TransferResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(400, 5))
    >>> labels = (A[:, 0] > 0).astype(int)
    >>> Q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    >>> B = A @ Q + 2.0
    >>> r = transfer_probe(A[:300], B[:300], labels[:300], A[300:], B[300:], labels[300:])
    >>> r.transfer_accuracy == r.source_accuracy, r.transfer_accuracy > r.chance
    (True, True)
    """
    get_map_class(map_kind)
    source_train, target_train = check_paired(
        source_train, target_train, ("source_train", "target_train"), allow_constant=True
    )
    source_test, target_test = check_paired(
        source_test, target_test, ("source_test", "target_test"), min_rows=1, allow_constant=True
    )
    widths_differ = (
        source_test.shape[1] != source_train.shape[1]
        or target_test.shape[1] != target_train.shape[1]
    )
    if widths_differ:
        raise ValueError(
            "test latents must have the same widths as the training latents; got "
            f"source {source_train.shape[1]} vs {source_test.shape[1]} and target "
            f"{target_train.shape[1]} vs {target_test.shape[1]} columns."
        )
    labels_train = _check_labels(labels_train, "labels_train", source_train.shape[0])
    labels_test = _check_labels(labels_test, "labels_test", source_test.shape[0])

    probe = LogisticProbe(l2=l2, max_iter=max_iter).fit(source_train, labels_train)
    mapping = fit_map(target_train, source_train, map_kind, **(map_params or {}))
    mapped = mapping.transform(target_test)
    transfer = float(np.mean(probe.predict(mapped) == labels_test))
    source_acc = float(np.mean(probe.predict(source_test) == labels_test))
    native = LogisticProbe(l2=l2, max_iter=max_iter).fit(target_train, labels_train)
    native_acc = float(np.mean(native.predict(target_test) == labels_test))
    _, counts = np.unique(labels_test, return_counts=True)
    chance = float(counts.max() / labels_test.size)
    if source_test.shape[0] >= 2 and np.any(source_test != source_test[0]):
        map_r2 = r2_score(source_test, mapped)
    else:
        map_r2 = float("nan")
    return TransferResult(
        transfer_accuracy=transfer,
        native_accuracy=native_acc,
        source_accuracy=source_acc,
        chance=chance,
        map_r2=float(map_r2),
        map_kind=map_kind,
        n_train=int(source_train.shape[0]),
        n_test=int(source_test.shape[0]),
        n_classes=int(np.unique(np.concatenate([labels_train, labels_test])).size),
    )
