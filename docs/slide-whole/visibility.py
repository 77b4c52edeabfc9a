"""Split a curve's held-out orthogonal-map R² by what both cameras see (finding 30)::

    python docs/slide-whole/visibility.py results/emergence-slidewhole-ceiling \
        > docs/slide-whole/visibility.md

For every agent, seed and checkpoint of an emergence folder, the two cameras'
cached evaluation latents are prepared as the curve prepares them (constant columns
dropped, unit total variance from the fitting rows) and an orthogonal map is fitted
on the fitting episodes (the same episode-boundary split). Its held-out R² is
scored on every held-out frame (the curve's own figure), on the frames where every
body (pusher and objects, by the state probe's own visibility rule) is inside both
views, and on the rest. A fourth map is fitted *and* scored on the frames both see
whole, which asks whether the frames with a body out of view also spoil the fit.
Beside it, each camera's state share (:func:`socialview.alignment.state_share`: the
held-out share of the latent's variance that is linear in the state) on every frame
and on the frames both see whole, mean of the two cameras.

A second table asks what each camera's latent holds about a body it cannot see:
at each run's last checkpoint, the state probe (:func:`socialview.alignment.state_probe`)
scored as usual (each body where it is inside the camera's view), on every frame
(hidden bodies included), and with each body counted only where it is *outside*
that camera's view, mean of the two cameras. The last asks whether the latent
knows where within the unseen strip a body is; the second whether it at least
places hidden bodies roughly (say, beyond the right edge), which is what the map,
scored on the whole latent's variance, feels.

A third table, at the last checkpoint, scores the same map on the held-out frames
grouped by how many of the four bodies are inside both views (with the frames in
each group): the overlap sweep's dial, frame by frame. A group of fewer than 20
held-out frames, and a map fitted on fewer than 20 frames, score ``–``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np

from socialview.agents import WorldState, world_state
from socialview.alignment import drop_constant_columns, fit_map, state_probe, state_share
from socialview.alignment.maps import r2_score
from socialview.benchmarks.sweep_cell import heldout_split, unit_total_variance

CACHE = re.compile(r"cam0_step(\d+)\.npz")
CAMERAS = ("cam0", "cam1")
MIN_FRAMES = 20


def scored(truth: np.ndarray, predicted: np.ndarray, rows: np.ndarray) -> float:
    """Pooled R² on ``rows``, NaN where there are too few of them to say."""
    return r2_score(truth[rows], predicted[rows]) if rows.sum() >= MIN_FRAMES else float("nan")


def heldout_map(a: np.ndarray, b: np.ndarray,
                split: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both cameras' latents as the curve compares them, and the map's prediction of B.

    Each camera is prepared as the curve prepares it (no constant column, unit total
    variance from the fitting rows); the orthogonal map is fitted on the fitting rows.
    """
    a, b = (unit_total_variance(drop_constant_columns(x), split) for x in (a, b))
    return a, b, fit_map(a[:split], b[:split], "orthogonal").transform(a)


def map_r2(a: np.ndarray, b: np.ndarray, predicted: np.ndarray, split: int,
           seen: np.ndarray) -> list[float]:
    """Held-out orthogonal-map R²: all frames, both see all, not; then fitted on both-see."""
    fit, held = np.arange(len(a)) < split, np.arange(len(a)) >= split
    clean = (fit_map(a[fit & seen], b[fit & seen], "orthogonal").transform(a)
             if (fit & seen).sum() >= MIN_FRAMES else np.full_like(b, np.nan))
    return [
        scored(b, predicted, held),
        scored(b, predicted, held & seen),
        scored(b, predicted, held & ~seen),
        scored(b, clean, held & seen),
    ]


def map_by_shared_bodies(b: np.ndarray, predicted: np.ndarray, split: int,
                         shared: np.ndarray, bodies: int) -> list[tuple[int, int, float]]:
    """(bodies inside both views, held-out frames, map R² on them) for 0..``bodies``."""
    held = np.arange(len(b)) >= split
    return [(count, int((held & (shared == count)).sum()),
             scored(b, predicted, held & (shared == count))) for count in range(bodies + 1)]


