"""The sweep report's per-agent tables: does each agent know the world, and transfer per label.

Split from :mod:`socialview.benchmarks.sweep_report` (rows, summaries and the
alignment findings): these read the same long-format rows and turn them into
the report's first section (held-out state probes against the labelled ceiling
and the untrained control) and its table of zero-shot transfer per task label.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from socialview.benchmarks.sweep_report import CONTROLS, PIXELS, t_interval
from socialview.envs.labels import DEFAULT_LABEL

__all__ = ["KNOWLEDGE_COLUMNS", "knowledge", "knowledge_lines", "label_transfer_lines"]


#: Columns of the "does it know the world?" table: (row metric, column title).
KNOWLEDGE_COLUMNS = (
    ("state_probe_r2", "ridge R²"),
    ("state_probe_knn_r2", "k-NN R²"),
    ("state_probe_pusher_r2", "pusher ridge"),
    ("state_probe_pusher_knn_r2", "pusher k-NN"),
    ("state_probe_objects_r2", "objects ridge"),
    ("state_probe_objects_knn_r2", "objects k-NN"),
    ("state_share", "state share"),
)
#: Row metrics the knowledge table summarises (per camera and their means).
KNOWLEDGE_PREFIXES = ("state_probe", "state_share")


def knowledge(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Whole-sweep state probe per (agent, metric): mean, 95% interval and its unit.

    Each seed's value is its mean over every cell it ran (every reachable overlap
    and shift), so the interval is Student t over seeds, which are independent
    worlds and agents. With one seed the interval is over cells instead (they
    share one world, so it is optimistic), and the unit says so.
    """
    per_seed: dict[tuple[str, str], dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if row["metric"].startswith(KNOWLEDGE_PREFIXES) and row["value"] is not None:
            per_seed[row["agent"], row["metric"]][row["seed"]].append(row["value"])
    out = {}
    for key, seeds in per_seed.items():
        if len(seeds) >= 2:
            values, unit = [float(np.mean(v)) for v in seeds.values()], "seeds"
        else:
            values, unit = next(iter(seeds.values())), "cells (one seed)"
        mean = float(np.mean(values))
        low, high = t_interval(values) if len(values) >= 2 else (mean, mean)
        out[key] = {"mean": mean, "ci_low": low, "ci_high": high, "n": len(values), "unit": unit}
    return out


def _role(agent: str, reference: bool) -> str:
    if agent == PIXELS:
        return "raw pixels (reference)"
    if reference:
        return "reference, uses labels"
    return "untrained control" if agent in CONTROLS else "learning agent"


def _interval(stat: dict[str, Any] | None) -> str:
    if stat is None:
        return "–"
    return f"{stat['mean']:.3f} [{stat['ci_low']:.3f}, {stat['ci_high']:.3f}]"


def knowledge_lines(rows: Sequence[dict[str, Any]], agents: Sequence[str]) -> list[str]:
    """The report's first section: does each agent know the world? A table, then sentences.

    The table holds every agent's held-out state probe (ridge and k-NN; pooled,
    pusher and objects apart) beside the labelled reference and the raw pixels.
    One computed sentence per learning agent sets its ridge R² against the
    reference ceiling and the untrained ``random`` control: the difference, and
    whether the 95% intervals separate.
    """
    stats = knowledge(rows)
    references = {r["agent"] for r in rows if r.get("reference") and r["agent"] != PIXELS}
    names = [a for a in agents if any(key[0] == a for key in stats)]
    names += [PIXELS] if any(key[0] == PIXELS for key in stats) else []
    if not names:
        return []
    unit = next(s["unit"] for s in stats.values())
    lines = [
        "| agent | role | " + " | ".join(title for _, title in KNOWLEDGE_COLUMNS) + " |",
        "|---|---|" + "---|" * len(KNOWLEDGE_COLUMNS),
    ]
    for agent in names:
        cells = [_interval(stats.get((agent, metric))) for metric, _ in KNOWLEDGE_COLUMNS]
        role = _role(agent, agent in references)
        lines.append(f"| {agent} | {role} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Held-out R² of probes from each camera's latents to the x/y of the pusher and the "
        f"objects (mean of the two cameras), averaged over every reachable cell; 95% intervals "
        f"over {unit}. 1 is perfect, 0 is the mean; below 0 the probe does worse than the mean. "
        "State share: the share of the latent's held-out variance that is a linear function "
        "of the world state (`socialview.alignment.state_share`). A high probe *and* a high "
        "share (the latent is the world and little else) is what lets two cameras' latents "
        "be one space in different coordinates (docs/agents-study.md, finding 7).",
        "",
    ]
    ceiling = next((a for a in agents if a in references), None)
    for agent in (a for a in names if a not in references and a != PIXELS and a not in CONTROLS):
        ours = stats.get((agent, "state_probe_r2"))
        if ours is None:
            continue
        parts = []
        for other, what in ((ceiling, "labelled ceiling"), ("random", "untrained control")):
            theirs = stats.get((other, "state_probe_r2")) if other else None
            if theirs is None:
                parts.append(f"no `{other or 'supervised'}` {what} in this sweep")
                continue
            apart = ours["ci_low"] > theirs["ci_high"] or ours["ci_high"] < theirs["ci_low"]
            parts.append(
                f"{ours['mean'] - theirs['mean']:+.3f} vs the `{other}` {what} "
                f"({theirs['mean']:.3f}; intervals {'separate' if apart else 'overlap'})"
            )
        lines.append(f"- `{agent}` state-probe R² {_interval(ours)}: " + "; ".join(parts) + ".")
    return lines


def label_transfer_lines(rows: Sequence[dict[str, Any]], agents: Sequence[str]) -> list[str]:
    """Zero-shot transfer per task label: mean accuracy over every reachable cell and seed.

    One row per label (``transfer_accuracy_<label>`` rows), one column per agent and the
    raw pixels, and the label's chance (majority-class share of the scored frames);
    a label where no agent leaves chance tells nothing about the map.
    """
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    chance: dict[str, list[float]] = defaultdict(list)
    prefix = "transfer_accuracy_"
    for row in rows:
        if row["metric"].startswith(prefix) and row["value"] is not None:
            label = row["metric"][len(prefix):]
            values[(label, row["agent"])].append(row["value"])
            if row["agent"] == PIXELS:
                chance[label].append(row["null_mean"])
    labels = sorted({label for label, _ in values})
    names = [a for a in [*agents, PIXELS] if any((lab, a) in values for lab in labels)]
    if not labels:
        return []
    lines = ["| label | " + " | ".join(names) + " | chance |",
             "|---|" + "---|" * (len(names) + 1)]
    for label in labels:
        cells = [f"{np.mean(values[(label, a)]):.3f}" if values.get((label, a)) else "–"
                 for a in names]
        odds = f"{np.mean(chance[label]):.3f}" if chance.get(label) else "–"
        default = " (default)" if label == DEFAULT_LABEL else ""
        lines.append(f"| `{label}`{default} | " + " | ".join(cells) + f" | {odds} |")
    return lines
