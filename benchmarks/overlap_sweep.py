"""The overlap sweep: how isomorphic are two agents' latent spaces as camera overlap varies?

    socialview sweep --preset quick --out results/quick
    socialview sweep --preset smoke --viewpoint-shifts 0 45 90 --rig zoom --out results/z
    python -m socialview.benchmarks.overlap_sweep --preset smoke --out results/smoke

The grid has two axes, target pixel overlap x viewpoint shift, repeated over
seeds. For every (overlap, shift, seed) cell: record a training and a separately
seeded evaluation dataset with two cameras at that setting (the same world
trajectories in every cell of a seed), train one agent per camera independently
for every agent kind, embed the evaluation frames, and measure first each agent's
held-out state probe (does it know the world?), then alignment (held-out map R²,
CKA, mutual k-NN, ... with shuffled-pairing nulls and bootstrap intervals) and
zero-shot probe transfer; the raw downsampled frames are measured alongside as
the ``pixels`` reference. Pairs the rig cannot reach (checked up front with
:func:`socialview.envs.reachable_overlap`) are recorded as ``unreachable``, not
run and not failed. Cells are written atomically and reused, so a killed sweep
resumes where it stopped. Outputs in ``--out``: ``config.json``, ``cells/*.json``,
``sweep.csv``, ``sweep.json``, ``sweep.png/.svg``, ``sweep_heatmap.png/.svg``,
``latent_vs_pixels.png/.svg``, ``views.png`` and ``report.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from socialview.benchmarks._io import write_json_atomic, write_text_atomic
from socialview.benchmarks._settings import (
    add_setting_flags,
    appendix_lines,
    describe_settings,
    register_command,
    run_standalone,
)
from socialview.benchmarks.readout_report import readout_lines
from socialview.benchmarks.sweep_cell import cell_id, run_cell, unreachable_result
from socialview.benchmarks.sweep_charts import draw_all
from socialview.benchmarks.sweep_config import (
    PRESETS,
    SweepConfig,
    load_config_file,
    upgrade_legacy_keys,
)
from socialview.benchmarks.sweep_knowledge import knowledge_lines, label_transfer_lines
from socialview.benchmarks.sweep_report import (
    cell_rows,
    findings,
    rows_to_csv,
    summarise,
    summary_table,
)

BACKENDS = ("local", "ray")
#: Settings that have their own command-line flag (``--train-steps`` for ``train_steps``).
OVERRIDE_FLAGS = (
    "overlaps",
    "seeds",
    "agents",
    "viewpoint_shifts",
    "viewpoint_shift",
    "rig",
    "footprint",
    "image_size",
    "latent_dim",
    "dataset_steps",
    "eval_steps",
    "train_steps",
    "threads_per_cell",
    "device",
)
#: A cell: (target overlap, viewpoint shift, seed).
Cell = tuple[float, float, int]
#: Seconds to wait for a TCP answer from a Ray cluster address before giving up.
RAY_CONNECT_TIMEOUT_S = 10


class SweepError(RuntimeError):
    """A sweep that cannot start (its output folder or cluster is unusable)."""


def check_agents(names: Sequence[str]) -> None:
    """Resolve every agent name up front, so a typo fails before hours of work."""
    from socialview.agents import resolve_agent

    for name in names:
        resolve_agent(name)


def prepare_out_dir(
    out: Path, config: SweepConfig, force: bool, may_grow: Sequence[str] = ()
) -> None:
    """Create ``out`` or check that it holds this same sweep; never mix two sweeps.

    A folder holding another sweep's ``config.json`` is refused (with the
    settings that differ) unless ``force`` is set, which deletes it first. List
    settings named in ``may_grow`` may differ when the saved list is contained in
    the new one (e.g. the emergence curve's ``agents`` and ``seeds``, whose
    measurements are kept per agent and seed): what was measured stays valid.
    """
    saved = out / "config.json"
    if saved.exists():
        previous = json.loads(saved.read_text()).get("config", {})
        try:  # an older config.json (e.g. a single viewpoint_shift) compares in today's form
            previous = type(config).from_dict(previous).to_dict()
        except (TypeError, ValueError):
            pass  # not loadable today: compared as saved, so it differs and is refused
        current = config.to_dict()
        differing = sorted(
            key
            for key in set(previous) | set(current)
            if previous.get(key) != current.get(key)
            and not (key in may_grow and _contained(previous.get(key), current.get(key)))
        )
        if differing:
            if not force:
                raise SweepError(
                    f"--out {str(out)!r} holds another sweep's results (settings differ: "
                    f"{differing}); choose another --out, or pass --force to delete them"
                )
            shutil.rmtree(out)
    elif out.exists() and any(out.iterdir()) and not force:
        raise SweepError(
            f"--out {str(out)!r} exists and is not a sweep folder; choose an empty or new folder"
        )
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(saved, {"config": config.to_dict(), "versions": software_versions()})


def _contained(old: Any, new: Any) -> bool:
    """Whether list ``old`` is contained in list ``new`` (a setting that only grew)."""
    return isinstance(old, list) and isinstance(new, list) and all(v in new for v in old)


def software_versions() -> dict[str, str]:
    """Versions of the packages that shape the results."""
    from socialview.envs.recording import package_versions

    names = ("socialview", "torch", "mujoco", "gymnasium", "numpy", "scipy")
    return {"python": sys.version.split()[0], **package_versions(names)}


def _run_local(
    cells: list[Cell],
    config: SweepConfig,
    out: Path,
    jobs: int,
    on_done: Callable[[dict], None],
) -> None:
    payload = config.to_dict()
    if jobs == 1:
        for overlap, shift, seed in cells:
            on_done(run_cell(payload, overlap, shift, seed, str(out)))
        return
    # Spawned workers start clean: no inherited OpenGL context or torch thread pool.
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"),
                               initializer=_die_with_parent)
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_on_sigterm) if in_main else None
    try:
        futures = [pool.submit(run_cell, payload, *cell, str(out)) for cell in cells]
        for future in as_completed(futures):
            on_done(future.result())
    except BaseException:
        # a killed or failing sweep must not leave workers writing cells with the code
        # and settings they started with: stop them before giving up
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    pool.shutdown(wait=True)


def _raise_on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM (``kill``) -> KeyboardInterrupt, so the sweep stops its workers first."""
    raise KeyboardInterrupt(f"signal {signum}")


