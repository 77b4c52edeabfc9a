"""Does an agent know the world, and do two such agents align? One study row per variant.

A variant is an agent kind, config overrides, a training budget and (optionally)
env overrides. For each variant this module records (once, cached by env
settings) a training recording and a separately seeded evaluation recording of
two cameras, trains one agent per camera, embeds the evaluation frames and
measures:

* the held-out state probe of each camera's agent (ridge and k-NN, pusher and
  objects apart; :func:`socialview.alignment.state_probe`), on the frames where
  each body is visible to that camera;
* the held-out orthogonal- and linear-map R² between the two agents' latents.

Rows are written as JSON (atomically) to ``--out``, one file per variant and
seed, and reused when present, so a killed study resumes. ``docs/agents-study.md``
tabulates them; every row there names the command that made it::

    python -m socialview.benchmarks.agents_study --variant jepa_default --seed 0
    python -m socialview.benchmarks.agents_study --list
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from socialview.benchmarks._io import write_json_atomic
from socialview.benchmarks.probes import probe_summary

__all__ = ["VARIANTS", "WORLD", "main", "run_variant"]

#: The study's world: both cameras see the whole arena from 90 degrees apart
#: (the setting of the isometry goal), many short episodes for honest probes.
WORLD: dict[str, Any] = {
    "env": {"overlap": 1.0, "viewpoint_shift": 90.0, "image_size": 64, "num_cameras": 2},
    "train_steps": 6000,
    "eval_steps": 4000,
    "episode_steps": 40,
}

CAPABLE = {"input_size": None, "depth": 3}
INFONCE = {"regularizer": "infonce", "target": "online", "output_norm": True}

#: name -> {"agent", "config", "steps", "env" (overrides of WORLD["env"]), "note"}
VARIANTS: dict[str, dict[str, Any]] = {
    "supervised_default_enc": {"agent": "supervised", "config": {}, "steps": 1500,
                               "note": "ceiling of the old default encoder (32 px, 1 conv)"},
    "supervised_64px_3conv": {"agent": "supervised", "config": CAPABLE, "steps": 1500,
                              "note": "ceiling of the 64-px 3-conv encoder"},
    "random_64px_3conv": {"agent": "random", "config": CAPABLE, "steps": 0,
                          "note": "untrained control"},
    "pca": {"agent": "pca", "config": {}, "steps": 40, "note": "raw-pixel PCA control"},
    "jepa_old_default": {"agent": "jepa", "config": {}, "steps": 1500,
                         "note": "the previous default jepa"},
    "jepa_vicreg_64px_3conv": {"agent": "jepa", "config": CAPABLE, "steps": 1500,
                               "note": "the previous jepa objective on the capable encoder"},
    "jepa_infonce": {"agent": "jepa", "steps": 1500,
                     "config": {**CAPABLE, **INFONCE},
                     "note": "InfoNCE prediction (Gaussian kernel), online targets, BN output"},
    "jepa_infonce_hist2": {"agent": "jepa", "steps": 1500,
                           "config": {**CAPABLE, **INFONCE, "history": 2},
                           "note": "+ 2 frames of context"},
    "jepa_infonce_roll4": {"agent": "jepa", "steps": 1500,
                           "config": {**CAPABLE, **INFONCE, "history": 2, "horizon": 4,
                                      "rollout": True},
                           "note": "+ 4-step rollout"},
    "jepa_sigreg_hist2": {"agent": "jepa", "steps": 1500,
                          "config": {**CAPABLE, "regularizer": "sigreg", "target": "online",
                                     "history": 2},
                          "note": "LeWorldModel-like: next-embedding MSE + SIGReg, no EMA"},
    "jepa_infonce_fs20": {"agent": "jepa", "steps": 1500, "env": {"frame_skip": 20},
                          "config": {**CAPABLE, **INFONCE},
                          "note": "InfoNCE in a world that moves 4x more per step"},
}


def _dataset(root: Path, env: dict[str, Any], seed: int, steps: int, episode_steps: int) -> Path:
    """Record (or reuse) one dataset, named by its settings so variants share it."""
    from socialview.envs import load_dataset, record_dataset

    key = "_".join(f"{k}{v}" for k, v in sorted(env.items())).replace(" ", "")
    out = root / f"{key}_seed{seed}_n{steps}_ep{episode_steps}"
    if (out / "meta.json").exists():
        try:
            load_dataset(out)
            return out
        except ValueError:
            pass
    env = dict(env)
    return record_dataset(out, steps=steps, overlap=env.pop("overlap"),
                          num_cameras=env.pop("num_cameras"), image_size=env.pop("image_size"),
                          seed=seed, force=True, preview=False, progress=False,
                          episode_steps=episode_steps, env_kwargs=env)


def _map_r2(a: np.ndarray, b: np.ndarray, test: np.ndarray) -> dict[str, float]:
    from socialview.alignment import fit_map
    from socialview.benchmarks.sweep_cell import unit_total_variance

    order = np.argsort(test, kind="stable")  # fitting rows first, for unit_total_variance
    fit_rows = int((~test).sum())
    a, b = (unit_total_variance(x[order], fit_rows) for x in (a, b))
    out = {}
    for kind in ("orthogonal", "linear"):
        m = fit_map(a[:fit_rows], b[:fit_rows], kind=kind)
        out[kind] = float(m.score(a[fit_rows:], b[fit_rows:]))
    return out


def run_variant(name: str, spec: dict[str, Any], seed: int, root: Path,
                threads: int = 2) -> dict[str, Any]:
    """Record, train one agent per camera, probe both, map between them; return the row."""
    import torch

    from socialview.agents import embed, make_agent, train_agent, world_state
    from socialview.alignment import episode_split
    from socialview.benchmarks.sweep_cell import derived_seed

    torch.set_num_threads(threads)
    env = {**WORLD["env"], **spec.get("env", {})}
    data = root / "data"
    train = _dataset(data, env, 1000 * seed + 1, WORLD["train_steps"], WORLD["episode_steps"])
    evaluation = _dataset(data, env, 1000 * seed + 2, WORLD["eval_steps"],
                          WORLD["episode_steps"])
    state = world_state(evaluation)
    latents, probes, seconds, last = {}, {}, {}, {}
    for camera in ("cam0", "cam1"):
        agent = make_agent(spec["agent"], seed=derived_seed(seed, name, camera),
                           **spec.get("config", {}))
        start = time.perf_counter()
        result = train_agent(agent, train, camera, steps=spec["steps"], progress=False,
                             device="cpu", seed=derived_seed(seed, name, camera, "batches"),
                             batch_size=spec.get("batch_size", 64))
        seconds[camera] = time.perf_counter() - start
        last[camera] = result.to_json().get("final_metrics")
        latents[camera] = embed(agent, evaluation, camera)
        probes[camera] = probe_summary(latents[camera], state, camera)
    test = episode_split(state.episode, 0.25)
    return {
        "variant": name, "seed": seed, "spec": spec, "world": {**WORLD, "env": env},
        "probe": probes, "map_r2": _map_r2(latents["cam0"], latents["cam1"], test),
        "seconds_per_agent": float(np.mean(list(seconds.values()))),
        "last_metrics": last,
        "command": f"python -m socialview.benchmarks.agents_study --variant {name} "
                   f"--seed {seed}",
    }


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: run study variants (each row cached as JSON) and print a one-line summary each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", nargs="*", default=[], help="variant names (see --list)")
    parser.add_argument("--seed", type=int, nargs="+", default=[0])
    parser.add_argument("--out", default="results/agents-study")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--list", action="store_true", help="list the variants and exit")
    parser.add_argument("--force", action="store_true", help="recompute cached rows")
    args = parser.parse_args(argv)
    if args.list:
        for name, spec in VARIANTS.items():
            print(f"{name:32s} {spec.get('note', '')}")
        return 0
    unknown = [v for v in args.variant if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; see --list")
    root = Path(args.out)
    for name in args.variant:
        for seed in args.seed:
            path = root / "rows" / f"{name}_seed{seed}.json"
            if path.exists() and not args.force:
                row = json.loads(path.read_text())
            else:
                row = run_variant(name, VARIANTS[name], seed, root, args.threads)
                write_json_atomic(path, row)
            p0, p1 = row["probe"]["cam0"], row["probe"]["cam1"]
            print(f"{name:28s} s{seed} probe ridge {p0['pooled_r2']:.2f}/{p1['pooled_r2']:.2f} "
                  f"obj {p0['objects_r2']:.2f} pusher {p0['pusher_r2']:.2f} "
                  f"knn {p0['knn_pooled_r2']:.2f}/{p1['knn_pooled_r2']:.2f} "
                  f"orth {row['map_r2']['orthogonal']:.2f} lin {row['map_r2']['linear']:.2f} "
                  f"{row['seconds_per_agent']:.0f}s/agent", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
