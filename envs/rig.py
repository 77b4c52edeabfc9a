"""Solve a camera rig for a target pixel overlap at a given viewpoint shift.

Two rigs share one solver. In both, neighbouring cameras differ in azimuth by
``viewpoint_shift`` degrees and one scalar ``spread`` in [0, 1] moves the rig
from most to least overlap; bisection on spread finds the rig whose *measured*
overlap matches the target.

``slide`` (:class:`~socialview.envs.slide_rig.SlideRigSpec`, the default):
every camera keeps one distance and field of view at every overlap, chosen so
that a camera sees ``footprint`` of the arena floor; overlap is set by sliding
the cameras' look-at points apart. What a camera sees (its share of the arena,
an object's size in pixels) therefore does not change with overlap, only what
the cameras share does. The slide stops before any camera's arena share falls
more than 8% below its value at the centre, which bounds the reachable
overlaps: with half the arena each, two cameras can never see disjoint floor,
and two cameras far apart in azimuth never see exactly the same floor.

``zoom`` (:class:`RigSpec`, the rig of the first release): the row of ``N``
cameras looking across the arena. Neighbouring cameras differ in azimuth by
``viewpoint_shift`` degrees, and the views diverge (camera ``i + 1`` looks
further to the right and more to the right). One scalar ``spread`` in [0, 1]
moves the rig from "every camera sees the whole arena" (spread 0: all look at
the centre from far away) to "neighbours see disjoint patches" (spread 1: close
up, looking at points far apart). Measured overlap falls as spread grows, so
bisection on spread finds the rig whose *measured* overlap matches the target;
the angle between views is fixed by ``viewpoint_shift`` throughout, which keeps
the two dials independent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from socialview.envs.cameras import CameraPose

#: How close the solver gets to the target: well inside the env's promised 0.03,
#: leaving the rest for the occlusion by objects that differs from reset to reset.
SOLVER_TOLERANCE = 0.004
#: A target this close beyond the reachable range still counts as reached (the
#: nearest end is returned): 1.0 is reachable even if occlusion caps a rig at 0.99.
REACH_TOLERANCE = 0.02
#: Camera distance (metres) at spread 0: far enough to see the whole arena from any azimuth.
FAR_DISTANCE = 4.2
#: Span (metres) between the outermost look-at points at spread 1.
LOOKAT_SPAN = {2: 1.2, 3: 1.5}
DEFAULT_SPAN = 1.6
#: The rigs ``SocialView-v1`` offers; the first is the default.
RIGS = ("slide", "zoom")


class Rig(Protocol):
    """What the solver needs of a rig: its size, poses along its travel, and a description."""

    num_cameras: int

    def poses(self, spread: float) -> list[CameraPose]:
        """Camera poses at ``spread`` in [0, 1]; overlap falls as spread grows."""
        ...

    def describe(self) -> str:
        """The settings, as an error message names them."""
        ...


@dataclass(frozen=True)
class RigSpec:
    """The settings that fix a rig apart from its spread.

    Attributes
    ----------
    num_cameras: cameras in the row.
    viewpoint_shift: degrees of azimuth between neighbouring cameras.
    elevation: degrees; every camera looks down at this angle.
    fovy: vertical field of view of every camera, degrees.
    """

    num_cameras: int
    viewpoint_shift: float
    elevation: float = -55.0
    fovy: float = 45.0

    def describe(self) -> str:
        """The settings, as an error message names them."""
        return (
            f"rig='zoom', num_cameras={self.num_cameras}, "
            f"viewpoint_shift={self.viewpoint_shift}, elevation={self.elevation}, "
            f"fovy={self.fovy}"
        )

    def poses(self, spread: float) -> list[CameraPose]:
        """Camera poses at ``spread`` in [0, 1] (0: shared wide view, 1: disjoint close-ups)."""
        count = self.num_cameras
        span = LOOKAT_SPAN.get(count, DEFAULT_SPAN)
        spacing = span / max(count - 1, 1)
        # Close enough at spread 1 that a camera's footprint is narrower than the spacing.
        near = 0.55 * spacing
        distance = FAR_DISTANCE * (near / FAR_DISTANCE) ** spread
        poses = []
        for i in range(count):
            offset = i - (count - 1) / 2.0
            poses.append(
                CameraPose(
                    lookat=(offset * spread * spacing, 0.0, 0.0),
                    distance=distance,
                    azimuth=90.0 - offset * self.viewpoint_shift,
                    elevation=self.elevation,
                    roll=0.0,
                    fovy=self.fovy,
                )
            )
        return poses


@dataclass(frozen=True)
class RigSolution:
    """A solved rig: its poses, the spread that produced them and the overlap measured."""

    poses: tuple[CameraPose, ...]
    spread: float
    measured_overlap: float


def solve_rig(
    spec: Rig,
    target: float,
    measure: Callable[[Sequence[CameraPose]], float],
    tolerance: float = SOLVER_TOLERANCE,
    reach_tolerance: float = REACH_TOLERANCE,
    max_iterations: int = 30,
) -> RigSolution:
    """Find the spread whose measured neighbour overlap is within ``tolerance`` of ``target``.

    ``measure(poses)`` renders the arena from ``poses`` and returns the mean
    overlap of neighbouring pairs. Raises ``ValueError`` naming the
    reachable range when the target lies outside it.
    """
    best: RigSolution | None = None

    def evaluate(spread: float) -> RigSolution:
        nonlocal best
        poses = tuple(spec.poses(spread))
        solution = RigSolution(poses, spread, float(measure(poses)))
        if best is None or abs(solution.measured_overlap - target) < abs(
            best.measured_overlap - target
        ):
            best = solution
        return solution

    widest, narrowest = evaluate(0.0), evaluate(1.0)
    high, low = widest.measured_overlap, narrowest.measured_overlap
    if not low - reach_tolerance <= target <= high + reach_tolerance:
        raise ValueError(
            f"overlap={target} cannot be reached with {spec.describe()}: the measured "
            f"overlap of this rig ranges over [{low:.3f}, {high:.3f}]; choose an overlap in "
            "that range, a different viewpoint_shift, or explicit `cameras`"
        )
    lo_spread, hi_spread = 0.0, 1.0
    for _ in range(max_iterations):
        if abs(best.measured_overlap - target) <= tolerance:
            break
        middle = evaluate(0.5 * (lo_spread + hi_spread))
        if middle.measured_overlap > target:
            lo_spread = middle.spread
        else:
            hi_spread = middle.spread
    return best
