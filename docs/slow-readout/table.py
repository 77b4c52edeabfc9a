"""Finding 25's tables, from the JSON files ``slow_width.py`` wrote beside this file::

    python docs/slow-readout/table.py > docs/slow-readout/tables.md
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
READOUTS = ("latent", "leading8", "slow8", "slow_jump", "pred_jump", "slow_at_gap")


def label(result: dict) -> str:
    """A short name for the run a result came from."""
    return f"{Path(result['folder']).name} (seed {result['seed']})"


def jump(figures: dict) -> str:
    """``x1.64 after 8``."""
    return f"x{figures['jump']:.2f} after {figures['jump_after']}"


def reread_section(guard_file: str, pattern: str, settings: str, finding: int = 26) -> None:
    """Findings 26-27's tables: each kept pair re-read through a guard's settings."""
    print(f"\n### Re-read through `{guard_file}` (`reread.py`, finding {finding})\n")
    print(f"What each camera compares under `{guard_file}` ({settings}), the slowness "
          "spectrum's step at the width each camera compares, or at its widest variance "
          "gap where it compares the full latent (as the trainer's calibration measures "
          "it), and the pair's map and probes.\n")
    print("| run | compared | slowness step at the width compared (else the widest gap) | "
          "orthogonal-map R² | "
          "probe (pusher) |")
    print("|---|---|---|---|---|")
    for path in sorted(HERE.glob(pattern)):
        result = json.loads(path.read_text())
        if result.get("guard_file", "slow_guard.json") != guard_file:
            continue
        compared = "/".join(str(c["core_width"] or "latent")
                            + (" (fallback)" if c["gap"].get("fallback") else "")
                            for c in result["compared"].values())
        steps = "/".join(f"x{c['slow_step']:.2f} after {c['core_width'] or c['gap']['width']}"
                         for c in result["compared"].values())
        probes = " / ".join(f"{p['pooled_r2']:.3f} ({p['pusher_r2']:.2f})"
                            for p in result["probe"].values())
        print(f"| {label(result)} | {compared} | {steps} | {result['r2_orthogonal']:.3f} | "
              f"{probes} |")


def main() -> None:
    results = [json.loads(path.read_text()) for path in sorted(HERE.glob("*_seed*.json"))
               if not path.name.startswith("reread_")]
    print("### Per camera: where each spectrum jumps\n")
    print("| run | camera | core readout: widest variance gap (latched) | compared | "
          "slowness at that width | slowness, lag 1 | lag 4 | lag 8 | prediction error |")
    print("|---|---|---|---|---|---|---|---|---|")
    for result in results:
        for camera, figures in result["cameras"].items():
            gap = figures["gap"]
            latched = f" ({gap['latched']})" if gap["latched"] else ""
            compared = (f"{figures['core_width']}-d core" if figures["core_width"]
                        else "full latent")
            at_gap = figures["slow_at_gap"]
            step = ("–" if at_gap["slowness_ratio"] is None
                    else f"x{at_gap['slowness_ratio']:.2f} after {at_gap['width']}")
            print(f"| {label(result)} | {camera} | {gap['width']} (x{gap['ratio']:.2f})"
                  f"{latched} | {compared} | {step} | {jump(figures['lag1'])} | "
                  f"{jump(figures['lag4'])} | {jump(figures['lag8'])} | "
                  f"{jump(figures['predictor'])} |")
    print("\n### Per pair: each readout's map and probes\n")
    print("Orthogonal-map R² between the cameras; in brackets the state probes of the two "
          "cameras (pooled, and the pusher's); the widths read where they are not 8.\n")
    print("| run | " + " | ".join(READOUTS) + " |")
    print("|---|" + "---|" * len(READOUTS))
    for result in results:
        cells = []
        for name in READOUTS:
            found = result["readouts"][name]
            probes = found["probe"].values()
            pooled = "/".join(f"{p['pooled_r2']:.2f}" for p in probes)
            pusher = "/".join(f"{p['pusher_r2']:.2f}" for p in probes)
            widths = list(found["widths"].values())
            shown = "" if widths == [8, 8] or name == "latent" else (
                " w " + "/".join(map(str, widths)))
            cells.append(f"{found['r2_orthogonal']:.3f} ({pooled}; pusher {pusher}){shown}")
        print(f"| {label(result)} | " + " | ".join(cells) + " |")
    reread_section("slow_guard.json", "reread_*.json", "`core_slow_step` 1.4, `core_gap` = "
                   "`core_keep` = 1.5, no share or action guard")
    reread_section("slow_action_guard.json", "reread_*.json", "the same with the action "
                   "guard at 0.6")
    reread_section("slow_fallback.json", "reread_*.json", "today's guards and hysteresis, "
                   "with the slowness step of 1.4 as a fallback at shares of 0.6, "
                   "`core_slow_fallback`", finding=27)


if __name__ == "__main__":
    main()
