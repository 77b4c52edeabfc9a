"""Where does each final agent's latent move from frame to frame? (finding 24)

A guard could compare a core with the latent's *moving* directions instead of all of
its variance, if what the refused cores leave out were static view detail. This
script tests that on the final agents of the `full` emergence curve: the share of the
frame-to-frame change z(t+1) - z(t) (within evaluation episodes) that the calibrated
statistics' k leading directions hold, beside their share of the variance. Run from
the repository root after the emergence runs::

    python docs/emergence-full-jepa/motion_share.py results/emergence-full-s0 0

It prints one line per camera and writes ``motion_share_<run folder>.json`` beside this file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from socialview.agents import embed
from socialview.agents.trainer import load_agent
from socialview.benchmarks.sweep_cell import CAMERAS

WIDTHS = (8, 12)


def cumulative_shares(latents: torch.Tensor, vectors: torch.Tensor) -> np.ndarray:
    """Cumulative share of ``latents``' second moment along ``vectors``' columns, in order."""
    along = (latents @ vectors).pow(2).mean(0)
    return (along.cumsum(0) / along.sum()).numpy()


def main(run: Path, seed: int) -> dict:
    """Motion and variance shares of the leading directions, per camera of ``run``'s seed."""
    evaluation = run / "data" / "eval"
    episode = np.load(evaluation / "episode.npy")
    within = torch.from_numpy(episode[1:] == episode[:-1])
    result = {"run": str(run), "seed": seed}
    for camera in CAMERAS:
        agent = load_agent(run / "runs" / f"jepa_seed{seed}" / camera)
        latents = torch.from_numpy(embed(agent, evaluation, camera)).double()
        vectors = agent.encoder.readout.spectrum()[1].double()
        motion = cumulative_shares((latents[1:] - latents[:-1])[within], vectors)
        variance = cumulative_shares(latents - latents.mean(0), vectors)
        result[camera] = {f"k{k}": {"motion_share": float(motion[k - 1]),
                                    "variance_share": float(variance[k - 1])} for k in WIDTHS}
        print(camera, ", ".join(f"k={k}: motion {motion[k - 1]:.3f}, variance "
                                f"{variance[k - 1]:.3f}" for k in WIDTHS))
    out = Path(__file__).with_name(f"motion_share_{run.name}.json")
    out.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
