"""One cell of the overlap sweep: record, train one agent per camera, embed, measure.

A cell is (target overlap, viewpoint shift, seed). Its result is a JSON file written atomically;
everything it builds on the way (recordings, run folders with checkpoints) lives
in the cell's folder, so a killed cell resumes where it stopped. The function is
a plain top-level callable of JSON-able arguments so that local processes and
Ray workers can run it unchanged. Its steps (``record_once``, ``train_and_embed``,
``raw_pixels``, ``measure_alignment``) are public so the emergence curve and the
studies measure exactly as a sweep cell does.
"""

from __future__ import annotations

import json
import shutil
import time
import traceback
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

from socialview.benchmarks._io import write_json_atomic
from socialview.benchmarks.sweep_config import SweepConfig

if TYPE_CHECKING:
    from socialview.agents import Agent

__all__ = [
    "CAMERAS", "PIXELS", "RESULT_VERSION", "cell_id", "dataset_seeds", "derived_seed",
    "heldout_split", "make_cell_agent", "measure_alignment", "raw_pixels", "record_once",
    "run_cell", "safe_name", "train_and_embed", "transfer_every_label", "unit_total_variance",
    "unreachable_result",
]

CAMERAS = ("cam0", "cam1")
#: 2: state probes per agent and camera, the ``pixels`` reference, reference flags.
#: 3: cells keyed by (overlap, viewpoint shift, seed); ``viewpoint_shift`` in the result.
#: 4: transfer for every task label (``transfer["labels"]``); the default label is
#:    ``pusher_grid`` (was the quadrant of object 0).
#: 5: every state probe carries ``state_share`` (how much of the latent is the state).
#: 6: the default encoder reads its maps out by their first moments (``head="moments"``).
#: 7: ... of 16x16 maps (``depth=2``; was 8x8).
#: 8: encoders return their whitened spectral core (``readout="core"``, calibrated after
#:    training) where their spectrum has a gap; ``train[camera]["core_width"]`` says which.
#: 9: ``train[camera]["spectral_gap"]`` records the spectrum's widest gap, found or not.
#: 10: the core readout keeps a width latched during training while its ratio is at
#:     least 2 (``core_keep``); ``spectral_gap`` records ``latched`` and its ratio.
#: 11: ... while its ratio is at least 1.5, whatever other width reaches ``core_gap``
#:     later (``core_keep=1.5, core_sticky=True``).
#: 12: ``jepa`` and ``supervised`` train at lr 2e-3 (was 1e-3); ``spectral_gap`` records
#:     the ``share`` of the latent's variance its widest gap's directions hold, and a
#:     core must hold ``core_share`` (0.8) of it; the quick preset records 8,000
#:     training frames (was 4,000).
#: 13: ``jepa``'s core must also hold ``core_action_share`` (0.85) of what its actions
#:     change in its predictions; ``spectral_gap`` records that ``action_share``.
#: 14: ``supervised``'s core must also pass ``core_reader_share`` (0.99) of its state
#:     head's output variance; ``spectral_gap`` records that ``reader_share``.
#: 15: ``core_action_share`` is 0.8 (was 0.85): true cores hold 0.83-0.88 at half the
#:     quick budget.
RESULT_VERSION = 15
#: Name of the raw-pixel reference in cell results (not an agent: nothing is trained).
PIXELS = "pixels"
#: Side the raw frames are area-downsampled to for the ``pixels`` reference: 8x8x3 = 192
#: values. The maps and metrics cost grows with the cube of the width (16x16x3 took ~5
#: minutes a cell on 2 cores), and 8x8 still shows where the bodies are, coarsely.
PIXELS_SIDE = 8


def cell_id(overlap: float, viewpoint_shift: float, seed: int) -> str:
    """Stable folder/file name of a cell, e.g. ``overlap0.40_shift90_seed1``."""
    return f"overlap{overlap:.2f}_shift{viewpoint_shift:g}_seed{seed}"


def derived_seed(*parts: object) -> int:
    """A 31-bit seed for one component, independent across ``parts`` (cell, agent, camera)."""
    return zlib.crc32("/".join(str(p) for p in parts).encode()) & 0x7FFFFFFF


def dataset_seeds(seed: int) -> tuple[int, int]:
    """Seeds of a cell's training and evaluation recordings.

    They depend on the sweep seed only, not on the overlap or the viewpoint shift,
    so every cell of one seed sees the same world trajectories: the cameras are the
    only thing that changes.
    """
    return 1000 * seed + 1, 1000 * seed + 2


