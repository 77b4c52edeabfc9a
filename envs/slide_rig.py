"""The slide rig: cameras keep their distance and field of view; their look-at points slide.

Under the zoom rig a camera backs off to raise overlap, so its share of the
arena and the pixel size of every object change with overlap too, and any
effect of overlap on two agents is confounded with zoom. Here every camera sees
the same share of the arena floor (``footprint``) at every overlap; only what
neighbouring cameras *share* changes.

Geometry, solved once per setting (no rendering, cached):

1. Camera ``i`` looks from azimuth ``90 - (i - (N - 1) / 2) * viewpoint_shift``
   degrees at ``elevation``, with field of view ``fovy``.
2. Its look-at point is set back towards the camera so that the centroid of its
   ground footprint (a trapezoid, wider on the far side) lies on its *anchor*.
3. Its distance is the one at which a camera anchored at the arena centre sees
   ``footprint`` of the arena floor.
4. Anchors of neighbouring cameras lie ``separation`` metres apart along a
   slide axis, centred on the arena centre. The slide ends (``max_slide``)
   just before some camera's arena share falls ``SHARE_TOLERANCE`` below its
   share at the centre: beyond it, a camera would see more wall-side emptiness
   and less arena, which is the confound this rig exists to remove.
5. The slide axis is the direction (0, 15, ..., 180 degrees from +x) whose end
   of the slide leaves neighbouring footprints sharing the least floor, so the
   rig reaches as low an overlap as the footprint allows at that viewpoint shift.

``spread`` in [0, 1] maps to ``separation = spread * max_slide``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from socialview.envs.cameras import Camera, CameraPose
from socialview.envs.ground_truth import floor_inside
from socialview.envs.scene import ARENA_HALF_SIZE

#: Default share of the arena floor one camera sees: about half the arena, and
#: objects about 11 px across in a 64-px image (docs/rigs.md has the measurement).
DEFAULT_FOOTPRINT = 0.5
#: The slide stops before a camera's arena share drops by more than this fraction
#: of its share at the centre (the env promises 10%; the rest absorbs grid error).
SHARE_TOLERANCE = 0.08
#: Floor points per side of the grid the geometry is solved on (finer in ground_truth).
_GRID = 100
#: Step (metres of anchor separation) of the scan for the end of the slide.
_SCAN_STEP = 0.05
#: Candidate slide axes, degrees from +x (the rig's mirror symmetry covers the rest).
_AXIS_CANDIDATES = tuple(range(0, 181, 15))


@dataclass(frozen=True)
class SlideRigSpec:
    """Settings of a slide rig; :meth:`poses` gives its cameras along the slide.

    Attributes
    ----------
    num_cameras: cameras in the row.
    viewpoint_shift: degrees of azimuth between neighbouring cameras, in [0, 180].
    footprint: share of the arena floor, in (0, 1], one camera sees.
    elevation: degrees; every camera looks down at this angle.
    fovy: vertical field of view of every camera, degrees.
    aspect: image width / height (it shapes the footprint).
    """

    num_cameras: int
    viewpoint_shift: float
    footprint: float = DEFAULT_FOOTPRINT
    elevation: float = -55.0
    fovy: float = 45.0
    aspect: float = 1.0

    @property
    def geometry(self) -> SlideGeometry:
        """Distance, set-back, slide axis and end of the slide (solved once, cached)."""
        return _solve_geometry(self)

    def poses(self, spread: float) -> list[CameraPose]:
        """Camera poses at ``spread`` in [0, 1] (0: anchors together, 1: ``max_slide`` apart)."""
        geometry = self.geometry
        return _poses(self, geometry, spread * geometry.max_slide)

    def describe(self) -> str:
        """The settings, as an error message names them."""
        return (
            f"rig='slide', num_cameras={self.num_cameras}, "
            f"viewpoint_shift={self.viewpoint_shift}, footprint={self.footprint}, "
            f"elevation={self.elevation}, fovy={self.fovy}"
        )


@dataclass(frozen=True)
class SlideGeometry:
    """The solved shape of a slide rig.

    Attributes
    ----------
    distance: metres from every camera to its look-at point.
    setback: metres from a camera's look-at point to its footprint's centroid.
    axis: degrees from +x of the line the anchors slide along.
    max_slide: metres between neighbouring anchors at spread 1.
    """

    distance: float
    setback: float
    axis: float
    max_slide: float


def _poses(spec: SlideRigSpec, geometry: SlideGeometry, separation: float) -> list[CameraPose]:
    axis = math.radians(geometry.axis)
    direction = np.array([math.cos(axis), math.sin(axis)])
    poses = []
    for i in range(spec.num_cameras):
        offset = i - (spec.num_cameras - 1) / 2.0
        azimuth = 90.0 - offset * spec.viewpoint_shift
        heading = math.radians(azimuth)
        anchor = offset * separation * direction
        lookat = anchor - geometry.setback * np.array([math.cos(heading), math.sin(heading)])
        poses.append(
            CameraPose(
                lookat=(float(lookat[0]), float(lookat[1]), 0.0),
                distance=geometry.distance,
                azimuth=azimuth,
                elevation=spec.elevation,
                roll=0.0,
                fovy=spec.fovy,
            )
        )
    return poses


def footprint_setback(elevation: float, fovy: float, aspect: float, distance: float) -> float:
    """How far (metres) the ground footprint's centroid lies beyond the look-at point.

    The footprint is the quadrilateral where the rays through the image corners
    meet the floor; 0 when the top of the image reaches the horizon (no bounded
    footprint to centre).
    """
    pose = CameraPose(distance=distance, azimuth=0.0, elevation=elevation, fovy=fovy)
    rotation = pose.rotation_camera_to_world()  # columns: right, up, backward
    half_h = math.tan(math.radians(fovy) / 2.0)
    half_w = half_h * aspect
    origin = pose.position()
    corners = []
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        ray = rotation @ np.array([sx * half_w, sy * half_h, -1.0])
        if ray[2] >= -1e-6:
            return 0.0
        corners.append(origin[:2] - origin[2] / ray[2] * ray[:2])
    x, y = np.array(corners).T
    cross = x * np.roll(y, -1) - np.roll(x, -1) * y
    area = cross.sum() / 2.0
    return float(((x + np.roll(x, -1)) * cross).sum() / (6.0 * area))  # azimuth 0 looks along +x


def _inside(pose: CameraPose, aspect: float) -> np.ndarray:
    height = 64
    camera = Camera.from_pose("probe", pose, height, max(1, round(height * aspect)))
    return floor_inside(camera, _GRID)


@lru_cache(maxsize=1024)
def _solve_geometry(spec: SlideRigSpec) -> SlideGeometry:
    def setback_at(distance: float) -> float:
        return footprint_setback(spec.elevation, spec.fovy, spec.aspect, distance)

    def centred_share(distance: float) -> float:
        pose = CameraPose(
            lookat=(0.0, -setback_at(distance), 0.0),
            distance=distance,
            azimuth=90.0,
            elevation=spec.elevation,
            fovy=spec.fovy,
        )
        return float(_inside(pose, spec.aspect).mean())

    low, high = 0.05, 50.0  # metres; share grows with distance
    for _ in range(30):
        middle = math.sqrt(low * high)
        if centred_share(middle) >= spec.footprint:
            high = middle
        else:
            low = middle
    distance = high
    setback = setback_at(distance)
    if spec.num_cameras < 2:
        return SlideGeometry(distance, setback, 0.0, 0.0)
    best: tuple[float, SlideGeometry] | None = None
    for axis in _AXIS_CANDIDATES:
        geometry = _slide_end(spec, SlideGeometry(distance, setback, float(axis), 0.0))
        shared = _shared_floor(_poses(spec, geometry, geometry.max_slide), spec.aspect)
        if best is None or shared < best[0] - 1e-9:
            best = (shared, geometry)
    return best[1]


def _slide_end(spec: SlideRigSpec, geometry: SlideGeometry) -> SlideGeometry:
    """``geometry`` with ``max_slide`` set where the arena share would leave its band."""

    def min_share(separation: float) -> float:
        poses = _poses(spec, geometry, separation)
        return min(float(_inside(pose, spec.aspect).mean()) for pose in poses)

    floor = (1.0 - SHARE_TOLERANCE) * min_share(0.0)
    good, bad, separation = 0.0, None, 0.0
    while separation < 4.0 * ARENA_HALF_SIZE:
        separation += _SCAN_STEP
        if min_share(separation) < floor:
            bad = separation
            break
        good = separation
    if bad is not None:
        for _ in range(10):
            middle = 0.5 * (good + bad)
            if min_share(middle) >= floor:
                good = middle
            else:
                bad = middle
    return SlideGeometry(geometry.distance, geometry.setback, geometry.axis, good)


def _shared_floor(poses: list[CameraPose], aspect: float) -> float:
    """Mean over neighbouring pairs of the share of one's arena floor the other also sees."""
    inside = [_inside(pose, aspect) for pose in poses]
    shares = []
    for a, b in itertools.pairwise(inside):
        both = float((a & b).sum())
        shares.append(0.5 * (both / max(a.sum(), 1) + both / max(b.sum(), 1)))
    return float(np.mean(shares))
