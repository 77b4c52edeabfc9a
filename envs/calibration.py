"""Rigs measured in the arena: which overlaps a rig reaches, and the rig that hits a target.

Overlap is measured, never assumed (:mod:`socialview.envs.overlap`), so both
questions are answered by rendering: a rig's poses are applied to an env, the
arena is set to a few fixed calibration layouts of the objects, and the mean
neighbour overlap over those layouts is the rig's overlap. The two ends of a
rig's travel (spread 0 and 1) give its reachable range; bisection in between
solves it (:func:`socialview.envs.rig.solve_rig`).

Both results are cached per process, keyed by everything that changes them
(the rig's settings, the image size and the number of objects), so a sweep can
ask :func:`reachable_overlap` for every cell up front and the envs it then
builds reuse the same measurements: what ``reachable_overlap`` reports is what
``gym.make`` accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import mujoco
import numpy as np

from socialview.envs.cameras import CameraPose
from socialview.envs.overlap import neighbour_overlap
from socialview.envs.rig import REACH_TOLERANCE, RIGS, RigSolution, RigSpec, solve_rig
from socialview.envs.slide_rig import DEFAULT_FOOTPRINT, SlideRigSpec

if TYPE_CHECKING:
    from socialview.envs.social_view import SocialViewEnv

AnyRigSpec = RigSpec | SlideRigSpec
_RANGES: dict[tuple, tuple[float, float]] = {}
_SOLUTIONS: dict[tuple, RigSolution] = {}


def make_rig_spec(
    rig: str,
    num_cameras: int,
    viewpoint_shift: float,
    footprint: float | None,
    elevation: float,
    fovy: float,
    aspect: float = 1.0,
) -> AnyRigSpec:
    """Validate the rig settings and build the spec (``ValueError`` naming what is wrong).

    ``footprint`` applies to ``rig="slide"`` only (``None`` takes the default
    share, :data:`~socialview.envs.rig.DEFAULT_FOOTPRINT`).
    """
    from socialview.envs.social_view import _check_int, _check_range

    if rig not in RIGS:
        raise ValueError(f"rig must be one of {list(RIGS)}, got {rig!r}")
    count = _check_int("num_cameras", num_cameras, minimum=1)
    shift = _check_range("viewpoint_shift", viewpoint_shift, 0.0, 180.0)
    elevation = _check_range("elevation", elevation, -90.0, -10.0)
    fovy = _check_range("fovy", fovy, 5.0, 120.0)
    if rig == "zoom":
        if footprint is not None:
            raise ValueError(
                f"footprint={footprint!r} applies to rig='slide' only; the zoom rig "
                "changes each camera's footprint with overlap (leave footprint unset)"
            )
        return RigSpec(count, shift, elevation, fovy)
    share = _check_range(
        "footprint", DEFAULT_FOOTPRINT if footprint is None else footprint, 0.05, 1.0
    )
    return SlideRigSpec(count, shift, share, elevation, fovy, float(aspect))


def _key(env: SocialViewEnv, spec: AnyRigSpec) -> tuple:
    return (spec, env.height, env.width, env.num_objects)


def _measure(env: SocialViewEnv, layouts: Sequence[np.ndarray], poses: Sequence[CameraPose]):
    env._apply_poses(poses)
    values = []
    for qpos in layouts:
        env.data.qpos[:] = qpos
        mujoco.mj_forward(env.model, env.data)
        values.append(neighbour_overlap(env._measure_overlap()))
    return float(np.mean(values))


def overlap_range(env: SocialViewEnv, spec: AnyRigSpec) -> tuple[float, float]:
    """(low, high) mean neighbour overlap of ``spec``'s rig in ``env``'s arena (cached).

    Leaves ``env``'s cameras at the last pose measured: callers apply their own.
    """
    key = _key(env, spec)
    if key not in _RANGES:
        layouts = env._calibration_layouts()
        high = _measure(env, layouts, spec.poses(0.0))
        low = _measure(env, layouts, spec.poses(1.0))
        _RANGES[key] = (min(low, high), max(low, high))
    return _RANGES[key]


def solve(env: SocialViewEnv, spec: AnyRigSpec, target: float) -> RigSolution:
    """The rig of ``spec`` whose measured overlap in ``env``'s arena is ``target`` (cached).

    Raises ``ValueError`` naming ``overlap``, the target and the reachable range
    when the target lies more than ``REACH_TOLERANCE`` outside that range.
    """
    low, high = overlap_range(env, spec)
    if not low - REACH_TOLERANCE <= target <= high + REACH_TOLERANCE:
        raise ValueError(
            f"overlap={target} cannot be reached with {spec.describe()}: the measured "
            f"overlap of this rig ranges over [{low:.3f}, {high:.3f}]; choose an overlap in "
            "that range (socialview.envs.reachable_overlap gives it), a different "
            "viewpoint_shift or footprint, or explicit `cameras`"
        )
    key = (*_key(env, spec), target)
    if key not in _SOLUTIONS:
        layouts = env._calibration_layouts()
        _SOLUTIONS[key] = solve_rig(
            spec, target, lambda poses: _measure(env, layouts, poses), reach_tolerance=1.0
        )
    return _SOLUTIONS[key]


def reachable_overlap(
    viewpoint_shift: float,
    *,
    rig: str = "slide",
    footprint: float | None = None,
    num_cameras: int = 2,
    elevation: float = -55.0,
    fovy: float = 45.0,
    image_size: int | Sequence[int] = 64,
    num_objects: int = 3,
) -> tuple[float, float]:
    """The (low, high) overlap ``SocialView-v1`` reaches at ``viewpoint_shift`` with this rig.

    ``gym.make("SocialView-v1", overlap=x, ...)`` with the same settings accepts
    every ``x`` in ``[low - 0.02, high + 0.02]`` and raises ``ValueError``
    otherwise. The range is measured by rendering the two ends of the rig's
    travel (about a second on a CPU the first time) and cached for the process,
    so an env made afterwards with the same settings reuses the measurement.

    Parameters
    ----------
    viewpoint_shift
        Degrees of azimuth between neighbouring cameras, in [0, 180].
    rig
        ``"slide"`` (default) or ``"zoom"``; see :class:`SocialViewEnv`.
    footprint
        Slide rig only: share of the arena floor one camera sees (default 0.5).
    num_cameras, elevation, fovy, image_size, num_objects
        As for :class:`SocialViewEnv`; the image size and the objects (which
        occlude) change the measured overlap slightly.
    """
    from socialview.envs.social_view import SocialViewEnv, _check_image_size

    height, width = _check_image_size(image_size)
    spec = make_rig_spec(
        rig, num_cameras, viewpoint_shift, footprint, elevation, fovy, width / height
    )
    placeholder = [CameraPose() for _ in range(spec.num_cameras)]
    key_env = _KeyOnly(height, width, num_objects)
    if _key(key_env, spec) not in _RANGES:
        env = SocialViewEnv(
            cameras=placeholder, image_size=(height, width), num_objects=num_objects
        )
        try:
            overlap_range(env, spec)
        finally:
            env.close()
    return _RANGES[_key(key_env, spec)]


class _KeyOnly:
    """Just the env attributes a cache key needs, to look up without building an env."""

    def __init__(self, height: int, width: int, num_objects: int) -> None:
        self.height, self.width, self.num_objects = height, width, num_objects
