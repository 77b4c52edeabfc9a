"""How much of a latent is the world? The share of its variance the state explains linearly.

:func:`state_probe` asks the question one way round: can the state be read
*from* the latent? That is necessary for a world model, but not what makes two
agents' latents one space in different coordinates. :func:`state_share` asks
it the other way round: how much of the latent's variance is a *linear function
of* the world state, scored on held-out episodes?

Why it matters for the isometry: if camera A's latent is ``M_A s + n_A`` and
camera B's is ``M_B s + n_B``, with ``s`` the shared state and ``n`` whatever
each agent keeps beside it, a linear map from A to B is sure to recover B's
``M_B s`` part when A knows the state (a high probe); the rest of B it recovers
only where A happens to hold the same features (nonlinear codes of the state
are usually unfolded in each camera's own image geometry, and view-specific
detail is not shared at all). Two whitened latents that are both linear codes
of the whole state are related by a rotation. So an agent that knows the world
*and* is a linear code of it scores high on both the probe and the share, and
that is what an orthogonal map between two agents needs.

The share is pooled over latent dimensions (``1 - SSE / SST`` summed over every
unit, so units weigh by their variance: rescaling the latent changes nothing),
with a least-squares fit of the centred latent on the centred state plus a tiny
ridge penalty for stability. Rows are split by whole episodes, as in
:func:`state_probe`.
"""

from __future__ import annotations

import numpy as np

from ._threads import single_blas_threaded
from .state_probe import episode_split
from .validation import check_fraction, check_latents

__all__ = ["state_share"]


@single_blas_threaded
def state_share(latents: np.ndarray, state: np.ndarray, episodes: np.ndarray, *,
                test_size: float = 0.25, ridge: float = 1e-6) -> float:
    """Held-out share of the latent's variance that is a linear function of the state.

    Parameters
    ----------
    latents : array of shape (n, d)
        One latent vector per frame.
    state : array of shape (n, k)
        The world state of the same frames (for example x/y of every body). Every
        frame counts, whether a body is in view or not: a body a camera cannot see
        explains none of its latent, and adds nothing to the share.
    episodes : array of shape (n,)
        Episode id of each frame: the last ``test_size`` share of episodes is
        held out (:func:`episode_split`).
    test_size : float
        Share of episodes held out, in (0, 1).
    ridge : float
        Penalty on the standardised state's coefficients, relative to the
        number of fitting rows (>= 0; only for numerical stability).

    Returns
    -------
    float
        ``1 - SSE / SST`` on the held-out rows, pooled over latent units (SST
        about the fitting rows' mean): 1 when the latent is exactly a linear
        function of the state, about 0 when it is unrelated to it.
    """
    Z = check_latents(latents, "latents", min_rows=4, allow_constant=True)
    S = check_latents(state, "state", min_rows=4, allow_constant=True)
    episodes = np.asarray(episodes)
    if S.shape[0] != Z.shape[0] or episodes.shape != (Z.shape[0],):
        raise ValueError(f"latents, state and episodes must describe the same frames; got "
                         f"{Z.shape[0]} latent rows, {S.shape[0]} state rows and episodes of "
                         f"shape {episodes.shape}")
    test_size = check_fraction(test_size, "test_size")
    if not ridge >= 0:
        raise ValueError(f"ridge must be >= 0; got {ridge}")
    test = episode_split(episodes, test_size)
    fit = ~test
    mu_z, mu_s = Z[fit].mean(0), S[fit].mean(0)
    scale = S[fit].std(0)
    scale[scale == 0] = 1.0
    X = (S - mu_s) / scale
    gram = X[fit].T @ X[fit] + ridge * fit.sum() * np.eye(X.shape[1])
    coef = np.linalg.solve(gram, X[fit].T @ (Z[fit] - mu_z))
    sse = np.sum((Z[test] - mu_z - X[test] @ coef) ** 2)
    sst = np.sum((Z[test] - mu_z) ** 2)
    if sst <= 0:
        return float("nan")
    return float(1.0 - sse / sst)
