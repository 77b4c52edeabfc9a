"""Turn cell results into the sweep's tables, charts and report.

Rows: one per cell x agent x metric (``sweep.csv``/``sweep.json``). Summary: per
agent and overlap level, the mean over seeds with a 95% interval (Student t over
seeds when there are at least two, else the cell's own bootstrap interval).
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: Charted metrics: (row name, axis title).
CHART_METRICS = (
    ("r2_orthogonal", "held-out R² (orthogonal map)"),
    ("r2_linear", "held-out R² (linear map)"),
    ("linear_cka", "linear CKA"),
    ("mutual_knn", "mutual k-NN"),
    ("transfer_accuracy", "zero-shot transfer accuracy"),
)
#: Bands are clipped to the range a metric can take (R² has no lower bound).
METRIC_RANGE = {
    "r2_orthogonal": (None, 1.0),
    "r2_linear": (None, 1.0),
    "linear_cka": (0.0, 1.0),
    "mutual_knn": (0.0, 1.0),
    "transfer_accuracy": (0.0, 1.0),
}
CSV_COLUMNS = (
    "cell",
    "overlap_target",
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
    ("state_probe_objects_r2", "objects_r2"),
)


def _state_probe_rows(probes: dict[str, dict[str, Any]]) -> list[tuple[str, float | None]]:
    """(metric, value) pairs of one agent's per-camera state probes and their mean."""
    out = []
    for metric, key in STATE_PROBE_METRICS:
        values = []
        for camera in sorted(probes):
            value = probes[camera][key]
            finite = value is not None and math.isfinite(value)
            out.append((f"{metric}_{camera}", value if finite else None))
            values += [value] if finite else []
        out.append((metric, float(np.mean(values)) if values else None))
        if key == "pooled_r2":
            pusher = [probes[c]["bodies"]["pusher"]["r2"] for c in sorted(probes)]
            pusher = [v for v in pusher if v is not None and math.isfinite(v)]
            out.append(("state_probe_pusher_r2", float(np.mean(pusher)) if pusher else None))
    return out


def cell_rows(cell: dict[str, Any]) -> list[dict[str, Any]]:
    """Long-format rows of one successful cell."""
    rows = []
    common = {key: cell[key] for key in ("cell", "overlap_target", "overlap_measured", "seed")}
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


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean over seeds per (agent, metric, overlap level) with a 95% interval."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["agent"], row["metric"], row["overlap_target"])].append(row)
    summary = []
    for (agent, metric, target), members in sorted(groups.items()):
        values = np.array([m["value"] for m in members if m["value"] is not None], dtype=float)
        if values.size == 0:
            continue
        mean = float(values.mean())
        if values.size >= 2:
            half = _t_quantile(values.size - 1) * values.std(ddof=1) / math.sqrt(values.size)
            low, high, method = mean - half, mean + half, "t over seeds"
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


