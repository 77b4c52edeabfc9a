"""Compute-to-accuracy curves of ``socialview migrate``: FLOPs to a level, ratios, accounting.

Pure functions over compute-to-accuracy curves, plus :data:`ACCOUNTING`, the
statement of what is counted that every ``migration.json`` carries. Two curve
shapes are read: the run's own (lists of points with ``cumulative_flops`` and
``accuracy``: :func:`flops_to_reach`, :func:`curve_ratios`) and plain
``(flops, held-out accuracy)`` pairs (:func:`flops_ratio_at_target`,
:func:`relative_target`, and :func:`summarise_ratios` over seeds), which need no
run to test or reuse. :mod:`socialview.benchmarks.migration` re-exports the
public names.

What "reaches" means everywhere here: a path reaches accuracy ``level`` at its
*first* checkpoint whose accuracy is at or above ``level`` (a later dip below it
does not undo that). Its FLOPs there are interpolated linearly between that
checkpoint and the one before it (which was below ``level``), so the answer does
not jump by a whole evaluation interval; when the first checkpoint (step 0, before
any normal training) already reaches ``level``, its own FLOPs are the answer: 0
for a path from scratch, the distillation cost for a distilled one.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACCOUNTING",
    "PAPER_RATIO",
    "RatioSummary",
    "curve_ratios",
    "flops_ratio_at_target",
    "flops_to_reach",
    "relative_target",
    "summarise_ratios",
]

#: FLOPs ratio at 85% probe accuracy reported by Social-JEPA (arXiv 2603.02263).
PAPER_RATIO = 0.28


def flops_to_reach(curve: list[dict[str, Any]], level: float) -> float | None:
    """Cumulative FLOPs at which ``curve`` first reaches accuracy ``level``.

    Linear interpolation between the last point below ``level`` and the first
    point at or above it; the first point itself if it already reaches it; None
    if no point does.
    """
    return _first_reach(((float(p["cumulative_flops"]), float(p["accuracy"])) for p in curve),
                        level)


def _first_reach(points: Iterable[tuple[float, float]], level: float) -> float | None:
    """FLOPs where ``(flops, accuracy)`` points first reach ``level`` (module docstring)."""
    prev = None
    for flops, acc in points:
        if acc >= level:
            if prev is None:
                return flops
            pacc, pflops = prev
            frac = (level - pacc) / (acc - pacc) if acc > pacc else 1.0
            return pflops + frac * (flops - pflops)
        prev = (acc, flops)
    return None


def _ratio(num: float | None, den: float | None) -> float | None:
    """``num / den``, or None when either is missing or ``den`` is not positive."""
    if num is None or den is None or den <= 0:
        return None
    return num / den


def curve_ratios(scratch: list[dict[str, Any]], distill: list[dict[str, Any]],
                 target: float, a_flops: float, relative_fraction: float = 0.9
                 ) -> dict[str, Any]:
    """One seed's ratios, with the reason whenever one is missing.

    At the absolute ``target``, at the relative level ``relative_fraction`` x the
    best scratch accuracy (:func:`relative_target`), and at the common level (the
    best accuracy both paths reach); each with A's training excluded and, in the
    ``*_including_a`` keys, added in full to the distill path.
    """
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
    level = relative_target([(p["cumulative_flops"], p["accuracy"]) for p in scratch],
                            relative_fraction)
    r_s, r_d = flops_to_reach(scratch, level), flops_to_reach(distill, level)
    r_reason = None
    if r_d is None:
        r_reason = f"the distill path never reached {level:.3f} (best {best_d:.3f})"
    elif r_s is not None and r_s <= 0:
        r_reason = (f"the scratch path already has {level:.3f} before training, so no ratio "
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
        "relative_fraction": relative_fraction,
        "relative_level": level,
        "scratch_flops_at_relative_level": r_s,
        "distill_flops_at_relative_level": r_d,
        "ratio_at_relative_level": _ratio(r_d, r_s),
        "ratio_at_relative_level_including_a": _ratio(
            None if r_d is None else r_d + a_flops, r_s),
        "relative_level_reason": r_reason,
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
    evaluation points. Each ratio is read at two levels: the absolute target_accuracy
    (ratio_at_target), and a relative level, relative_fraction x the best accuracy the
    seed's scratch path reached at any of its evaluation points (ratio_at_relative_level;
    the scratch path reaches it by construction, so only the distill path can miss it).
    Every seed is a whole independent run (recordings, A, B, B'); the summary over seeds
    is the mean of the ratios of the seeds that reached the level, with a Student t
    interval, and counts how many did.""").replace("\n", " ")


