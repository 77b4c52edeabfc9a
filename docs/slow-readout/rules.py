"""Replay width rules on the spectra ``spectra.py`` stored (findings 25-26)::

    python docs/slow-readout/rules.py > docs/slow-readout/rules.md

For each camera, the width each rule reads (``–``: the full latent), with no latch
(``core_keep`` equal to ``core_gap``, 1.5 here). A *slowness guard* at ``tau`` drops
every variance gap after which the lag-1 slowness spectrum steps by less than ``tau``.
Of the gaps left that reach 1.5, the rule reads either the widest (``widest``) or the
one where the slowness spectrum steps most (``slowest step``: what ``core_slow_step``
does). The spectra here are of every training frame; the readout's own calibration
reads 4,096 frames and 2,048 consecutive pairs, so its steps differ a little.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

HERE = Path(__file__).parent
GAP = 1.5
TAUS = (1.3, 1.4, 1.5)


def slow_steps(slowness: list[float]) -> list[float]:
    """``s[k] / s[k-1]`` for k = 1.. (the step after the k-th slowest direction)."""
    return [b / max(a, 1e-12) for a, b in itertools.pairwise(slowness)]


def width(ratios: list[float], steps: list[float], tau: float, by_step: bool) -> int | None:
    """The width a slowness guard at ``tau`` reads (None: the full latent)."""
    passing = [k for k, r in enumerate(ratios)
               if k < len(steps) and steps[k] >= tau and r >= GAP]
    if not passing:
        return None
    key = steps.__getitem__ if by_step else ratios.__getitem__
    return max(passing, key=key) + 1


def main() -> None:
    spectra = {}
    for path in sorted(HERE.glob("spectra*.json")):
        spectra.update(json.loads(path.read_text()))
    header = ["run", "camera", "largest slowness step at a gap >= 1.5"]
    header += [f"widest, tau {tau}" for tau in TAUS]
    header += [f"slowest step, tau {tau}" for tau in TAUS]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for run, cameras in spectra.items():
        for camera, found in cameras.items():
            ratios, steps = found["variance_ratios"], slow_steps(found["slowness"])
            gaps = [k for k, r in enumerate(ratios) if r >= GAP and k < len(steps)]
            best = max(gaps, key=steps.__getitem__) if gaps else None
            cells = [run, camera,
                     "–" if best is None else f"x{steps[best]:.2f} after {best + 1}"]
            for by_step in (False, True):
                cells += [str(width(ratios, steps, tau, by_step) or "–") for tau in TAUS]
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
