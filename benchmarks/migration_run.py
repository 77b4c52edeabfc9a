"""The run of ``socialview migrate``: every seed's agents and paths, then ``migration.json``.

:func:`run_migration` orchestrates the other migration modules. For each seed,
in its own folder ``seed<N>/``, it records (or reuses) the training and
evaluation recordings, trains (or reuses) agent A, trains path (i) from scratch
and path (ii) after :func:`distill_through_map`, reading the held-out probe every
``eval_every`` steps, and writes that seed's ``result.json`` atomically; a seed
whose ``result.json`` was made with the same config is reused as it is, so a
killed run resumes and an added seed costs only itself. Then it summarises the
seeds and writes ``migration.json``, ``migration.csv`` and the chart.
:mod:`socialview.benchmarks.migration` re-exports :func:`run_migration`.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .migration_config import PIXEL_SIDE, MigrationConfig
from .migration_curves import ACCOUNTING, curve_ratios
from .migration_data import (
    ProbeSplit,
    dataset_stamp,
    ensure_dataset,
    measured_overlap,
    pixel_features,
    probe_split,
)
from .migration_distill import distill_through_map
from .migration_report import draw_chart
from .migration_summary import csv_text, summarise_seeds

#: Version of the ``migration.json`` layout (2: seeds; 1: one run at the top level).
FORMAT_VERSION = 2

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


def _chunk_ends(total: int, every: int) -> list[int]:
    """Step counts at which a path stops to evaluate: every ``every`` steps and at ``total``."""
    ends = list(range(every, total + 1, every))
    if not ends or ends[-1] != total:
        ends.append(total)
    return ends


def _train_path(agent: Any, *, label: str, run_dir: Path, train_dir: Path,
                cfg: MigrationConfig, split: ProbeSplit, eval_dir: Path,
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
    """Run the migration benchmark for every seed; write ``migration.json``, ``.csv``, charts.

    Each seed in ``config.seeds`` is one whole run under ``out_dir/seed<N>``:
    recordings in ``data/``, agent A and both B paths in ``runs/``, its result in
    ``result.json`` (written atomically when the seed finishes). A seed whose
    ``result.json`` holds the same config (:meth:`MigrationConfig.without_seeds`)
    is reused, not rerun (its entry says ``"reused": true``).

    ``migration.json`` (format 2) holds ``config`` (with ``seeds``), ``accounting``,
    ``seeds`` (the per-seed results, in ``config.seeds`` order: ``a``, ``scratch``,
    ``distill``, ``ratios``, ``chance``, ``reference``, ``probe``, ``datasets``...)
    and ``summary`` (:func:`~socialview.benchmarks.migration_summary.summarise_seeds`).
    Format 1's top-level single-run keys (``ratios``, ``a``, ``scratch``...) are
    gone: read them from ``result["seeds"][i]``;
    :func:`~socialview.benchmarks.migration_summary.upgrade_result` converts a
    format 1 result.

    Parameters
    ----------
    config : MigrationConfig
        What to run (validated first).
    out_dir : path
        Results folder; reused seeds, recordings and A's runs make a re-run cheaper.
    progress : bool
        Show tqdm progress bars.

    Returns
    -------
    dict
        The content of ``migration.json``.
    """
    config.validate()
    cfg = config
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    old_threads = torch.get_num_threads()
    if cfg.num_threads is not None:
        torch.set_num_threads(cfg.num_threads)
    try:
        seeds = []
        for seed in cfg.seeds:
            seed_dir = out_dir / f"seed{seed}"
            entry = _finished_seed(seed_dir / "result.json", cfg, seed)
            if entry is None:
                entry = _run_seed(cfg, seed, seed_dir, progress)
                _write_json(seed_dir / "result.json", entry)
            else:
                entry["reused"] = True
            seeds.append(entry)
        result = {
            "benchmark": "migration",
            "format_version": FORMAT_VERSION,
            "config": cfg.to_dict(),
            "accounting": ACCOUNTING,
            "summary": summarise_seeds(seeds),
            "seeds": seeds,
            "versions": _versions(),
            "wall_time_s": time.perf_counter() - t0,
        }
        from socialview.benchmarks._io import write_text_atomic

        csv_path = write_text_atomic(out_dir / "migration.csv", csv_text(seeds))
        result["files"] = [str(p) for p in draw_chart(result, out_dir)] + [str(csv_path)]
        _write_json(out_dir / "migration.json", result)
        return result
    finally:
        torch.set_num_threads(old_threads)


def _finished_seed(path: Path, cfg: MigrationConfig, seed: int) -> dict[str, Any] | None:
    """The result at ``path`` if it is seed ``seed``'s run under this config, else None."""
    try:
        entry = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if (isinstance(entry, dict) and entry.get("format_version") == FORMAT_VERSION
            and entry.get("seed") == seed and entry.get("config") == cfg.without_seeds()
            and entry.get("agent_config") == resolved_agent_config(cfg, seed)):
        return entry
    return None


