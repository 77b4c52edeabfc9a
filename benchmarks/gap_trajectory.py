"""The widest spectral gap of one sweep or emergence agent along its training.

A ``readout="core"`` agent reads its core where its spectrum's widest ratio of
consecutive eigenvalues reaches ``core_gap`` (or at a width latched during training
while its ratio holds, ``core_keep``); sweep cells and emergence checkpoints record
that ratio once, at the end. This trains the same agent (the sweep's agent
and batch seeds, threads and budget) through :func:`~socialview.agents.train_agent`,
stopping at each of ``stops`` steps: every stop resumes the last one's checkpoint and
ends with the trainer's calibration pass, which changes no weight, so the weights at
each stop are those of an unbroken run (and the last stop's agent is the cell's own).
Used by ``docs/agents-study.md`` (finding 14) to ask whether a width found at a clear
gap early in training would tell a lasting core from a passing one::

    python -m socialview.benchmarks.gap_trajectory --config results/quick/config.json \\
        --overlap 0.25 --viewpoint-shift 0 --seed 2 --camera cam0 \\
        --stops 100 200 400 800 --out results/gap-trajectory/quick_0.25_seed2_cam0

``--running-every N`` also records the widest gap of the running statistics every
``N`` training batches, which is what the readout's hysteresis latches from (finding
15); calibration leaves them alone, so the stops change nothing there either.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from socialview.benchmarks._io import write_json_atomic

__all__ = ["gap_trajectory", "main", "running_recorder"]


def gap_trajectory(config: Any, train: Path, agent_name: str, seed: int, camera: str,
                   stops: Sequence[int], run_dir: Path,
                   running_every: int | None = None) -> list[dict[str, Any]]:
    """``{"step", "widest": [k, ratio], "latched": [w, ratio] or None, "core", "ratios"}``
    at each of ``stops`` (increasing) for the sweep agent ``agent_name`` of ``config`` (a
    :class:`SweepConfig`), trained on ``camera`` of the recording ``train`` in
    ``run_dir``; ``core`` is the width ``encode`` reads (None: the full latent) and
    ``ratios`` the first (up to 16) ratios of consecutive eigenvalues of the calibrated
    covariance. With ``running_every``, each row also has ``"running"``: ``[batch, k,
    ratio, latched, latched_ratio, ratios]`` of the running statistics (what the readout latches
    from) every ``running_every`` training batches since the previous stop (see
    :func:`running_recorder`)."""
    import torch

    from socialview.agents import train_agent
    from socialview.benchmarks.sweep_cell import derived_seed, make_cell_agent

    if list(stops) != sorted(set(stops)) or not stops or stops[0] < 1:
        raise ValueError(f"stops must be increasing step counts >= 1, got {list(stops)!r}")
    if running_every is not None and running_every < 1:
        raise ValueError(f"running_every must be >= 1 or None, got {running_every!r}")
    torch.set_num_threads(config.threads_per_cell)
    rows = []
    for stop in stops:
        agent = make_cell_agent(config, agent_name, seed, camera)
        readout = getattr(agent.encoder, "readout", None)
        if not callable(getattr(readout, "widest_gap", None)):
            raise ValueError(f"agent {agent_name!r} has no core readout (readout='core')")
        running: list[list[float]] = []
        if running_every is not None:
            readout.register_forward_hook(running_recorder(running, running_every))
        train_agent(agent, train, camera, steps=stop, out_dir=run_dir,
                    seed=derived_seed(seed, agent_name, camera, "batches"),
                    batch_size=config.batch_size, device="cpu", progress=False,
                    num_threads=config.threads_per_cell)
        values = readout.spectrum()[0]
        count = min(16, len(values) - 1)
        ratios = values[:count] / values[1:count + 1].clamp_min(1e-12 * float(values[0]))
        latched = readout.latched()
        rows.append({"step": stop, "widest": list(readout.widest_gap()),
                     "latched": None if latched is None else [latched, readout.ratio_at(latched)],
                     "core": readout.rank(),
                     "ratios": [round(float(r), 3) for r in ratios],
                     **({"running": running} if running_every is not None else {})})
    return rows


def running_recorder(into: list[list[Any]], every: int) -> Any:
    """A forward hook appending ``[batch, k, ratio, latched, latched_ratio, ratios]`` of
    a core readout's running statistics to ``into`` at every ``every``-th training batch:
    the widest gap, the width latched after that batch's update (None: nothing) with its
    ratio (None likewise), and the first (up to 16) ratios of consecutive eigenvalues
    (0 after a negligible direction or under ``core_share``; the action and reader
    guards are not applied to them), from which any latch rule can be replayed: the
    latch changes no weight. A resumed agent counts on from its checkpoint, so each stop
    records only its own batches; the agents study stores the same record in its rows."""

    def record(module: Any, _inputs: Any, _output: Any) -> None:
        seen = int(module.num_batches_tracked)
        if module.training and seen % every == 0:
            # the running statistics (none calibrated yet), under the gap and variance
            # tests; the action and reader tests (findings 21-22) show in what was latched
            ratios = module.ratios(agent_guards=False)
            width = int(ratios.argmax()) + 1
            ratio = float(ratios[width - 1])
            latched = module.latched()
            into.append([seen, width, round(ratio, 3), latched,
                         None if latched is None else round(float(ratios[latched - 1]), 3),
                         [round(float(r), 3) for r in ratios[:16]]])

    return record


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: record (or reuse) the cell's training recording, train, print and write JSON."""
    from socialview.benchmarks.sweep_cell import dataset_seeds, record_once
    from socialview.benchmarks.sweep_config import SweepConfig

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True,
                        help="a sweep's or emergence run's config.json")
    parser.add_argument("--overlap", type=float, required=True)
    parser.add_argument("--viewpoint-shift", type=float, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--camera", default="cam0")
    parser.add_argument("--agent", default="jepa")
    parser.add_argument("--stops", type=int, nargs="+", required=True)
    parser.add_argument("--running-every", type=int, default=None,
                        help="also record the running statistics' widest gap every N batches")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    stored = json.loads(Path(args.config).read_text())["config"]
    data_seed = args.seed  # a sweep cell's recordings follow its seed
    if "fractions" in stored:  # an emergence run: its sweep-equivalent config, one recording
        from socialview.benchmarks.emergence_config import EmergenceConfig

        config = EmergenceConfig.from_dict(stored).sweep_config()
        data_seed = int(stored["dataset_seed"])
    else:
        config = SweepConfig.from_dict(stored)
    out = Path(args.out)
    train = record_once(out / "train", config, args.overlap, dataset_seeds(data_seed)[0],
                        config.dataset_steps, args.viewpoint_shift)
    rows = gap_trajectory(config, train, args.agent, args.seed, args.camera, args.stops,
                          out / "run", args.running_every)
    for row in rows:
        print(json.dumps({k: v for k, v in row.items() if k != "running"}), flush=True)
    write_json_atomic(out / "trajectory.json", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
