"""Report of ``socialview migrate``: the accuracy-vs-FLOPs chart and the printed summary.

Reads only the ``migration.json`` content (a dict), so a chart can be redrawn
from a saved result without re-running anything; a format 1 (one seed) result
is read through :func:`~socialview.benchmarks.migration_summary.upgrade_result`.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

from .migration_config import PIXEL_SIDE
from .migration_curves import PAPER_RATIO
from .migration_summary import upgrade_result

__all__ = ["draw_chart", "headline_lines", "summary_lines"]

#: Colour of each path's curves on the chart.
PATH_COLOURS = {"scratch": "tab:blue", "distill": "tab:orange"}


def _save_figure(fig: Any, path: Path) -> None:
    """Save ``fig`` to ``path`` through a temporary file, so no half-written chart is left."""
    tmp = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        fig.savefig(tmp, format=path.suffix[1:], dpi=130, bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _label_name(result: dict[str, Any]) -> str:
    """The probed label as ``name (description)``, from the first seed's probe entry."""
    probe = result["seeds"][0].get("probe", {})
    name = probe.get("label", result["config"].get("label", "?"))
    return f"{name} ({probe['description']})" if probe.get("description") else str(name)


def _fmt(value: float | None, digits: int, suffix: str = "") -> str:
    """``value`` with ``digits`` decimals, or ``-`` for None."""
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def _summary_phrase(summary: dict[str, Any], digits: int) -> str:
    """A :class:`RatioSummary` dict in words: mean, interval, how many seeds reached."""
    reached = f"reached {summary['n_reached']} of {summary['n_seeds']}"
    if summary["mean"] is None:
        return f"none ({reached})"
    text = f"{summary['mean']:.{digits}f}x"
    if summary["ci_low"] is not None:
        text += (f" [{summary['confidence']:.0%} CI {summary['ci_low']:.{digits}f}-"
                 f"{summary['ci_high']:.{digits}f}]")
    return f"{text} ({reached})"


def headline_lines(result: dict[str, Any], digits: int) -> list[str]:
    """The summary ratios at the absolute target and at the relative level, with and
    without A's training: one wording for the chart title and the printed summary."""
    s = result["summary"]
    target = f"{s['target_accuracy']:.0%}"
    relative = (f"{s['relative_fraction']:g} x best scratch "
                f"(mean {_fmt(s['relative_level']['mean'], digits)})")
    return [
        f"ratio at {target}: {_summary_phrase(s['ratio_at_target'], digits)}; counting A: "
        f"{_summary_phrase(s['ratio_at_target_including_a'], digits)}",
        f"ratio at {relative}: {_summary_phrase(s['ratio_at_relative_level'], digits)}; "
        f"counting A: {_summary_phrase(s['ratio_at_relative_level_including_a'], digits)}",
    ]


def draw_chart(result: dict[str, Any], out_dir: Path) -> list[Path]:
    """Accuracy vs cumulative FLOPs for every seed's two paths, with the levels that frame them.

    Each seed's curves are thin lines, one colour per path, later seeds lighter;
    horizontal lines mark the absolute target, the mean relative level, and the
    mean over seeds of chance, A's accuracy and the raw-pixel probe on camera B.
    The title carries the summary ratios. Writes ``migration.png`` and ``.svg``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = upgrade_result(result)
    seeds, summary, cfg = result["seeds"], result["summary"], result["config"]
    fig, ax = plt.subplots(figsize=(7.0, 4.6))
    names = {"scratch": "scratch (i)", "distill": "distilled through the map (ii)"}
    for i, seed in enumerate(seeds):
        alpha = 0.9 - 0.5 * i / max(1, len(seeds) - 1)
        for key, colour in PATH_COLOURS.items():
            curve = seed[key]["curve"]
            ax.plot([p["cumulative_flops"] for p in curve], [p["accuracy"] for p in curve],
                    color=colour, lw=1.0, alpha=alpha, marker="o", markersize=2.0,
                    label=f"{names[key]}, {len(seeds)} seeds" if i == 0 else None)
    target = summary["target_accuracy"]
    ax.axhline(target, color="black", ls="--", lw=1, label=f"target {target:.0%}")
    level = summary["relative_level"]["mean"]
    ax.axhline(level, color="black", ls=(0, (5, 2, 1, 2)), lw=0.8, alpha=0.7,
               label=f"{summary['relative_fraction']:g} x best scratch (mean {level:.2f})")
    for key, colour, ls, text in (
            ("chance", "grey", ":", "chance"),
            ("a_probe_accuracy", "tab:green", "-.", "agent A"),
            ("raw_pixels_b_accuracy", "tab:purple", (0, (1, 3)),
             f"raw pixels of B ({PIXEL_SIDE}x{PIXEL_SIDE})")):
        mean = summary[key]["mean"]
        ax.axhline(mean, color=colour, ls=ls, lw=1, label=f"{text} {mean:.2f} (mean)")
    lines = [f"Migration {cfg['camera_a']} -> {cfg['camera_b']} ({cfg['agent']}), "
             f"{summary['n_seeds']} seeds; paper: {PAPER_RATIO}x FLOPs at 85%"]
    lines += headline_lines(result, digits=2)
    ax.set_title("\n".join(textwrap.fill(line, 100) for line in lines), fontsize=8)
    ax.set_xlabel("cumulative FLOPs (B's own spending; A's training excluded)")
    ax.set_ylabel(textwrap.fill(f"probe accuracy: {_label_name(result)}, held-out episodes",
                                60), fontsize=8)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlim(left=0.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    paths = []
    for suffix in (".png", ".svg"):
        path = out_dir / f"migration{suffix}"
        _save_figure(fig, path)
        paths.append(path)
    plt.close(fig)
    return paths


def summary_lines(result: dict[str, Any]) -> list[str]:
    """What ``socialview migrate`` prints after a run: one line per seed, then the summaries.

    A seed's line gives A's accuracy, chance, both paths' best accuracy and its
    ratios at the absolute target and at the relative level (``-``: not reached,
    or the scratch path was there before training).
    """
    result = upgrade_result(result)
    s = result["summary"]
    target = f"{s['target_accuracy']:.0%}"
    lines = [f"probe label: {_label_name(result)}"]
    for seed in result["seeds"]:
        r = seed["ratios"]
        reused = " (reused)" if seed.get("reused") else ""
        lines.append(
            f"seed {seed['seed']}{reused}: A {seed['a']['probe_accuracy']:.3f}, chance "
            f"{seed['chance']:.3f}, best scratch {r['best_accuracy_scratch']:.3f}, best "
            f"distill {r['best_accuracy_distill']:.3f}; ratio at {target} "
            f"{_fmt(r['ratio_at_target'], 3, 'x')} "
            f"(with A {_fmt(r['ratio_at_target_including_a'], 3, 'x')}), at "
            f"{r['relative_level']:.3f} {_fmt(r['ratio_at_relative_level'], 3, 'x')} "
            f"(with A {_fmt(r['ratio_at_relative_level_including_a'], 3, 'x')})")
    lines += headline_lines(result, digits=3)
    lines.append(f"paper: {PAPER_RATIO}x at 85%")
    return lines
