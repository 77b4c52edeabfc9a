"""What a refused core would have given: its k leading directions, whitened, measured.

At the end of the `full` emergence curve (50,000 steps) the guards refused every
camera's 8-d core, so the curve compared the full latents. This script encodes the
evaluation recording with each camera's final agent (its full latent, since no core
is read), projects it onto the calibrated statistics' ``k`` leading principal
directions and whitens them (what the core readout would have returned), then
measures the pair exactly as the emergence curve does (``measure_alignment``,
``probe_summary``). Run from the repository root after the emergence run::

    python docs/emergence-full-jepa/forced_core.py results/emergence-full-s0 0 8

It prints each camera's guard figures at ``k`` and writes ``forced_core_seed<seed>_k<k>.json``
beside this file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from socialview.agents import embed, world_state
from socialview.agents.trainer import load_agent
from socialview.benchmarks.emergence_config import EmergenceConfig
from socialview.benchmarks.probes import probe_summary
from socialview.benchmarks.sweep_cell import CAMERAS, measure_alignment

PROBE_KEYS = ("pooled_r2", "pusher_r2", "objects_r2", "knn_pooled_r2")


def whitened_leading(agent: object, evaluation: Path, camera: str, width: int) -> np.ndarray:
    """``camera``'s evaluation latents on the agent's ``width`` leading directions, whitened."""
    readout = agent.encoder.readout
    if readout.rank() is not None:
        raise ValueError(f"{camera}: the agent reads a {readout.rank()}-d core already")
    latents = torch.from_numpy(embed(agent, evaluation, camera)).double()
    values, vectors = readout.spectrum()
    mean, _ = readout.statistics()
    projection = vectors[:, :width].double() / values[:width].double().sqrt()
    print(f"{camera}: variance share {readout.variance_share(width):.3f}, action share "
          f"{readout.action_share_at(width):.3f}, guarded ratio {readout.ratio_at(width):.2f}")
    return ((latents - mean.double()) @ projection).float().numpy()


def main(run: Path, seed: int, width: int) -> dict:
    """Measure the whitened ``width`` leading directions of ``run``'s final ``jepa`` agents."""
    torch.set_num_threads(1)
    config = EmergenceConfig.from_dict(json.loads((run / "config.json").read_text())["config"])
    evaluation = run / "data" / "eval"
    latents = {
        camera: whitened_leading(load_agent(run / "runs" / f"jepa_seed{seed}" / camera),
                                 evaluation, camera, width)
        for camera in CAMERAS
    }
    comparison, transfer = measure_alignment(config.sweep_config(), latents, evaluation, seed)
    state = world_state(evaluation)
    metrics = comparison["metrics"]
    probes = {camera: probe_summary(latents[camera], state, camera, test_size=config.test_size)
              for camera in CAMERAS}
    result = {
        "run": str(run), "seed": seed, "width": width,
        "r2_orthogonal": metrics["r2_orthogonal"],
        "r2_linear": metrics["r2_linear"]["value"],
        "linear_cka": metrics["linear_cka"]["value"],
        "mutual_knn": metrics["mutual_knn"]["value"],
        "transfer_accuracy": transfer["transfer_accuracy"],
        "probe": {camera: {key: probes[camera][key] for key in PROBE_KEYS} for camera in CAMERAS},
    }
    out = Path(__file__).with_name(f"forced_core_seed{seed}_k{width}.json")
    out.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    found = main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
    print(json.dumps({k: v for k, v in found.items() if k != "probe"}, indent=1))
