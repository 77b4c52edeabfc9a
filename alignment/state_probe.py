"""Does an agent know the world? Held-out probes from latents to world-state targets.

Before asking how alike two agents are, ask whether each one encodes the world
at all. :func:`state_probe` answers with two probes from latents to targets such
as the x/y positions of the pusher and every object:

* a **ridge** (linear) probe, its penalty chosen by cross-validation over the
  fitting episodes (grouped folds, so a fold never shares an episode with the
  frames it is scored on). This is the probe the isometry story needs: if two
  agents each encode the state *linearly*, the map between them is linear too;
* a **k-nearest-neighbour** probe, which separates "does not know" (both low)
  from "knows, but nonlinearly" (k-NN high, ridge low).

Frames are split by whole episodes: the last ``test_size`` share of episodes is
held out. Neighbouring frames of one episode are near duplicates, so a random
frame split would score the probe on what it was fitted on. Use many short
episodes (100 or more): with a couple of dozen fitting episodes a latent that
knows nothing scores far below 0, because a flexible probe memorises each
episode's layout.

Scores are R² on the held-out rows, per target and pooled: ``1 - sum_j SSE_j /
sum_j SST_j`` over targets ``j`` standardised with fitting-row statistics, so
every coordinate weighs the same whatever its unit. An optional ``mask`` keeps,
for each target, only the rows where it is observable (for example, the frames
where that body is visible to the camera); each such target gets its own fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._threads import single_blas_threaded
from .validation import check_fraction, check_latents, check_positive_int

__all__ = ["DEFAULT_ALPHAS", "StateProbeResult", "episode_split", "state_probe"]

#: Ridge penalties tried by cross-validation, on standardised latents (per fitting row).
DEFAULT_ALPHAS: tuple[float, ...] = (0.0, *(float(a) for a in np.logspace(-6, 2, 17)))


@dataclass
class StateProbeResult:
    """Held-out scores of one latent array against world-state targets.

    Attributes
    ----------
    target_names : list of str
        One name per target column.
    r2, knn_r2 : list of float
        Held-out R² of the ridge and the k-NN probe for each target (NaN where a
        target has too few observable rows).
    pooled_r2, knn_pooled_r2 : float
        Held-out R² pooled over targets (see the module docstring).
    alphas : list of float
        Ridge penalty chosen by cross-validation, per target.
    n_fit, n_test : list of int
        Fitting and held-out rows per target (after the mask).
    n_fit_episodes, n_test_episodes : int
        Episodes on each side of the split.
    k : int
        Neighbours of the k-NN probe.
    """

    target_names: list[str]
    r2: list[float]
    knn_r2: list[float]
    pooled_r2: float
    knn_pooled_r2: float
    alphas: list[float]
    n_fit: list[int]
    n_test: list[int]
    n_fit_episodes: int
    n_test_episodes: int
    k: int
    extra: dict[str, Any] = field(default_factory=dict)

    def grouped(self, groups: dict[str, Sequence[str]]) -> dict[str, dict[str, float]]:
        """Pooled ridge and k-NN R² over named groups of targets (e.g. per body)."""
        out = {}
        for name, members in groups.items():
            idx = [self.target_names.index(m) for m in members]
            out[name] = {"r2": _pool_scores(self._sse, self._sst, idx),
                         "knn_r2": _pool_scores(self._knn_sse, self._sst, idx)}
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (NaN becomes None)."""
        def clean(values):
            return [None if not np.isfinite(v) else float(v) for v in values]

        return {
            "target_names": list(self.target_names),
            "r2": clean(self.r2),
            "knn_r2": clean(self.knn_r2),
            "pooled_r2": clean([self.pooled_r2])[0],
            "knn_pooled_r2": clean([self.knn_pooled_r2])[0],
            "alphas": clean(self.alphas),
            "n_fit": list(self.n_fit),
            "n_test": list(self.n_test),
            "n_fit_episodes": self.n_fit_episodes,
            "n_test_episodes": self.n_test_episodes,
            "k": self.k,
            **self.extra,
        }

    # squared errors kept for grouped(); not part of the JSON form
    _sse: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    _knn_sse: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    _sst: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]


def _pool_scores(sse: np.ndarray, sst: np.ndarray, idx: Sequence[int]) -> float:
    sse, sst = sse[list(idx)], sst[list(idx)]
    ok = np.isfinite(sse) & np.isfinite(sst)
    if not ok.any() or sst[ok].sum() <= 0:
        return float("nan")
    return float(1.0 - sse[ok].sum() / sst[ok].sum())


