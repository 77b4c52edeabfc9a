"""What each camera sees of the world, measured: arena share and object pixel areas.

Two numbers that say whether the overlap dial changed anything besides overlap:

* ``arena_share(camera)``: the share of the arena floor (the 2 m x 2 m square
  inside the walls) that falls inside a camera's image. Cameras are static, so
  this is computed once per rig, geometrically: a dense grid of floor points is
  projected into the image. Occlusion by the low walls and the objects is
  ignored (it is a statement about the view, not about one frame).
* :class:`ObjectPixelCounter`: the pixel area of each object in each camera at
  the current frame, as the segmentation image would count it. Rendering a
  segmentation image costs as much as the RGB image, so instead rays are cast
  (``mujoco.mj_multiRay``) through the centres of the pixels near each object's
  projection, and a pixel counts for object ``k`` when its ray hits ``k``
  first among the moving bodies: the test the rasteriser makes (walls aside),
  at about a quarter of a render's cost. When the env
  renders segmentation anyway, :func:`pixels_from_segmentation` counts it
  directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

import mujoco
import numpy as np

from socialview.envs.cameras import Camera
from socialview.envs.scene import ARENA_HALF_SIZE

#: Floor points per side of the grid that measures arena share (share error ~1/GRID).
ARENA_GRID = 200
#: Radius (metres) of a sphere around each object's centre that contains the whole object.
OBJECT_BOUND = 0.13
#: Rays test only geom group 1 (objects and pusher): the floor lies behind every
#: object, and the 6-cm walls, which could hide an object's foot at grazing views,
#: are left out for speed (the static geoms double the cost of the rays).
_MOVING_GROUP = np.array([0, 1, 0, 0, 0, 0], dtype=np.uint8)


@lru_cache(maxsize=4)
def _arena_points(grid: int) -> np.ndarray:
    """Centres of a ``grid`` x ``grid`` partition of the arena floor, (grid**2, 3)."""
    centres = (np.arange(grid) + 0.5) / grid * 2.0 * ARENA_HALF_SIZE - ARENA_HALF_SIZE
    x, y = np.meshgrid(centres, centres)
    points = np.stack([x.ravel(), y.ravel(), np.zeros(x.size)], axis=1)
    points.setflags(write=False)
    return points


def floor_inside(camera: Camera, grid: int = ARENA_GRID) -> np.ndarray:
    """Bool (grid**2,): which cells of a ``grid`` x ``grid`` arena floor lie inside the image."""
    uv, depth = camera.project(_arena_points(grid))
    with np.errstate(invalid="ignore"):
        inside = (depth > 0) & (uv[:, 0] >= 0) & (uv[:, 0] < camera.width)
        inside &= (uv[:, 1] >= 0) & (uv[:, 1] < camera.height)
    return inside


def arena_share(camera: Camera) -> float:
    """Share of the arena floor (inside the walls) that lies inside ``camera``'s image."""
    return float(floor_inside(camera).mean())


def pixels_from_segmentation(segs: Mapping[str, np.ndarray], num_objects: int) -> np.ndarray:
    """(N, K) pixel counts of objects ``0..K-1`` in each camera's segmentation image."""
    counts = []
    for seg in segs.values():
        ids = seg[(seg >= 0) & (seg < num_objects)]
        counts.append(np.bincount(ids.ravel(), minlength=num_objects)[:num_objects])
    return np.asarray(counts, dtype=np.int32).reshape(len(segs), num_objects)