def record_once(
    out: Path,
    config: SweepConfig,
    overlap: float,
    seed: int,
    steps: int,
    viewpoint_shift: float | None = None,
) -> Path:
    """Record (or reuse) ``steps`` frames at ``overlap`` and ``viewpoint_shift`` into ``out``.

    ``viewpoint_shift`` defaults to the config's first shift; the rig and footprint
    come from the config.
    """
    from socialview.envs import load_dataset, record_dataset

    shift = config.viewpoint_shifts[0] if viewpoint_shift is None else viewpoint_shift
    if (out / "meta.json").exists():
        try:
            load_dataset(out)
            return out
        except ValueError:
            pass  # unreadable: record again
    return record_dataset(
        out,
        steps=steps,
        overlap=overlap,
        num_cameras=len(CAMERAS),
        image_size=config.image_size,
        seed=seed,
        force=True,
        preview=False,
        progress=False,
        episode_steps=config.episode_steps,
        env_kwargs=env_kwargs(config, shift),
    )


def env_kwargs(config: SweepConfig, viewpoint_shift: float) -> dict[str, Any]:
    """The rig keywords of ``SocialView-v1`` for this sweep at ``viewpoint_shift``."""
    return {"viewpoint_shift": viewpoint_shift, "rig": config.rig, "footprint": config.footprint}


def unreachable_result(
    overlap: float, viewpoint_shift: float, seed: int, reachable: tuple[float, float]
) -> dict[str, Any]:
    """The record of a cell whose overlap the rig cannot reach at its shift.

    Not a failure: the grid simply has a hole there. ``reachable`` is the
    measured (low, high) range at that shift.
    """
    return {
        "cell": cell_id(overlap, viewpoint_shift, seed),
        "overlap_target": overlap,
        "viewpoint_shift": viewpoint_shift,
        "seed": seed,
        "version": RESULT_VERSION,
        "status": "unreachable",
        "reachable": [float(reachable[0]), float(reachable[1])],
        "wall_time_s": 0.0,
    }


def heldout_split(episode: np.ndarray, test_size: float) -> int:
    """Index where the held-out frames start: an episode boundary near ``1 - test_size``.

    Neighbouring frames are near duplicates, so a random split would score the
    map and the probes on frames they were, in effect, fitted on. Holding out
    whole final episodes avoids that leak.
    """
    target = round(len(episode) * (1.0 - test_size))
    boundaries = np.flatnonzero(np.diff(episode)) + 1
    if boundaries.size == 0:
        return target
    return int(boundaries[np.argmin(np.abs(boundaries - target))])


def unit_total_variance(latents: np.ndarray, fit_rows: int) -> np.ndarray:
    """Centre latents and scale them to unit total variance, using the fitting rows only.

    Agents learn latents of arbitrary offset and overall scale. An orthogonal
    map cannot absorb a scale, and a linear map (no intercept) cannot absorb an
    offset, so without this their R² would mostly measure two arbitrary
    constants. Subtracting one mean and dividing by one global factor keeps
    every angle and distance ratio (the shape-metric convention); both come
    from the fitting rows only, so nothing about the held-out frames leaks in.
    """
    fit = latents[:fit_rows].astype(np.float64)
    mean = fit.mean(axis=0)
    spread = np.sqrt(np.mean(np.sum((fit - mean) ** 2, axis=1)))
    centred = latents.astype(np.float64) - mean
    return (centred / spread if spread > 0 else centred).astype(np.float32)


def make_cell_agent(config: SweepConfig, agent_name: str, seed: int, camera: str) -> Agent:
    """The untrained agent a cell trains for ``camera``: seeded per (seed, agent, camera),
    with the sweep's latent width and the agent's config overrides."""
    from socialview.agents import make_agent

    return make_agent(
        agent_name,
        seed=derived_seed(seed, agent_name, camera),
        latent_dim=config.latent_dim,
        **config.agent_config.get(agent_name, {}),
    )


