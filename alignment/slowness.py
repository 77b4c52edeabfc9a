"""How fast does each direction of a latent move? Slow feature analysis, as a diagnostic.

A world model's latent holds the world's state and whatever else each agent keeps
beside it. Variance alone does not tell them apart once that other part grows with
training (agents study, finding 24); *speed* may: the bodies of a world move at the
pace its physics sets, and a direction that jitters from frame to frame is not one of
them. :class:`SlowFeatures` whitens a latent and finds the directions whose change
over ``lag`` frames, within an episode, has the least variance (Wiskott & Sejnowski
2002, linear slow feature analysis): the generalised eigenproblem
``Cov(z[t+lag] - z[t]) v = s Cov(z) v``. Each eigenvalue ``s`` is the mean squared
change of a unit-variance direction: 0 for one that never moves within an episode,
2 for one uncorrelated with itself ``lag`` frames on.

The spectrum is invariant under invertible linear maps of the latent (both
covariances transform alike), so two agents that encode the same state linearly,
in any coordinates, share the slowness of the state's directions; that is what
makes it a candidate for finding a latent's shared core without the other agent.
What it found, and where it fails, is in the agents study (finding 25).
"""

from __future__ import annotations

import numpy as np

from ._threads import single_blas_threaded
from .validation import check_latents, check_positive_int

__all__ = ["SlowFeatures"]


class SlowFeatures:
    """Linear slow feature analysis of one latent, with scikit-learn's fit/transform.

    Parameters
    ----------
    n_components : int, optional
        Slow directions :meth:`transform` returns (the slowest first). Default: every
        direction the latent really uses.
    lag : int
        Frames between the two latents of a change (>= 1). Pairs that straddle an
        episode boundary are left out.
    rtol : float
        Directions of the latent's covariance under ``rtol`` times its largest
        eigenvalue are dropped before whitening (a latent wider than what it encodes
        has numerically zero directions, which whitening would blow up).

    Attributes
    ----------
    mean_ : ndarray of shape (d,)
        The fitting latents' mean.
    slowness_ : ndarray of shape (r,)
        Mean squared change over ``lag`` frames of each unit-variance direction,
        ascending (``r``: directions kept after ``rtol``).
    components_ : ndarray of shape (d, r)
        Columns map centred latents to the slow features: ``(z - mean_) @ components_``
        has unit variance, uncorrelated columns on the fitting rows, slowest first.
    """

    def __init__(self, n_components: int | None = None, lag: int = 1,
                 rtol: float = 1e-6) -> None:
        if n_components is not None:
            check_positive_int(n_components, "n_components")
        self.n_components = n_components
        self.lag = check_positive_int(lag, "lag")
        if not 0.0 <= rtol < 1.0:
            raise ValueError(f"rtol must be in [0, 1) (a share of the largest eigenvalue); "
                             f"got {rtol!r}")
        self.rtol = float(rtol)

    @single_blas_threaded
    def fit(self, latents: np.ndarray, episodes: np.ndarray) -> SlowFeatures:
        """Fit on ``latents`` ``(n, d)``, rows in time order, with each row's episode id
        ``episodes`` ``(n,)`` (rows of one episode contiguous); returns ``self``."""
        Z = check_latents(latents, "latents", min_rows=3, allow_constant=True)
        episodes = np.asarray(episodes)
        if episodes.shape != (Z.shape[0],):
            raise ValueError(f"episodes must hold one id per latent row ({Z.shape[0]},); "
                             f"got shape {episodes.shape}")
        within = episodes[self.lag:] == episodes[:-self.lag]
        if within.sum() <= 1:
            raise ValueError(f"lag={self.lag} leaves {int(within.sum())} pairs of rows inside "
                             f"one episode; slow feature analysis needs at least 2 (use a "
                             f"smaller lag or longer episodes)")
        self.mean_ = Z.mean(0)
        centred = Z - self.mean_
        values, vectors = np.linalg.eigh(centred.T @ centred / (len(Z) - 1))
        kept = values > max(self.rtol * values.max(), 0.0)
        if not kept.any():
            raise ValueError("latents are constant: no direction to analyse")
        whiten = vectors[:, kept] / np.sqrt(values[kept])
        change = (centred[self.lag:] - centred[:-self.lag])[within] @ whiten
        slowness, rotation = np.linalg.eigh(change.T @ change / len(change))
        width = len(slowness) if self.n_components is None else self.n_components
        if width > len(slowness):
            raise ValueError(f"n_components={width} exceeds the {len(slowness)} directions "
                             f"the latent uses (rtol={self.rtol})")
        self.slowness_ = slowness
        self.components_ = whiten @ rotation
        self.n_features_in_ = Z.shape[1]
        return self

    def transform(self, latents: np.ndarray) -> np.ndarray:
        """The ``n_components`` slowest features of ``latents`` ``(m, d)``, slowest first."""
        if not hasattr(self, "components_"):
            raise ValueError("SlowFeatures is not fitted: call fit(latents, episodes) first")
        Z = check_latents(latents, "latents", min_rows=1, allow_constant=True)
        if Z.shape[1] != self.n_features_in_:
            raise ValueError(f"latents have {Z.shape[1]} columns; this SlowFeatures was fitted "
                             f"on {self.n_features_in_}")
        width = self.components_.shape[1] if self.n_components is None else self.n_components
        return (Z - self.mean_) @ self.components_[:, :width]

    def fit_transform(self, latents: np.ndarray, episodes: np.ndarray) -> np.ndarray:
        """:meth:`fit`, then :meth:`transform` the same latents."""
        return self.fit(latents, episodes).transform(latents)

    def jumps(self, top: int = 16) -> np.ndarray:
        """Ratios of consecutive slowness values among the slowest ``top`` (the
        ``k+1``-th over the ``k``-th at index ``k - 1``): where the spectrum steps from
        one speed to the next, as a core's width would show."""
        if not hasattr(self, "slowness_"):
            raise ValueError("SlowFeatures is not fitted: call fit(latents, episodes) first")
        top = check_positive_int(top, "top", minimum=2)
        head = self.slowness_[:top]
        return head[1:] / np.maximum(head[:-1], 1e-12 * max(float(head[-1]), 1e-300))