def resolved_agent_config(cfg: MigrationConfig, seed: int) -> dict[str, Any]:
    """Every setting of seed ``seed``'s agents, the agent's defaults included, as JSON
    values: a finished seed or agent A is reused only while this matches, so a changed
    default (the learning rate, say) re-measures instead of reusing stale runs. Read off
    the agent's ``config_class`` (no networks built); a plug-in without one gives the
    settings it was passed."""
    import dataclasses

    from socialview.agents.registry import resolve_agent

    given = cfg._agent_config(seed)
    config_class = getattr(resolve_agent(cfg.agent), "config_class", None)
    if config_class is None or not dataclasses.is_dataclass(config_class):
        return json.loads(json.dumps(given, default=str))
    return json.loads(json.dumps(dataclasses.asdict(config_class(**given)), default=str))


def _run_seed(cfg: MigrationConfig, seed: int, seed_dir: Path,
              progress: bool) -> dict[str, Any]:
    """One seed's whole run (recordings, A, both paths, ratios): its ``result.json``."""
    from socialview.agents import (
        AgentStateError,
        RunFolderError,
        TrainResult,
        embed,
        make_agent,
        train_agent,
    )

    t0 = time.perf_counter()
    train_dir, train_reused = ensure_dataset(
        seed_dir / "data" / "train", steps=cfg.dataset_steps, seed=seed, cfg=cfg,
        progress=progress)
    eval_seed = seed + 1_000_000
    eval_dir, eval_reused = ensure_dataset(
        seed_dir / "data" / "eval", steps=cfg.eval_steps, seed=eval_seed, cfg=cfg,
        progress=progress)
    split = probe_split(eval_dir, cfg.probe_train_fraction, cfg.label)

    # Agent A: "exists already"; reuse its run when it was trained with these settings.
    a_dir = seed_dir / "runs" / "a"
    agent_config = resolved_agent_config(cfg, seed)
    stamp = {"agent": cfg.agent, "agent_config": agent_config,
             "camera": cfg.camera_a, "batch_size": cfg.batch_size,
             "dataset": dataset_stamp(cfg, cfg.dataset_steps, seed)}
    stamp_path = a_dir / "migration_stamp.json"
    if a_dir.exists() and (not stamp_path.is_file()
                           or json.loads(stamp_path.read_text()) != stamp):
        shutil.rmtree(a_dir)
    agent_a = make_agent(cfg.agent, **cfg._agent_config(seed))

    def train_a() -> TrainResult:
        return train_agent(agent_a, train_dir, cfg.camera_a, steps=cfg.a_steps,
                           out_dir=a_dir, batch_size=cfg.batch_size, checkpoint_every=500,
                           device=cfg.device, progress=progress, resume=True)

    try:
        a_res = train_a()
    except (AgentStateError, RunFolderError):
        # A run left by other code (e.g. the agent's networks changed shape): retrain.
        shutil.rmtree(a_dir)
        agent_a = make_agent(cfg.agent, **cfg._agent_config(seed))
        a_res = train_a()
    _write_json(stamp_path, stamp)
    a_acc = split.accuracy(embed(agent_a, eval_dir, cfg.camera_a), cfg.probe_l2)
    a_flops = float(a_res.total_flops)

    # Path (i): from scratch.
    b_seed = seed + 1
    agent_b = make_agent(cfg.agent, **cfg._agent_config(b_seed))
    scratch_curve, b_fps = _train_path(
        agent_b, label="scratch", run_dir=seed_dir / "runs" / "scratch", train_dir=train_dir,
        cfg=cfg, split=split, eval_dir=eval_dir, offset_flops=0.0, progress=progress)

    # Path (ii): distil through the map, then train as usual.
    agent_d = make_agent(cfg.agent, **cfg._agent_config(b_seed))
    if hasattr(agent_d, "to"):
        from socialview.agents.trainer import resolve_device

        agent_d.to(resolve_device(cfg.device))
    dist = distill_through_map(
        agent_d, agent_a, train_dir, cfg.camera_b, cfg.camera_a, steps=cfg.distill_steps,
        batch_size=cfg.batch_size, lr=cfg.distill_lr, map_kind=cfg.map_kind,
        anchors=cfg.map_anchors, refit_every=cfg.map_refit_every, seed=seed + 2,
        progress=progress)
    distill_curve, d_fps = _train_path(
        agent_d, label="distill", run_dir=seed_dir / "runs" / "distill",
        train_dir=train_dir, cfg=cfg, split=split, eval_dir=eval_dir,
        offset_flops=dist.total_flops, progress=progress)
    for point in distill_curve:
        point["distill_flops"] = dist.total_flops

    reference = {
        "note": (f"linear probe on {PIXEL_SIDE}x{PIXEL_SIDE} area-downsampled RGB pixels, "
                 "same split: is the label linearly readable from each view at all?"),
        "raw_pixels_probe_accuracy": {
            cam: split.accuracy(pixel_features(eval_dir, cam), cfg.probe_l2)
            for cam in (cfg.camera_a, cfg.camera_b)},
    }
    return {
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "config": cfg.without_seeds(),
        "agent_config": agent_config,
        "reused": False,
        "ratios": curve_ratios(scratch_curve, distill_curve, cfg.target_accuracy, a_flops,
                               cfg.relative_fraction),
        "chance": split.chance(),
        "reference": reference,
        "a": {"camera": cfg.camera_a, "seed": seed, "steps": a_res.steps,
              "flops_per_step": a_res.flops_per_step, "train_flops": a_flops,
              "probe_accuracy": a_acc, "run_dir": str(a_dir),
              "reused": a_res.resumed_from >= cfg.a_steps and cfg.a_steps > 0},
        "scratch": {"camera": cfg.camera_b, "seed": b_seed, "flops_per_step": b_fps,
                    "curve": scratch_curve},
        "distill": {"camera": cfg.camera_b, "seed": b_seed, "flops_per_step": d_fps,
                    "distillation": dist.to_json(), "curve": distill_curve},
        "probe": split.to_json(cfg.probe_l2),
        "datasets": {"train": {"path": str(train_dir), "seed": seed, "reused": train_reused,
                               "overlap": measured_overlap(train_dir)},
                     "eval": {"path": str(eval_dir), "seed": eval_seed,
                              "reused": eval_reused, "overlap": measured_overlap(eval_dir)}},
        "wall_time_s": time.perf_counter() - t0,
    }


def _write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` atomically (see :func:`socialview.benchmarks._io.write_json_atomic`)."""
    from socialview.benchmarks._io import write_json_atomic

    write_json_atomic(path, payload)
