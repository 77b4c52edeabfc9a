"""The overlap sweep's charts: metrics against overlap, heat maps, latent vs pixel similarity.

Three figures, each written as PNG and SVG (to a temporary name, then renamed):

- ``sweep``: one row of panels per viewpoint shift, metric against measured
  overlap, one line per agent with its 95% band. The state probe (does the agent
  know the world?) comes first, then the alignment metrics. Agents that use
  labels are dashed and labelled as references; the raw pixels are dotted.
- ``sweep_heatmap``: per metric (rows) and agent (columns) the seed mean over the
  (overlap x shift) grid; cells the rig cannot reach stay blank.
- ``latent_vs_pixels``: per cell and agent, the agents' latent linear CKA against
  the raw-pixel linear CKA of the same two cameras: how much similarity the
  agents add beyond what their inputs already share.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from socialview.benchmarks.sweep_report import CHART_METRICS, CONTROLS, METRIC_RANGE, PIXELS
from socialview.envs.labels import DEFAULT_LABEL

__all__ = ["PANELS", "draw_all", "draw_charts", "draw_heatmaps", "draw_latent_vs_pixels"]

#: Panels of the line charts and the heat maps, in order: the state probe first.
PANELS = (("state_probe_r2", "state probe R² (ridge, mean of cameras)"), *CHART_METRICS)
#: Short row labels of the heat maps.
SHORT_TITLES = {
    "state_probe_r2": "state probe R²",
    "r2_orthogonal": "orthogonal-map R²",
    "r2_linear": "linear-map R²",
    "linear_cka": "linear CKA",
    "mutual_knn": "mutual k-NN",
    "transfer_accuracy": f"transfer accuracy ({DEFAULT_LABEL.replace('_', ' ')})",
}
#: Fixed colour scales, so heat maps of different sweeps read alike; R² below -1
#: (far worse than predicting the mean) saturates at the bottom colour.
HEATMAP_RANGE = {"bounded": (0.0, 1.0), "r2": (-1.0, 1.0)}
LATENT_VS_PIXELS_CAPTION = (
    "One point per cell and agent. Points above the diagonal are similarity the agents "
    "add beyond their inputs."
)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, out_dir: Path, stem: str) -> list[Path]:
    """Write ``figure`` as ``stem.png`` and ``stem.svg`` (each atomically); close it."""
    paths = [_save_as(figure, out_dir / f"{stem}.{suffix}") for suffix in ("png", "svg")]
    _pyplot().close(figure)
    return paths


def _save_as(figure: Any, path: Path) -> Path:
    """Save to a temporary name beside ``path``, then rename: readers never see half a file."""
    partial = path.with_name(f".{path.name}.partial")
    figure.savefig(partial, dpi=120, format=path.suffix.lstrip("."))
    os.replace(partial, path)
    return path


def _agent_order(names: set[str], references: set[str]) -> list[str]:
    """Learning agents, then controls, then labelled references, then the raw pixels."""

    def rank(name: str) -> tuple[int, str]:
        if name == PIXELS:
            return 3, name
        return (2 if name in references else 1 if name in CONTROLS else 0), name

    return sorted(names, key=rank)


def _style(agent: str, references: set[str]) -> tuple[str, str]:
    """(line style, legend label) of an agent: references dashed, pixels dotted."""
    if agent == PIXELS:
        return ":", "pixels (raw frames)"
    if agent in references:
        return "--", f"{agent} (reference, uses labels)"
    return "-", agent


def draw_charts(
    summary: Sequence[dict[str, Any]], out_dir: Path, references: set[str] = frozenset()
) -> list[Path]:
    """``sweep.png/.svg``: a row of panels per shift, metric vs measured overlap, 95% bands."""
    plt = _pyplot()
    shifts = sorted({r["viewpoint_shift"] for r in summary})
    agents = _agent_order({r["agent"] for r in summary}, references)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    figure, axes = plt.subplots(
        len(shifts), len(PANELS), figsize=(3.8 * len(PANELS), 3.3 * len(shifts)), squeeze=False
    )
    for row, shift in enumerate(shifts):
        for axis, (metric, title) in zip(axes[row], PANELS, strict=True):
            here = [r for r in summary if r["metric"] == metric and r["viewpoint_shift"] == shift]
            for index, agent in enumerate(agents):
                points = sorted(
                    (r for r in here if r["agent"] == agent), key=lambda r: r["overlap_measured"]
                )
                if not points:
                    continue
                x = [p["overlap_measured"] for p in points]
                colour = colours[index % len(colours)]
                style, label = _style(agent, references)
                axis.plot(x, [p["mean"] for p in points], style, marker="o", markersize=4,
                          color=colour, label=label)  # fmt: skip
                low, high = METRIC_RANGE.get(metric, (None, None))
                axis.fill_between(x, np.clip([p["ci_low"] for p in points], low, high),
                                  np.clip([p["ci_high"] for p in points], low, high),
                                  color=colour, alpha=0.15)  # fmt: skip
            nulls = [r["null_mean"] for r in here if r["null_mean"] is not None]
            if nulls:
                label = "chance" if metric == "transfer_accuracy" else "shuffled-pairing null"
                axis.axhline(float(np.mean(nulls)), color="grey", linestyle="-.", linewidth=1,
                             label=label)  # fmt: skip
            if "r2" in metric:
                means = [r["mean"] for r in here] + nulls
                if means:  # bands may reach far below; keep the lines readable
                    axis.set_ylim(max(min(means) - 0.3, -3.0), 1.02)
            axis.set_title(f"shift {shift:g}°: {title}", fontsize=9)
            axis.set_xlabel("measured pixel overlap", fontsize=8)
            axis.set_xlim(-0.03, 1.03)
            axis.grid(alpha=0.3)
    legend = {}  # every label of the top row once (agents, then the null and chance)
    for axis in axes[0]:
        for handle, label in zip(*axis.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    axes[0, 0].legend(legend.values(), legend.keys(), fontsize=7, loc="best")
    figure.tight_layout()
    return _save(figure, out_dir, "sweep")


def draw_heatmaps(
    summary: Sequence[dict[str, Any]],
    out_dir: Path,
    overlaps: Sequence[float],
    shifts: Sequence[float],
    references: set[str] = frozenset(),
) -> list[Path]:
    """``sweep_heatmap.png/.svg``: seed means over (overlap x shift) per metric and agent.

    Rows are metrics, columns agents; colour scales are fixed per kind of metric
    (:data:`HEATMAP_RANGE`) and every cell is labelled with its value. A level
    with no value (unreachable, or every seed failed) stays blank.
    """
    plt = _pyplot()
    agents = _agent_order({r["agent"] for r in summary}, references)
    keyed = {(r["agent"], r["metric"], r["viewpoint_shift"], r["overlap_target"]): r["mean"]
             for r in summary}  # fmt: skip
    figure, axes = plt.subplots(
        len(PANELS),
        len(agents),
        figsize=(0.6 * len(overlaps) * len(agents) + 2.5, 0.5 * len(shifts) * len(PANELS) + 2.5),
        squeeze=False,
        constrained_layout=True,
    )
    cmap = plt.get_cmap("viridis").with_extremes(bad="white")
    for row, (metric, _) in enumerate(PANELS):
        vmin, vmax = HEATMAP_RANGE["r2" if "r2" in metric else "bounded"]
        image = None
        for column, agent in enumerate(agents):
            axis = axes[row, column]
            grid = np.array([[keyed.get((agent, metric, s, o), np.nan) for o in overlaps]
                             for s in shifts], dtype=float)  # fmt: skip
            image = axis.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=vmin, vmax=vmax,
                                origin="lower", aspect="auto")  # fmt: skip
            for (i, j), value in np.ndenumerate(grid):
                if np.isfinite(value):
                    axis.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6,
                              color="white" if value < (vmin + vmax) / 2 else "black")  # fmt: skip
            axis.set_xticks(range(len(overlaps)), [f"{o:g}" for o in overlaps], fontsize=6)
            axis.set_yticks(range(len(shifts)), [f"{s:g}°" for s in shifts], fontsize=6)
            if row == 0:
                axis.set_title(_style(agent, references)[1], fontsize=8)
            if row == len(PANELS) - 1:
                axis.set_xlabel("target overlap", fontsize=7)
            if column == 0:
                axis.set_ylabel(f"{SHORT_TITLES.get(metric, metric)}\nshift", fontsize=7)
        figure.colorbar(image, ax=list(axes[row]), shrink=0.9)
    return _save(figure, out_dir, "sweep_heatmap")


def draw_latent_vs_pixels(
    rows: Sequence[dict[str, Any]], out_dir: Path, references: set[str] = frozenset()
) -> list[Path]:
    """``latent_vs_pixels.png/.svg``: latent linear CKA against the cell's raw-pixel CKA."""
    plt = _pyplot()
    cka = [r for r in rows if r["metric"] == "linear_cka" and r["value"] is not None]
    pixels = {r["cell"]: r["value"] for r in cka if r["agent"] == PIXELS}
    agents = _agent_order({r["agent"] for r in cka} - {PIXELS}, references)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    figure, axis = plt.subplots(figsize=(5.2, 5.4))
    axis.plot([0, 1], [0, 1], color="grey", linewidth=1, label="latent = pixels")
    for index, agent in enumerate(agents):
        points = [(pixels[r["cell"]], r["value"]) for r in cka
                  if r["agent"] == agent and r["cell"] in pixels]  # fmt: skip
        if points:
            x, y = zip(*points, strict=True)
            colour = colours[index % len(colours)]
            axis.scatter(x, y, s=18, label=_style(agent, references)[1],
                         facecolors="none" if agent in references else colour,
                         edgecolors=colour)  # fmt: skip
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1)
    axis.set_aspect("equal")
    axis.set_xlabel("raw-pixel linear CKA between the two cameras")
    axis.set_ylabel("latent linear CKA between the two agents")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7, loc="upper left")
    figure.text(0.5, 0.01, LATENT_VS_PIXELS_CAPTION, ha="center", va="bottom", fontsize=7,
                wrap=True)  # fmt: skip
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    return _save(figure, out_dir, "latent_vs_pixels")


def draw_all(
    rows: Sequence[dict[str, Any]],
    summary: Sequence[dict[str, Any]],
    out_dir: Path,
    overlaps: Sequence[float],
    shifts: Sequence[float],
) -> list[Path]:
    """Every chart of the sweep; reference agents are read from the rows' flag."""
    references = {r["agent"] for r in rows if r.get("reference") and r["agent"] != PIXELS}
    return [
        *draw_charts(summary, out_dir, references),
        *draw_heatmaps(summary, out_dir, overlaps, shifts, references),
        *draw_latent_vs_pixels(rows, out_dir, references),
    ]
