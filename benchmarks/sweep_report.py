"""Turn cell results into the sweep's tables and the statements of its report.

Rows: one per cell x agent x metric (``sweep.csv``/``sweep.json``); the raw-pixel
reference appears as agent ``pixels``. Summary: per agent, metric and (overlap,
viewpoint shift) level, the mean over seeds with a 95% interval (Student t over
seeds when there are at least two, else the cell's own bootstrap interval). The
charts are drawn by :mod:`socialview.benchmarks.sweep_charts`, the per-agent tables
(state probes, transfer per task label) made by :mod:`socialview.benchmarks.sweep_knowledge`.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from socialview.envs.labels import DEFAULT_LABEL

#: Charted metrics: (row name, axis title).
CHART_METRICS = (
    ("r2_orthogonal", "held-out R² (orthogonal map)"),
    ("r2_linear", "held-out R² (linear map)"),
    ("linear_cka", "linear CKA"),
    ("mutual_knn", "mutual k-NN"),
    ("transfer_accuracy", f"zero-shot transfer ({DEFAULT_LABEL.replace('_', ' ')})"),
)
#: Bands are clipped to the range a metric can take (R² has no lower bound).
METRIC_RANGE = {
    "r2_orthogonal": (None, 1.0),
    "r2_linear": (None, 1.0),
    "linear_cka": (0.0, 1.0),
    "mutual_knn": (0.0, 1.0),
    "transfer_accuracy": (0.0, 1.0),
    "state_probe_r2": (None, 1.0),
}
CSV_COLUMNS = (
    "cell",
    "overlap_target",
    "viewpoint_shift",
    "overlap_measured",
    "seed",
    "agent",
    "reference",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "null_mean",
    "p_value",
)
TRANSFER_METRICS = ("transfer_accuracy", "native_accuracy", "source_accuracy", "chance")
#: State-probe rows: (row name prefix, key of the cell's per-camera probe summary). Each
#: gets one row per camera (``state_probe_r2_cam0`` ...) and one for their mean
#: (``state_probe_r2``): does the agent know the world, before any alignment?
STATE_PROBE_METRICS = (
    ("state_probe_r2", "pooled_r2"),
    ("state_probe_knn_r2", "knn_pooled_r2"),
    ("state_probe_pusher_r2", "pusher_r2"),
    ("state_probe_pusher_knn_r2", "pusher_knn_r2"),
    ("state_probe_objects_r2", "objects_r2"),
    ("state_probe_objects_knn_r2", "objects_knn_r2"),
    ("state_share", "state_share"),
)
#: Name of the raw-pixel reference among the agents of a cell (see ``sweep_cell.PIXELS``).
PIXELS = "pixels"
#: Untrained controls: what a learning agent must beat.
CONTROLS = ("random", "pca")


def _state_probe_rows(probes: dict[str, dict[str, Any]]) -> list[tuple[str, float | None]]:
    """(metric, value) pairs of one agent's per-camera state probes and their mean."""
    out = []
    for metric, key in STATE_PROBE_METRICS:
        values = []
        for camera in sorted(probes):
            value = probes[camera].get(key)
            finite = value is not None and math.isfinite(value)
            out.append((f"{metric}_{camera}", value if finite else None))
            values += [value] if finite else []
        out.append((metric, float(np.mean(values)) if values else None))
    return out


def cell_rows(cell: dict[str, Any]) -> list[dict[str, Any]]:
    """Long-format rows of one successful cell."""
    rows = []
    keys = ("cell", "overlap_target", "viewpoint_shift", "overlap_measured", "seed")
    common = {key: cell.get(key) for key in keys}
    for agent, result in cell["agents"].items():
        common["reference"] = bool(result.get("reference", False))
        for metric, value in _state_probe_rows(result.get("state_probe", {})):
            rows.append({**common, "agent": agent, "metric": metric, "value": value,
                         "ci_low": None, "ci_high": None, "null_mean": None, "p_value": None})
        for metric, stats in result["compare"]["metrics"].items():
            rows.append(
                {
                    **common,
                    "agent": agent,
                    "metric": metric,
                    "value": stats["value"],
                    "ci_low": stats["ci_low"],
                    "ci_high": stats["ci_high"],
                    "null_mean": stats["null_mean"],
                    "p_value": stats["p_value"],
                }
            )
        for metric in TRANSFER_METRICS:
            rows.append(
                {
                    **common,
                    "agent": agent,
                    "metric": metric,
                    "value": result["transfer"][metric],
                    "ci_low": None,
                    "ci_high": None,
                    "null_mean": result["transfer"]["chance"]
                    if metric == "transfer_accuracy"
                    else None,
                    "p_value": None,
                }
            )
        rows += _label_transfer_rows(common, agent, result["transfer"])
    return rows


