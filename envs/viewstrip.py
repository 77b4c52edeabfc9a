"""A picture of the overlap dial: every camera's view at one or more overlap settings."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from socialview.envs.social_view import SocialViewEnv


def render_views_at(
    overlap: float, seed: int = 0, env_kwargs: Mapping[str, Any] | None = None
) -> tuple[list[np.ndarray], float]:
    """Reset an env at ``overlap`` with ``seed``; return its camera images and measured overlap."""
    env = SocialViewEnv(overlap=overlap, **(env_kwargs or {}))
    try:
        obs, info = env.reset(seed=seed)
        return [obs[camera.name] for camera in env.cameras], float(info["overlap"])
    finally:
        env.close()


def view_strip(
    out: str | os.PathLike,
    overlaps: Sequence[float],
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
) -> Path:
    """Save a grid (one row per overlap, one column per camera) as PNG or SVG at ``out``.

    Each row is titled with the target and the measured overlap, so a reader can
    see the dial at work. The file is written to a temporary name and renamed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(target, *render_views_at(target, seed, env_kwargs)) for target in overlaps]
    columns = len(rows[0][1])
    figure, axes = plt.subplots(
        len(rows), columns, figsize=(2.2 * columns, 2.3 * len(rows)), squeeze=False
    )
    for row, (target, images, measured) in enumerate(rows):
        for column, image in enumerate(images):
            axis = axes[row, column]
            axis.imshow(image)
            axis.set_xticks([])
            axis.set_yticks([])
            if row == 0:
                axis.set_title(f"cam{column}", fontsize=9)
            if column == 0:
                axis.set_ylabel(f"target {target:.2f}\nmeasured {measured:.2f}", fontsize=8)
    figure.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    figure.savefig(partial, dpi=110, format=out.suffix.lstrip(".") or "png")
    plt.close(figure)
    os.replace(partial, out)
    return out