# --------------------------------------------------------------------------------------
# (flops, accuracy) curves: the ratio at a target, a relative target, seeds together

Curve = Sequence[tuple[float, float]]
"""A compute-to-accuracy curve: ``(cumulative FLOPs, held-out accuracy)`` per checkpoint,
in training order (FLOPs never decrease)."""


def _checked(curve: Curve, name: str) -> list[tuple[float, float]]:
    """``curve`` as float pairs; empty, non-finite or decreasing-FLOPs curves are an error."""
    points = [(float(flops), float(acc)) for flops, acc in curve]
    if not points:
        raise ValueError(f"the {name} curve is empty")
    if not all(math.isfinite(f) and math.isfinite(a) for f, a in points):
        raise ValueError(f"the {name} curve holds a non-finite FLOPs or accuracy value")
    if any(later < earlier for (earlier, _), (later, _) in itertools.pairwise(points)):
        raise ValueError(f"the {name} curve's FLOPs decrease; give cumulative FLOPs in "
                         "training order")
    return points


def flops_ratio_at_target(scratch: Curve, distilled: Curve, target: float) -> float | None:
    """FLOPs the distilled path needs to reach ``target`` over those of the scratch path.

    Each path's FLOPs at ``target`` are read as the module docstring defines
    "reaches": the first checkpoint at or above ``target``, linearly interpolated
    from the checkpoint before it, or the first checkpoint's own FLOPs when it
    already reaches ``target`` (reached at step 0). A ratio below 1 means
    distilling saved compute.

    Parameters
    ----------
    scratch, distilled : sequence of (flops, accuracy)
        Each path's checkpoints in training order, FLOPs cumulative. The distilled
        path's FLOPs include the distillation itself, so its first point sits at the
        distillation cost.
    target : float
        Held-out accuracy at which the ratio is read (absolute; see
        :func:`relative_target` for a level relative to the scratch path).

    Returns
    -------
    float or None
        The ratio; ``0.0`` if the distilled path reaches ``target`` at 0 FLOPs.
        None when either path never reaches ``target``, or when the scratch path
        reaches it at 0 FLOPs (reached at step 0, before any training): then
        there is no compute to save and the ratio is undefined.

    Raises
    ------
    ValueError
        An empty curve, a non-finite value, FLOPs that decrease, or a
        non-finite ``target``.

    Examples
    --------
    >>> scratch = [(0.0, 0.25), (10.0, 0.5), (20.0, 1.0)]
    >>> distilled = [(2.0, 0.5), (6.0, 1.0)]
    >>> flops_ratio_at_target(scratch, distilled, 0.75)  # 4.0 / 15.0, both interpolated
    0.26666666666666666
    >>> flops_ratio_at_target(scratch, distilled[:1], 0.75) is None  # distilled never reaches
    True
    """
    if not math.isfinite(target):
        raise ValueError(f"target must be finite, got {target}")
    f_s = _first_reach(_checked(scratch, "scratch"), target)
    f_d = _first_reach(_checked(distilled, "distilled"), target)
    return _ratio(f_d, f_s)


