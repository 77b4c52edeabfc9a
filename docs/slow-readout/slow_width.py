"""Can the slowness spectrum decide a core's width? (agents study, finding 25)

For each camera of a kept run, this script encodes the training and evaluation
recordings with the camera's final agent, its readout bypassed (the full latent,
whatever core ``encode`` would read), whitens the latent on the training frames and
runs slow feature analysis there (``socialview.alignment.SlowFeatures``): the
eigenvalues of the covariance of the whitened latent's change over ``lag`` frames
within an episode, ascending (0: a direction that never moves; 2: one uncorrelated
with itself ``lag`` frames on). It records the first 16 of that *slowness spectrum*
at lags 1, 4 and 8 and where its largest jump (the ``k+1``-th over the ``k``-th)
lies, the same for the agent's own prediction error, and the core readout's gap
figures, then measures these readouts of the evaluation recording exactly as the
sweep does (``measure_alignment`` for the pair, ``probe_summary`` per camera):

* ``latent``: the full latent;
* ``leading8``: the 8 leading principal directions, whitened (the core readout's
  8-d core, forced);
* ``slow8``: the 8 slowest directions at lag 1;
* ``slow_jump``: each camera's slowest directions up to its lag-1 jump;
* ``pred8``, ``pred_jump``: the 8 directions the agent's own predictor gets most
  nearly right (smallest whitened prediction error over its horizon), and as many as
  that spectrum's largest jump says;
* ``slow_at_gap``: as many slowest directions as the core readout's own width (its
  latched width, else its widest variance gap, guards or not).

Everything is fitted on the training recording; nothing sees a label. Run from the
repository root::

    python docs/slow-readout/slow_width.py emergence results/emergence-full-s0 0
    python docs/slow-readout/slow_width.py sweep results/slow-half/cells/CELL 0

It writes ``<kind>_<folder>_seed<seed>.json`` beside this file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from socialview.agents import embed, world_state
from socialview.agents.torch_agent import spectral_gap
from socialview.agents.trainer import load_agent
from socialview.alignment import SlowFeatures
from socialview.benchmarks.probes import probe_summary
from socialview.benchmarks.sweep_cell import CAMERAS, measure_alignment
from socialview.benchmarks.sweep_config import SweepConfig

LAGS = (1, 4, 8)
SHOWN = 16
PROBE_KEYS = ("pooled_r2", "pusher_r2", "objects_r2", "knn_pooled_r2")


def full_latent(agent: object, dataset: Path, camera: str) -> torch.Tensor:
    """``camera``'s latents of ``dataset`` with the agent's readout bypassed."""
    readout = agent.encoder.readout
    agent.encoder.readout = nn.Identity()
    try:
        return torch.from_numpy(embed(agent, dataset, camera)).double()
    finally:
        agent.encoder.readout = readout


def largest_jump(values: torch.Tensor) -> tuple[int, float]:
    """``(k, ratio)``: where the ascending ``values`` jump most among the first ``SHOWN``."""
    top = min(SHOWN, len(values))
    ratios = values[1:top] / values[:top - 1].clamp_min(1e-12)
    return int(ratios.argmax()) + 1, float(ratios.max())


def span_share(basis: torch.Tensor, moment: torch.Tensor) -> float:
    """Share of the second moment ``moment`` (latent coordinates) inside the span of
    ``basis``' columns (the subspace a readout through ``basis`` sees)."""
    q = torch.linalg.qr(basis)[0]
    return float(torch.trace(q.T @ moment @ q) / torch.trace(moment))