def _label_transfer_rows(common: dict[str, Any], agent: str, transfer: dict) -> list[dict]:
    """``transfer_accuracy_<label>`` rows (null: that label's chance) for every task label."""
    rows = []
    for label, outcome in transfer.get("labels", {}).items():
        rows.append({**common, "agent": agent, "metric": f"transfer_accuracy_{label}",
                     "value": None if outcome is None else outcome["transfer_accuracy"],
                     "ci_low": None, "ci_high": None,
                     "null_mean": None if outcome is None else outcome["chance"],
                     "p_value": None})
    return rows


def rows_to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str] = CSV_COLUMNS) -> str:
    """CSV text with ``columns`` (default :data:`CSV_COLUMNS`); None becomes an empty cell."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})
    return buffer.getvalue()


def _t_quantile(dof: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.975, dof))


def t_interval(values: Sequence[float]) -> tuple[float, float]:
    """95% Student t interval of the mean of ``values`` (at least two)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    half = _t_quantile(values.size - 1) * values.std(ddof=1) / math.sqrt(values.size)
    return mean - half, mean + half


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean over seeds per (agent, metric, overlap, viewpoint shift) with a 95% interval."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        key = (row["agent"], row["metric"], row["overlap_target"], row["viewpoint_shift"])
        groups[key].append(row)
    summary = []
    for (agent, metric, target, shift), members in sorted(groups.items()):
        values = np.array([m["value"] for m in members if m["value"] is not None], dtype=float)
        if values.size == 0:
            continue
        mean = float(values.mean())
        if values.size >= 2:
            low, high = t_interval(values)
            method = "t over seeds"
        elif members[0]["ci_low"] is not None:
            low, high, method = members[0]["ci_low"], members[0]["ci_high"], "cell bootstrap"
        else:
            low = high = mean
            method = "single value"
        nulls = [m["null_mean"] for m in members if m["null_mean"] is not None]
        summary.append(
            {
                "agent": agent,
                "metric": metric,
                "overlap_target": target,
                "viewpoint_shift": shift,
                "overlap_measured": float(np.mean([m["overlap_measured"] for m in members])),
                "mean": mean,
                "ci_low": float(low),
                "ci_high": float(high),
                "ci_method": method,
                "n_seeds": int(values.size),
                "null_mean": float(np.mean(nulls)) if nulls else None,
            }
        )
    return summary


