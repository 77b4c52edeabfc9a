"""The emergence curve: when, in FLOPs, does alignment between independent agents appear?

    socialview emergence --preset smoke --out results/emergence-smoke
    python -m socialview.benchmarks.emergence --preset quick --out results/emergence

One rig setting (overlap, viewpoint shift, image size): record a training and a
separately seeded evaluation recording (the sweep's recording helpers and
seeds), then for every agent kind and seed train one agent per camera and, at
log-spaced checkpoints (fractions of the total steps; 0 is the untrained
encoder), measure on the evaluation recording's held-out episodes:

* each camera's state probe (ridge and k-NN R² of pusher and object positions,
  on the frames where each body is visible to that camera);
* alignment of the two cameras' latents, exactly as the sweep measures it
  (orthogonal and linear held-out map R², linear CKA, mutual k-NN, zero-shot
  transfer of the default task label, every label under ``transfer["labels"]``).

Each (agent, seed, checkpoint) measurement is a JSON file written atomically and
reused; each camera's latents at a checkpoint are cached beside it; training
continues from the run folder's checkpoint. A killed run therefore resumes where
it stopped. Outputs in ``--out``: ``config.json``, ``measurements/*.json``,
``emergence.json``, ``emergence.csv``, ``emergence.png``, ``emergence.svg`` and
``report.md`` (recordings in ``data/``, run folders in ``runs/``, latents in
``latents/`` stay for later resumes).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from socialview.benchmarks._io import save_npz_atomic, write_json_atomic
from socialview.benchmarks._settings import (
    add_setting_flags,
    describe_settings,
    register_command,
    run_standalone,
    settings_from_args,
)
from socialview.benchmarks.emergence_config import PRESETS, EmergenceConfig

__all__ = ["OVERRIDE_FLAGS", "RESULT_VERSION", "main", "measure_checkpoint", "run_emergence"]

#: Version of a measurement file; files of another version are measured again.
#: 2: transfer of every task label; the default label is ``pusher_grid`` (was quadrant).
#: 3: every state probe carries ``state_share`` (how much of the latent is the state).
#: 4: the default encoder reads its maps out by their first moments (``head="moments"``).
#: 5: ... of 16x16 maps (``depth=2``; was 8x8).
#: 6: encoders return their calibrated whitened spectral core (``readout="core"``).
#: 7: ``train[camera]["spectral_gap"]`` records the spectrum's widest gap, found or not.
#: 8: the core readout keeps a width latched during training while its ratio is at
#:    least 2 (``core_keep``); ``spectral_gap`` records ``latched`` and its ratio.
#: 9: ... while its ratio is at least 1.5, whatever other width reaches ``core_gap``
#:    later (``core_keep=1.5, core_sticky=True``).
#: 10: ``jepa`` and ``supervised`` train at lr 2e-3 (was 1e-3); ``spectral_gap`` records
#:     the ``share`` of the latent's variance its widest gap's directions hold, and a
#:     core must hold ``core_share`` (0.8) of it; the quick preset records 8,000
#:     training frames (was 4,000).
#: 11: ``jepa``'s core must also hold ``core_action_share`` (0.85) of what its actions
#:     change in its predictions; ``spectral_gap`` records that ``action_share``; training
#:     FLOPs count the extra predictor pass that measures it.
#: 12: ``supervised``'s core must also pass ``core_reader_share`` (0.99) of its state
#:     head's output variance; ``spectral_gap`` records that ``reader_share``.
#: 13: ``core_action_share`` is 0.8 (was 0.85): true cores hold 0.83-0.88 at 10% of
#:     the curve's steps.
RESULT_VERSION = 13
#: Settings that have their own command-line flag (``--train-steps`` for ``train_steps``).
OVERRIDE_FLAGS = (
    "agents",
    "seeds",
    "fractions",
    "overlap",
    "viewpoint_shift",
    "image_size",
    "latent_dim",
    "dataset_steps",
    "eval_steps",
    "train_steps",
    "threads_per_cell",
    "device",
)


def _run_name(agent: str, seed: int) -> str:
    from socialview.benchmarks.sweep_cell import safe_name

    return f"{safe_name(agent)}_seed{seed}"


def checkpoint_latents(
    config: EmergenceConfig,
    agent: str,
    seed: int,
    camera: str,
    step: int,
    train: Path,
    evaluation: Path,
    out: Path,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Evaluation latents of one camera's agent after ``step`` steps, and its training summary.

    Trains through the sweep's ``train_and_embed`` (same agent and batch seeds),
    continuing the run folder's checkpoint. Results are cached in
    ``latents/<agent>_seed<seed>/<camera>_step<step>.npz`` with the agent's resolved
    config, and reused only by an agent of the same config. Should the run folder
    already be past ``step`` (its cache was deleted), or hold an agent of another
    config, it is retrained from scratch up to ``step``: the agents are seeded, so
    that reproduces the same weights. A run folder whose agent differs in readout
    settings only (``trains_alike``) is resumed instead: at ``step`` that is a
    calibration pass under today's readout, not a retraining.
    """
    from socialview.agents.trainer import (
        CHECKPOINT_NAME,
        CONFIG_NAME,
        agent_identity,
        load_checkpoint,
        trains_alike,
    )
    from socialview.benchmarks.sweep_cell import make_cell_agent, train_and_embed

    sweep = dataclasses.replace(
        config.sweep_config(), agent_steps={**config.agent_steps, agent: step}
    )
    # the agent's every setting, defaults included: a cache made by another agent (say,
    # before a default changed) is not this one's
    cell_agent = make_cell_agent(sweep, agent, seed, camera)
    identity = json.dumps(agent_identity(cell_agent)[1], sort_keys=True)
    name = _run_name(agent, seed)
    cache = out / "latents" / name / f"{camera}_step{step}.npz"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as stored:
            if "agent" in stored.files and str(stored["agent"]) == identity:
                return stored["latents"], json.loads(str(stored["train"]))
    run_dir = out / "runs" / name / camera
    checkpoint = run_dir / CHECKPOINT_NAME
    if (run_dir / CONFIG_NAME).is_file() and not trains_alike(
            cell_agent, json.loads((run_dir / CONFIG_NAME).read_text()).get("agent_config")):
        shutil.rmtree(run_dir)  # trained by another agent: start again
    elif checkpoint.exists() and int(load_checkpoint(checkpoint)["step"]) > step:
        shutil.rmtree(run_dir)
    latents, training = train_and_embed(sweep, agent, seed, camera, train, evaluation, run_dir)
    save_npz_atomic(cache, latents=latents, train=np.array(json.dumps(training)),
                    agent=np.array(identity))
    return latents, training