def relative_target(scratch: Curve, fraction: float = 0.9) -> float:
    """A target level relative to the scratch path: ``fraction`` of its best held-out accuracy.

    An absolute target (85% in the paper) says nothing when the scratch agent
    never gets there; a relative one, e.g. 90% of the best the scratch path
    achieves, always exists and asks "how much compute does the distilled path
    need to get as good as the scratch path nearly gets?". With ``fraction <= 1``
    the scratch path reaches this level by construction (possibly at step 0,
    where :func:`flops_ratio_at_target` gives None).

    Parameters
    ----------
    scratch : sequence of (flops, accuracy)
        The scratch path's checkpoints.
    fraction : float
        Share of the best scratch accuracy, in (0, 1].

    Returns
    -------
    float
        ``fraction * max(accuracy)`` over the scratch checkpoints.

    Examples
    --------
    >>> relative_target([(0.0, 0.25), (10.0, 0.8), (20.0, 0.75)], 0.5)
    0.4
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    return fraction * max(acc for _, acc in _checked(scratch, "scratch"))


@dataclass(frozen=True)
class RatioSummary:
    """Per-seed FLOPs ratios together (:func:`summarise_ratios`)."""

    mean: float | None
    """Mean ratio over the seeds that reached the target (None if none did)."""
    ci_low: float | None
    """Lower end of the interval (None with fewer than two reaching seeds)."""
    ci_high: float | None
    """Upper end of the interval (None with fewer than two reaching seeds)."""
    n_seeds: int
    """Seeds given, reaching or not."""
    n_reached: int
    """Seeds with a ratio (both paths reached the target, scratch not at 0 FLOPs)."""
    confidence: float
    """Coverage of the interval (0.95: a 95% interval)."""
    method: str
    """How the interval was made, in words."""

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable dict of every field."""
        return dataclasses.asdict(self)


def summarise_ratios(ratios: Iterable[float | None], confidence: float = 0.95) -> RatioSummary:
    """Mean of per-seed FLOPs ratios with a Student-t interval; None marks "not reached".

    Seeds whose ratio is None (a path never reached the target, or the scratch
    path had it at step 0) are left out of the mean and interval and counted:
    ``n_reached`` of ``n_seeds``. Report both, because the mean is conditional on
    reaching: seeds where distillation failed to reach the target do not pull it up.

    The interval is ``mean +- t(1 - (1 - confidence) / 2, n - 1) * s / sqrt(n)``
    over the ``n`` reaching seeds (``s``: sample standard deviation). A t interval,
    not a bootstrap: seeds are few (2-10), and a percentile bootstrap over so
    few values is too narrow (over two seeds it never leaves their range). It
    assumes the ratios scatter roughly normally around their mean; it is not
    clipped at 0, so a wide one may dip below it. With one reaching seed there
    is a mean but no interval; with none, neither.

    Parameters
    ----------
    ratios : iterable of float or None
        One FLOPs ratio per seed, e.g. from :func:`flops_ratio_at_target`.
    confidence : float
        Interval coverage in (0, 1).

    Returns
    -------
    RatioSummary

    Examples
    --------
    >>> s = summarise_ratios([0.3, 0.5, None])
    >>> round(s.mean, 3), s.n_reached, s.n_seeds
    (0.4, 2, 3)
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    given = list(ratios)
    values = [float(r) for r in given if r is not None]
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"ratios must be finite or None, got {given}")
    n = len(values)
    mean = low = high = None
    if n == 0:
        method = "no seed reached the target"
    elif n == 1:
        mean = values[0]
        method = "one seed reached the target: no interval"
    else:
        from scipy import stats

        mean = math.fsum(values) / n
        sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
        half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * sd / math.sqrt(n)
        low, high = mean - half, mean + half
        method = f"Student t over {n} seeds"
    return RatioSummary(mean=mean, ci_low=low, ci_high=high, n_seeds=len(given),
                        n_reached=n, confidence=confidence, method=method)