def _die_with_parent() -> None:
    """Worker initializer: on Linux, ask the kernel to end this worker when the sweep's
    process dies, however it dies (``kill -9`` included); elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def _check_ray_address(address: str | None) -> None:
    """Fail fast on a ``host:port`` nobody answers at; Ray itself would wait for minutes."""
    if address is None or address in ("auto", "local"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), RAY_CONNECT_TIMEOUT_S):
            return
    except (OSError, ValueError) as error:
        raise SweepError(
            f"could not reach a Ray cluster at --address {address!r} "
            f"({type(error).__name__}: {error}); start one with `ray start --head` or "
            "leave --address out to start a local instance"
        ) from error


def _run_ray(
    cells: list[Cell],
    config: SweepConfig,
    out: Path,
    address: str | None,
    on_done: Callable[[dict], None],
) -> None:
    try:
        import ray
    except ImportError as error:
        raise SweepError("--backend ray needs Ray: pip install 'socialview[ray]'") from error
    started_here = not ray.is_initialized()
    if started_here:
        _check_ray_address(address)
        try:
            ray.init(
                address=address,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
                runtime_env={"env_vars": {"MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}},
            )
        except Exception as error:
            raise SweepError(
                f"could not reach a Ray cluster at --address {address!r} "
                f"({type(error).__name__}: {error}); start one with `ray start --head` or "
                "leave --address out to start a local instance"
            ) from error
    try:
        gpus = 1 if config.device == "cuda" else 0
        remote = ray.remote(num_cpus=config.threads_per_cell, num_gpus=gpus)(run_cell)
        payload = config.to_dict()
        pending = [remote.remote(payload, *cell, str(out.resolve())) for cell in cells]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            on_done(ray.get(done[0]))
    finally:
        if started_here:
            ray.shutdown()


def check_backend_device(device: str, backend: str) -> None:
    """Refuse, before any cell runs, a ``device`` the chosen backend cannot give the cells.

    Locally the device must exist on this machine. On Ray the driver may have no GPU
    while its workers do, so the check is left to them; Ray hands each cell that asks
    for ``cuda`` a GPU of its own (seen there as ``cuda:0``), so a fixed index or
    ``auto`` (which Ray's GPU-less tasks would resolve to the CPU) is refused.
    """
    if backend == "local":
        from socialview.agents.trainer import resolve_device

        resolve_device(device)
    elif device not in ("cpu", "cuda"):
        raise ValueError(
            f"device {device!r} with --backend ray: use 'cpu' or 'cuda' (Ray gives each "
            "cell that asks for 'cuda' one GPU of its own)"
        )


def reachable_ranges(config: SweepConfig) -> dict[float, tuple[float, float]]:
    """The measured (low, high) overlap the config's rig reaches at each of its shifts.

    Invalid rig settings (a footprint out of range) raise ``ValueError`` here,
    before any cell runs.
    """
    from socialview.envs import reachable_overlap

    return {
        shift: reachable_overlap(
            shift,
            rig=config.rig,
            footprint=config.footprint,
            num_cameras=2,
            image_size=config.image_size,
        )
        for shift in config.viewpoint_shifts
    }


def is_reachable(overlap: float, reach: tuple[float, float]) -> bool:
    """Whether the env accepts ``overlap`` given its reachable range (same tolerance)."""
    from socialview.envs.rig import REACH_TOLERANCE

    return reach[0] - REACH_TOLERANCE <= overlap <= reach[1] + REACH_TOLERANCE


def run_sweep(
    config: SweepConfig,
    out_dir: str | os.PathLike,
    *,
    jobs: int = 1,
    backend: str = "local",
    address: str | None = None,
    force: bool = False,
    progress: bool = True,
    invocation: str | None = None,
) -> dict[str, Any]:
    """Run every cell of ``config`` (reusing finished ones) and write all outputs.

    ``invocation`` (the command that started the sweep) is quoted in the report.

    Returns the sweep summary (also in ``sweep.json``): ``cells`` (each cell's
    status: ``ok``, ``failed`` or ``unreachable``), ``rows``, ``summary``,
    ``failed`` and ``unreachable`` (cell names) and ``outputs``.
    """
    config.validate()
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {list(BACKENDS)}, got {backend!r}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    check_agents(config.agents)
    check_backend_device(config.device, backend)
    reach = reachable_ranges(config)
    out = Path(out_dir)
    prepare_out_dir(out, config, force)
    grid = [
        (overlap, shift, seed)
        for shift in config.viewpoint_shifts
        for overlap in config.overlaps
        for seed in config.seeds
    ]
    results: dict[str, dict] = {}
    cells = []
    for overlap, shift, seed in grid:
        if is_reachable(overlap, reach[shift]):
            cells.append((overlap, shift, seed))
        else:  # a hole in the grid, recorded so the report can list it
            hole = unreachable_result(overlap, shift, seed, reach[shift])
            write_json_atomic(out / "cells" / f"{hole['cell']}.json", hole)
            results[hole["cell"]] = hole
    bar = tqdm(total=len(cells), desc="sweep", unit="cell", disable=not progress)

    def on_done(result: dict) -> None:
        results[result["cell"]] = result
        bar.set_postfix_str(f"{result['cell']}: {result['status']}")
        bar.update()

    start = time.perf_counter()
    try:
        if backend == "ray":
            _run_ray(cells, config, out, address, on_done)
        else:
            _run_local(cells, config, out, jobs, on_done)
    finally:
        bar.close()
    ordered = [results[cell_id(*c)] for c in grid if cell_id(*c) in results]
    return write_outputs(config, out, ordered, time.perf_counter() - start, invocation)


def write_outputs(
    config: SweepConfig,
    out: Path,
    cells: list[dict],
    wall_time_s: float,
    invocation: str | None = None,
) -> dict:
    """Write sweep.csv/json, the charts, the view grid and report.md from cell results."""
    ok = [cell for cell in cells if cell["status"] == "ok"]
    failed = [cell for cell in cells if cell["status"] == "failed"]
    unreachable = [cell for cell in cells if cell["status"] == "unreachable"]
    rows = [row for cell in ok for row in cell_rows(cell)]
    summary = summarise(rows)
    write_text_atomic(out / "sweep.csv", rows_to_csv(rows))
    outputs = ["sweep.csv", "sweep.json", "report.md"]
    if summary:
        charts = draw_all(rows, summary, out, config.overlaps, config.viewpoint_shifts)
        outputs += [p.name for p in charts]
    views = out / "views.png"
    if not views.exists():
        from socialview.envs import view_grid

        # The env's own grid (what `socialview view` draws), on this sweep's two axes;
        # unreachable settings are left blank there too.
        view_grid(
            views,
            config.overlaps,
            config.viewpoint_shifts,
            seed=0,
            env_kwargs={
                "num_cameras": 2,
                "image_size": max(config.image_size, 64),
                "rig": config.rig,
                "footprint": config.footprint,
            },
        )
    outputs.append("views.png")
    payload = {
        "config": config.to_dict(),
        "versions": software_versions(),
        "invocation": invocation,
        "wall_time_s": wall_time_s,
        "cell_compute_s": sum(c.get("wall_time_s", 0.0) for c in cells),
        "cells": [
            {k: c[k] for k in ("cell", "overlap_target", "viewpoint_shift", "seed", "status")}
            | {k: c[k] for k in ("overlap_measured", "error", "reachable") if k in c}
            | ({"readout": readout} if (readout := readout_summary(c)) else {})
            for c in cells
        ],
        "failed": [c["cell"] for c in failed],
        "unreachable": [c["cell"] for c in unreachable],
        "rows": rows,
        "summary": summary,
        "outputs": outputs,
    }
    write_json_atomic(out / "sweep.json", payload)
    write_report(out, config, rows, summary, cells, payload)
    return payload


def readout_summary(cell: dict) -> dict[str, dict[str, dict]]:
    """Which latent each trained agent's camera compared in ``cell``: its core width
    (None: the full latent) and the spectral gap that decided it (``agent -> camera ->
    {"core_width", "spectral_gap"}``), for the agents with a core readout."""
    summary = {}
    for agent, result in cell.get("agents", {}).items():
        cameras = {camera: {key: train[key] for key in ("core_width", "spectral_gap")}
                   for camera, train in (result.get("train") or {}).items()
                   if train.get("spectral_gap") is not None}  # None: no core readout
        if cameras:
            summary[agent] = cameras
    return summary


def readout_entries(cells: Sequence[dict]) -> list[tuple[tuple, dict]]:
    """``((shift, overlap, seed, agent, camera), readout)`` for every camera of every agent
    with a core readout in the payload's ``cells`` (their ``readout``), in grid order."""
    entries = sorted(
        (
            ((c["viewpoint_shift"], c["overlap_target"], c["seed"], agent, camera), readout)
            for c in cells
            for agent, cameras in c.get("readout", {}).items()
            for camera, readout in cameras.items()
        ),
        key=lambda entry: entry[0],
    )
    return [((f"{shift:g}°", f"{overlap:.2f}", *rest), readout)
            for (shift, overlap, *rest), readout in entries]


def write_report(
    out: Path,
    config: SweepConfig,
    rows: list[dict],
    summary: list[dict],
    cells: list[dict],
    payload: dict,
) -> Path:
    """report.md: first whether each agent knows the world, then alignment; config, versions.

    Sections: the state-probe table and sentences (learning agents against the
    labelled ceiling and the untrained control), the charts and view grid, the
    alignment findings per viewpoint shift, the numbers (unreachable levels left
    blank), which latent each camera compared (agents with a core readout), the
    unreachable and the failed cells, configuration and software.
    """
    metrics = [
        "state_probe_r2",
        "r2_orthogonal",
        "r2_linear",
        "linear_cka",
        "mutual_knn",
        "transfer_accuracy",
        "chance",
    ]
    failed = [cell for cell in cells if cell["status"] == "failed"]
    holes = sorted(
        {(c["viewpoint_shift"], c["overlap_target"], tuple(c["reachable"]))
         for c in cells if c["status"] == "unreachable"}
    )  # fmt: skip
    invocation = payload.get("invocation")
    lines = [
        "# Overlap sweep",
        "",
        f"{len(config.overlaps)} overlap levels x {len(config.viewpoint_shifts)} viewpoint "
        f"shifts ({config.rig} rig; {len(holes)} pair(s) unreachable) x {len(config.seeds)} "
        f"seeds, agents {', '.join(f'`{a}`' for a in config.agents)}. The cells took "
        f"{payload['cell_compute_s'] / 60:.1f} min of compute in all; the last invocation ran "
        f"{payload['wall_time_s'] / 60:.1f} min (cells reused from earlier runs cost nothing).",
        "",
        *([f"Made by: `{invocation}`", ""] if invocation else []),
        "## Does each agent know the world?",
        "",
        *knowledge_lines(rows, config.agents),
        "",
        "## How alike are the two agents?",
        "",
        "![state probe and alignment against measured overlap, per shift](sweep.png)",
        "",
        "One row per viewpoint shift. Lines: mean over seeds; bands: 95% intervals (Student t "
        "over seeds, or the cell's bootstrap interval with one seed); dashed: agents that use "
        "labels (references); dotted: the raw downsampled frames (`pixels`); dash-dot grey: "
        "shuffled-pairing null (chance for transfer). Every number is measured on held-out "
        "evaluation episodes from a separately seeded recording; maps and probes are fitted on "
        "earlier episodes of that recording only.",
        "",
        "![heat maps over overlap x shift](sweep_heatmap.png)",
        "",
        "![latent vs raw-pixel CKA](latent_vs_pixels.png)",
        "",
        "![views over overlap x shift](views.png)",
        "",
        "### What the data say",
        "",
        *[f"- {line}" for line in findings(summary, config.agents)],
        "",
        "### Numbers",
        "",
        summary_table(summary, metrics, [(o, sh) for sh, o, _ in holes]),
        "",
        "### Zero-shot transfer per task label",
        "",
        "A probe fitted on camera 0's latents, applied to camera 1's through the orthogonal "
        "map (no step on camera 1); mean over every reachable cell and seed "
        "(docs/labels.md says which labels need a world model).",
        "",
        *label_transfer_lines(rows, config.agents),
        "",
        *readout_lines("### What each camera compared",
                       ("shift", "overlap", "seed", "agent", "camera"),
                       readout_entries(payload["cells"])),
    ]
    if holes:
        lines += ["## Unreachable settings", ""]
        lines += [
            f"- overlap {o:.2f} at shift {sh:g}°: the {config.rig} rig reaches "
            f"[{lo:.2f}, {hi:.2f}] there (not run, not failed)"
            for sh, o, (lo, hi) in holes
        ]
        lines.append("")
    if failed:
        lines += ["## Failed cells", ""]
        lines += [f"- `{cell['cell']}`: {cell['error']}" for cell in failed]
        lines.append("")
    lines += appendix_lines(config, software_versions())
    return write_text_atomic(out / "report.md", "\n".join(lines))


def resolve_config(args: argparse.Namespace) -> SweepConfig:
    """Preset, then config file, then explicit flags: later ones win.

    Each layer's old keys are upgraded first (``viewpoint_shift`` ->
    ``viewpoint_shifts``), so an old file or ``--viewpoint-shift`` replaces the
    preset's shifts instead of clashing with them.
    """
    if args.preset not in PRESETS:
        raise ValueError(f"unknown preset {args.preset!r}; choose one of {sorted(PRESETS)}")
    layers = [PRESETS[args.preset], load_config_file(args.config) if args.config else {}]
    layers.append({f: getattr(args, f) for f in OVERRIDE_FLAGS if getattr(args, f) is not None})
    values: dict[str, Any] = {}
    for layer in layers:
        values.update(upgrade_legacy_keys(layer))
    if args.keep_data:
        values["keep_data"] = True
    return SweepConfig.from_dict(values)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sweep's command-line flags."""
    extra = [
        ("--overlaps", {"type": float, "nargs": "+", "help": "target overlaps in [0, 1]"}),
        (
            "--viewpoint-shifts",
            {"type": float, "nargs": "+", "help": "viewpoint shifts in degrees, in [0, 180]"},
        ),
        ("--rig", {"help": "camera rig: slide (default) or zoom"}),
        ("--footprint", {"type": float, "help": "slide rig: arena share one camera sees"}),
    ]
    add_setting_flags(parser, PRESETS, "results/sweep", extra=extra)
    parser.add_argument("--keep-data", action="store_true", help="keep recordings and runs")
    parser.add_argument("--jobs", type=int, default=1, help="cells run in parallel processes")
    parser.add_argument("--backend", choices=BACKENDS, default="local")
    parser.add_argument(
        "--address", default=None, help="Ray cluster address (default: start a local Ray instance)"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="delete another sweep's results in --out before starting",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def describe_invocation(args: argparse.Namespace) -> str:
    """The command line that reproduces this sweep's settings (flags in canonical form)."""
    parts = ["socialview sweep", *describe_settings(args, OVERRIDE_FLAGS)]
    if args.jobs != 1:
        parts.append(f"--jobs {args.jobs}")
    if args.backend != "local":
        parts.append(f"--backend {args.backend}")
    parts.append(f"--out {args.out}")
    return " ".join(parts)


def command(args: argparse.Namespace) -> int:
    """Run the sweep from parsed flags; exit 0 if every cell succeeded, 1 if some failed.

    Unreachable cells are holes in the grid, not failures: they do not change the exit.
    """
    from socialview.agents import UnknownAgentError

    try:
        config = resolve_config(args)
        result = run_sweep(
            config,
            args.out,
            jobs=args.jobs,
            backend=args.backend,
            address=args.address,
            force=args.force,
            progress=not args.quiet,
            invocation=describe_invocation(args),
        )
    except (ValueError, SweepError, UnknownAgentError) as error:
        print(f"socialview sweep: error: {error}", file=sys.stderr)
        return 2
    metrics = ["state_probe_r2", "r2_orthogonal", "linear_cka", "transfer_accuracy"]
    print(summary_table(result["summary"], metrics))
    print(f"\nwrote {', '.join(result['outputs'])} to {args.out}")
    if result["unreachable"]:
        print(
            f"{len(result['unreachable'])} cell(s) unreachable by the {config.rig} rig, "
            "skipped (listed in report.md)"
        )
    if result["failed"]:
        print(
            f"{len(result['failed'])} cell(s) failed: {', '.join(result['failed'])} "
            "(errors in sweep.json and report.md; rerun to retry them)",
            file=sys.stderr,
        )
        return 1
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` sub-command."""
    register_command(
        subparsers,
        "sweep",
        "overlap sweep: alignment of independent agents vs camera overlap",
        __doc__,
        add_arguments,
        command,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m socialview.benchmarks.overlap_sweep``."""
    module = "socialview.benchmarks.overlap_sweep"
    return run_standalone(module, __doc__, add_arguments, command, argv)


if __name__ == "__main__":
    raise SystemExit(main())
