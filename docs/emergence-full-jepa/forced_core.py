"""What a refused core would have given: its k leading directions, whitened, measured.
With ``slow``, the k slowest directions instead (slow feature analysis).

At the end of the `full` emergence curve (50,000 steps) the guards refused every
camera's 8-d core, so the curve compared the full latents. This script encodes the
evaluation recording with each camera's final agent (its full latent, since no core
is read), projects it onto the calibrated statistics' ``k`` leading principal
directions and whitens them (what the core readout would have returned), then
measures the pair exactly as the emergence curve does (``measure_alignment``,
``probe_summary``). With ``slow`` it reads instead the ``k`` directions of the
whitened latent that change least from one frame to the next within the training
recording's episodes (the smallest eigenvalues of the covariance of the change),
fitted on the training recording only. Run from the repository root after the
emergence run::

    python docs/emergence-full-jepa/forced_core.py results/emergence-full-s0 0 8
    python docs/emergence-full-jepa/forced_core.py results/emergence-full-s0 0 8 slow

It prints each camera's guard figures at ``k`` and writes
``forced_core_<run folder>_k<k>.json`` (``slow_core_...`` with ``slow``) beside this file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from socialview.agents import embed, world_state
from socialview.agents.trainer import load_agent
from socialview.alignment import SlowFeatures
from socialview.benchmarks.emergence_config import EmergenceConfig
from socialview.benchmarks.probes import probe_summary
from socialview.benchmarks.sweep_cell import CAMERAS, measure_alignment

PROBE_KEYS = ("pooled_r2", "pusher_r2", "objects_r2", "knn_pooled_r2")


def whitened_leading(agent: object, evaluation: Path, camera: str, width: int) -> np.ndarray:
    """``camera``'s evaluation latents on the agent's ``width`` leading directions, whitened."""
    readout = agent.encoder.readout
    if readout.rank() is not None:  # encode would return the core, not the latent
        raise ValueError(f"{camera}: the agent reads a {readout.rank()}-d core")
    latents = torch.from_numpy(embed(agent, evaluation, camera)).double()
    values, vectors = readout.spectrum()
    mean, _ = readout.statistics()
    projection = vectors[:, :width].double() / values[:width].double().sqrt()
    print(f"{camera}: variance share {readout.variance_share(width):.3f}, action share "
          f"{readout.action_share_at(width):.3f}, guarded ratio {readout.ratio_at(width):.2f}")
    return ((latents - mean.double()) @ projection).float().numpy()


def whitened_slowest(agent: object, train: Path, evaluation: Path, camera: str,
                     width: int) -> np.ndarray:
    """``camera``'s evaluation latents on the ``width`` slowest whitened directions, fitted
    on the training recording (frame-to-frame change within its episodes, by
    ``socialview.alignment.SlowFeatures``)."""
    if agent.encoder.readout.rank() is not None:  # encode would return the core, not the latent
        raise ValueError(f"{camera}: the agent reads a {agent.encoder.readout.rank()}-d core")
    slow = SlowFeatures(n_components=width).fit(embed(agent, train, camera).astype(np.float64),
                                                np.load(train / "episode.npy"))
    speeds, jumps = slow.slowness_, slow.jumps()
    print(f"{camera}: {len(speeds)} directions whitened; the {width} slowest change "
          f"{speeds[:width].mean():.3f} a frame (unit variance), the rest "
          f"{speeds[width:].mean():.3f}; the largest jump in slowness among the first "
          f"16 is after direction {int(jumps.argmax()) + 1} (x{float(jumps.max()):.2f})")
    return slow.transform(embed(agent, evaluation, camera).astype(np.float64)).astype(np.float32)


def main(run: Path, seed: int, width: int, slow: bool = False) -> dict:
    """Measure the whitened ``width`` leading (or, ``slow``, slowest) directions of
    ``run``'s final ``jepa`` agents."""
    torch.set_num_threads(1)
    config = EmergenceConfig.from_dict(json.loads((run / "config.json").read_text())["config"])
    evaluation = run / "data" / "eval"
    latents = {}
    for camera in CAMERAS:
        agent = load_agent(run / "runs" / f"jepa_seed{seed}" / camera)
        latents[camera] = (
            whitened_slowest(agent, run / "data" / "train", evaluation, camera, width)
            if slow else whitened_leading(agent, evaluation, camera, width)
        )
    comparison, transfer = measure_alignment(config.sweep_config(), latents, evaluation, seed)
    state = world_state(evaluation)
    metrics = comparison["metrics"]
    probes = {camera: probe_summary(latents[camera], state, camera, test_size=config.test_size)
              for camera in CAMERAS}
    result = {
        "run": str(run), "seed": seed, "width": width,
        "directions": "slowest" if slow else "leading",
        "r2_orthogonal": metrics["r2_orthogonal"],
        "r2_linear": metrics["r2_linear"]["value"],
        "linear_cka": metrics["linear_cka"]["value"],
        "mutual_knn": metrics["mutual_knn"]["value"],
        "transfer_accuracy": transfer["transfer_accuracy"],
        "probe": {camera: {key: probes[camera][key] for key in PROBE_KEYS} for camera in CAMERAS},
    }
    name = "slow_core" if slow else "forced_core"
    out = Path(__file__).with_name(f"{name}_{run.name}_k{width}.json")
    out.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    found = main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                 slow=sys.argv[4:] == ["slow"])
    print(json.dumps({k: v for k, v in found.items() if k != "probe"}, indent=1))