def episode_split(episodes: np.ndarray, test_size: float) -> np.ndarray:
    """Boolean mask of held-out rows: the last ``test_size`` share of whole episodes.

    Episodes are taken in order of first appearance, so a recording's final
    episodes are held out; at least one episode lands on each side.
    """
    episodes = np.asarray(episodes)
    order = list(dict.fromkeys(episodes.tolist()))
    if len(order) < 2:
        raise ValueError(f"episodes: need at least 2 distinct episodes to split, got {len(order)}")
    n_test = min(max(1, round(len(order) * test_size)), len(order) - 1)
    return np.isin(episodes, order[len(order) - n_test:])


def _ridge_cv_alpha(X: np.ndarray, y: np.ndarray, groups: np.ndarray, alphas: np.ndarray,
                    folds: int) -> float:
    """Penalty with the lowest grouped-fold squared error (ties go to the larger penalty)."""
    unique = np.unique(groups)
    folds = min(folds, unique.size)
    if folds < 2:
        return float(alphas[len(alphas) // 2])
    assignment = {g: i % folds for i, g in enumerate(unique)}
    fold_of = np.array([assignment[g] for g in groups])
    errors = np.zeros(len(alphas))
    for f in range(folds):
        train, val = fold_of != f, fold_of == f
        coefs = _ridge_path(X[train], y[train], alphas)
        mu_x, mu_y = X[train].mean(0), y[train].mean()
        for i, w in enumerate(coefs):
            errors[i] += np.sum(((X[val] - mu_x) @ w + mu_y - y[val]) ** 2)
    best = np.flatnonzero(errors <= errors.min() * (1 + 1e-9))
    return float(alphas[best[-1]])


def _ridge_path(X: np.ndarray, y: np.ndarray, alphas: np.ndarray) -> list[np.ndarray]:
    """Ridge coefficients (centred data, penalty ``alpha * n``) for every penalty via one SVD.

    Directions ``X`` does not span (constant columns, e.g. the zeros a core readout pads
    its latent with) get no weight, also at ``alpha = 0``: the minimum-norm solution."""
    Xc = X - X.mean(0)
    yc = y - y.mean()
    u, s, vt = np.linalg.svd(Xc, full_matrices=False)
    uty = u.T @ yc
    n = X.shape[0]
    spanned = s > s.max(initial=0.0) * max(X.shape) * np.finfo(float).eps
    out = []
    for a in alphas:
        gain = np.zeros_like(s)
        gain[spanned] = s[spanned] / (s[spanned] ** 2 + a * n)
        out.append(vt.T @ (gain * uty))
    return out


def _knn_predict(X_fit: np.ndarray, y_fit: np.ndarray, X_test: np.ndarray, k: int) -> np.ndarray:
    """Mean target of the ``k`` nearest fitting rows (Euclidean), in row chunks."""
    k = min(k, X_fit.shape[0])
    fit_sq = np.sum(X_fit**2, axis=1)
    out = np.empty(X_test.shape[0])
    for start in range(0, X_test.shape[0], 1024):
        chunk = X_test[start:start + 1024]
        d2 = fit_sq[None, :] - 2.0 * chunk @ X_fit.T
        nearest = np.argpartition(d2, k - 1, axis=1)[:, :k]
        out[start:start + chunk.shape[0]] = y_fit[nearest].mean(axis=1)
    return out


@single_blas_threaded
def state_probe(
    latents: np.ndarray,
    targets: np.ndarray,
    episodes: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    test_size: float = 0.25,
    target_names: Sequence[str] | None = None,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    cv_folds: int = 5,
    k: int = 10,
    min_rows: int = 20,
) -> StateProbeResult:
    """Fit ridge and k-NN probes ``latents -> targets`` on early episodes, score the rest.

    Parameters
    ----------
    latents : array of shape (n, d)
        One latent vector per frame.
    targets : array of shape (n, t)
        World-state values per frame (for example x/y of every body).
    episodes : array of shape (n,)
        Episode id of every frame; the split and the CV folds never cut an episode.
    mask : bool array of shape (n, t), optional
        Where each target counts (e.g. the body is visible to this camera). Each
        target is fitted and scored on its own rows; all rows when omitted.
    test_size : float
        Share of episodes held out (the last ones), in (0, 1).
    target_names : sequence of str, optional
        Names of the target columns (default ``target0`` ...).
    alphas : sequence of float
        Ridge penalties tried; the cross-validated best over ``cv_folds`` grouped
        folds of fitting episodes is refitted on all of them.
    cv_folds : int
        Folds (grouped by episode) for choosing the penalty.
    k : int
        Neighbours of the k-NN probe.
    min_rows : int
        A target with fewer observable fitting or held-out rows scores NaN.

    Returns
    -------
    StateProbeResult
    """
    X = check_latents(latents, "latents", allow_constant=True)
    Y = np.asarray(targets, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    n = X.shape[0]
    if Y.ndim != 2 or Y.shape[0] != n:
        raise ValueError(f"targets must have shape ({n}, t) to match latents, got {Y.shape}")
    episodes = np.asarray(episodes)
    if episodes.shape != (n,):
        raise ValueError(f"episodes must have shape ({n},) to match latents, got "
                         f"{episodes.shape}")
    test_size = check_fraction(test_size, "test_size")
    k = check_positive_int(k, "k")
    cv_folds = check_positive_int(cv_folds, "cv_folds")
    alphas_arr = np.asarray(alphas, dtype=np.float64)
    if alphas_arr.ndim != 1 or alphas_arr.size == 0 or np.any(alphas_arr < 0):
        raise ValueError(f"alphas must be a non-empty list of penalties >= 0, got {alphas!r}")
    if mask is None:
        M = np.ones(Y.shape, dtype=bool)
    else:
        M = np.asarray(mask, dtype=bool)
        if M.shape != Y.shape:
            raise ValueError(f"mask must have the targets' shape {Y.shape}, got {M.shape}")
    names = list(target_names) if target_names is not None else [
        f"target{j}" for j in range(Y.shape[1])]
    if len(names) != Y.shape[1]:
        raise ValueError(f"target_names has {len(names)} names for {Y.shape[1]} targets")

    test = episode_split(episodes, test_size)
    t = Y.shape[1]
    sse, knn_sse, sst = np.full(t, np.nan), np.full(t, np.nan), np.full(t, np.nan)
    chosen, n_fit, n_test = np.full(t, np.nan), [0] * t, [0] * t
    for j in range(t):
        fit_rows, test_rows = M[:, j] & ~test, M[:, j] & test
        n_fit[j], n_test[j] = int(fit_rows.sum()), int(test_rows.sum())
        if n_fit[j] < min_rows or n_test[j] < min_rows:
            continue
        Xf, Xt = X[fit_rows], X[test_rows]
        mu, sd = Xf.mean(0), Xf.std(0)
        sd[sd <= 1e-12] = 1.0
        Xf, Xt = (Xf - mu) / sd, (Xt - mu) / sd
        yf, yt = Y[fit_rows, j], Y[test_rows, j]
        scale = yf.std() if yf.std() > 1e-12 else 1.0
        yf, yt = yf / scale, yt / scale
        chosen[j] = _ridge_cv_alpha(Xf, yf, episodes[fit_rows], alphas_arr, cv_folds)
        w = _ridge_path(Xf, yf, np.array([chosen[j]]))[0]
        pred = (Xt - Xf.mean(0)) @ w + yf.mean()
        sse[j] = np.sum((yt - pred) ** 2)
        sst[j] = np.sum((yt - yt.mean()) ** 2)
        raw_f, raw_t = X[fit_rows], X[test_rows]
        centre = raw_f.mean(0)
        knn_sse[j] = np.sum((yt - _knn_predict(raw_f - centre, yf, raw_t - centre, k)) ** 2)

    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(sst > 0, 1.0 - sse / sst, np.nan)
        knn_r2 = np.where(sst > 0, 1.0 - knn_sse / sst, np.nan)
    every = range(t)
    return StateProbeResult(
        target_names=names,
        r2=[float(v) for v in r2],
        knn_r2=[float(v) for v in knn_r2],
        pooled_r2=_pool_scores(sse, sst, every),
        knn_pooled_r2=_pool_scores(knn_sse, sst, every),
        alphas=[float(a) for a in chosen],
        n_fit=n_fit,
        n_test=n_test,
        n_fit_episodes=int(np.unique(episodes[~test]).size),
        n_test_episodes=int(np.unique(episodes[test]).size),
        k=k,
        _sse=sse,
        _knn_sse=knn_sse,
        _sst=sst,
    )
