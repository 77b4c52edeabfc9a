"""The run of ``socialview migrate``: recordings, agent A, the two B paths, ``migration.json``.

:func:`run_migration` orchestrates the other migration modules: it records (or
reuses) the training and evaluation recordings, trains (or reuses) agent A, trains
path (i) from scratch and path (ii) after :func:`distill_through_map`, reading
the held-out probe every ``eval_every`` steps, and writes the result atomically.
:mod:`socialview.benchmarks.migration` re-exports :func:`run_migration`.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from .migration_config import PIXEL_SIDE, MigrationConfig
from .migration_curves import ACCOUNTING, curve_ratios
from .migration_distill import distill_through_map
from .migration_report import draw_chart

__all__ = ["run_migration"]


def _versions() -> dict[str, str]:
    """Versions of the packages that shape the numbers (saved in ``migration.json``)."""
    out = {"python": platform.python_version(), "torch": torch.__version__,
           "numpy": np.__version__}
    for dist in ("socialview", "mujoco", "matplotlib", "scipy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


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
            and len(meta.get("camera_names", [])) == cfg.num_cameras())


def _ensure_dataset(path: Path, *, steps: int, seed: int, cfg: MigrationConfig,
                    progress: bool) -> tuple[Path, bool]:
    """Reuse the recording at ``path`` if it has the right settings, else (re)record it."""
    from socialview.envs import record_dataset

    if _dataset_matches(path, steps=steps, seed=seed, cfg=cfg):
        return path, True
    record_dataset(path, steps=steps, overlap=cfg.overlap, num_cameras=cfg.num_cameras(),
                   image_size=cfg.image_size, seed=seed, force=True, preview=False,
                   episode_steps=cfg.episode_steps, progress=progress)
    return path, False


@dataclass
class _ProbeSplit:
    """Quadrant labels of the evaluation recording, split into train and test episodes."""

    labels: np.ndarray
    train: np.ndarray
    test: np.ndarray
    train_episodes: list[int]
    test_episodes: list[int]

    def accuracy(self, latents: np.ndarray, l2: float) -> float:
        """Held-out accuracy of a logistic probe fitted on the train episodes' latents."""
        from socialview.alignment import LogisticProbe

        probe = LogisticProbe(l2=l2).fit(latents[self.train], self.labels[self.train])
        return probe.score(latents[self.test], self.labels[self.test])

    def chance(self) -> float:
        """Accuracy of always guessing the commonest test label."""
        _, counts = np.unique(self.labels[self.test], return_counts=True)
        return float(counts.max() / self.test.size)


def _probe_split(eval_dir: Path, fraction: float) -> _ProbeSplit:
    """Fit on the first episodes of the evaluation recording, test on the last ones."""
    from socialview.envs import load_dataset

    ds = load_dataset(eval_dir)
    labels = np.asarray(ds.array("quadrant"), dtype=np.int64)
    episode = np.asarray(ds.array("episode"))
    episodes = np.unique(episode)
    if episodes.size < 2:
        raise ValueError(f"{eval_dir}: the evaluation recording has one episode; the probe "
                         "needs separate train and test episodes (raise eval_steps)")
    n_train = min(max(1, round(fraction * episodes.size)), episodes.size - 1)
    train_eps, test_eps = episodes[:n_train], episodes[n_train:]
    train = np.flatnonzero(np.isin(episode, train_eps))
    test = np.flatnonzero(np.isin(episode, test_eps))
    if np.unique(labels[train]).size < 2:
        raise ValueError(f"{eval_dir}: the probe's training episodes show a single quadrant; "
                         "record more evaluation frames (eval_steps)")
    return _ProbeSplit(labels, train, test, [int(e) for e in train_eps],
                       [int(e) for e in test_eps])


def _pixel_features(eval_dir: Path, camera: str, side: int = PIXEL_SIDE) -> np.ndarray:
    """Frames area-downsampled to ``side x side`` RGB and flattened: a no-learning baseline."""
    from socialview.envs import load_dataset

    frames = load_dataset(eval_dir).frames(camera)
    out = []
    for lo in range(0, frames.shape[0], 512):
        x = torch.from_numpy(np.array(frames[lo:lo + 512])).permute(0, 3, 1, 2).float() / 255.0
        out.append(F.interpolate(x, size=(side, side), mode="area").flatten(1).double().numpy())
    return np.concatenate(out)


def _chunk_ends(total: int, every: int) -> list[int]:
    """Step counts at which a path stops to evaluate: every ``every`` steps and at ``total``."""
    ends = list(range(every, total + 1, every))
    if not ends or ends[-1] != total:
        ends.append(total)
    return ends


