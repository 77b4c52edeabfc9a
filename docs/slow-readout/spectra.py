"""Both spectra of every kept camera, whole, for replaying width rules offline.

For each camera of the runs ``slow_width.py`` reads (the same ``kind folder seed``
triples, one per line on stdin), this stores the core readout's calibrated variance
spectrum (its consecutive ratios, guards off, and each width's variance share) and
the whole lag-1 slowness spectrum of the training latents, in ``spectra.json`` (or
the file named by the first argument) beside this file. ``rules.py`` replays width
rules on every ``spectra*.json`` there::

    python docs/slow-readout/spectra.py spectra_sweep.json < docs/slow-readout/units_sweep.txt
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from socialview.agents.trainer import load_agent
from socialview.alignment import SlowFeatures

sys.path.insert(0, str(Path(__file__).parent))
from slow_width import CAMERAS, full_latent, units


def camera_spectra(agent: object, train: Path, camera: str) -> dict:
    """The variance ratios and shares the readout reads, and the lag-1 slowness spectrum."""
    readout = agent.encoder.readout
    values = readout.spectrum()[0]
    ratios = readout._ratios(values, guarded=False)
    positive = values.clamp_min(0.0)
    shares = positive.cumsum(0) / positive.sum()
    latents = full_latent(agent, train, camera).numpy()
    slow = SlowFeatures(lag=1).fit(latents, np.load(train / "episode.npy"))
    return {"variance_ratios": [float(r) for r in ratios],
            "variance_shares": [float(s) for s in shares[:len(ratios)]],
            "action_shares": (None if readout.action_shares() is None
                              else [float(a) for a in readout.action_shares()[:len(ratios)]]),
            "latched": readout.latched(),
            "slowness": [float(v) for v in slow.slowness_]}


def main(out: Path) -> None:
    torch.set_num_threads(1)
    stored = json.loads(out.read_text()) if out.exists() else {}
    for line in sys.stdin.read().splitlines():
        if not line.strip():
            continue
        kind, folder, seed = line.split()
        agents, train, _, _ = units(kind, Path(folder), int(seed))
        key = f"{Path(folder).name} (seed {seed})"
        stored[key] = {camera: camera_spectra(load_agent(agents[camera]), train, camera)
                       for camera in CAMERAS}
        print(key, flush=True)
        out.write_text(json.dumps(stored, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(__file__).with_name(sys.argv[1] if len(sys.argv) > 1 else "spectra.json"))