def train_and_embed(
    config: SweepConfig,
    agent_name: str,
    seed: int,
    camera: str,
    train: Path,
    evaluation: Path,
    run_dir: Path,
) -> tuple[np.ndarray, dict]:
    from socialview.agents import embed, train_agent
    from socialview.agents.torch_agent import core_width, spectral_gap

    agent = make_cell_agent(config, agent_name, seed, camera)
    result = train_agent(
        agent,
        train,
        camera,
        steps=config.steps_for(agent_name),
        out_dir=run_dir,
        seed=derived_seed(seed, agent_name, camera, "batches"),
        batch_size=config.batch_size,
        device=config.device,
        progress=False,
        num_threads=config.threads_per_cell,
    )
    # which latent the cell compares: the whitened core's width, or None for the full one,
    # and the spectral gap that decided it
    return embed(agent, evaluation, camera), {**result.to_json(), "core_width": core_width(agent),
                                              "spectral_gap": spectral_gap(agent)}


def raw_pixels(evaluation: Path, camera: str, side: int = PIXELS_SIDE) -> np.ndarray:
    """A camera's evaluation frames, area-downsampled to ``side`` x ``side``, as vectors.

    The raw-pixel reference: what two cameras' inputs already share, before any
    agent learns anything. Downsampling keeps the metrics' cost small and does
    not favour either camera.
    """
    from socialview.agents import open_camera_stream
    from socialview.alignment import drop_constant_columns

    frames = np.asarray(open_camera_stream(evaluation, camera).frames, dtype=np.float32)
    t, h, w, c = frames.shape
    if h % side or w % side:
        raise ValueError(f"image size {h}x{w} is not a multiple of PIXELS_SIDE={side}")
    pooled = frames.reshape(t, side, h // side, side, w // side, c).mean(axis=(2, 4))
    # Pixels that never change (walls, floor far from every object) say nothing about
    # the frame, and the alignment metrics refuse constant columns.
    return drop_constant_columns(pooled.reshape(t, -1) / 255.0)


def measure_alignment(
    config: SweepConfig, latents: dict[str, np.ndarray], evaluation: Path, seed: int
) -> tuple[dict, dict]:
    """Alignment metrics and zero-shot transfer between the two cameras' latents.

    Transfer is measured for every task label (:mod:`socialview.envs.labels`); the
    returned transfer dict is the default label's result (``label`` names it), with
    every label's result under ``labels`` (None, with the reason in
    ``label_errors``, where a label cannot be probed in this cell, e.g. one class
    only among the fitting frames).
    """
    from socialview.alignment import compare, drop_constant_columns
    from socialview.envs import load_dataset

    dataset = load_dataset(evaluation)
    split = heldout_split(np.asarray(dataset.array("episode")), config.test_size)
    test_size = (len(dataset) - split) / len(dataset)
    # a core readout with core_rest=0 pads its whitened core with zero columns, and a
    # column constant on every frame says nothing about any of them: drop such columns
    a, b = (unit_total_variance(drop_constant_columns(latents[camera]), split)
            for camera in CAMERAS)
    comparison = compare(
        a,
        b,
        test_size=test_size,
        seed=seed,
        shuffle=False,
        n_permutations=config.n_permutations,
        n_map_permutations=config.n_map_permutations,
        n_bootstrap=config.n_bootstrap,
    )
    return comparison.to_dict(), transfer_every_label(a, b, dataset, split)


def transfer_every_label(a: np.ndarray, b: np.ndarray, dataset: Any, split: int) -> dict:
    """Zero-shot transfer (A's probe on B's latents through the map) for every task label.

    Rows before ``split`` fit the map and the probe, the rest score them; frames
    where a label is undefined (``-1``) are left out of both for that label.
    """
    from socialview.alignment import transfer_probe
    from socialview.envs.labels import DEFAULT_LABEL, LABELS, dataset_labels

    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    fit = np.arange(len(a)) < split
    for name in LABELS:
        labels = dataset_labels(dataset, name)
        fit_rows, test_rows = fit & (labels >= 0), ~fit & (labels >= 0)
        try:
            results[name] = transfer_probe(a[fit_rows], b[fit_rows], labels[fit_rows],
                                           a[test_rows], b[test_rows], labels[test_rows]).to_dict()
        except ValueError as error:
            results[name], errors[name] = None, str(error)
    default = results[DEFAULT_LABEL]
    if default is None:
        raise ValueError(f"transfer of the default label {DEFAULT_LABEL!r} failed: "
                         f"{errors[DEFAULT_LABEL]}")
    return {**default, "label": DEFAULT_LABEL, "labels": results, "label_errors": errors}


def _state_probes(latents: dict[str, np.ndarray], state: Any, test_size: float) -> dict:
    """Each camera's held-out state probe (see :mod:`socialview.benchmarks.probes`)."""
    from socialview.benchmarks.probes import probe_summary

    return {camera: probe_summary(latents[camera], state, camera, test_size)
            for camera in CAMERAS}


def run_cell(
    config_dict: dict[str, Any], overlap: float, viewpoint_shift: float, seed: int, out_dir: str
) -> dict:
    """Run (or reuse) one cell and return its result; never raises for a failing cell.

    Parameters
    ----------
    config_dict
        :meth:`SweepConfig.to_dict` of the sweep.
    overlap, viewpoint_shift, seed
        The cell (the pair must be reachable by the config's rig: see
        :func:`socialview.envs.reachable_overlap`).
    out_dir
        The sweep's output folder; the cell writes ``cells/<id>.json`` and works
        in ``cells/<id>/``.

    Returns
    -------
    dict
        The cell's result: ``status`` is ``"ok"`` or ``"failed"`` (with the error
        and traceback recorded, so the sweep goes on and reports it).
    """
    import torch

    config = SweepConfig.from_dict(config_dict)
    name = cell_id(overlap, viewpoint_shift, seed)
    cells = Path(out_dir) / "cells"
    result_path, work = cells / f"{name}.json", cells / name
    if result_path.exists():
        previous = json.loads(result_path.read_text())
        if previous.get("status") == "ok" and previous.get("version") == RESULT_VERSION:
            return previous
    start = time.perf_counter()
    torch.set_num_threads(config.threads_per_cell)
    base = {
        "cell": name,
        "overlap_target": overlap,
        "viewpoint_shift": viewpoint_shift,
        "seed": seed,
        "version": RESULT_VERSION,
    }
    stages = tqdm(total=3 + 3 * len(config.agents), desc=name, leave=False)
    try:
        train_seed, eval_seed = dataset_seeds(seed)
        stages.set_postfix_str("record")
        train = record_once(
            work / "train", config, overlap, train_seed, config.dataset_steps, viewpoint_shift
        )
        stages.update()
        evaluation = record_once(
            work / "eval", config, overlap, eval_seed, config.eval_steps, viewpoint_shift
        )
        stages.update()
        meta = json.loads((evaluation / "meta.json").read_text())
        from socialview.agents import is_reference_agent, world_state

        state = world_state(evaluation)
        split = heldout_split(state.episode, config.test_size)
        probe_test_size = 1.0 - split / len(state.episode)  # the very episodes the maps hold out
        stages.set_postfix_str("measure pixels")
        pixels = {camera: raw_pixels(evaluation, camera) for camera in CAMERAS}
        comparison, transfer = measure_alignment(config, pixels, evaluation, seed)
        stages.update()
        agents: dict[str, Any] = {PIXELS: {
            "compare": comparison, "transfer": transfer, "reference": True,
            "state_probe": _state_probes(pixels, state, probe_test_size)}}
        for agent_name in config.agents:
            latents, training = {}, {}
            for camera in CAMERAS:
                stages.set_postfix_str(f"train {agent_name}/{camera}")
                run_dir = work / "runs" / f"{safe_name(agent_name)}-{camera}"
                latents[camera], training[camera] = train_and_embed(
                    config, agent_name, seed, camera, train, evaluation, run_dir
                )
                stages.update()
            stages.set_postfix_str(f"measure {agent_name}")
            comparison, transfer = measure_alignment(config, latents, evaluation, seed)
            stages.update()
            agents[agent_name] = {
                "compare": comparison, "transfer": transfer, "train": training,
                "reference": is_reference_agent(agent_name),
                "state_probe": _state_probes(latents, state, probe_test_size)}
        result = {
            **base,
            "status": "ok",
            "overlap_measured": meta["overlap"],
            "overlap_matrix": meta["overlap_matrix"],
            "cameras": meta["cameras"],
            "agents": agents,
            "wall_time_s": time.perf_counter() - start,
        }
    except Exception as error:  # a failing cell is recorded, the sweep goes on
        result = {
            **base,
            "status": "failed",
            "error": f"{type(error).__name__}: {error}",
            "traceback": traceback.format_exc(),
            "wall_time_s": time.perf_counter() - start,
        }
    finally:
        stages.close()
    write_json_atomic(result_path, result)
    if result["status"] == "ok" and not config.keep_data:
        shutil.rmtree(work, ignore_errors=True)
    return result


def safe_name(name: str) -> str:
    """A folder-safe form of an agent name (``pkg.mod:Attr`` -> ``pkg.mod_Attr``)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