def _train_path(agent: Any, *, label: str, run_dir: Path, train_dir: Path,
                cfg: MigrationConfig, split: _ProbeSplit, eval_dir: Path,
                offset_flops: float, progress: bool) -> tuple[list[dict[str, Any]], float]:
    """Train ``agent`` on camera B in chunks; return its (FLOPs, accuracy) curve."""
    from tqdm.auto import tqdm

    from socialview.agents import embed, train_agent

    if run_dir.exists():  # curves are only consistent from step 0: start this path afresh
        shutil.rmtree(run_dir)

    def evaluate() -> float:
        return split.accuracy(embed(agent, eval_dir, cfg.camera_b), cfg.probe_l2)

    t0 = time.perf_counter()
    curve = [{"step": 0, "train_flops": 0.0, "cumulative_flops": offset_flops,
              "accuracy": evaluate(), "wall_time_s": time.perf_counter() - t0}]
    flops_per_step = 0.0
    bar = tqdm(total=cfg.b_steps, desc=f"{label} path", unit="step", disable=not progress,
               dynamic_ncols=True)
    try:
        for end in _chunk_ends(cfg.b_steps, cfg.eval_every):
            res = train_agent(agent, train_dir, cfg.camera_b, steps=end, out_dir=run_dir,
                              batch_size=cfg.batch_size, checkpoint_every=cfg.eval_every,
                              device=cfg.device, progress=False, resume=True)
            flops_per_step = res.flops_per_step
            acc = evaluate()
            curve.append({"step": end, "train_flops": res.total_flops,
                          "cumulative_flops": offset_flops + res.total_flops,
                          "accuracy": acc, "wall_time_s": time.perf_counter() - t0})
            bar.update(end - bar.n)
            bar.set_postfix(acc=f"{acc:.3f}")
    finally:
        bar.close()
    return curve, flops_per_step


