"""Compute-to-accuracy curves of ``socialview migrate``: FLOPs to a level, ratios, accounting.

Pure functions over the curves the run measures (lists of points with
``cumulative_flops`` and ``accuracy``), plus :data:`ACCOUNTING`, the statement of
what is counted that every ``migration.json`` carries.
:mod:`socialview.benchmarks.migration` re-exports the public names.
"""

from __future__ import annotations

import textwrap
from typing import Any

__all__ = ["ACCOUNTING", "PAPER_RATIO", "curve_ratios", "flops_to_reach"]

#: FLOPs ratio at 85% probe accuracy reported by Social-JEPA (arXiv 2603.02263).
PAPER_RATIO = 0.28


def flops_to_reach(curve: list[dict[str, Any]], level: float) -> float | None:
    """Cumulative FLOPs at which ``curve`` first reaches accuracy ``level``.

    Linear interpolation between the last point below ``level`` and the first
    point at or above it; the first point itself if it already reaches it; None
    if no point does.
    """
    prev = None
    for point in curve:
        acc, flops = float(point["accuracy"]), float(point["cumulative_flops"])
        if acc >= level:
            if prev is None:
                return flops
            pacc, pflops = prev
            frac = (level - pacc) / (acc - pacc) if acc > pacc else 1.0
            return pflops + frac * (flops - pflops)
        prev = (acc, flops)
    return None


def _ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or den <= 0:
        return None
    return num / den


def curve_ratios(scratch: list[dict[str, Any]], distill: list[dict[str, Any]],
                 target: float, a_flops: float) -> dict[str, Any]:
    """Headline and secondary ratios, with the reason whenever one is missing."""
    best_s = max(p["accuracy"] for p in scratch)
    best_d = max(p["accuracy"] for p in distill)
    f_s, f_d = flops_to_reach(scratch, target), flops_to_reach(distill, target)
    reasons = []
    if f_s is None:
        reasons.append(f"the scratch path never reached {target:.0%} (best {best_s:.3f})")
    if f_d is None:
        reasons.append(f"the distill path never reached {target:.0%} (best {best_d:.3f})")
    if f_s is not None and f_s <= 0:
        reasons.append("the scratch path is at the target before training (0 FLOPs)")
    common = min(best_s, best_d)
    c_s, c_d = flops_to_reach(scratch, common), flops_to_reach(distill, common)
    c_reason = None
    if c_s is not None and c_s <= 0:
        c_reason = (f"the scratch path already has {common:.3f} before training, so no ratio "
                    "exists at that level")
    return {
        "target_accuracy": target,
        "scratch_flops_at_target": f_s,
        "distill_flops_at_target": f_d,
        "ratio_at_target": _ratio(f_d, f_s),
        "ratio_at_target_including_a": _ratio(None if f_d is None else f_d + a_flops, f_s),
        "reason": "; ".join(reasons) or None,
        "best_accuracy_scratch": best_s,
        "best_accuracy_distill": best_d,
        "common_level": common,
        "scratch_flops_at_common_level": c_s,
        "distill_flops_at_common_level": c_d,
        "ratio_at_common_level": _ratio(c_d, c_s),
        "ratio_at_common_level_including_a": _ratio(None if c_d is None else c_d + a_flops,
                                                    c_s),
        "common_level_reason": c_reason,
        "paper_ratio": PAPER_RATIO,
    }


ACCOUNTING = textwrap.dedent("""\
    FLOPs are matmul/convolution FLOPs counted by torch.utils.flop_counter.FlopCounterMode
    (forward and backward; elementwise ops and optimizer updates are not counted, as in
    socialview.agents.train_agent, which counts one step per call and multiplies by the
    step count since every batch has the same shape). Scratch path: cumulative FLOPs =
    B's training steps x FLOPs per step. Distill path: every distillation FLOP first (A's
    encoder forward on every paired frame used for targets and map anchors; the student
    encoder's forward + backward on every regression step, counted step by step; its
    forward on the anchors at each map re-fit; an estimate of the map algebra done in
    numpy), then its training steps x FLOPs per step; its first point therefore sits at
    the distillation cost. Agent A 'exists already': its training FLOPs (a.train_flops) are
    excluded from the headline ratio (ratio_at_target) and added in full to the distill
    path in ratio_at_target_including_a (the worst case, one migration paying for all of
    A; amortised over k migrations, add a.train_flops / k instead). Probe evaluation
    (embedding the evaluation recording, fitting the probe) is measurement, the same for
    both paths, and counted in neither. Ratios are distill FLOPs / scratch FLOPs at the
    first point where each path reaches the accuracy, interpolated linearly between
    evaluation points.""").replace("\n", " ")
