"""Task labels: classes a probe reads from latents, chosen to need a world model.

A label is a function of the simulator state over an episode (positions of the
pusher and the objects), so it is exact ground truth, not an annotation. Some
labels describe the current frame (which object is nearest the pusher, where
object 0 is), others the near future (where the pusher goes next, whether it
is about to touch an object): a model that predicts the world should read those
better than one that only describes pixels.

Labels are ``int64`` per frame; ``-1`` marks a frame where a label is undefined
(a future-looking label on the last frames of an episode), and every user of a
label drops those frames. Recordings store every label as ``label_<name>.npy``
(:func:`socialview.envs.record_dataset`); :func:`dataset_labels` reads them, or
computes them from ``object_pos``/``agent_pos``/``episode`` for a recording made
before labels existed. The env's ``info`` carries the labels of the current
frame (those with ``causal=True``); future-looking ones need the future and
exist only in recordings.

Which label is the default (for zero-shot transfer and migration) was chosen by
measurement (``docs/labels.md``): the one a trained world model reads best above
both an untrained encoder and a raw-pixel probe. That is ``pusher_grid``, the
pusher's cell on a 3x3 floor grid: the body the actions move, which raw pixels
and an untrained encoder place poorly (object 0's quadrant, the old label, is
read from 8x8 pixels as well as from a trained agent).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from socialview.envs.scene import ARENA_HALF_SIZE

__all__ = [
    "CONTACT_DISTANCE",
    "DEFAULT_LABEL",
    "LABELS",
    "LOOKAHEAD",
    "LabelSpec",
    "compute_labels",
    "current_labels",
    "dataset_labels",
]

#: Centre distance (m) at which the pusher (radius 0.09) and an object (~0.1) are
#: about to touch; a little slack so that a glancing push counts.
CONTACT_DISTANCE = 0.25
#: Steps a future-looking label looks ahead.
LOOKAHEAD = 5
#: Cells per side of the coarse grid over the arena floor.
GRID_CELLS = 3

#: One frame in plain floats: object centres ``[(x, y), ...]`` and the pusher's ``(x, y)``.
FrameFunction = Callable[[Sequence[Sequence[float]], Sequence[float]], int]


@dataclass(frozen=True)
class LabelSpec:
    """One task label: how to compute it and what it means."""

    name: str
    description: str
    num_classes: int | Callable[[int], int]
    """Number of classes, or a function of the number of objects."""
    causal: bool
    """True when the label depends on the current frame only (so ``info`` can carry it)."""
    compute: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    """``compute(object_xy (T, K, 2), pusher_xy (T, 2), episode (T,)) -> int64 (T,)``."""
    frame: FrameFunction | None = None
    """Causal labels only, optional: the same formula on one frame in plain Python floats,
    ``frame(object_xy, pusher_xy) -> int``. The env computes labels every step, and numpy
    on a batch of one frame costs ~10x more; it must equal ``compute`` exactly (tested)."""

    def classes(self, num_objects: int) -> int:
        """Number of classes in a world with ``num_objects`` objects."""
        n = self.num_classes
        return int(n(num_objects) if callable(n) else n)


def _quadrant(objects: np.ndarray, pusher: np.ndarray, episode: np.ndarray) -> np.ndarray:
    x, y = objects[:, 0, 0], objects[:, 0, 1]
    return np.where(x >= 0, np.where(y >= 0, 0, 3), np.where(y >= 0, 1, 2)).astype(np.int64)


def _nearest_object(objects: np.ndarray, pusher: np.ndarray, episode: np.ndarray) -> np.ndarray:
    distance = np.linalg.norm(objects - pusher[:, None, :], axis=-1)
    return np.argmin(distance, axis=1).astype(np.int64)


def _grid_cell(xy: np.ndarray) -> np.ndarray:
    cells = np.floor((xy + ARENA_HALF_SIZE) / (2 * ARENA_HALF_SIZE) * GRID_CELLS)
    cells = np.clip(cells, 0, GRID_CELLS - 1).astype(np.int64)
    return cells[..., 1] * GRID_CELLS + cells[..., 0]


# Per-frame twins of the causal labels above: the same float operations in the
# same order, on Python floats (LabelSpec.frame; tests compare them with compute).


def _quadrant_frame(objects: Sequence[Sequence[float]], pusher: Sequence[float]) -> int:
    x, y = objects[0]
    return (0 if y >= 0 else 3) if x >= 0 else (1 if y >= 0 else 2)


def _nearest_object_frame(objects: Sequence[Sequence[float]], pusher: Sequence[float]) -> int:
    px, py = pusher
    # sqrt(dx*dx + dy*dy) is what np.linalg.norm computes; min keeps the first of ties.
    distance = [math.sqrt((x - px) * (x - px) + (y - py) * (y - py)) for x, y in objects]
    return min(range(len(distance)), key=distance.__getitem__)


def _grid_axis_frame(value: float) -> int:
    cell = math.floor((value + ARENA_HALF_SIZE) / (2 * ARENA_HALF_SIZE) * GRID_CELLS)
    return min(max(cell, 0), GRID_CELLS - 1)


def _grid_cell_frame(x: float, y: float) -> int:
    return _grid_axis_frame(y) * GRID_CELLS + _grid_axis_frame(x)


def _object0_grid_frame(objects: Sequence[Sequence[float]], pusher: Sequence[float]) -> int:
    return _grid_cell_frame(*objects[0])


def _pusher_grid_frame(objects: Sequence[Sequence[float]], pusher: Sequence[float]) -> int:
    return _grid_cell_frame(*pusher)


def _object0_grid(objects: np.ndarray, pusher: np.ndarray, episode: np.ndarray) -> np.ndarray:
    return _grid_cell(objects[:, 0])


def _pusher_grid(objects: np.ndarray, pusher: np.ndarray, episode: np.ndarray) -> np.ndarray:
    return _grid_cell(pusher)


def _same_episode_ahead(episode: np.ndarray, steps: int) -> np.ndarray:
    """Bool (T,): frame t + steps exists and belongs to frame t's episode."""
    ok = np.zeros(episode.shape[0], dtype=bool)
    if steps < episode.shape[0]:
        ok[:-steps] = episode[:-steps] == episode[steps:]
    return ok


