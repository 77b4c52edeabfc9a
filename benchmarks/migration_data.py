"""Recordings and the probe of ``socialview migrate``: what every seed's run reads from.

One seed's run needs a training recording (both agents train on it;
distillation pairs its frames) and a held-out evaluation recording, whose task
label a linear probe reads from latents. This module records them (or reuses
them when their settings match), splits the evaluation recording into whole
train and test episodes, drops frames whose label is undefined (-1), and
builds the raw-pixel reference features. :mod:`socialview.benchmarks.migration_run`
drives it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from .migration_config import PIXEL_SIDE, MigrationConfig

__all__ = ["ProbeSplit", "dataset_stamp", "ensure_dataset", "measured_overlap",
           "pixel_features", "probe_split"]


def _dataset_matches(path: Path, *, steps: int, seed: int, cfg: MigrationConfig) -> bool:
    """Whether the recording at ``path`` was made with these settings (so it can be reused)."""
    meta_path = path / "meta.json"
    if not meta_path.is_file():
        return False
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError:
        return False
    return (meta.get("num_frames") == steps and meta.get("seed") == seed
            and meta.get("image_size") == [cfg.image_size, cfg.image_size]
            and meta.get("episode_steps") == cfg.episode_steps
            and meta.get("target_overlap") == cfg.overlap
            and all(meta.get("env_kwargs", {}).get(k) == v for k, v in cfg.env_kwargs.items())
            and len(meta.get("camera_names", [])) == cfg.num_cameras())


def ensure_dataset(path: Path, *, steps: int, seed: int, cfg: MigrationConfig,
                   progress: bool) -> tuple[Path, bool]:
    """Reuse the recording at ``path`` if it has the right settings, else (re)record it.

    Returns the path and whether it was reused.
    """
    from socialview.envs import record_dataset

    if _dataset_matches(path, steps=steps, seed=seed, cfg=cfg):
        return path, True
    record_dataset(path, steps=steps, overlap=cfg.overlap, num_cameras=cfg.num_cameras(),
                   image_size=cfg.image_size, seed=seed, force=True, preview=False,
                   episode_steps=cfg.episode_steps, progress=progress,
                   env_kwargs=cfg.env_kwargs)
    return path, False


def dataset_stamp(cfg: MigrationConfig, steps: int, seed: int) -> dict[str, Any]:
    """The recording settings agent A's run is stamped with (a change retrains A)."""
    return {"steps": steps, "seed": seed, "image_size": cfg.image_size,
            "episode_steps": cfg.episode_steps, "overlap": cfg.overlap,
            "num_cameras": cfg.num_cameras(), "env_kwargs": dict(cfg.env_kwargs)}


def measured_overlap(path: Path) -> float | None:
    """Pixel overlap the recording at ``path`` measured, or None if unreadable."""
    try:
        return json.loads((path / "meta.json").read_text()).get("overlap")
    except (OSError, json.JSONDecodeError):
        return None


@dataclass
class ProbeSplit:
    """A task label of the evaluation recording, split into train and test episodes.

    ``train`` and ``test`` index frames of whole episodes whose label is defined:
    frames labelled -1 (a future-looking label at an episode's end) are in neither.
    """

    name: str
    """Label name (a key of :data:`socialview.envs.labels.LABELS`)."""
    labels: np.ndarray
    """The label of every frame, -1 where undefined."""
    train: np.ndarray
    """Frames the probe is fitted on (first episodes, defined labels)."""
    test: np.ndarray
    """Frames the probe is scored on (last episodes, defined labels)."""
    train_episodes: list[int]
    test_episodes: list[int]
    classes: int
    """Number of classes the label has in this world."""

    def accuracy(self, latents: np.ndarray, l2: float) -> float:
        """Held-out accuracy of a logistic probe fitted on the train episodes' latents."""
        from socialview.alignment import LogisticProbe

        probe = LogisticProbe(l2=l2).fit(latents[self.train], self.labels[self.train])
        return probe.score(latents[self.test], self.labels[self.test])

    def chance(self) -> float:
        """Accuracy of always guessing the commonest test label."""
        _, counts = np.unique(self.labels[self.test], return_counts=True)
        return float(counts.max() / self.test.size)

    def to_json(self, l2: float) -> dict[str, Any]:
        """The ``probe`` entry of a seed's result: which label, which frames."""
        from socialview.envs.labels import LABELS

        return {"label": self.name, "description": LABELS[self.name].description,
                "classes": self.classes, "train_episodes": self.train_episodes,
                "test_episodes": self.test_episodes, "n_train": int(self.train.size),
                "n_test": int(self.test.size),
                "n_undefined": int(np.count_nonzero(self.labels < 0)), "l2": l2}


def probe_split(eval_dir: Path, fraction: float, label: str) -> ProbeSplit:
    """Fit on the first episodes of the evaluation recording, test on the last ones.

    The split is by whole episodes (consecutive frames are near copies, so a
    random frame split would leak); frames where ``label`` is -1 are then dropped
    from both sides.
    """
    from socialview.envs import load_dataset
    from socialview.envs.labels import LABELS, dataset_labels

    ds = load_dataset(eval_dir)
    labels = dataset_labels(ds, label)
    episode = np.asarray(ds.array("episode"))
    episodes = np.unique(episode)
    if episodes.size < 2:
        raise ValueError(f"{eval_dir}: the evaluation recording has one episode; the probe "
                         "needs separate train and test episodes (raise eval_steps)")
    n_train = min(max(1, round(fraction * episodes.size)), episodes.size - 1)
    train_eps, test_eps = episodes[:n_train], episodes[n_train:]
    defined = labels >= 0
    train = np.flatnonzero(np.isin(episode, train_eps) & defined)
    test = np.flatnonzero(np.isin(episode, test_eps) & defined)
    if test.size == 0:
        raise ValueError(f"{eval_dir}: label {label!r} is undefined on every test frame; "
                         "record more evaluation frames (eval_steps)")
    if np.unique(labels[train]).size < 2:
        raise ValueError(f"{eval_dir}: the probe's training episodes show a single value of "
                         f"label {label!r}; record more evaluation frames (eval_steps)")
    num_objects = int(ds.meta["arrays"]["object_pos"]["shape"][1])
    return ProbeSplit(label, labels, train, test, [int(e) for e in train_eps],
                      [int(e) for e in test_eps], LABELS[label].classes(num_objects))


def pixel_features(eval_dir: Path, camera: str, side: int = PIXEL_SIDE) -> np.ndarray:
    """Frames area-downsampled to ``side x side`` RGB and flattened: a no-learning baseline."""
    from socialview.envs import load_dataset

    frames = load_dataset(eval_dir).frames(camera)
    out = []
    for lo in range(0, frames.shape[0], 512):
        x = torch.from_numpy(np.array(frames[lo:lo + 512])).permute(0, 3, 1, 2).float() / 255.0
        out.append(F.interpolate(x, size=(side, side), mode="area").flatten(1).double().numpy())
    return np.concatenate(out)
