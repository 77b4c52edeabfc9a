"""Camera poses and the matrices that tie pixels to world points.

A camera is described either by an orbit pose (``lookat``, ``distance``,
``azimuth``, ``elevation``, ``roll``, ``fovy``; the same angles as MuJoCo's free
camera) or by an explicit ``position`` and ``lookat``. From either we derive

* the MuJoCo frame (position + quaternion, camera looking down its -z axis), and
* the OpenCV-convention matrices the overlap measurement needs: ``intrinsics``
  (3x3, pixels, x right, y down, z forward, pixel centres at +0.5) and
  ``world_to_camera`` (4x4 rigid transform).

Angles are in degrees. ``azimuth`` turns the viewing direction about the world
z axis (0 looks along +x, 90 along +y); ``elevation`` below zero looks down.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

_POSE_KEYS = ("lookat", "distance", "azimuth", "elevation", "roll", "fovy", "position")


@dataclass(frozen=True)
class CameraPose:
    """Where a camera is and where it looks.

    Attributes
    ----------
    lookat:
        World point (x, y, z) at the centre of the image.
    distance:
        Metres from the camera to ``lookat``.
    azimuth:
        Degrees; direction of view about the world z axis (0 looks along +x).
    elevation:
        Degrees in [-90, 90]; negative looks down.
    roll:
        Degrees of rotation of the image about the viewing axis.
    fovy:
        Vertical field of view in degrees, in (0, 180).
    """

    lookat: tuple[float, float, float] = (0.0, 0.0, 0.0)
    distance: float = 3.0
    azimuth: float = 90.0
    elevation: float = -60.0
    roll: float = 0.0
    fovy: float = 45.0

    def forward(self) -> np.ndarray:
        """Unit viewing direction in world coordinates."""
        az, el = math.radians(self.azimuth), math.radians(self.elevation)
        return np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])

    def position(self) -> np.ndarray:
        """Camera centre in world coordinates."""
        return np.asarray(self.lookat, dtype=float) - self.distance * self.forward()

    def rotation_camera_to_world(self) -> np.ndarray:
        """3x3 matrix whose columns are the camera's right, up and backward axes.

        This is MuJoCo's camera frame (it looks along its own -z). The right axis
        is taken from the azimuth alone, so straight-down views stay well defined.
        """
        az = math.radians(self.azimuth)
        forward = self.forward()
        right = np.array([math.sin(az), -math.cos(az), 0.0])
        up = np.cross(right, forward)
        roll = math.radians(self.roll)
        right, up = (
            math.cos(roll) * right + math.sin(roll) * up,
            -math.sin(roll) * right + math.cos(roll) * up,
        )
        return np.stack([right, up, -forward], axis=1)

    def mujoco_quaternion(self) -> np.ndarray:
        """Orientation as a MuJoCo quaternion (w, x, y, z)."""
        return _matrix_to_quaternion(self.rotation_camera_to_world())

    def to_dict(self) -> dict:
        """Plain-JSON form; :meth:`from_dict` inverts it."""
        return {
            "lookat": [float(v) for v in self.lookat],
            "distance": float(self.distance),
            "azimuth": float(self.azimuth),
            "elevation": float(self.elevation),
            "roll": float(self.roll),
            "fovy": float(self.fovy),
        }

    @classmethod
    def from_dict(cls, spec: Mapping, *, parameter: str = "cameras") -> CameraPose:
        """Build a pose from a mapping, validating every field.

        ``spec`` holds the orbit fields, or ``position`` plus ``lookat`` (the
        distance, azimuth and elevation are then derived). Unknown keys,
        non-finite numbers and out-of-range angles raise ``ValueError`` that
        names ``parameter``, the offending value and what is allowed.
        """
        if not isinstance(spec, Mapping):
            raise ValueError(
                f"{parameter}: each camera must be a mapping with keys from {_POSE_KEYS}, "
                f"got {spec!r}"
            )
        unknown = set(spec) - set(_POSE_KEYS)
        if unknown:
            raise ValueError(
                f"{parameter}: unknown camera key(s) {sorted(unknown)}; allowed keys are "
                f"{list(_POSE_KEYS)}"
            )
        lookat = _vector3(spec.get("lookat", (0.0, 0.0, 0.0)), f"{parameter}.lookat")
        values = {"lookat": tuple(lookat)}
        if "position" in spec:
            clash = {"distance", "azimuth", "elevation"} & set(spec)
            if clash:
                raise ValueError(
                    f"{parameter}: give either 'position' or {sorted(clash)}, not both"
                )
            position = _vector3(spec["position"], f"{parameter}.position")
            offset = lookat - position
            distance = float(np.linalg.norm(offset))
            if distance < 1e-6:
                raise ValueError(
                    f"{parameter}: position {position.tolist()} equals lookat; "
                    "a camera needs a direction to look in"
                )
            values["distance"] = distance
            values["azimuth"] = math.degrees(math.atan2(offset[1], offset[0]))
            values["elevation"] = math.degrees(math.asin(np.clip(offset[2] / distance, -1, 1)))
        for key in ("distance", "azimuth", "elevation", "roll", "fovy"):
            if key in spec:
                values[key] = _finite(spec[key], f"{parameter}.{key}")
        pose = cls(**values)
        if pose.distance <= 0:
            raise ValueError(f"{parameter}.distance must be > 0, got {pose.distance}")
        if not -90.0 <= pose.elevation <= 90.0:
            raise ValueError(
                f"{parameter}.elevation must be in [-90, 90] degrees, got {pose.elevation}"
            )
        if not 0.0 < pose.fovy < 180.0:
            raise ValueError(f"{parameter}.fovy must be in (0, 180) degrees, got {pose.fovy}")
        return pose


@dataclass(frozen=True)
class Camera:
    """A camera of the rig as the env exposes it (``env.unwrapped.cameras``).

    Attributes
    ----------
    name:
        The observation key of this camera, ``"cam0"``, ``"cam1"``, ...
    pose:
        The :class:`CameraPose` it was built from.
    height, width:
        Image size in pixels.
    intrinsics:
        3x3 pinhole matrix in pixels, OpenCV convention (x right, y down,
        z forward; the centre of pixel (u, v) is at (u + 0.5, v + 0.5)).
    world_to_camera:
        4x4 rigid transform from world to OpenCV camera coordinates.
    position:
        Camera centre in world coordinates.
    """

    name: str
    pose: CameraPose
    height: int
    width: int
    intrinsics: np.ndarray = field(repr=False)
    world_to_camera: np.ndarray = field(repr=False)
    position: np.ndarray = field(repr=False)

    @classmethod
    def from_pose(cls, name: str, pose: CameraPose, height: int, width: int) -> Camera:
        """Derive the matrices of a camera with ``pose`` and an image of ``height`` x ``width``."""
        focal = 0.5 * height / math.tan(math.radians(pose.fovy) / 2.0)
        intrinsics = np.array(
            [[focal, 0.0, width / 2.0], [0.0, focal, height / 2.0], [0.0, 0.0, 1.0]]
        )
        # OpenCV axes in world coordinates: x = right, y = -up, z = forward.
        mujoco_axes = pose.rotation_camera_to_world()
        opencv_axes = mujoco_axes * np.array([1.0, -1.0, -1.0])
        rotation = opencv_axes.T
        position = pose.position()
        world_to_camera = np.eye(4)
        world_to_camera[:3, :3] = rotation
        world_to_camera[:3, 3] = -rotation @ position
        for array in (intrinsics, world_to_camera, position):
            array.setflags(write=False)
        return cls(name, pose, height, width, intrinsics, world_to_camera, position)

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project world points (..., 3) to pixel coordinates (..., 2) and z-depth (...)."""
        points = np.asarray(points, dtype=float)
        cam = points @ self.world_to_camera[:3, :3].T + self.world_to_camera[:3, 3]
        depth = cam[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = (cam[..., :2] / depth[..., None]) * np.diag(self.intrinsics)[:2] + self.intrinsics[
                :2, 2
            ]
        return uv, depth

    def unproject(self, depth: np.ndarray) -> np.ndarray:
        """World points (H, W, 3) seen at each pixel centre of a z-depth map (H, W)."""
        rows, cols = np.indices(depth.shape, dtype=float)
        fx, fy = self.intrinsics[0, 0], self.intrinsics[1, 1]
        cx, cy = self.intrinsics[0, 2], self.intrinsics[1, 2]
        cam = np.stack(
            [(cols + 0.5 - cx) / fx * depth, (rows + 0.5 - cy) / fy * depth, depth], axis=-1
        )
        rotation = self.world_to_camera[:3, :3]
        return (cam - self.world_to_camera[:3, 3]) @ rotation

    def to_dict(self) -> dict:
        """Plain-JSON form of the camera's name, pose and matrices."""
        return {
            "name": self.name,
            "pose": self.pose.to_dict(),
            "image_size": [self.height, self.width],
            "intrinsics": self.intrinsics.tolist(),
            "world_to_camera": self.world_to_camera.tolist(),
            "position": self.position.tolist(),
        }


def _vector3(value: object, parameter: str) -> np.ndarray:
    try:
        vector = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        vector = None
    if vector is None or vector.shape != (3,) or not np.all(np.isfinite(vector)):
        raise ValueError(f"{parameter} must be 3 finite numbers (x, y, z), got {value!r}")
    return vector


def _finite(value: object, parameter: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{parameter} must be a number, got {value!r}")
    if not math.isfinite(float(value)):
        raise ValueError(f"{parameter} must be finite, got {value!r}")
    return float(value)


def _matrix_to_quaternion(matrix: np.ndarray) -> np.ndarray:
    """Rotation matrix to unit quaternion (w, x, y, z), numerically stable branch choice."""
    m = matrix
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 2.0 * math.sqrt(1.0 + trace)
        quat = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        quat = [(m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        quat = [(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s]
    else:
        s = 2.0 * math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        quat = [(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s]
    quat = np.asarray(quat)
    return quat / np.linalg.norm(quat)


def parse_camera_poses(cameras: Sequence, parameter: str = "cameras") -> list[CameraPose]:
    """Validate a user's list of camera poses (mappings or :class:`CameraPose`)."""
    if isinstance(cameras, (str, bytes, Mapping)) or not isinstance(cameras, Sequence):
        raise ValueError(
            f"{parameter} must be a list of camera poses (mappings with keys {list(_POSE_KEYS)}), "
            f"got {cameras!r}"
        )
    if len(cameras) == 0:
        raise ValueError(f"{parameter} must hold at least one camera pose, got an empty list")
    poses = []
    for index, spec in enumerate(cameras):
        if isinstance(spec, CameraPose):
            poses.append(spec)
        else:
            poses.append(CameraPose.from_dict(spec, parameter=f"{parameter}[{index}]"))
    return poses