def summary_table(
    summary: Sequence[dict[str, Any]],
    metrics: Sequence[str],
    unreachable: Sequence[tuple[float, float]] = (),
) -> str:
    """Markdown table: one row per agent and (shift, overlap) level, mean [95% CI] per metric.

    ``unreachable`` (overlap, shift) pairs get a row of blanks per agent, so a
    reader sees the hole in the grid rather than a missing line.
    """
    keyed = {
        (r["agent"], r["viewpoint_shift"], r["overlap_target"], r["metric"]): r for r in summary
    }
    agents = sorted({r["agent"] for r in summary})
    levels = {(a, r["viewpoint_shift"], r["overlap_target"]) for a in agents for r in summary
              if r["agent"] == a}
    levels |= {(a, shift, overlap) for a in agents for overlap, shift in unreachable}
    lines = [
        "| agent | shift | overlap (target) | overlap (measured) | " + " | ".join(metrics) + " |",
        "|---|---|---|---|" + "---|" * len(metrics),
    ]
    for agent, shift, target in sorted(levels):
        cells, measured = [], "unreachable"
        for metric in metrics:
            row = keyed.get((agent, shift, target, metric))
            if row is None:
                cells.append("–")
                continue
            measured = f"{row['overlap_measured']:.3f}"
            cells.append(f"{row['mean']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]")
        lines.append(
            f"| {agent} | {shift:g}° | {target:.2f} | {measured} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def _points(summary: Sequence[dict[str, Any]], agent: str, metric: str, shift: float) -> list:
    return [
        r for r in summary
        if r["agent"] == agent and r["metric"] == metric and r["viewpoint_shift"] == shift
    ]  # fmt: skip


def _versus(summary: Sequence[dict[str, Any]], agent: str, control: str, shift: float) -> str:
    """How ``agent`` compares with ``control`` at one shift (orthogonal R² and transfer)."""
    better = worse = total = 0
    for metric in ("r2_orthogonal", "transfer_accuracy"):
        ours = {r["overlap_target"]: r for r in _points(summary, agent, metric, shift)}
        theirs = {r["overlap_target"]: r for r in _points(summary, control, metric, shift)}
        for level in ours.keys() & theirs.keys():
            total += 1
            if ours[level]["ci_low"] > theirs[level]["ci_high"]:
                better += 1
            elif ours[level]["ci_high"] < theirs[level]["ci_low"]:
                worse += 1
    return (
        f"`{agent}` vs the `{control}` control (orthogonal R² and transfer accuracy, "
        f"{total} comparisons): clearly better in {better}, clearly worse in {worse}, "
        f"intervals overlapping in {total - better - worse}."
    )


def findings(summary: Sequence[dict[str, Any]], agents: Sequence[str]) -> list[str]:
    """Plain statements the alignment data support, per viewpoint shift; computed, not written."""
    from scipy import stats

    lines = []
    for shift in sorted({r["viewpoint_shift"] for r in summary}):
        at = f"Shift {shift:g}°"
        for agent in agents:
            points = _points(summary, agent, "r2_orthogonal", shift)
            if len(points) >= 3:
                rho, p_value = stats.spearmanr(
                    [p["overlap_measured"] for p in points], [p["mean"] for p in points]
                )
                trend = "rises" if rho > 0 else "falls"
                lines.append(
                    f"{at}, `{agent}`: held-out orthogonal-map R² {trend} with measured overlap "
                    f"(Spearman ρ = {rho:.2f} over {len(points)} levels, p = {p_value:.3f})."
                )
            if not points:
                continue
            best = max(points, key=lambda r: r["mean"])
            above = sum(
                1 for p in points if p["null_mean"] is not None and p["mean"] > p["null_mean"]
            )
            verdict = (
                "an orthogonal map predicts the other agent's held-out latents better than "
                "their mean"
                if best["mean"] > 0
                else "even there an orthogonal map predicts the other agent's held-out latents "
                "worse than their mean, i.e. the two spaces are far from isometric"
            )
            lines.append(
                f"{at}, `{agent}`: best mean held-out orthogonal R² is {best['mean']:.3f} (at "
                f"measured overlap {best['overlap_measured']:.2f}); {verdict}. It is above the "
                f"shuffled-pairing null at {above} of {len(points)} levels."
            )
        for agent in (a for a in agents if a not in CONTROLS):
            lines += [
                f"{at}, {_versus(summary, agent, control, shift)}"
                for control in CONTROLS
                if control in agents
            ]
    for agent in agents:
        ours = {
            (r["viewpoint_shift"], r["overlap_target"]): r["mean"]
            for r in summary if r["agent"] == agent and r["metric"] == "linear_cka"
        }  # fmt: skip
        pixels = {
            (r["viewpoint_shift"], r["overlap_target"]): r["mean"]
            for r in summary if r["agent"] == PIXELS and r["metric"] == "linear_cka"
        }  # fmt: skip
        shared = ours.keys() & pixels.keys()
        if shared:
            above = sum(1 for level in shared if ours[level] > pixels[level])
            lines.append(
                f"`{agent}`: latent linear CKA above the raw-pixel CKA of the same cameras at "
                f"{above} of {len(shared)} (overlap, shift) levels (see latent_vs_pixels.png)."
            )
    seeds = max((r["n_seeds"] for r in summary), default=0)
    if seeds == 2:
        lines.append(
            "With 2 seeds the Student t interval has one degree of freedom (t = 12.7), so the "
            "bands are wide; more seeds (`--seeds 0 1 2 3 4`) narrow them."
        )
    return lines