def measure_checkpoint(
    config: EmergenceConfig,
    agent: str,
    seed: int,
    step: int,
    train: Path,
    evaluation: Path,
    state: Any,
    out: Path,
) -> dict[str, Any]:
    """Measure (or reuse) one (agent, seed, checkpoint): both probes, alignment, FLOPs.

    The record is written atomically to ``measurements/<agent>_seed<seed>_step<step>.json``
    and returned; an existing file of the current version is returned as it is.
    """
    from socialview.agents import is_reference_agent
    from socialview.benchmarks.probes import probe_summary
    from socialview.benchmarks.sweep_cell import CAMERAS, measure_alignment

    path = out / "measurements" / f"{_run_name(agent, seed)}_step{step}.json"
    if path.exists():
        previous = json.loads(path.read_text())
        if previous.get("version") == RESULT_VERSION:
            return previous
    start = time.perf_counter()
    latents, training = {}, {}
    for camera in CAMERAS:
        latents[camera], training[camera] = checkpoint_latents(
            config, agent, seed, camera, step, train, evaluation, out
        )
    comparison, transfer = measure_alignment(config.sweep_config(), latents, evaluation, seed)
    probes = {
        camera: probe_summary(latents[camera], state, camera, test_size=config.test_size)
        for camera in CAMERAS
    }
    total = config.steps_for(agent)
    record = {
        "version": RESULT_VERSION,
        "agent": agent,
        "reference": is_reference_agent(agent),
        "seed": seed,
        "step": step,
        "fraction": step / total if total else 0.0,
        "flops": float(np.mean([training[c]["total_flops"] for c in CAMERAS])),
        "probe": probes,
        "compare": comparison,
        "transfer": transfer,
        "train": training,
        "wall_time_s": time.perf_counter() - start,
    }
    write_json_atomic(path, record)
    return record


