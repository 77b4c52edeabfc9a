"""Which task label needs a world model? Held-out accuracy of every label, per agent.

For each seed this trains the default agents on the agents study's world (both
cameras see the whole arena, :data:`socialview.benchmarks.agents_study.WORLD`
with SocialView-v1's 200 ms steps), embeds a separately seeded evaluation
recording, and fits a linear classifier (:class:`socialview.alignment.LogisticProbe`)
for every label of :data:`socialview.envs.labels.LABELS` on the first 75% of the
evaluation episodes, scoring the rest. Compared on the same split:

* ``jepa``: the default agent (no labels seen in training);
* ``supervised``: the same encoder trained on the state (a reference ceiling);
* ``random``: the same encoder untrained;
* ``pixels``: the raw frames, area-downsampled to 8x8 (the sweep's pixel reference);
* ``chance``: the share of the majority class among the scored frames.

A label "needs a world model" when ``jepa`` beats both ``random`` and
``pixels`` by a clear margin (the issue asks 0.15). Latents are cached per seed
(``latents_seed<N>.npz``, with the agents' configs: a changed default is measured
again) and rows as JSON, so a rerun only scores::

    python -m socialview.benchmarks.labels_study --seed 0 1 2

``--readout latent`` reads every agent that has a readout through its full latent
instead of its default (``jepa`` and ``supervised`` read their calibrated spectral
core): the readout does not enter the training loss, so both runs train the same
weights (docs/labels.md checks it: each core is a linear function of the full latent
to rounding) and tell what a label loses to the core. Its latents and rows
are cached apart (``latents_seed<N>_readout-latent.npz``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from socialview.benchmarks._io import save_npz_atomic, write_json_atomic

__all__ = ["AGENTS", "label_accuracies", "main"]

#: Agents compared, with their training steps (``pixels`` needs none).
AGENTS: dict[str, int] = {"jepa": 800, "supervised": 800, "random": 0}
CAMERA = "cam0"
#: ``--readout`` choices: each agent's default, or the full latent of every agent
#: that has a readout.
READOUTS = ("default", "latent")


def _suffix(readout: str) -> str:
    """File-name suffix of a readout's caches (none for the agents' defaults)."""
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {', '.join(READOUTS)}; got {readout!r}")
    return "" if readout == "default" else f"_readout-{readout}"


def _agent_config(name: str, readout: str) -> dict[str, Any]:
    """The config overrides that make agent ``name`` read out through ``readout``."""
    from socialview.agents.registry import config_keys, resolve_agent

    if readout == "default" or "readout" not in (config_keys(resolve_agent(name)) or []):
        return {}
    return {"readout": readout}


def _latents(seed: int, root: Path, threads: int,
             readout: str = "default") -> tuple[dict[str, np.ndarray], Path]:
    """Train (or reuse) each agent on the study's world; embed the evaluation recording.

    The cache keeps the agents' resolved configs and training steps beside the latents
    and is reused only while they match, so a changed agent default is measured
    again instead of read from latents of the agents before it."""
    import torch

    from socialview.agents import embed, make_agent, train_agent
    from socialview.agents.trainer import agent_identity
    from socialview.benchmarks.agents_study import FAST_WORLD, WORLD, _dataset
    from socialview.benchmarks.sweep_cell import derived_seed, raw_pixels

    env = {**WORLD["env"], **FAST_WORLD}
    data = root.parent / "agents-study" / "data"
    train = _dataset(data, env, 1000 * seed + 1, WORLD["train_steps"], WORLD["episode_steps"])
    evaluation = _dataset(data, env, 1000 * seed + 2, WORLD["eval_steps"],
                          WORLD["episode_steps"])
    agents = {name: make_agent(name, seed=derived_seed(seed, "labels", name),
                               **_agent_config(name, readout)) for name in AGENTS}
    identity = json.dumps({name: [agent_identity(agent), AGENTS[name]]
                           for name, agent in agents.items()}, sort_keys=True)
    cache = root / f"latents_seed{seed}{_suffix(readout)}.npz"
    if cache.exists():
        with np.load(cache) as stored:
            if "identity" in stored.files and str(stored["identity"]) == identity:
                return {k: stored[k] for k in stored.files if k != "identity"}, evaluation
    torch.set_num_threads(threads)
    latents = {}
    for name, agent in agents.items():
        train_agent(agent, train, CAMERA, steps=AGENTS[name], progress=False, device="cpu",
                    seed=derived_seed(seed, "labels", name, "batches"))
        latents[name] = embed(agent, evaluation, CAMERA)
    latents["pixels"] = raw_pixels(evaluation, CAMERA)
    save_npz_atomic(cache, identity=np.array(identity), **latents)
    return latents, evaluation


def label_accuracies(
    features: dict[str, np.ndarray], labels: np.ndarray, episode: np.ndarray,
    test_size: float = 0.25,
) -> dict[str, float]:
    """Held-out accuracy of a logistic probe per feature set, plus ``chance``.

    Frames whose label is ``-1`` (undefined) are dropped; the split is by whole
    episodes (:func:`socialview.alignment.episode_split`), so no episode is both
    fitted and scored.
    """
    from socialview.alignment import LogisticProbe, episode_split

    defined = labels >= 0
    test = episode_split(episode, test_size) & defined
    fit = ~episode_split(episode, test_size) & defined
    counts = np.bincount(labels[test])
    out = {"chance": float(counts.max() / counts.sum())}
    for name, x in features.items():
        probe = LogisticProbe(l2=1e-2).fit(x[fit], labels[fit])
        out[name] = float(probe.score(x[test], labels[test]))
    return out


def run_seed(seed: int, root: Path, threads: int = 2,
             readout: str = "default") -> dict[str, Any]:
    """Every label's accuracies for one seed (written as ``rows/seed<N>.json``)."""
    from socialview.envs import load_dataset
    from socialview.envs.labels import LABELS, dataset_labels

    latents, evaluation = _latents(seed, root, threads, readout)
    dataset = load_dataset(evaluation)
    episode = np.asarray(dataset.array("episode"))
    scores = {name: label_accuracies(latents, dataset_labels(dataset, name), episode)
              for name in LABELS}
    flag = "" if readout == "default" else f" --readout {readout}"
    return {"seed": seed, "camera": CAMERA, "agents": AGENTS, "readout": readout,
            "scores": scores, "evaluation": str(evaluation),
            "command": f"python -m socialview.benchmarks.labels_study --seed {seed}"
                       f" --out {root}{flag}"}