def shares(latents: dict[str, np.ndarray], state: WorldState, seen: np.ndarray,
           test_size: float) -> list[float]:
    """Mean over cameras of the state share, on every frame and on the both-see frames."""
    every = [state_share(latents[c], state.values, state.episode, test_size=test_size)
             for c in CAMERAS]
    if seen.sum() < MIN_FRAMES:
        return [float(np.mean(every)), float("nan")]
    clean = [state_share(latents[c][seen], state.values[seen], state.episode[seen],
                         test_size=test_size) for c in CAMERAS]
    return [float(np.mean(every)), float(np.mean(clean))]


def hidden_probe(latents: dict[str, np.ndarray], state: WorldState,
                 test_size: float) -> list[float]:
    """Mean over cameras of the pooled probe R²: bodies in view, every frame, out of view."""
    masks = {c: (state.visible[c], None, ~state.visible[c]) for c in CAMERAS}
    return [float(np.mean([state_probe(latents[c], state.values, state.episode, mask=masks[c][i],
                                       test_size=test_size).pooled_r2 for c in CAMERAS]))
            for i in range(3)]


def main(folder: str) -> None:
    root = Path(folder)
    test_size = json.loads((root / "config.json").read_text())["config"]["test_size"]
    state = world_state(root / "data" / "eval")
    both = np.logical_and.reduce([state.visible[c][:, ::2] for c in CAMERAS])  # (T, bodies)
    seen, shared = both.all(axis=1), both.sum(axis=1)
    split = heldout_split(state.episode, test_size)
    print(f"# Orthogonal-map R² by visibility: `{folder}`\n")
    print(f"{len(seen) - split} held-out frames; every body inside both views on "
          f"{seen[split:].mean():.3f} of them ({seen.mean():.3f} of all frames).\n")
    print("| agent | seed | step | map: all held-out | map: all bodies in both views "
          "| map: a body outside a view | map fitted on both-view frames, scored there "
          "| state share: all frames | state share: both-view frames |")
    print("|---|---|---|---|---|---|---|---|---|")
    last = []
    for run in sorted((root / "latents").iterdir()):
        agent, seed = run.name.rsplit("_seed", 1)
        steps = sorted(int(m.group(1)) for p in run.iterdir() if (m := CACHE.fullmatch(p.name)))
        for step in steps:
            latents = {c: np.load(run / f"{c}_step{step}.npz")["latents"] for c in CAMERAS}
            a, b, predicted = heldout_map(latents["cam0"], latents["cam1"], split)
            row = map_r2(a, b, predicted, split, seen) + shares(latents, state, seen, test_size)
            print(f"| {agent} | {seed} | {step} | " + " | ".join(map(cell, row)) + " |")
        last.append((agent, seed, step, hidden_probe(latents, state, test_size),
                     map_by_shared_bodies(b, predicted, split, shared, both.shape[1])))
    print("\n## What a camera's latent holds about a body it cannot see (last checkpoint)\n")
    print("| agent | seed | step | probe: bodies in view | probe: every frame "
          "| probe: bodies out of view |")
    print("|---|---|---|---|---|---|")
    for agent, seed, step, row, _ in last:
        print(f"| {agent} | {seed} | {step} | " + " | ".join(map(cell, row)) + " |")
    print("\n## The map by how many bodies both cameras see (last checkpoint)\n")
    print("Each cell: map R² (held-out frames in the group).\n")
    counts = range(both.shape[1] + 1)
    print("| agent | seed | step | "
          + " | ".join(f"{n} of {both.shape[1]} in both views" for n in counts) + " |")
    print("|---|---|---|" + "---|" * len(counts))
    for agent, seed, step, _, groups in last:
        print(f"| {agent} | {seed} | {step} | "
              + " | ".join(f"{cell(r2)} ({n})" for _, n, r2 in groups) + " |")


def cell(value: float) -> str:
    """Three decimals, or ``–`` for a figure there were too few frames for."""
    return "–" if np.isnan(value) else f"{value:.3f}"


if __name__ == "__main__":
    main(sys.argv[1])