def draw_charts(summary: Sequence[dict[str, Any]], out_dir: Path) -> list[Path]:
    """Metric-vs-measured-overlap panels, one line per agent with 95% bands (PNG and SVG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agents = sorted({row["agent"] for row in summary})
    figure, axes = plt.subplots(1, len(CHART_METRICS), figsize=(4.0 * len(CHART_METRICS), 3.6))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for axis, (metric, title) in zip(axes, CHART_METRICS, strict=True):
        nulls = []
        for index, agent in enumerate(agents):
            points = sorted(
                (r for r in summary if r["agent"] == agent and r["metric"] == metric),
                key=lambda r: r["overlap_measured"],
            )
            if not points:
                continue
            x = [p["overlap_measured"] for p in points]
            colour = colours[index % len(colours)]
            axis.plot(x, [p["mean"] for p in points], "o-", color=colour, label=agent)
            low, high = METRIC_RANGE.get(metric, (None, None))
            axis.fill_between(
                x,
                np.clip([p["ci_low"] for p in points], low, high),
                np.clip([p["ci_high"] for p in points], low, high),
                color=colour,
                alpha=0.2,
            )
            nulls += [p["null_mean"] for p in points if p["null_mean"] is not None]
        if nulls:
            label = "chance" if metric == "transfer_accuracy" else "shuffled-pairing null"
            axis.axhline(
                float(np.mean(nulls)), color="grey", linestyle="--", linewidth=1, label=label
            )
        if metric.startswith("r2_"):
            means = [r["mean"] for r in summary if r["metric"] == metric] + nulls
            if means:  # bands may reach far below; keep the lines readable
                axis.set_ylim(min(means) - 0.5, 1.0)
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("measured pixel overlap")
        axis.set_xlim(-0.03, 1.03)
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="best")
    figure.tight_layout()
    paths = []
    for suffix in ("png", "svg"):
        path = out_dir / f"sweep.{suffix}"
        partial = path.with_name(f".{path.name}.partial")
        figure.savefig(partial, dpi=120, format=suffix)
        os.replace(partial, path)
        paths.append(path)
    plt.close(figure)
    return paths


def summary_table(summary: Sequence[dict[str, Any]], metrics: Sequence[str]) -> str:
    """Markdown table: one row per agent and overlap level, mean [95% CI] per metric."""
    keyed = {(r["agent"], r["overlap_target"], r["metric"]): r for r in summary}
    levels = sorted({(r["agent"], r["overlap_target"]) for r in summary})
    lines = [
        "| agent | overlap (target) | overlap (measured) | " + " | ".join(metrics) + " |",
        "|---|---|---|" + "---|" * len(metrics),
    ]
    for agent, target in levels:
        cells = []
        measured = None
        for metric in metrics:
            row = keyed.get((agent, target, metric))
            if row is None:
                cells.append("–")
                continue
            measured = row["overlap_measured"]
            cells.append(f"{row['mean']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]")
        lines.append(f"| {agent} | {target:.2f} | {measured:.3f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def findings(summary: Sequence[dict[str, Any]], agents: Sequence[str]) -> list[str]:
    """Plain statements the data support, computed rather than written by hand."""
    from scipy import stats

    lines = []
    for agent in agents:
        points = [r for r in summary if r["agent"] == agent and r["metric"] == "r2_orthogonal"]
        if len(points) >= 3:
            rho, p_value = stats.spearmanr(
                [p["overlap_measured"] for p in points], [p["mean"] for p in points]
            )
            trend = "rises" if rho > 0 else "falls"
            lines.append(
                f"`{agent}`: held-out orthogonal-map R² {trend} with measured overlap "
                f"(Spearman ρ = {rho:.2f} over {len(points)} levels, p = {p_value:.3f})."
            )
    for agent in agents:
        points = [r for r in summary if r["agent"] == agent and r["metric"] == "r2_orthogonal"]
        if not points:
            continue
        best = max(points, key=lambda r: r["mean"])
        above = sum(1 for p in points if p["null_mean"] is not None and p["mean"] > p["null_mean"])
        verdict = (
            "an orthogonal map predicts the other agent's held-out latents better than their mean"
            if best["mean"] > 0
            else "even there an orthogonal map predicts the other agent's held-out latents worse "
            "than their mean, i.e. the two spaces are far from isometric"
        )
        lines.append(
            f"`{agent}`: best mean held-out orthogonal R² is {best['mean']:.3f} (at measured "
            f"overlap {best['overlap_measured']:.2f}); {verdict}. It is above the "
            f"shuffled-pairing null at {above} of {len(points)} levels."
        )
    seeds = max((r["n_seeds"] for r in summary), default=0)
    if seeds == 2:
        lines.append(
            "With 2 seeds the Student t interval has one degree of freedom (t = 12.7), so the "
            "bands are wide; more seeds (`--seeds 0 1 2 3 4`) narrow them."
        )
    trained = [a for a in agents if a not in ("random", "pca")]
    for agent in trained:
        for control in ("random", "pca"):
            if control not in agents:
                continue
            better = worse = 0
            for metric in ("r2_orthogonal", "transfer_accuracy"):
                ours = {
                    r["overlap_target"]: r
                    for r in summary
                    if r["agent"] == agent and r["metric"] == metric
                }
                theirs = {
                    r["overlap_target"]: r
                    for r in summary
                    if r["agent"] == control and r["metric"] == metric
                }
                for level in ours.keys() & theirs.keys():
                    if ours[level]["ci_low"] > theirs[level]["ci_high"]:
                        better += 1
                    elif ours[level]["ci_high"] < theirs[level]["ci_low"]:
                        worse += 1
            total = 2 * len({r["overlap_target"] for r in summary if r["agent"] == agent})
            lines.append(
                f"`{agent}` vs the `{control}` control (orthogonal R² and transfer accuracy, "
                f"{total} comparisons): clearly better in {better}, clearly worse in {worse}, "
                f"intervals overlapping in {total - better - worse}."
            )
    return lines