@torch.no_grad()
def unpredictability(agent: object, train: Path, fit: torch.Tensor, mean: torch.Tensor,
                     whiten: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Ascending eigenvalues and eigenvectors of the covariance of the agent's own
    prediction error, in whitened coordinates, over the training recording's
    transitions: the directions its world model predicts best come first."""
    from socialview.agents import open_camera_stream

    horizon = agent.config.horizon
    if agent.config.history != 1 or agent.config.rollout:
        raise ValueError("the predictor check assumes history 1 and no rollout")
    stream = open_camera_stream(train, "cam0")  # for the actions, which every camera shares
    starts = stream.valid_starts(horizon)
    actions = torch.from_numpy(stream.actions[starts[:, None] + np.arange(horizon)])
    agent.encoder.eval()
    predicted = torch.cat([
        agent._predict(fit[starts[rows]][:, None].float(), actions[rows].float())[:, -1]
        for rows in np.array_split(np.arange(len(starts)), max(1, len(starts) // 512))
    ]).double()
    error = (fit[starts + horizon] - predicted) @ whiten
    return torch.linalg.eigh(error.T @ error / len(error))


def camera_readouts(agent: object, train: Path, evaluation: Path, camera: str
                    ) -> tuple[dict[str, np.ndarray], dict]:
    """The readouts of ``camera``'s evaluation latents, and its spectra's figures."""
    fit = full_latent(agent, train, camera)
    latents = full_latent(agent, evaluation, camera)
    mean = fit.mean(0)
    values, vectors = torch.linalg.eigh(torch.cov((fit - mean).T))
    values, vectors = values.flip(0), vectors.flip(1)
    kept = values > 1e-6 * values.max()
    whiten = vectors[:, kept] / values[kept].sqrt()
    white_fit = (fit - mean) @ whiten
    episode = np.load(train / "episode.npy")
    figures = {"whitened": int(kept.sum())}
    slow = {lag: SlowFeatures(lag=lag).fit(white_fit.numpy(), episode) for lag in LAGS}
    for lag, found in slow.items():
        k, ratio = largest_jump(torch.from_numpy(found.slowness_))
        figures[f"lag{lag}"] = {"spectrum": [round(float(v), 4)
                                             for v in found.slowness_[:SHOWN]],
                                "jump_after": k, "jump": ratio}
    # the slow features of the whitened latent, as directions of the whitened latent
    directions = torch.from_numpy(slow[1].components_)
    surprise, predictable = unpredictability(agent, train, fit, mean, whiten)
    k, ratio = largest_jump(surprise)
    figures["predictor"] = {"spectrum": [round(float(v), 4) for v in surprise[:SHOWN]],
                            "jump_after": k, "jump": ratio}
    white = (latents - mean) @ whiten
    width = figures["lag1"]["jump_after"]
    # the core readout's own width (latched, else the widest variance gap), read slowly
    gap = spectral_gap(agent)
    figures["gap"] = gap
    figures["core_width"] = agent.encoder.readout.rank()
    at_gap = gap["latched"] or gap["width"]
    speeds = slow[1].slowness_
    basis = whiten @ directions[:, :at_gap]
    figures["slow_at_gap"] = {
        "width": at_gap,
        "slowness_ratio": (float(speeds[at_gap] / speeds[at_gap - 1])
                           if at_gap < len(speeds) else None),
        "action_share": span_share(basis, agent.encoder.readout.running_effect.double()),
        "variance_share": span_share(basis, torch.cov((fit - mean).T)),
    }
    readouts = {
        "latent": latents,
        "leading8": white[:, :8],
        "slow8": white @ directions[:, :8],
        "slow_jump": white @ directions[:, :width],
        "pred8": white @ predictable[:, :8],
        "pred_jump": white @ predictable[:, :k],
        "slow_at_gap": white @ directions[:, :at_gap],
    }
    print(f"{camera}: {figures['whitened']} whitened; " + "; ".join(
        f"lag {lag}: jump x{figures[f'lag{lag}']['jump']:.2f} after "
        f"{figures[f'lag{lag}']['jump_after']}" for lag in LAGS)
        + f"; predictor: jump x{ratio:.2f} after {k}")
    return {name: value.float().numpy() for name, value in readouts.items()}, figures


def units(kind: str, folder: Path, seed: int) -> tuple[dict[str, Path], Path, Path, SweepConfig]:
    """The agents' folders per camera, the training and evaluation recordings and the
    sweep settings of an emergence run (``folder``) or a kept sweep cell (``folder``:
    ``<sweep>/cells/<cell>``, made with ``--keep-data``)."""
    if kind == "emergence":
        from socialview.benchmarks.emergence_config import EmergenceConfig

        config = json.loads((folder / "config.json").read_text())["config"]
        runs = folder / "runs" / f"jepa_seed{seed}"
        return ({camera: runs / camera for camera in CAMERAS}, folder / "data" / "train",
                folder / "data" / "eval", EmergenceConfig.from_dict(config).sweep_config())
    if kind == "sweep":
        config = json.loads((folder.parent.parent / "config.json").read_text())["config"]
        return ({camera: folder / "runs" / f"jepa-{camera}" for camera in CAMERAS},
                folder / "train", folder / "eval", SweepConfig.from_dict(config))
    raise ValueError(f"kind must be 'emergence' or 'sweep', got {kind!r}")


def main(kind: str, folder: Path, seed: int) -> dict:
    """The spectra's figures and every readout's measures for one pair of agents."""
    torch.set_num_threads(1)
    agents, train, evaluation, config = units(kind, folder, seed)
    state = world_state(evaluation)
    figures, readouts = {}, {}
    for camera in CAMERAS:
        readouts[camera], figures[camera] = camera_readouts(
            load_agent(agents[camera]), train, evaluation, camera)
    result = {"kind": kind, "folder": str(folder), "seed": seed, "cameras": figures,
              "readouts": {}}
    for name in readouts[CAMERAS[0]]:
        latents = {camera: readouts[camera][name] for camera in CAMERAS}
        comparison, transfer = measure_alignment(config, latents, evaluation, seed)
        metrics = comparison["metrics"]
        probes = {camera: probe_summary(latents[camera], state, camera,
                                        test_size=config.test_size) for camera in CAMERAS}
        result["readouts"][name] = {
            "widths": {camera: latents[camera].shape[1] for camera in CAMERAS},
            "r2_orthogonal": metrics["r2_orthogonal"]["value"],
            "r2_linear": metrics["r2_linear"]["value"],
            "linear_cka": metrics["linear_cka"]["value"],
            "transfer_accuracy": transfer["transfer_accuracy"],
            "probe": {camera: {key: probes[camera][key] for key in PROBE_KEYS}
                      for camera in CAMERAS},
        }
        found = result["readouts"][name]
        print(f"{name:10s} widths {list(found['widths'].values())} orth "
              f"{found['r2_orthogonal']:.3f} probe " + " / ".join(
                  f"{found['probe'][c]['pooled_r2']:.3f} (pusher "
                  f"{found['probe'][c]['pusher_r2']:.2f})" for c in CAMERAS))
    out = Path(__file__).with_name(f"{kind}_{folder.name}_seed{seed}.json")
    out.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))