def run_migration(config: MigrationConfig, out_dir: str | os.PathLike,
                  progress: bool = True) -> dict[str, Any]:
    """Run the migration benchmark and write ``migration.json``, ``.png`` and ``.svg``.

    Steps: record (or reuse) the training and evaluation recordings under
    ``out_dir/data``; train (or resume) agent A under ``out_dir/runs/a``; train
    path (i) and path (ii) under ``out_dir/runs/scratch`` and
    ``out_dir/runs/distill``, evaluating the probe every ``eval_every`` steps;
    compute the FLOPs ratios; write the results atomically.

    Parameters
    ----------
    config : MigrationConfig
        What to run (validated first).
    out_dir : path
        Results folder; reused datasets and A's run make a re-run cheaper.
    progress : bool
        Show tqdm progress bars.

    Returns
    -------
    dict
        The content of ``migration.json``.
    """
    from socialview.agents import (
        AgentStateError,
        RunFolderError,
        TrainResult,
        make_agent,
        train_agent,
    )

    config.validate()
    cfg = config
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    old_threads = torch.get_num_threads()
    if cfg.num_threads is not None:
        torch.set_num_threads(cfg.num_threads)
    try:
        train_dir, train_reused = _ensure_dataset(
            out_dir / "data" / "train", steps=cfg.dataset_steps, seed=cfg.seed, cfg=cfg,
            progress=progress)
        eval_seed = cfg.seed + 1_000_000
        eval_dir, eval_reused = _ensure_dataset(
            out_dir / "data" / "eval", steps=cfg.eval_steps, seed=eval_seed, cfg=cfg,
            progress=progress)
        split = _probe_split(eval_dir, cfg.probe_train_fraction)

        # Agent A: "exists already"; reuse its run when it was trained with these settings.
        a_dir = out_dir / "runs" / "a"
        stamp = {"agent": cfg.agent, "agent_config": cfg._agent_config(cfg.seed),
                 "camera": cfg.camera_a, "batch_size": cfg.batch_size,
                 "dataset": _dataset_stamp(cfg, cfg.dataset_steps, cfg.seed)}
        stamp_path = a_dir / "migration_stamp.json"
        if a_dir.exists() and (not stamp_path.is_file()
                               or json.loads(stamp_path.read_text()) != stamp):
            shutil.rmtree(a_dir)
        agent_a = make_agent(cfg.agent, **cfg._agent_config(cfg.seed))

        def train_a() -> TrainResult:
            return train_agent(agent_a, train_dir, cfg.camera_a, steps=cfg.a_steps,
                               out_dir=a_dir, batch_size=cfg.batch_size, checkpoint_every=500,
                               device=cfg.device, progress=progress, resume=True)

        try:
            a_res = train_a()
        except (AgentStateError, RunFolderError):
            # A run left by other code (e.g. the agent's networks changed shape): retrain.
            shutil.rmtree(a_dir)
            agent_a = make_agent(cfg.agent, **cfg._agent_config(cfg.seed))
            a_res = train_a()
        _write_json(stamp_path, stamp)
        from socialview.agents import embed

        a_acc = split.accuracy(embed(agent_a, eval_dir, cfg.camera_a), cfg.probe_l2)
        a_flops = float(a_res.total_flops)

        # Path (i): from scratch.
        b_seed = cfg.seed + 1
        agent_b = make_agent(cfg.agent, **cfg._agent_config(b_seed))
        scratch_curve, b_fps = _train_path(
            agent_b, label="scratch", run_dir=out_dir / "runs" / "scratch", train_dir=train_dir,
            cfg=cfg, split=split, eval_dir=eval_dir, offset_flops=0.0, progress=progress)

        # Path (ii): distil through the map, then train as usual.
        agent_d = make_agent(cfg.agent, **cfg._agent_config(b_seed))
        if hasattr(agent_d, "to"):
            from socialview.agents.trainer import resolve_device

            agent_d.to(resolve_device(cfg.device))
        dist = distill_through_map(
            agent_d, agent_a, train_dir, cfg.camera_b, cfg.camera_a, steps=cfg.distill_steps,
            batch_size=cfg.batch_size, lr=cfg.distill_lr, map_kind=cfg.map_kind,
            anchors=cfg.map_anchors, refit_every=cfg.map_refit_every, seed=cfg.seed + 2,
            progress=progress)
        distill_curve, d_fps = _train_path(
            agent_d, label="distill", run_dir=out_dir / "runs" / "distill",
            train_dir=train_dir, cfg=cfg, split=split, eval_dir=eval_dir,
            offset_flops=dist.total_flops, progress=progress)
        for point in distill_curve:
            point["distill_flops"] = dist.total_flops

        ratios = curve_ratios(scratch_curve, distill_curve, cfg.target_accuracy, a_flops)
        reference = {
            "note": (f"linear probe on {PIXEL_SIDE}x{PIXEL_SIDE} area-downsampled RGB pixels, "
                     "same split: is the label linearly readable from each view at all?"),
            "raw_pixels_probe_accuracy": {
                cam: split.accuracy(_pixel_features(eval_dir, cam), cfg.probe_l2)
                for cam in (cfg.camera_a, cfg.camera_b)},
        }
        result = {
            "benchmark": "migration",
            "format_version": 1,
            "config": cfg.to_dict(),
            "accounting": ACCOUNTING,
            "ratios": ratios,
            "chance": split.chance(),
            "reference": reference,
            "a": {"camera": cfg.camera_a, "seed": cfg.seed, "steps": a_res.steps,
                  "flops_per_step": a_res.flops_per_step, "train_flops": a_flops,
                  "probe_accuracy": a_acc, "run_dir": str(a_dir),
                  "reused": a_res.resumed_from >= cfg.a_steps and cfg.a_steps > 0},
            "scratch": {"camera": cfg.camera_b, "seed": b_seed, "flops_per_step": b_fps,
                        "curve": scratch_curve},
            "distill": {"camera": cfg.camera_b, "seed": b_seed, "flops_per_step": d_fps,
                        "distillation": dist.to_json(), "curve": distill_curve},
            "probe": {"label": "quadrant of object 0", "classes": 4,
                      "train_episodes": split.train_episodes,
                      "test_episodes": split.test_episodes,
                      "n_train": int(split.train.size), "n_test": int(split.test.size),
                      "l2": cfg.probe_l2},
            "datasets": {"train": {"path": str(train_dir), "seed": cfg.seed,
                                   "reused": train_reused,
                                   "overlap": _measured_overlap(train_dir)},
                         "eval": {"path": str(eval_dir), "seed": eval_seed,
                                  "reused": eval_reused,
                                  "overlap": _measured_overlap(eval_dir)}},
            "versions": _versions(),
            "wall_time_s": None,
        }
        result["wall_time_s"] = time.perf_counter() - t0
        result["files"] = [str(p) for p in draw_chart(result, out_dir)]
        _write_json(out_dir / "migration.json", result)
        return result
    finally:
        torch.set_num_threads(old_threads)


def _dataset_stamp(cfg: MigrationConfig, steps: int, seed: int) -> dict[str, Any]:
    """The recording settings agent A's run is stamped with (a change retrains A)."""
    return {"steps": steps, "seed": seed, "image_size": cfg.image_size,
            "episode_steps": cfg.episode_steps, "overlap": cfg.overlap,
            "num_cameras": cfg.num_cameras()}


def _measured_overlap(path: Path) -> float | None:
    """Pixel overlap the recording at ``path`` measured, or None if unreadable."""
    try:
        return json.loads((path / "meta.json").read_text()).get("overlap")
    except (OSError, json.JSONDecodeError):
        return None


def _write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` atomically (see :func:`socialview.benchmarks._io.write_json_atomic`)."""
    from socialview.benchmarks._io import write_json_atomic

    write_json_atomic(path, payload)
