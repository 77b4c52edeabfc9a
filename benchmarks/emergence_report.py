"""Turn emergence measurements into ``emergence.csv``/``.json``, the chart and ``report.md``.

Rows: one per agent x seed x checkpoint x metric (long format). Summary: per
agent, checkpoint and metric, the mean over seeds and the min-max band over
seeds (with few seeds a Student t interval would be several times wider than
the data; the min-max band shows exactly what the seeds did).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from socialview.benchmarks._io import write_json_atomic, write_text_atomic
from socialview.benchmarks._settings import appendix_lines
from socialview.benchmarks.readout_report import readout_lines
from socialview.benchmarks.sweep_report import (
    CHART_METRICS,
    METRIC_RANGE,
    TRANSFER_METRICS,
    rows_to_csv,
)

__all__ = [
    "CSV_COLUMNS",
    "EMERGENCE_METRICS",
    "PROBE_KEYS",
    "READOUT_KEYS",
    "draw_chart",
    "flat_point",
    "readout_entries",
    "record_rows",
    "summarise",
    "summary_lines",
    "write_outputs",
]

CSV_COLUMNS = ("agent", "seed", "step", "fraction", "flops", "metric", "value")
#: Per-camera state-probe numbers kept as rows (``<key>_<camera>``).
PROBE_KEYS = (
    "pooled_r2",
    "knn_pooled_r2",
    "pusher_r2",
    "pusher_knn_r2",
    "objects_r2",
    "objects_knn_r2",
    "state_share",
)
#: Per-camera readout numbers kept as rows for agents with a core readout: the width
#: compared (``core_width_<camera>``; an empty value is the full latent) and, as
#: ``gap_<key>_<camera>``, the spectrum's widest gap (its width and eigenvalue ratio),
#: the shares the guards test at that width (variance, actions' effect, the head's
#: output), and the width latched during training with its ratio now and those shares
#: there (empty in records made before they were recorded). They show,
#: checkpoint by checkpoint, how far from each threshold a camera's core stands.
READOUT_KEYS = (
    "width",
    "ratio",
    "share",
    "action_share",
    "reader_share",
    "latched",
    "latched_ratio",
    "latched_share",
    "latched_action_share",
    "latched_reader_share",
)
#: Charted metrics in panel order: the state probe first, then the sweep's alignment panels.
EMERGENCE_METRICS = (
    ("state_probe_r2", "state probe R² (ridge, mean of cameras)"),
    *CHART_METRICS,
)
BAND = "min–max over seeds"


def _mean_or_none(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def record_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Long-format rows of one measurement record."""
    common = {k: record[k] for k in ("agent", "seed", "step", "fraction", "flops")}
    probes = record["probe"]
    values: dict[str, float | None] = {
        "state_probe_r2": _mean_or_none([p["pooled_r2"] for p in probes.values()]),
        "state_probe_knn_r2": _mean_or_none([p["knn_pooled_r2"] for p in probes.values()]),
    }
    for camera, probe in probes.items():
        values.update({f"{key}_{camera}": probe.get(key) for key in PROBE_KEYS})
    values.update({m: s["value"] for m, s in record["compare"]["metrics"].items()})
    values.update({m: record["transfer"][m] for m in TRANSFER_METRICS})
    values.update(_readout_values(record))
    return [{**common, "metric": metric, "value": value} for metric, value in values.items()]


def _readout_values(record: dict[str, Any]) -> dict[str, float | None]:
    """``core_width_<camera>`` and ``gap_<key>_<camera>`` for every camera with a core readout."""
    values: dict[str, float | None] = {}
    for camera, train in (record.get("train") or {}).items():
        gap = train.get("spectral_gap")
        if gap is None:  # an agent without a core readout compares its full latent
            continue
        values[f"core_width_{camera}"] = train.get("core_width")
        values.update({f"gap_{key}_{camera}": gap.get(key) for key in READOUT_KEYS})
    return values