def table(rows: Sequence[dict[str, Any]]) -> str:
    """Markdown table: mean (min-max over seeds) accuracy per label and feature set."""
    names = ["jepa", "supervised", "random", "pixels", "chance"]
    lines = ["| label | " + " | ".join(names) + " | jepa − max(random, pixels) |",
             "|---|" + "---|" * (len(names) + 1)]
    for label in rows[0]["scores"]:
        cells = []
        for name in names:
            values = [row["scores"][label][name] for row in rows]
            cells.append(f"{np.mean(values):.2f} ({min(values):.2f}-{max(values):.2f})")
        margin = [row["scores"][label]["jepa"]
                  - max(row["scores"][label]["random"], row["scores"][label]["pixels"])
                  for row in rows]
        lines.append(f"| `{label}` | " + " | ".join(cells)
                     + f" | {np.mean(margin):+.2f} (min {min(margin):+.2f}) |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: score every label for each seed, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, nargs="+", default=[0])
    parser.add_argument("--out", default="results/labels-study")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--readout", choices=READOUTS, default="default",
                        help="each agent's default readout, or every agent's full latent")
    args = parser.parse_args(argv)
    root = Path(args.out)
    rows = []
    for seed in args.seed:
        path = root / "rows" / f"seed{seed}{_suffix(args.readout)}.json"
        row = run_seed(seed, root, args.threads, args.readout)
        write_json_atomic(path, row)
        rows.append(row)
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
