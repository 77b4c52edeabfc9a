"""Read one camera's stream from a recorded dataset (``docs/dataset_format.md``).

This is all the agents know about the environment: a folder with ``meta.json``,
one uint8 ``(T, H, W, 3)`` array per camera, ``actions.npy`` and ``episode.npy``.
Frames are memory-mapped (``np.load(mmap_mode="r")``): a batch reads only the
frames it samples, so a dataset larger than RAM trains fine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from socialview.agents.base import Batch

__all__ = ["CameraStream", "DatasetError", "open_camera_stream"]

#: Dataset format versions this reader understands.
SUPPORTED_FORMAT_VERSIONS = (1,)


class DatasetError(ValueError):
    """Raised for a dataset folder that is missing, malformed or lacks the camera asked for."""


@dataclass
class CameraStream:
    """One camera's frames with the actions and episode boundaries that go with them.

    Use :func:`open_camera_stream` to build one; it validates the folder first.
    """

    path: Path
    """Dataset folder."""
    camera: str
    """Camera name (``meta.json``'s ``camera_names``)."""
    frames: np.ndarray
    """uint8 ``(T, H, W, 3)``, memory-mapped."""
    actions: np.ndarray
    """float32 ``(T, A)``: action applied right after frame t."""
    episode: np.ndarray
    """int ``(T,)``: episode index of each frame."""
    meta: dict[str, Any]
    """Parsed ``meta.json``."""
    state: np.ndarray | None = None
    """float32 ``(T, S)`` world state per frame (see :mod:`socialview.agents.state`),
    loaded only when asked for (``open_camera_stream(..., with_state=True)``)."""

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    @property
    def image_shape(self) -> tuple[int, int]:
        """``(H, W)`` of the frames."""
        return int(self.frames.shape[1]), int(self.frames.shape[2])

    @property
    def action_dim(self) -> int:
        """Width ``A`` of one action."""
        return int(self.actions.shape[1])

    def valid_starts(self, horizon: int = 1) -> np.ndarray:
        """Indices ``t`` such that frames ``t .. t+horizon`` all lie in one episode.

        Episodes are contiguous runs of ``episode.npy``, so checking the two ends
        is enough.
        """
        if horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {horizon}")
        n = len(self) - horizon
        if n <= 0:
            return np.zeros(0, dtype=np.int64)
        same = self.episode[:n] == self.episode[horizon:horizon + n]
        return np.flatnonzero(same).astype(np.int64)

    def batch(self, starts: np.ndarray, horizon: int = 1) -> Batch:
        """Gather the transitions starting at ``starts`` (reads only those frames)."""
        starts = np.asarray(starts, dtype=np.int64)
        order = np.argsort(starts, kind="stable")  # sequential reads from the memmap
        inv = np.empty_like(order)
        inv[order] = np.arange(order.size)
        sorted_starts = starts[order]
        offsets = np.arange(horizon + 1)
        idx = sorted_starts[:, None] + offsets[None, :]  # (B, K+1)
        uniq, where = np.unique(idx, return_inverse=True)
        frames = self.frames[uniq]  # one fancy-index read: copies only these frames
        seq = frames[where.reshape(idx.shape)][inv]  # (B, K+1, H, W, 3)
        act = self.actions[sorted_starts[:, None] + offsets[None, :-1]][inv]
        seq_t = torch.from_numpy(seq)
        state = None
        if self.state is not None:
            state = torch.from_numpy(np.ascontiguousarray(self.state[starts], dtype=np.float32))
        return Batch(
            obs=seq_t[:, 0],
            action=torch.from_numpy(np.ascontiguousarray(act, dtype=np.float32)),
            next_obs=seq_t[:, 1:],
            state=state,
        )

    def sample(self, batch_size: int, generator: torch.Generator, horizon: int = 1,
               starts: np.ndarray | None = None) -> Batch:
        """Sample ``batch_size`` transitions uniformly (with replacement) using ``generator``.

        Parameters
        ----------
        batch_size : int
            Number of transitions.
        generator : torch.Generator
            The caller's random stream (the trainer owns one per run).
        horizon : int
            Number of future frames and actions per transition.
        starts : np.ndarray, optional
            Precomputed :meth:`valid_starts` (saves recomputing them every step).
        """
        if starts is None:
            starts = self.valid_starts(horizon)
        if starts.size == 0:
            raise DatasetError(f"{self.path}: no transition of horizon {horizon} fits inside "
                               "an episode")
        pick = torch.randint(starts.size, (batch_size,), generator=generator).numpy()
        return self.batch(starts[pick], horizon)


def _read_meta(path: Path) -> dict[str, Any]:
    meta_path = path / "meta.json"
    if not path.is_dir():
        raise DatasetError(f"dataset folder {str(path)!r} does not exist")
    if not meta_path.is_file():
        raise DatasetError(f"{str(path)!r} is not a socialview dataset: no meta.json "
                           "(record one with `socialview record`)")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{meta_path}: invalid JSON ({exc})") from exc
    version = meta.get("format_version")
    if version not in SUPPORTED_FORMAT_VERSIONS:
        raise DatasetError(f"{meta_path}: format_version {version!r} is not supported "
                           f"(this reader knows {SUPPORTED_FORMAT_VERSIONS})")
    if not isinstance(meta.get("camera_names"), list):
        raise DatasetError(f"{meta_path}: missing 'camera_names'")
    return meta


def read_meta(path: str | Path) -> dict[str, Any]:
    """Return a dataset's validated ``meta.json``."""
    return _read_meta(Path(path))


def _load(path: Path, name: str, mmap: bool) -> np.ndarray:
    file = path / f"{name}.npy"
    if not file.is_file():
        raise DatasetError(f"{str(path)!r}: missing {file.name}")
    try:
        return np.load(file, mmap_mode="r" if mmap else None, allow_pickle=False)
    except ValueError as exc:
        raise DatasetError(f"{file}: not a plain .npy array ({exc})") from exc


def open_camera_stream(path: str | Path, camera: str, with_state: bool = False) -> CameraStream:
    """Open ``camera``'s stream in dataset folder ``path``, validating what it reads.

    Parameters
    ----------
    path : str or Path
        Dataset folder written by ``socialview record``.
    camera : str
        Camera name, e.g. ``"cam0"``.
    with_state : bool
        Also load the world state (positions of the pusher and objects), so that
        batches carry it (``Batch.state``); only labelled reference agents ask.

    Returns
    -------
    CameraStream
        Frames memory-mapped; actions and episode indices loaded (they are small).

    Raises
    ------
    DatasetError
        If the folder is not a dataset, the camera does not exist (the message
        lists those that do) or array shapes disagree.
    """
    path = Path(path)
    meta = _read_meta(path)
    cameras = meta["camera_names"]
    if camera not in cameras:
        raise DatasetError(f"dataset {str(path)!r} has no camera {camera!r}; "
                           f"its cameras are: {', '.join(map(str, cameras))}")
    frames = _load(path, camera, mmap=True)
    actions = _load(path, "actions", mmap=False).astype(np.float32, copy=False)
    episode = _load(path, "episode", mmap=False)
    t = frames.shape[0]
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise DatasetError(f"{path / (camera + '.npy')}: expected uint8 (T, H, W, 3), got "
                           f"{frames.dtype} {frames.shape}")
    if actions.ndim != 2 or actions.shape[0] != t:
        raise DatasetError(f"{path / 'actions.npy'}: expected ({t}, A), got {actions.shape}")
    if episode.shape != (t,):
        raise DatasetError(f"{path / 'episode.npy'}: expected ({t},), got {episode.shape}")
    state = None
    if with_state:
        from socialview.agents.state import world_state

        state = world_state(path).values.astype(np.float32)
    return CameraStream(path=path, camera=camera, frames=frames, actions=actions,
                        episode=episode, meta=meta, state=state)