class ObjectPixelCounter:
    """Counts each object's pixels in each camera by casting rays through pixel centres.

    Built once per rig (the ray directions of every pixel are precomputed, since
    cameras do not move); :meth:`count` then costs one ``mj_multiRay`` call per
    camera over the pixels within each object's projected bounding circle.

    Parameters
    ----------
    model:
        The compiled arena.
    cameras:
        The rig's cameras (their poses must match the model's cameras).
    object_bodies:
        Body ids of objects ``0..K-1``.
    seg_lookup:
        Maps MuJoCo geom id + 1 to the env's segmentation id (object ``k`` is ``k``).
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        cameras: Sequence[Camera],
        object_bodies: Sequence[int],
        seg_lookup: np.ndarray,
    ) -> None:
        self.model = model
        self.cameras = tuple(cameras)
        self.object_bodies = np.asarray(object_bodies)
        self.num_objects = len(object_bodies)
        self.seg_lookup = seg_lookup
        self._rays = [self._pixel_rays(camera) for camera in self.cameras]
        self._origins = [np.array(camera.position, dtype=np.float64) for camera in self.cameras]

    @staticmethod
    def _pixel_rays(camera: Camera) -> np.ndarray:
        """(H, W, 3) unit world directions through every pixel centre of ``camera``."""
        rows, cols = np.indices((camera.height, camera.width), dtype=float)
        fx, fy = camera.intrinsics[0, 0], camera.intrinsics[1, 1]
        cx, cy = camera.intrinsics[0, 2], camera.intrinsics[1, 2]
        local = np.stack(
            [(cols + 0.5 - cx) / fx, (rows + 0.5 - cy) / fy, np.ones_like(rows)], axis=-1
        )
        world = local @ camera.world_to_camera[:3, :3]
        return np.ascontiguousarray(world / np.linalg.norm(world, axis=-1, keepdims=True))

    def count(self, data: mujoco.MjData) -> np.ndarray:
        """(N, K) int32: pixels of camera ``n`` whose first surface is object ``k``."""
        centres = data.xpos[self.object_bodies]
        counts = np.zeros((len(self.cameras), self.num_objects), dtype=np.int32)
        for n, camera in enumerate(self.cameras):
            mask = self._candidate_pixels(camera, centres)
            if mask is None:
                continue
            rays = self._rays[n][mask]
            total = len(rays)
            geom = np.empty(total, dtype=np.int32)
            distance = np.empty(total, dtype=np.float64)
            mujoco.mj_multiRay(
                self.model, data, self._origins[n], rays.ravel(), _MOVING_GROUP, 0, -1,
                geom, distance, None, total, 1e6,
            )  # fmt: skip
            ids = self.seg_lookup[geom + 1]
            ids = ids[(ids >= 0) & (ids < self.num_objects)]
            counts[n] = np.bincount(ids, minlength=self.num_objects)[: self.num_objects]
        return counts

    def _candidate_pixels(self, camera: Camera, centres: np.ndarray) -> np.ndarray | None:
        """Bool (H, W) of pixels that may show an object, or ``None`` when none can.

        Each object's bounding sphere projects inside the box spanned by the
        planes through the camera's x (or y) axis tangent to the sphere.
        """
        local = centres @ camera.world_to_camera[:3, :3].T + camera.world_to_camera[:3, 3]
        mask = np.zeros((camera.height, camera.width), dtype=bool)
        depth = local[:, 2]
        if np.any(np.abs(depth) <= OBJECT_BOUND * 1.01):
            mask[:] = True  # a bound straddles the camera plane: test everything
            return mask
        intrinsics = camera.intrinsics
        u0, u1 = _tangent_span(local[:, 0], depth, intrinsics[0, 0], intrinsics[0, 2])
        v0, v1 = _tangent_span(local[:, 1], depth, intrinsics[1, 1], intrinsics[1, 2])
        c0 = np.clip(np.floor(u0), 0, camera.width).astype(int)
        c1 = np.clip(np.ceil(u1), 0, camera.width).astype(int)
        r0 = np.clip(np.floor(v0), 0, camera.height).astype(int)
        r1 = np.clip(np.ceil(v1), 0, camera.height).astype(int)
        keep = (depth > 0) & (c0 < c1) & (r0 < r1)
        if not keep.any():
            return None
        for k in np.flatnonzero(keep):
            mask[r0[k] : r1[k], c0[k] : c1[k]] = True
        return mask


def _tangent_span(
    offset: np.ndarray, depth: np.ndarray, focal: float, centre: float
) -> tuple[np.ndarray, np.ndarray]:
    """Image interval (pixels, 1 px margin) covered by bounding spheres along one image axis.

    A sphere whose tangent planes reach past 90 degrees from the optical axis
    covers the whole axis (the interval is infinite).
    """
    planar = np.hypot(offset, depth)
    angle = np.arctan2(offset, depth)
    half = np.arcsin(np.minimum(OBJECT_BOUND / planar, 1.0))
    low = np.maximum(angle - half, -np.pi / 2 + 1e-6)
    high = np.minimum(angle + half, np.pi / 2 - 1e-6)
    return focal * np.tan(low) + centre - 1.0, focal * np.tan(high) + centre + 1.0
