"""The world state a recording holds, as probe and supervision targets.

A SocialView recording stores the pusher's and every object's position per
frame (``agent_pos.npy``, ``object_pos.npy``). :func:`world_state` turns them into
one ``(T, 2 + 2K)`` table of floor coordinates, ``pusher_x, pusher_y, object0_x,
...``, plus a per-camera visibility mask: the frames where that body's centre
projects inside the camera's image (objects: the recording's ``visible.npy``;
the pusher: projected here with the camera matrices in ``meta.json``, the same
test the env applies to objects when it renders no depth). The state probes and
the ``supervised`` reference agent both read this table, so "knowing the world"
means the same thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from socialview.agents.data import DatasetError, read_meta

__all__ = ["WorldState", "world_state"]


@dataclass
class WorldState:
    """Floor positions of every body per frame, and which camera sees which body."""

    values: np.ndarray
    """float64 ``(T, 2 + 2K)``: x/y of the pusher, then of each object."""
    names: list[str]
    """Column names: ``pusher_x``, ``pusher_y``, ``object0_x``, ..."""
    bodies: dict[str, list[str]]
    """Body name -> its two column names (``{"pusher": ["pusher_x", "pusher_y"], ...}``)."""
    visible: dict[str, np.ndarray]
    """Camera name -> bool ``(T, 2 + 2K)``: the column's body is in that camera's image."""
    episode: np.ndarray
    """int ``(T,)``: episode of each frame."""

    def mask(self, camera: str) -> np.ndarray:
        """Visibility mask of ``camera`` (an error lists the cameras that exist)."""
        if camera not in self.visible:
            raise DatasetError(f"no camera {camera!r}; cameras: {sorted(self.visible)}")
        return self.visible[camera]


def _project_inside(points: np.ndarray, camera: dict, image_hw: tuple[int, int]) -> np.ndarray:
    """Whether world points ``(T, 3)`` project inside the image (in front of the camera)."""
    w2c = np.asarray(camera["world_to_camera"], dtype=np.float64)
    k = np.asarray(camera["intrinsics"], dtype=np.float64)
    cam = points @ w2c[:3, :3].T + w2c[:3, 3]
    depth = cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = (cam @ k.T)[:, :2] / depth[:, None]
    h, w = image_hw
    cols, rows = np.floor(uv[:, 0]), np.floor(uv[:, 1])
    return (depth > 0) & (cols >= 0) & (cols < w) & (rows >= 0) & (rows < h)


def world_state(path: str | Path) -> WorldState:
    """Read the pusher's and objects' floor positions and per-camera visibility.

    Parameters
    ----------
    path : str or Path
        A dataset folder written by ``socialview record``.

    Raises
    ------
    DatasetError
        If the folder lacks the state arrays (``agent_pos``, ``object_pos``, ``visible``).
    """
    path = Path(path)
    meta = read_meta(path)
    arrays = {}
    for name in ("agent_pos", "object_pos", "visible", "episode"):
        file = path / f"{name}.npy"
        if not file.is_file():
            raise DatasetError(f"{str(path)!r}: missing {file.name}, needed for the world state")
        arrays[name] = np.load(file, allow_pickle=False)
    pusher = np.asarray(arrays["agent_pos"], dtype=np.float64)
    objects = np.asarray(arrays["object_pos"], dtype=np.float64)
    t, k = objects.shape[:2]
    values = np.concatenate([pusher[:, None, :2], objects[:, :, :2]], axis=1).reshape(t, -1)
    body_names = ["pusher"] + [f"object{i}" for i in range(k)]
    names = [f"{b}_{c}" for b in body_names for c in ("x", "y")]
    visible_objects = np.asarray(arrays["visible"], dtype=bool)  # (T, N, K)
    image_hw = tuple(meta["image_size"])
    visible = {}
    for n, camera in enumerate(meta["cameras"]):
        pusher_in = _project_inside(pusher, camera, image_hw)
        per_body = np.concatenate([pusher_in[:, None], visible_objects[:, n, :]], axis=1)
        visible[camera["name"]] = np.repeat(per_body, 2, axis=1)
    return WorldState(
        values=values,
        names=names,
        bodies={b: [f"{b}_x", f"{b}_y"] for b in body_names},
        visible=visible,
        episode=np.asarray(arrays["episode"]),
    )
