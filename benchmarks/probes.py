"""Does each agent know the world? The state probe of one camera's latents, summarised.

Shared by the overlap sweep, the agents study and the emergence curve, so that
``state_probe_r2`` means the same thing in every table: the pooled held-out R²
of a ridge probe from the latents to the x/y floor positions of the pusher and
every object, fitted on the evaluation recording's earlier episodes and scored
on its last ones (never the recording the agent trained on), each body counted
only on the frames where its centre projects into that camera's image (see
:func:`socialview.agents.world_state`). A k-NN probe beside it separates "does
not know" from "knows, but not linearly".
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["probe_summary"]


def probe_summary(latents: np.ndarray, state: Any, camera: str,
                  test_size: float = 0.25) -> dict[str, Any]:
    """Ridge and k-NN held-out R² of ``latents`` for ``camera``: pooled, per body, objects.

    Parameters
    ----------
    latents : array (T, d)
        One camera's latents of every frame of the evaluation recording.
    state : socialview.agents.WorldState
        That recording's world state (:func:`socialview.agents.world_state`).
    camera : str
        Whose visibility mask applies.
    test_size : float
        Share of the recording's (last) episodes held out.

    Returns
    -------
    dict
        ``pooled_r2``, ``knn_pooled_r2``, ``objects_r2``, ``objects_knn_r2``,
        ``pusher_r2``, ``pusher_knn_r2``,
        ``bodies`` (body -> {"r2", "knn_r2"}), ``state_share`` (the share of the latents'
        held-out variance that is a linear function of the whole state,
        :func:`socialview.alignment.state_share`) and ``detail`` (the full probe result).
    """
    from socialview.alignment import state_probe, state_share

    result = state_probe(latents, state.values, state.episode, mask=state.mask(camera),
                         target_names=state.names, test_size=test_size)
    objects = [n for body, cols in state.bodies.items() if body != "pusher" for n in cols]
    bodies = result.grouped(state.bodies)
    grouped_objects = result.grouped({"objects": objects})["objects"]
    return {
        "pooled_r2": result.pooled_r2,
        "knn_pooled_r2": result.knn_pooled_r2,
        "objects_r2": grouped_objects["r2"],
        "objects_knn_r2": grouped_objects["knn_r2"],
        "pusher_r2": bodies["pusher"]["r2"],
        "pusher_knn_r2": bodies["pusher"]["knn_r2"],
        "bodies": bodies,
        "state_share": state_share(latents, state.values, state.episode, test_size=test_size),
        "detail": result.to_dict(),
    }