def run_emergence(
    config: EmergenceConfig,
    out_dir: str | os.PathLike,
    *,
    force: bool = False,
    progress: bool = True,
    invocation: str | None = None,
) -> dict[str, Any]:
    """Record (or reuse) the data, measure every checkpoint (reusing finished ones), write outputs.

    ``invocation`` (the command that started the run) is quoted in the report.
    Returns the payload of ``emergence.json``: ``config``, ``versions``, ``records``
    (one per agent x seed x checkpoint), ``summary`` and ``outputs``.
    """
    import torch

    from socialview.agents import world_state
    from socialview.agents.trainer import resolve_device
    from socialview.benchmarks.emergence_report import write_outputs
    from socialview.benchmarks.overlap_sweep import check_agents, prepare_out_dir
    from socialview.benchmarks.sweep_cell import dataset_seeds, record_once

    config.validate()
    check_agents(config.agents)
    resolve_device(config.device)  # a missing GPU is refused before anything is recorded
    out = Path(out_dir)
    prepare_out_dir(out, config, force, may_grow=("agents", "seeds"))
    torch.set_num_threads(config.threads_per_cell)
    tasks = [
        (agent, seed, step)
        for agent in config.agents
        for seed in config.seeds
        for step in config.checkpoints(agent)
    ]
    start = time.perf_counter()
    bar = tqdm(total=len(tasks), desc="emergence", unit="checkpoint", disable=not progress)
    records = []
    try:
        bar.set_postfix_str("record")
        sweep = config.sweep_config()
        train_seed, eval_seed = dataset_seeds(config.dataset_seed)
        data = out / "data"
        train = record_once(
            data / "train", sweep, config.overlap, train_seed, config.dataset_steps
        )
        evaluation = record_once(
            data / "eval", sweep, config.overlap, eval_seed, config.eval_steps
        )
        state = world_state(evaluation)
        for agent, seed, step in tasks:
            bar.set_postfix_str(f"{agent} seed {seed} step {step}")
            records.append(
                measure_checkpoint(config, agent, seed, step, train, evaluation, state, out)
            )
            bar.update()
    finally:
        bar.close()
    meta = json.loads((evaluation / "meta.json").read_text())
    return write_outputs(
        config, out, records, meta, time.perf_counter() - start, invocation
    )


def resolve_config(args: argparse.Namespace) -> EmergenceConfig:
    """Preset, then config file, then explicit flags: later ones win."""
    return EmergenceConfig.from_dict(settings_from_args(args, PRESETS, OVERRIDE_FLAGS))


def describe_invocation(args: argparse.Namespace) -> str:
    """The command line that reproduces this run's settings (flags in canonical form)."""
    return " ".join(["socialview emergence", *describe_settings(args, OVERRIDE_FLAGS),
                     f"--out {args.out}"])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The emergence command's flags."""
    own = [
        ("--fractions", {"type": float, "nargs": "+",
                         "help": "checkpoints as fractions of each agent's total steps"}),
        ("--overlap", {"type": float, "help": "target pixel overlap in [0, 1]"}),
    ]
    add_setting_flags(parser, PRESETS, "results/emergence", extra=own)
    parser.add_argument(
        "--force", action="store_true", help="delete another run's results in --out first"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def command(args: argparse.Namespace) -> int:
    """Run from parsed flags; exit 0 on success, 2 on a configuration error."""
    from socialview.agents import UnknownAgentError
    from socialview.benchmarks.emergence_report import summary_lines
    from socialview.benchmarks.overlap_sweep import SweepError

    try:
        config = resolve_config(args)
        result = run_emergence(
            config,
            args.out,
            force=args.force,
            progress=not args.quiet,
            invocation=describe_invocation(args),
        )
    except (ValueError, SweepError, UnknownAgentError) as error:
        print(f"socialview emergence: error: {error}", file=sys.stderr)
        return 2
    print("\n".join(summary_lines(result["summary"], result["config"]["agents"])))
    print(f"\nwrote {', '.join(result['outputs'])} to {args.out}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``emergence`` sub-command."""
    register_command(
        subparsers,
        "emergence",
        "emergence curve: state probes and alignment at checkpoints vs training FLOPs",
        __doc__,
        add_arguments,
        command,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m socialview.benchmarks.emergence``."""
    return run_standalone("socialview.benchmarks.emergence", __doc__, add_arguments, command, argv)


if __name__ == "__main__":
    raise SystemExit(main())
