"""Measure what a rig's cameras see across the overlap dial (the numbers in docs/rigs.md).

    python -m socialview.envs.rig_report [--rig slide] [--footprint 0.5] [--image-size 64]

For each viewpoint shift: the reachable overlap range, then at its low end,
middle and high end the measured overlap, each camera's arena share and the mean
pixel area of the objects visible in a camera (over ``--resets`` episodes of
``--steps`` random steps), with the equivalent diameter ``sqrt(4 area / pi)``.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

import numpy as np

from socialview.envs.calibration import reachable_overlap
from socialview.envs.social_view import SocialViewEnv


def measure_setting(
    overlap: float, viewpoint_shift: float, resets: int, steps: int, **env_kwargs
) -> dict:
    """Measured overlap, arena share and mean visible object area at one dial setting."""
    env = SocialViewEnv(overlap=overlap, viewpoint_shift=viewpoint_shift, **env_kwargs)
    try:
        rng = np.random.default_rng(0)
        overlaps, areas = [], []
        for seed in range(resets):
            _, info = env.reset(seed=seed)
            overlaps.append(info["overlap"])
            for _ in range(steps):
                *_, info = env.step(rng.uniform(-1.0, 1.0, 2))
                pixels = info["object_pixels"]
                areas.extend(pixels[pixels > 0].tolist())
        area = float(np.mean(areas)) if areas else 0.0
        return {
            "target": overlap,
            "overlap": float(np.mean(overlaps)),
            "arena_share": env.arena_share.tolist(),
            "object_area": area,
            "object_diameter": math.sqrt(4.0 * area / math.pi),
        }
    finally:
        env.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Print the Markdown table for the rig named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rig", default="slide", choices=["slide", "zoom"])
    parser.add_argument("--footprint", type=float, default=None)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--shifts", type=float, nargs="+", default=[0, 45, 90, 135, 180])
    parser.add_argument("--resets", type=int, default=6)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args(argv)
    kwargs = {"rig": args.rig, "image_size": args.image_size}
    if args.footprint is not None:
        kwargs["footprint"] = args.footprint
    print("| shift | reachable | target | measured | arena share | object px (diameter) |")
    print("|---|---|---|---|---|---|")
    for shift in args.shifts:
        low, high = reachable_overlap(
            shift, rig=args.rig, footprint=args.footprint, image_size=args.image_size
        )
        for target in (low, 0.5 * (low + high), high):
            row = measure_setting(target, shift, args.resets, args.steps, **kwargs)
            shares = "/".join(f"{v:.3f}" for v in row["arena_share"])
            print(
                f"| {shift:g} | [{low:.3f}, {high:.3f}] | {target:.3f} | {row['overlap']:.3f} "
                f"| {shares} | {row['object_area']:.0f} ({row['object_diameter']:.1f}) |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
