"""Read kept agents again through the slowness guard, exactly as training with it would.

The core readout never changes training (the guards only choose what ``encode``
returns; ``tests/agents/test_core_slow_guard.py`` checks the weights), and the
setting measured here has no latch (``core_keep`` equal to ``core_gap``), so an agent
trained with it differs from a kept one only in its readout's calibration. For each
camera this script gives the kept agent the readout ``slow_guard.json`` (or the file
named after the seed) names,
calibrates it with the trainer's own pass (``_calibrate``: 4,096 evenly spaced
training frames, and 2,048 consecutive pairs), then measures the pair as the sweep
does and records what each camera compared::

    python docs/slow-readout/reread.py emergence results/emergence-full-s0 0
    python docs/slow-readout/reread.py emergence results/emergence-full-s0 0 slow_action_guard.json
    python docs/slow-readout/reread.py emergence results/emergence-full-s0 0 slow_fallback.json

It writes ``reread_<kind>_<folder>_seed<seed>.json`` beside this file (with
``_<settings file>`` after it for another file than ``slow_guard.json``).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import torch

from socialview.agents import embed, open_camera_stream, world_state
from socialview.agents.nets import make_readout
from socialview.agents.torch_agent import core_width, spectral_gap
from socialview.agents.trainer import _calibrate, load_agent
from socialview.benchmarks.probes import probe_summary
from socialview.benchmarks.sweep_cell import CAMERAS, measure_alignment

sys.path.insert(0, str(Path(__file__).parent))
from slow_width import PROBE_KEYS, units

HERE = Path(__file__).parent
DEFAULT_GUARD = "slow_guard.json"


def guarded(agent: object, train: Path, camera: str, guard: dict) -> object:
    """``agent`` with the readout settings ``guard`` names, calibrated as the trainer
    would. A setting with hysteresis keeps the width latched in training (the latch
    reads running statistics with no slowness known, so neither slowness setting changes
    it); one without has nothing latched."""
    config = dataclasses.replace(agent.config, **guard)
    old = agent.encoder.readout
    fields = {name: getattr(config, name) for name in (
        "core_gap", "core_momentum", "core_keep", "core_sticky", "core_share", "core_rest",
        "core_action_share", "core_reader_share", "core_slow_step", "core_slow_fallback")}
    readout = make_readout("core", config.latent_dim, **fields)
    readout.load_state_dict(old.state_dict())  # the running statistics, effect and latch
    if config.core_keep >= config.core_gap:
        readout.latched_width.zero_()  # no hysteresis in this setting: nothing latched
    agent.config, agent.encoder.readout = config, readout
    _calibrate(agent, open_camera_stream(train, camera))
    return agent


def main(kind: str, folder: Path, seed: int, guard_file: str = DEFAULT_GUARD) -> dict:
    """Re-read one pair of kept agents through the guard ``guard_file`` (a file beside
    this one) names and measure it."""
    torch.set_num_threads(1)
    guard = json.loads((HERE / guard_file).read_text())["agent_config"]["jepa"]
    agents, train, evaluation, config = units(kind, folder, seed)
    latents, compared = {}, {}
    for camera in CAMERAS:
        agent = guarded(load_agent(agents[camera]), train, camera, guard)
        latents[camera] = embed(agent, evaluation, camera)
        width = core_width(agent)
        gap = spectral_gap(agent)
        readout = agent.encoder.readout
        compared[camera] = {"core_width": width, "gap": gap,
                            # the slowness step at the width read (or the widest gap)
                            "slow_step": readout.slow_step_at(width or gap["width"])}
    comparison, transfer = measure_alignment(config, latents, evaluation, seed)
    state = world_state(evaluation)
    probes = {camera: probe_summary(latents[camera], state, camera, test_size=config.test_size)
              for camera in CAMERAS}
    result = {"kind": kind, "folder": str(folder), "seed": seed, "guard": guard,
              "guard_file": guard_file,
              "compared": compared,
              "r2_orthogonal": comparison["metrics"]["r2_orthogonal"]["value"],
              "linear_cka": comparison["metrics"]["linear_cka"]["value"],
              "transfer_accuracy": transfer["transfer_accuracy"],
              "probe": {camera: {key: probes[camera][key] for key in PROBE_KEYS}
                        for camera in CAMERAS}}
    widths = [compared[camera]["core_width"] or "latent" for camera in CAMERAS]
    steps = [round(compared[camera]["slow_step"] or 0.0, 3) for camera in CAMERAS]
    if any(compared[camera]["gap"].get("fallback") for camera in CAMERAS):
        widths = [f"{w} (fallback)" if compared[c]["gap"].get("fallback") else w
                  for w, c in zip(widths, CAMERAS, strict=True)]
    print(f"{folder.name} seed {seed}: compared {widths} (slowness steps there or at the "
          f"widest gaps {steps}); orth {result['r2_orthogonal']:.3f}; probe " + " / ".join(
              f"{probes[c]['pooled_r2']:.3f} (pusher {probes[c]['pusher_r2']:.2f})"
              for c in CAMERAS), flush=True)
    suffix = "" if guard_file == DEFAULT_GUARD else f"_{Path(guard_file).stem}"
    out = HERE / f"reread_{kind}_{folder.name}_seed{seed}{suffix}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:5])
