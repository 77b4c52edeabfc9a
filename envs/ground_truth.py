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
    camera over the pixels within each object's projected bounding box. It runs
    every env step, so the boxes of all cameras come from one vectorised pass.

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
        self._rays = [self._pixel_rays(camera).reshape(-1, 3) for camera in self.cameras]
        self._origins = [np.array(camera.position, dtype=np.float64) for camera in self.cameras]
        # Stacked over cameras for _candidate_pixels: rotation (N, 3, 3), translation
        # (N, 1, 3), and (N, 2, 1) columns for the image's u (columns) and v (rows) axes.
        extrinsics = np.stack([camera.world_to_camera for camera in self.cameras])
        intrinsics = np.stack([camera.intrinsics for camera in self.cameras])
        self._rotations_t = extrinsics[:, :3, :3].transpose(0, 2, 1).copy()
        self._translations = extrinsics[:, None, :3, 3].copy()
        self._focal = intrinsics[:, [0, 1], [0, 1]][:, :, None].copy()
        self._centre = intrinsics[:, [0, 1], [2, 2]][:, :, None].copy()
        self._size = np.array([[[c.width], [c.height]] for c in self.cameras], dtype=float)

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
        for n, mask in enumerate(self._candidate_pixels(centres)):
            if mask is None:
                continue
            rays = np.compress(mask.ravel(), self._rays[n], axis=0)  # faster than rays[mask]
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

    def _candidate_pixels(self, centres: np.ndarray) -> list[np.ndarray | None]:
        """Per camera, bool (H, W) of pixels that may show an object, or ``None`` when none can.

        Each object's bounding sphere projects inside the box spanned by the
        planes through the camera's x (or y) axis tangent to the sphere.
        """
        local = centres @ self._rotations_t + self._translations  # (N, K, 3)
        depth = local[:, None, :, 2]  # (N, 1, K)
        # A bound that straddles a camera's plane: test all of that camera's pixels.
        straddles = np.any(np.abs(depth) <= OBJECT_BOUND * 1.01, axis=(1, 2)).tolist()
        offsets = local[:, :, :2].transpose(0, 2, 1)  # (N, 2, K): rows u, v
        low, high = _tangent_span(offsets, depth, self._focal, self._centre)
        # Clipped to [0, size] with maximum/minimum: np.clip's dispatch costs more.
        start = np.minimum(np.maximum(np.floor(low), 0.0), self._size).astype(int)
        stop = np.minimum(np.maximum(np.ceil(high), 0.0), self._size).astype(int)
        keep = (depth[:, 0] > 0) & np.all(start < stop, axis=1)  # (N, K)
        masks: list[np.ndarray | None] = []
        for n, camera in enumerate(self.cameras):
            if straddles[n]:
                masks.append(np.ones((camera.height, camera.width), dtype=bool))
                continue
            objects = np.flatnonzero(keep[n]).tolist()
            if not objects:
                masks.append(None)
                continue
            mask = np.zeros((camera.height, camera.width), dtype=bool)
            (c0, r0), (c1, r1) = start[n].tolist(), stop[n].tolist()
            for k in objects:
                mask[r0[k] : r1[k], c0[k] : c1[k]] = True
            masks.append(mask)
        return masks


def _tangent_span(
    offset: np.ndarray, depth: np.ndarray, focal: float | np.ndarray, centre: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Image interval (pixels, 1 px margin) covered by bounding spheres along image axes.

    ``offset`` holds the spheres' centres along a camera axis; the arguments
    broadcast, so one call serves every camera and both axes.

    A sphere whose tangent planes reach past 90 degrees from the optical axis
    covers the whole axis (the interval is infinite).
    """
    planar = np.hypot(offset, depth)
    angle = np.arctan2(offset, depth)
    half = np.arcsin(np.minimum(OBJECT_BOUND / planar, 1.0))
    low = np.maximum(angle - half, -np.pi / 2 + 1e-6)
    high = np.minimum(angle + half, np.pi / 2 - 1e-6)
    return focal * np.tan(low) + centre - 1.0, focal * np.tan(high) + centre + 1.0