def readout_entries(records: Sequence[dict[str, Any]]) -> list[tuple[tuple, dict[str, Any]]]:
    """``((agent, seed, camera, step), readout)`` for every camera of every record, ordered
    so each camera's checkpoints follow one another (for :func:`readout_table`)."""
    entries = [
        ((record["agent"], record["seed"], camera, record["step"]), train)
        for record in records
        for camera, train in (record.get("train") or {}).items()
    ]
    return sorted(entries, key=lambda entry: entry[0])


def _nulls(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Mean shuffled-pairing null per alignment metric (chance for transfer)."""
    nulls: dict[str, list[float]] = defaultdict(list)
    for record in records:
        for metric, stats in record["compare"]["metrics"].items():
            if stats.get("null_mean") is not None:
                nulls[metric].append(stats["null_mean"])
        nulls["transfer_accuracy"].append(record["transfer"]["chance"])
    return {metric: float(np.mean(v)) for metric, v in nulls.items() if v}


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and min-max over seeds per (agent, checkpoint step, metric)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["agent"], row["step"], row["metric"])].append(row)
    summary = []
    for (agent, step, metric), members in sorted(groups.items()):
        values = np.array([m["value"] for m in members if m["value"] is not None], dtype=float)
        if values.size == 0:
            continue
        summary.append(
            {
                "agent": agent,
                "step": step,
                "fraction": members[0]["fraction"],
                "flops": float(np.mean([m["flops"] for m in members])),
                "metric": metric,
                "mean": float(values.mean()),
                "low": float(values.min()),
                "high": float(values.max()),
                "band": BAND,
                "n_seeds": int(values.size),
            }
        )
    return summary


def _series(summary: Sequence[dict[str, Any]], agent: str, metric: str) -> list[dict[str, Any]]:
    return sorted(
        (r for r in summary if r["agent"] == agent and r["metric"] == metric),
        key=lambda r: r["step"],
    )


def flat_point(points: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The summary point an agent with no counted training FLOP is drawn at (a
    horizontal line): its last checkpoint, so a control that learns without a counted
    FLOP (``pca`` keeps frames and fits on them) shows how it ends its budget, not
    how it starts. None for an agent whose training FLOPs were counted."""
    if not points or any(p["flops"] > 0 for p in points):
        return None
    return max(points, key=lambda p: p["step"])


def _label(agent: str, reference: bool, untrained: bool, last_step: int = 0) -> str:
    if reference:
        return f"{agent} (reference, uses labels)"
    if not untrained:
        return agent
    if last_step:  # it learns, but nothing it does is a counted FLOP (pca's frames)
        return f"{agent} (after {last_step} steps, no FLOPs counted)"
    return f"{agent} (untrained, 0 FLOPs)"


def draw_chart(
    summary: Sequence[dict[str, Any]],
    agents: Sequence[str],
    references: set[str],
    nulls: dict[str, float],
    out_dir: Path,
) -> list[Path]:
    """One panel per metric against training FLOPs per agent (log x), PNG and SVG.

    The 0-FLOP checkpoint (the untrained encoder) sits at the left edge, a decade
    below the first nonzero checkpoint, under a tick labelled "0". Agents that
    never train (all checkpoints at 0 FLOPs) are a horizontal line with their band, at
    their last checkpoint: an agent that learns without a counted FLOP (``pca``, which
    keeps frames and fits its components on them) is drawn as it ends its budget.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    positive = [r["flops"] for r in summary if r["flops"] > 0]
    lowest = min(positive, default=1.0)
    highest = max(positive, default=10.0)
    zero_x = lowest / 10.0
    columns = 3
    rows = -(-len(EMERGENCE_METRICS) // columns)
    figure, grid = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.6 * rows), squeeze=False)
    axes = list(grid.flat)[: len(EMERGENCE_METRICS)]
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for axis, (metric, title) in zip(axes, EMERGENCE_METRICS, strict=True):
        low_clip, high_clip = METRIC_RANGE.get(metric, (None, 1.0))
        for index, agent in enumerate(agents):
            points = _series(summary, agent, metric)
            if not points:
                continue
            colour = colours[index % len(colours)]
            style = "--" if agent in references else "-"
            flat = flat_point(points)
            label = _label(agent, agent in references, flat is not None,
                           0 if flat is None else int(flat["step"]))
            if flat is not None:
                axis.axhline(flat["mean"], color=colour, linestyle=":", label=label)
                axis.axhspan(flat["low"], flat["high"], color=colour, alpha=0.12)
                continue
            x = [p["flops"] if p["flops"] > 0 else zero_x for p in points]
            axis.plot(x, [p["mean"] for p in points], "o" + style, color=colour, label=label)
            axis.fill_between(
                x,
                np.clip([p["low"] for p in points], low_clip, high_clip),
                np.clip([p["high"] for p in points], low_clip, high_clip),
                color=colour,
                alpha=0.2,
            )
        if metric in nulls:
            label = "chance" if metric == "transfer_accuracy" else "shuffled-pairing null"
            axis.axhline(nulls[metric], color="grey", linestyle=(0, (1, 2)), label=label)
        axis.set_xscale("log")
        axis.set_xlim(zero_x / 2.0, highest * 2.0)
        decades = np.arange(np.ceil(np.log10(lowest)), np.floor(np.log10(highest)) + 1)
        ticks = [zero_x, *(10.0**decades)]
        axis.set_xticks(ticks, ["0\n(untrained)", *(f"$10^{{{int(d)}}}$" for d in decades)])
        axis.minorticks_off()
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("training FLOPs per agent")
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="best")
    figure.suptitle(f"lines: mean over seeds; bands: {BAND}", fontsize=9)
    figure.tight_layout()
    paths = []
    for suffix in ("png", "svg"):
        path = out_dir / f"emergence.{suffix}"
        partial = path.with_name(f".{path.name}.partial")
        figure.savefig(partial, dpi=110, format=suffix)
        os.replace(partial, path)
        paths.append(path)
    plt.close(figure)
    return paths


def _spread(row: dict[str, Any] | None) -> str:
    if row is None:
        return "–"
    if row["n_seeds"] == 1:
        return f"{row['mean']:.3f}"
    return f"{row['mean']:.3f} [{row['low']:.3f}, {row['high']:.3f}]"


def first_last_table(summary: Sequence[dict[str, Any]], agents: Sequence[str]) -> str:
    """Markdown: per agent, state probe and orthogonal R² at the first and last checkpoint."""
    lines = [
        "| agent | checkpoint | steps | FLOPs per agent | state probe R² | orthogonal R² |",
        "|---|---|---|---|---|---|",
    ]
    for agent in agents:
        probe = _series(summary, agent, "state_probe_r2")
        orthogonal = {r["step"]: r for r in _series(summary, agent, "r2_orthogonal")}
        steps = sorted({r["step"] for r in probe} | set(orthogonal))
        by_step = {r["step"]: r for r in probe}
        for name, step in (("first", steps[0]), ("last", steps[-1])) if steps else ():
            row = by_step.get(step) or orthogonal.get(step)
            lines.append(
                f"| {agent} | {name} | {step} | {row['flops']:.3g} | "
                f"{_spread(by_step.get(step))} | {_spread(orthogonal.get(step))} |"
            )
    return "\n".join(lines)


def persistence_sentence(summary: Sequence[dict[str, Any]], agent: str) -> str | None:
    """Did orthogonal R² fall from the first nonzero checkpoint to the end, beyond the band?

    "Beyond the band" means the two checkpoints' min-max bands over seeds do not
    overlap (with one seed: the two values differ at all, which is said). A fall from
    the peak to the end beyond the band is said too: a curve that rises, then falls
    back to where it began, has not held what it reached.
    """
    points = [p for p in _series(summary, agent, "r2_orthogonal") if p["step"] > 0]
    if len(points) < 2:
        return None
    first, last = points[0], points[-1]
    peak = max(points, key=lambda p: p["mean"])
    single = min(first["n_seeds"], last["n_seeds"]) == 1
    beyond = "(one seed, so no band: single values)" if single else (
        "beyond the seed band (the two bands do not overlap)"
    )
    if last["high"] < first["low"]:
        verdict = f"fell {beyond}"
    elif last["low"] > first["high"]:
        verdict = f"rose {beyond}"
    else:
        verdict = "did not change beyond the seed band (the two bands overlap)"
    from_peak = ""
    if peak["step"] != last["step"] and not single and last["high"] < peak["low"]:
        from_peak = (f"; by the end it had fallen from there beyond the seed band "
                     f"({_spread(peak)} at the peak)")
    return (
        f"`{agent}`: orthogonal-map R² went from {_spread(first)} at step {first['step']} "
        f"({first['flops']:.3g} FLOPs) to {_spread(last)} at step {last['step']} "
        f"({last['flops']:.3g} FLOPs): it {verdict}. Its mean peaked at {peak['mean']:.3f} "
        f"(step {peak['step']}){from_peak}."
    )


def summary_lines(summary: Sequence[dict[str, Any]], agents: Sequence[str]) -> list[str]:
    """The first/last table and the computed sentences (printed by the command)."""
    sentences = [persistence_sentence(summary, agent) for agent in agents]
    return [first_last_table(summary, agents), "", *[s for s in sentences if s]]


def write_outputs(
    config: Any,
    out: Path,
    records: list[dict[str, Any]],
    meta: dict[str, Any],
    wall_time_s: float,
    invocation: str | None = None,
) -> dict[str, Any]:
    """Write emergence.csv/json, the chart and report.md from the measurement records."""
    from socialview.agents import is_reference_agent
    from socialview.benchmarks.overlap_sweep import software_versions

    rows = [row for record in records for row in record_rows(record)]
    summary = summarise(rows)
    (out / ".emergence.csv.partial").write_text(rows_to_csv(rows, CSV_COLUMNS))
    os.replace(out / ".emergence.csv.partial", out / "emergence.csv")
    references = {agent for agent in config.agents if is_reference_agent(agent)}
    outputs = ["emergence.csv", "emergence.json", "report.md"]
    outputs += [
        p.name for p in draw_chart(summary, config.agents, references, _nulls(records), out)
    ]
    payload = {
        "config": config.to_dict(),
        "versions": software_versions(),
        "invocation": invocation,
        "overlap_measured": meta["overlap"],
        "band": BAND,
        "wall_time_s": wall_time_s,
        "records": records,
        "summary": summary,
        "outputs": outputs,
    }
    write_json_atomic(out / "emergence.json", payload)
    _write_report(out, config, summary, references, payload)
    return payload


def _write_report(
    out: Path,
    config: Any,
    summary: Sequence[dict[str, Any]],
    references: set[str],
    payload: dict[str, Any],
) -> Path:
    """report.md: command, chart, first/last numbers, the computed verdicts, config, versions."""
    episodes = payload["records"][0]["probe"]["cam0"]["detail"]["n_test_episodes"]
    invocation = payload["invocation"]
    lines = [
        "# Emergence curve",
        "",
        *([f"Made by: `{invocation}`", ""] if invocation else []),
        f"Overlap {config.overlap:.2f} (measured {payload['overlap_measured']:.3f}), viewpoint "
        f"shift {config.viewpoint_shift:g}°, {config.image_size} px; agents "
        f"{', '.join(f'`{a}`' for a in config.agents)}; seeds {config.seeds}; checkpoints at "
        f"fractions {config.fractions} of each agent's steps. Every number is measured on "
        f"{episodes} held-out episodes of a separately seeded evaluation recording.",
        "",
        "![metrics against training FLOPs](emergence.png)",
        "",
        f"Lines: mean over seeds; bands: {BAND}. Dashed: labelled references "
        f"({', '.join(sorted(references)) or 'none'}), not emergent results; dotted "
        "horizontal: agents with no counted training FLOP, at their last checkpoint "
        "(untrained, or fitted without one, like `pca`); grey dotted: shuffled-pairing "
        "null (chance for transfer).",
        "",
        "## First and last checkpoint",
        "",
        first_last_table(summary, config.agents),
        "",
        "## Does alignment last?",
        "",
        *[f"- {s}" for a in config.agents if (s := persistence_sentence(summary, a))],
        "",
        *readout_lines("## What each camera compared", ("agent", "seed", "camera", "step"),
                       readout_entries(payload["records"])),
        *appendix_lines(config, payload["versions"]),
    ]
    return write_text_atomic(out / "report.md", "\n".join(lines))