def _pusher_heading(objects: np.ndarray, pusher: np.ndarray, episode: np.ndarray) -> np.ndarray:
    """Sector (0 = +x, 1 = +y, 2 = -x, 3 = -y) of the pusher's next-step displacement."""
    labels = np.full(pusher.shape[0], -1, dtype=np.int64)
    ok = _same_episode_ahead(episode, 1)
    step = pusher[1:] - pusher[:-1]
    angle = np.arctan2(step[:, 1], step[:, 0])
    sector = np.mod(np.round(angle / (np.pi / 2)), 4).astype(np.int64)
    labels[:-1][ok[:-1]] = sector[ok[:-1]]
    return labels


def _contact_soon(objects: np.ndarray, pusher: np.ndarray, episode: np.ndarray) -> np.ndarray:
    """1 if the pusher comes within CONTACT_DISTANCE of any object in the next LOOKAHEAD steps."""
    t = pusher.shape[0]
    near = (np.linalg.norm(objects - pusher[:, None, :], axis=-1) < CONTACT_DISTANCE).any(axis=1)
    labels = np.full(t, -1, dtype=np.int64)
    defined = _same_episode_ahead(episode, LOOKAHEAD)
    soon = np.zeros(t, dtype=bool)
    for k in range(1, LOOKAHEAD + 1):
        soon[:-k] |= near[k:]
    labels[defined] = soon[defined].astype(np.int64)
    return labels


#: Every task label, by name.
LABELS: dict[str, LabelSpec] = {
    spec.name: spec
    for spec in (
        LabelSpec("quadrant", "arena quadrant of object 0 (0: x>=0,y>=0, then counter-clockwise)",
                  4, True, _quadrant, _quadrant_frame),
        LabelSpec("nearest_object", "which object is nearest the pusher",
                  lambda k: k, True, _nearest_object, _nearest_object_frame),
        LabelSpec("object0_grid", f"cell of object 0 on a {GRID_CELLS}x{GRID_CELLS} floor grid",
                  GRID_CELLS**2, True, _object0_grid, _object0_grid_frame),
        LabelSpec("pusher_grid", f"cell of the pusher on a {GRID_CELLS}x{GRID_CELLS} floor grid",
                  GRID_CELLS**2, True, _pusher_grid, _pusher_grid_frame),
        LabelSpec("pusher_heading", "direction (4 sectors) the pusher moves in the next step",
                  4, False, _pusher_heading),
        LabelSpec("contact_soon",
                  f"the pusher comes within {CONTACT_DISTANCE} m of an object within "
                  f"{LOOKAHEAD} steps", 2, False, _contact_soon),
    )
}
#: The label zero-shot transfer and migration use unless told otherwise
#: (chosen by measurement: docs/labels.md).
DEFAULT_LABEL = "pusher_grid"


