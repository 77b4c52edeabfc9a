"""Report of ``socialview migrate``: the accuracy-vs-FLOPs chart and the printed summary.

Reads only the ``migration.json`` content (a dict), so a chart can be redrawn
from a saved result without re-running anything.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

from .migration_config import PIXEL_SIDE
from .migration_curves import PAPER_RATIO

__all__ = ["draw_chart", "ratio_lines", "summary_lines"]


def _save_figure(fig: Any, path: Path) -> None:
    """Save ``fig`` to ``path`` through a temporary file, so no half-written chart is left."""
    tmp = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        fig.savefig(tmp, format=path.suffix[1:], dpi=130, bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def draw_chart(result: dict[str, Any], out_dir: Path) -> list[Path]:
    """Accuracy vs cumulative FLOPs for both paths, with target, chance and A's accuracy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ratios = result["ratios"]
    target = ratios["target_accuracy"]
    fig, ax = plt.subplots(figsize=(7.0, 4.4))
    styles = {"scratch": ("tab:blue", "o", "scratch (i)"),
              "distill": ("tab:orange", "s", "distilled through the map (ii)")}
    for key, (color, marker, label) in styles.items():
        curve = result[key]["curve"]
        ax.plot([p["cumulative_flops"] for p in curve], [p["accuracy"] for p in curve],
                color=color, marker=marker, markersize=3.5, label=label)
    ax.axhline(target, color="black", ls="--", lw=1, label=f"target {target:.0%}")
    ax.axhline(result["chance"], color="grey", ls=":", lw=1,
               label=f"chance {result['chance']:.2f}")
    ax.axhline(result["a"]["probe_accuracy"], color="tab:green", ls="-.", lw=1,
               label=f"agent A {result['a']['probe_accuracy']:.2f}")
    pixels = result["reference"]["raw_pixels_probe_accuracy"][result["config"]["camera_b"]]
    ax.axhline(pixels, color="tab:purple", ls=(0, (1, 3)), lw=1,
               label=f"raw pixels of B ({PIXEL_SIDE}x{PIXEL_SIDE}) {pixels:.2f}")
    for key, color in (("scratch_flops_at_target", "tab:blue"),
                       ("distill_flops_at_target", "tab:orange")):
        if ratios[key] is not None:
            ax.axvline(ratios[key], color=color, lw=0.8, alpha=0.6)
    cfg = result["config"]
    lines = [f"Migration {cfg['camera_a']} -> {cfg['camera_b']} ({cfg['agent']}); "
             f"paper: {PAPER_RATIO}x FLOPs at 85%"]
    lines += ratio_lines(ratios, digits=2, chart=True)
    ax.set_title("\n".join(textwrap.fill(line, 95) for line in lines), fontsize=8.5)
    ax.set_xlabel("cumulative FLOPs (B's own spending; A's training excluded)")
    ax.set_ylabel("probe accuracy (quadrant, held-out episodes)")
    ax.set_ylim(0.0, 1.02)
    ax.set_xlim(left=0.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="lower right")
    paths = []
    for suffix in (".png", ".svg"):
        path = out_dir / f"migration{suffix}"
        _save_figure(fig, path)
        paths.append(path)
    plt.close(fig)
    return paths


def summary_lines(result: dict[str, Any]) -> list[str]:
    """What ``socialview migrate`` prints after a run: accuracies and the FLOPs ratios."""
    r = result["ratios"]
    lines = [f"agent A probe accuracy {result['a']['probe_accuracy']:.3f}, chance "
             f"{result['chance']:.3f}",
             f"best accuracy: scratch {r['best_accuracy_scratch']:.3f}, distill "
             f"{r['best_accuracy_distill']:.3f}"]
    return lines + ratio_lines(r, digits=3, chart=False)


def ratio_lines(ratios: dict[str, Any], *, digits: int, chart: bool) -> list[str]:
    """The headline FLOPs ratio, or why there is none and the ratio at the common level.

    One wording for the chart title (``chart=True``: terser, the paper's ratio is
    on its own line there) and the printed summary; ``digits`` decimals.
    """
    flops = "" if chart else "FLOPs "
    target = f"{ratios['target_accuracy']:.0%}"
    if ratios["ratio_at_target"] is not None:
        paper = "" if chart else f"; paper {PAPER_RATIO}x"
        return [f"{'measured FLOPs ' if chart else flops}ratio at {target}: "
                f"{ratios['ratio_at_target']:.{digits}f}x "
                f"({ratios['ratio_at_target_including_a']:.{digits}f}x counting A's "
                f"training{paper})"]
    lines = [f"no {flops}ratio at {target}: {ratios['reason']}"]
    if ratios["ratio_at_common_level"] is not None:
        lines.append(f"{flops}ratio at {ratios['common_level']:.{digits}f} (best both reach): "
                     f"{ratios['ratio_at_common_level']:.{digits}f}x")
    return lines
