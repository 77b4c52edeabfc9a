"""Pictures of the overlap dial: every camera's view at one or more dial settings.

:func:`view_strip` draws one row per overlap at one viewpoint shift (the sweep
uses it); :func:`view_grid` draws the grid of overlaps x viewpoint shifts behind
``socialview view``, leaving unreachable settings blank with their reachable range.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from socialview.envs.calibration import make_rig_spec, reachable_overlap
from socialview.envs.rig import REACH_TOLERANCE
from socialview.envs.social_view import SocialViewEnv, mosaic


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
    return _save(figure, out)


def view_grid(
    out: str | os.PathLike,
    overlaps: Sequence[float],
    viewpoint_shifts: Sequence[float],
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
) -> Path:
    """Save a grid of views (rows: viewpoint shifts, columns: overlaps) as PNG or SVG.

    Each cell shows every camera side by side at that (overlap, shift), labelled
    with the measured overlap. A setting the rig cannot reach (see
    :func:`~socialview.envs.reachable_overlap`) is left blank and labelled with
    the reachable range at that shift. ``env_kwargs`` are passed to every env
    (``rig``, ``footprint``, ``num_cameras``, ``image_size``, ...). Settings
    themselves invalid (a shift outside [0, 180], an unknown rig) raise
    ``ValueError`` before anything is drawn. Written to a temporary name and renamed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kwargs = dict(env_kwargs or {})
    cells = {}
    for shift in viewpoint_shifts:
        low, high = _reachable(shift, kwargs)
        for target in overlaps:
            if low - REACH_TOLERANCE <= target <= high + REACH_TOLERANCE:
                images, measured = render_views_at(
                    target, seed, {**kwargs, "viewpoint_shift": shift}
                )
                cells[shift, target] = (mosaic(images), f"measured {measured:.2f}")
            else:
                cells[shift, target] = (None, f"unreachable\nrange [{low:.2f}, {high:.2f}]")
    figure, axes = plt.subplots(
        len(viewpoint_shifts),
        len(overlaps),
        figsize=(1.3 * len(overlaps) * kwargs.get("num_cameras", 2), 2.4 * len(viewpoint_shifts)),
        squeeze=False,
    )
    for row, shift in enumerate(viewpoint_shifts):
        for column, target in enumerate(overlaps):
            axis = axes[row, column]
            image, label = cells[shift, target]
            if image is not None:
                axis.imshow(image)
                axis.set_xlabel(label, fontsize=8)
            else:
                axis.text(0.5, 0.5, label, ha="center", va="center", fontsize=8, color="0.4")
                for spine in axis.spines.values():
                    spine.set_color("0.85")
            axis.set_xticks([])
            axis.set_yticks([])
            if row == 0:
                axis.set_title(f"overlap {target:g}", fontsize=9)
            if column == 0:
                axis.set_ylabel(f"shift {shift:g}°", fontsize=9)
    return _save(figure, out)


def _reachable(shift: float, kwargs: Mapping[str, Any]) -> tuple[float, float]:
    if "cameras" in kwargs:
        raise ValueError("view_grid draws solved rigs; env_kwargs must not hold 'cameras'")
    make_rig_spec(  # invalid settings are an error, not a blank cell
        kwargs.get("rig", "slide"), kwargs.get("num_cameras", 2), shift,
        kwargs.get("footprint"), kwargs.get("elevation", -55.0), kwargs.get("fovy", 45.0),
    )  # fmt: skip
    names = ("rig", "footprint", "num_cameras", "elevation", "fovy", "image_size", "num_objects")
    return reachable_overlap(shift, **{k: kwargs[k] for k in names if k in kwargs})


def _save(figure, out: str | os.PathLike) -> Path:
    import matplotlib.pyplot as plt

    figure.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    figure.savefig(partial, dpi=110, format=out.suffix.lstrip(".") or "png")
    plt.close(figure)
    os.replace(partial, out)
    return out