def _check_name(name: str) -> LabelSpec:
    if name not in LABELS:
        raise ValueError(f"label={name!r} is not a task label; choose from {sorted(LABELS)}")
    return LABELS[name]


def compute_labels(
    object_pos: np.ndarray, agent_pos: np.ndarray, episode: np.ndarray,
    names: list[str] | None = None,
) -> dict[str, np.ndarray]:
    """Labels ``names`` (default: all) from per-frame positions.

    Parameters
    ----------
    object_pos
        ``(T, K, 2 or 3)`` object centres (world frame; only x/y are used).
    agent_pos
        ``(T, 2 or 3)`` pusher centres.
    episode
        ``(T,)`` episode index of each frame (future-looking labels never look
        across an episode's end).

    Returns
    -------
    dict
        Name -> ``int64 (T,)``, ``-1`` where undefined.
    """
    objects = np.asarray(object_pos, dtype=np.float64)[..., :2]
    pusher = np.asarray(agent_pos, dtype=np.float64)[..., :2]
    episode = np.asarray(episode)
    if objects.ndim != 3 or pusher.ndim != 2 or episode.ndim != 1:
        raise ValueError(
            f"object_pos, agent_pos, episode must be (T, K, 2|3), (T, 2|3), (T,); got "
            f"{np.shape(object_pos)}, {np.shape(agent_pos)}, {np.shape(episode)}"
        )
    if not objects.shape[0] == pusher.shape[0] == episode.shape[0]:
        raise ValueError(
            f"object_pos, agent_pos and episode disagree on the number of frames: "
            f"{objects.shape[0]}, {pusher.shape[0]}, {episode.shape[0]}"
        )
    specs = [_check_name(n) for n in (names if names is not None else LABELS)]
    return {spec.name: spec.compute(objects, pusher, episode) for spec in specs}


#: The labels that need only the current frame, in the order of LABELS.
_CAUSAL = tuple(spec for spec in LABELS.values() if spec.causal)
_ONE_EPISODE = np.zeros(1, dtype=np.int64)


def current_labels(object_pos: np.ndarray, agent_pos: np.ndarray) -> dict[str, int]:
    """The causal labels of one frame (what the env's ``info`` carries, every step).

    Uses each label's ``frame`` function (plain floats, ~5 us for all four) and
    falls back to ``compute`` on a batch of one frame for a label without one.
    """
    objects = np.asarray(object_pos, dtype=np.float64)[:, :2]
    pusher = np.asarray(agent_pos, dtype=np.float64)[:2]
    objects_xy, pusher_xy = objects.tolist(), pusher.tolist()
    labels = {}
    for spec in _CAUSAL:
        if spec.frame is not None:
            labels[f"label_{spec.name}"] = int(spec.frame(objects_xy, pusher_xy))
        else:
            value = spec.compute(objects[None], pusher[None], _ONE_EPISODE)[0]
            labels[f"label_{spec.name}"] = int(value)
    return labels


def dataset_labels(dataset: object, name: str) -> np.ndarray:
    """Label ``name`` of every frame of a recording (a :class:`Dataset` or its path).

    Reads ``label_<name>.npy`` when the recording has it and otherwise computes
    the label from the recording's positions (same function, same values).
    """
    from socialview.envs.recording import Dataset, load_dataset

    _check_name(name)
    ds = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)  # type: ignore[arg-type]
    arrays: Mapping[str, object] = ds.meta["arrays"]
    if f"label_{name}" in arrays:
        return np.asarray(ds.array(f"label_{name}"), dtype=np.int64)
    return compute_labels(ds.array("object_pos"), ds.array("agent_pos"), ds.array("episode"),
                          [name])[name]
