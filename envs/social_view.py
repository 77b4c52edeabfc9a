"""``SocialView-v1``: one MuJoCo world, several synchronized cameras, a pixel-overlap dial."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from socialview.envs import _gl, calibration
from socialview.envs.cameras import Camera, CameraPose, parse_camera_poses
from socialview.envs.ground_truth import (
    ObjectPixelCounter,
    arena_share,
    pixels_from_segmentation,
)
from socialview.envs.labels import current_labels
from socialview.envs.overlap import neighbour_overlap, overlap_matrix
from socialview.envs.rig import RigSolution
from socialview.envs.scene import (
    ARENA_HALF_SIZE,
    MAX_OBJECTS,
    OBJECT_COLOURS,
    build_model,
    set_camera_pose,
)

OBS_MODES = ("rgb", "depth", "segmentation")
#: Segmentation ids: objects are 0..K-1, then these.
SEG_BACKGROUND = -1
GOAL_RADIUS = 0.12
#: Objects, pusher and goal start at most this far from the centre along x and y.
_SPAWN_LIMIT = ARENA_HALF_SIZE - 0.15
#: Object layouts the rig is calibrated on: the dial targets the mean overlap
#: over these, so the objects' occlusion at any one reset scatters around it.
_CALIBRATION_LAYOUTS = 4
_CALIBRATION_SEED = 20260302


class SocialViewEnv(gym.Env):
    """A bounded arena with coloured objects, a pusher, and ``N`` cameras.

    **World.** A 2 m x 2 m tiled floor inside low walls, with ``num_objects``
    coloured objects (cylinder, box, sphere, ...) that slide and collide, and a
    white pusher sphere driven by the action. Reset draws the objects' start
    positions and velocities and the goal from the seed.

    **Action space.** ``Box(-1, 1, (2,), float32)``: force on the pusher along
    world x and y (scaled by the actuator gear).

    **Observation space.** ``Dict`` with ``"cam0"`` ... ``"cam{N-1}"`` as
    ``Box(0, 255, (H, W, 3), uint8)``; with ``"depth"`` in ``obs_modes`` also
    ``"cam{i}_depth"`` float32 (H, W) z-depth in metres (``inf`` where no surface);
    with ``"segmentation"`` ``"cam{i}_seg"`` int32 (H, W): object k is ``k``, the
    pusher ``K``, the static arena ``K + 1``, no surface ``-1``.

    **Reward.** Push object 0 to the goal: ``-distance(object0, goal)`` each
    step; the episode terminates when the object is within ``0.12`` m of the goal.
    Time limits come from the registry (``max_episode_steps=200``).

    **Cameras and overlap.** By default the rig is solved so that the measured
    pixel overlap of neighbouring cameras (see :mod:`socialview.envs.overlap`)
    matches ``overlap`` within 0.03, while neighbouring cameras differ in azimuth
    by ``viewpoint_shift`` degrees. Two rigs reach the target differently:

    * ``rig="slide"`` (default): every camera keeps one distance and field of
      view at every overlap, set so that it sees ``footprint`` of the arena
      floor; overlap is set by sliding the cameras' look-at points apart
      (:mod:`socialview.envs.slide_rig`). Each camera's arena share and the
      objects' pixel size stay the same across overlaps, so overlap is the only
      thing the dial changes. At the default ``footprint=0.5`` (64-px images,
      elevation -55, fovy 45) the cameras stand 1.42 m from their look-at
      points, arena share is 0.46-0.50 over the whole slide, and a visible
      object covers ~85-110 px on average (~10-12 px across) at every
      overlap (``docs/rigs.md``, measured by ``python -m
      socialview.envs.rig_report``). Not every overlap is reachable: the reachable range
      at viewpoint shift 0 / 45 / 90 / 135 / 180 degrees is about
      [0.20, 1.00] / [0.17, 0.76] / [0.23, 0.72] / [0.27, 0.77] / [0.18, 0.73]
      (:func:`~socialview.envs.reachable_overlap` returns it for any setting).
    * ``rig="zoom"`` (the first release's rig, unchanged): cameras back off to
      raise overlap, up to seeing the whole arena, so it reaches [0, 1] at most
      viewpoint shifts, but arena share and object size change with overlap.

    A target outside the reachable range (by more than 0.02) raises
    ``ValueError`` naming ``overlap`` and the range. ``cameras`` replaces the
    dial with explicit poses. ``env.cameras`` lists
    :class:`~socialview.envs.cameras.Camera` objects (name, intrinsics,
    world_to_camera, position); ``info`` at reset holds ``"overlap"`` and
    ``"overlap_matrix"``; ``env.arena_share`` the (N,) arena shares.

    **Info.** Every step: ``object_pos`` (K, 3), ``object_vel`` (K, 3),
    ``agent_pos`` (3,), ``goal`` (2,), ``visible`` (N, K) bool (object centre
    inside camera n's image and, with depth rendered, not hidden), ``quadrant``
    (arena quadrant of object 0: 0 = x>=0,y>=0; 1 = x<0,y>=0; 2 = x<0,y<0;
    3 = x>=0,y<0), ``distance_to_goal``, ``arena_share`` (N,) float share of
    the arena floor (2 m x 2 m inside the walls) inside camera n's image
    (geometric, computed once per rig since cameras are static), and
    ``object_pixels`` (N, K) int32 pixel area of object k in camera n: counted
    from the segmentation image when ``obs_modes`` renders it, otherwise by
    casting rays through the pixel centres around each object (the same
    first-hit test as the segmentation render, within ~0.4 px per object, at a
    fraction of a render's cost). ``label_<name>`` for each task label that
    depends on the current frame only (``label_quadrant``,
    ``label_nearest_object``, ``label_object0_grid``, ``label_pusher_grid``; see
    :mod:`socialview.envs.labels`; labels that look ahead exist only in
    recordings).

    ``object_pixels`` is the one costly entry: without a segmentation render,
    its rays are most of what ``info`` costs a step (measured in
    ``docs/perf/README.md``).
    ``object_pixels=False`` leaves the key out of ``info`` (and skips the rays)
    for users who only need observations and positions, such as training
    loops that never read pixel areas; everything else, the world included,
    stays the same. Recordings need it (:func:`~socialview.envs.record_dataset`
    refuses ``object_pixels=False``).

    Parameters
    ----------
    num_cameras : int, default 2
        Cameras in the rig (>= 1).
    overlap : float, default 0.5
        Target pixel overlap of neighbouring cameras, in [0, 1] and within the
        rig's reachable range.
    viewpoint_shift : float, default 30
        Degrees of azimuth between neighbouring cameras, in [0, 180].
    image_size : int or (int, int), default 64
        Image height and width (one int for square images).
    cameras : list of dict, optional
        Explicit poses, each with ``lookat``, ``distance``, ``azimuth``,
        ``elevation``, optional ``roll`` and ``fovy`` (or ``position`` and
        ``lookat``). Overrides ``num_cameras``, ``overlap``,
        ``viewpoint_shift``, ``rig`` and ``footprint``.
    obs_modes : sequence of str, default ("rgb",)
        Any of ``"rgb"``, ``"depth"``, ``"segmentation"``.
    frame_skip : int, default 20
        Physics steps (10 ms each) per env step. At 20 (200 ms) the pusher moves a
        few pixels per step in a 64-px view of the arena and objects cross it within
        an episode; at v0's 5 a step moved it ~0.65 px, so predicting the next frame
        was nearly the identity and world models learned positions poorly (see
        ``docs/agents-study.md``).
    render_mode : {"rgb_array", None}
        ``"rgb_array"`` makes :meth:`render` return a mosaic of all views.
    randomize : bool, default False
        Per-episode random object colours, floor tint and light.
    num_objects : int, default 3
        Free objects in the arena, 1 to 6.
    elevation, fovy : float
        Elevation (degrees, looking down) and vertical field of view of solved rigs.
    shadows : bool, default False
        Render shadows (4096 shadow map; costly without a GPU).
    rig : {"slide", "zoom"}, default "slide"
        How the dial reaches a target overlap (above).
    footprint : float, optional
        Slide rig only: share of the arena floor, in [0.05, 1], one camera sees
        (default 0.5). Smaller footprints zoom in and reach lower overlaps.
    object_pixels : bool, default True
        Put ``object_pixels`` in ``info`` every step (above). ``False`` leaves it
        out and saves its cost; the world and the observations do not change.
    pusher_colour : (r, g, b), optional
        The pusher's colour, each channel in [0, 1] (default: near-white, 0.95). On the
        pale tiled floor a white pusher is the lowest-contrast body; the agents study
        paints it to ask whether that is why narrow latents leave it out.

    Version history:

    * v0, first release: the zoom rig, ``viewpoint_shift`` in [0, 90], 50 ms steps.
      ``gym.make("SocialView-v0")`` still gives that world (``frame_skip=5``,
      ``rig="zoom"``).
    * v1: ``frame_skip`` 20 by default (200 ms steps); ``rig`` (slide by default;
      ``rig="zoom"`` gives the first release's poses unchanged), ``footprint``,
      ``viewpoint_shift`` in [0, 180], unreachable overlaps raise ``ValueError``,
      ``info`` gains ``arena_share`` and ``object_pixels``; later, the task labels
      ``label_*`` (additions to ``info`` only: the world is unchanged);
      later, ``object_pixels=False`` to leave ``object_pixels`` out of ``info``;
      later, ``pusher_colour`` (default unchanged).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 20}

    def __init__(
        self,
        num_cameras: int = 2,
        overlap: float = 0.5,
        viewpoint_shift: float = 30.0,
        image_size: int | Sequence[int] = 64,
        cameras: Sequence | None = None,
        obs_modes: Sequence[str] = ("rgb",),
        frame_skip: int = 20,
        render_mode: str | None = None,
        randomize: bool = False,
        num_objects: int = 3,
        elevation: float = -55.0,
        fovy: float = 45.0,
        shadows: bool = False,
        rig: str = "slide",
        footprint: float | None = None,
        object_pixels: bool = True,
        pusher_colour: Sequence[float] | None = None,
    ) -> None:
        self.height, self.width = _check_image_size(image_size)
        self.obs_modes = _check_obs_modes(obs_modes)
        self.frame_skip = _check_int("frame_skip", frame_skip, minimum=1)
        self.num_objects = _check_int("num_objects", num_objects, 1, MAX_OBJECTS)
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(
                f"render_mode={render_mode!r} is not supported; allowed: None or 'rgb_array'"
            )
        self.render_mode = render_mode
        self.randomize = bool(randomize)
        self.object_pixels = _check_bool("object_pixels", object_pixels)
        if cameras is not None:
            poses = parse_camera_poses(cameras)
            self.target_overlap = None
            self.viewpoint_shift = None
        else:
            self.target_overlap = _check_range("overlap", overlap, 0.0, 1.0)
            spec = calibration.make_rig_spec(
                rig, num_cameras, viewpoint_shift, footprint, elevation, fovy,
                self.width / self.height,
            )  # fmt: skip
            self.viewpoint_shift = spec.viewpoint_shift
            poses = [CameraPose() for _ in range(spec.num_cameras)]
        self.rig = None if cameras is not None else rig
        self.footprint = getattr(spec, "footprint", None) if cameras is None else None
        self.num_cameras = len(poses)

        self.model = build_model(poses, self.height, self.width, self.num_objects, shadows)
        self.data = mujoco.MjData(self.model)
        try:
            self._renderer = mujoco.Renderer(self.model, self.height, self.width)
        except Exception as error:  # the GL backend is the usual culprit
            raise _gl.backend_error(error) from error
        self._far_clip = float(self.model.vis.map.zfar * self.model.stat.extent)
        self._object_qpos = [
            self.model.jnt_qposadr[self.model.joint(f"object{k}_x").id] for k in range(num_objects)
        ]
        self._object_body = [self.model.body(f"object{k}").id for k in range(num_objects)]
        self._pusher_body = self.model.body("pusher").id
        self._pusher_qpos = self.model.jnt_qposadr[self.model.joint("pusher_x").id]
        self._seg_lookup = self._segmentation_lookup()
        self.pusher_colour = _check_colour("pusher_colour", pusher_colour)
        if self.pusher_colour is not None:
            self.model.geom_rgba[self.model.geom("pusher").id, :3] = self.pusher_colour
        self._default_rgba = self.model.geom_rgba.copy()
        self._default_light = self.model.light_diffuse.copy()
        self.goal = np.zeros(2)

        self._rig = None
        if cameras is None:
            try:
                self._rig = self._solve(spec)
            except ValueError:
                self.close()  # an unreachable overlap must not leak the GL context
                raise
            poses = list(self._rig.poses)
        self._apply_poses(poses)
        self.overlap_matrix = self._measure_overlap()
        self.overlap = neighbour_overlap(self.overlap_matrix)
        # Cameras are static from here on: what each sees of the arena is fixed.
        self.arena_share = np.array([arena_share(camera) for camera in self.cameras])
        self._pixel_counter = ObjectPixelCounter(
            self.model, self.cameras, self._object_body, self._seg_lookup
        )

        image = spaces.Box(0, 255, (self.height, self.width, 3), np.uint8)
        space: dict[str, spaces.Space] = {}
        for camera in self.cameras:
            if "rgb" in self.obs_modes:
                space[camera.name] = image
            if "depth" in self.obs_modes:
                space[f"{camera.name}_depth"] = spaces.Box(
                    0.0, np.inf, (self.height, self.width), np.float32
                )
            if "segmentation" in self.obs_modes:
                space[f"{camera.name}_seg"] = spaces.Box(
                    -1, self.num_objects + 1, (self.height, self.width), np.int32
                )
        self.observation_space = spaces.Dict(space)
        self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)

    # -- cameras and overlap -------------------------------------------------

    def _solve(self, spec: calibration.AnyRigSpec) -> RigSolution:
        return calibration.solve(self, spec, self.target_overlap)

    def _calibration_layouts(self) -> list[np.ndarray]:
        rng = np.random.default_rng(_CALIBRATION_SEED)
        layouts = []
        for _ in range(_CALIBRATION_LAYOUTS):
            self._place_bodies(rng)
            layouts.append(self.data.qpos.copy())
        return layouts

    def _apply_poses(self, poses: Sequence[CameraPose]) -> None:
        for index, pose in enumerate(poses):
            set_camera_pose(self.model, index, pose)
        mujoco.mj_forward(self.model, self.data)
        self.cameras: tuple[Camera, ...] = tuple(
            Camera.from_pose(f"cam{i}", pose, self.height, self.width)
            for i, pose in enumerate(poses)
        )

    def _measure_overlap(self) -> np.ndarray:
        return overlap_matrix(self.cameras, self.render_depth())

    def render_depth(self) -> dict[str, np.ndarray]:
        """Z-depth in metres of every camera, ``{name: (H, W) float32}``, ``inf`` where empty."""
        renderer = self._active_renderer()
        renderer.enable_depth_rendering()
        try:
            depths = {}
            for index, camera in enumerate(self.cameras):
                self._update_scene(index)
                depth = renderer.render()
                depth[depth >= self._far_clip * 0.999] = np.inf
                depths[camera.name] = depth
        finally:
            renderer.disable_depth_rendering()
        return depths

    def render_segmentation(self) -> dict[str, np.ndarray]:
        """Object ids of every camera, ``{name: (H, W) int32}`` (see the class docstring)."""
        renderer = self._active_renderer()
        renderer.enable_segmentation_rendering()
        try:
            segs = {}
            for index, camera in enumerate(self.cameras):
                self._update_scene(index)
                geom_ids = renderer.render()[..., 0]
                segs[camera.name] = self._seg_lookup[geom_ids + 1]
        finally:
            renderer.disable_segmentation_rendering()
        return segs

    def render_views(self) -> dict[str, np.ndarray]:
        """RGB image of every camera, ``{name: (H, W, 3) uint8}``."""
        renderer = self._active_renderer()
        views = {}
        for index, camera in enumerate(self.cameras):
            self._update_scene(index)
            views[camera.name] = renderer.render()
        return views

    def _update_scene(self, index: int) -> None:
        self._renderer.update_scene(self.data, camera=index)

    def _active_renderer(self) -> mujoco.Renderer:
        if self._renderer is None:
            raise RuntimeError("this SocialViewEnv is closed; make a new one to render")
        return self._renderer

    def _segmentation_lookup(self) -> np.ndarray:
        """Map MuJoCo geom id + 1 to the documented segmentation id."""
        lookup = np.full(self.model.ngeom + 1, self.num_objects + 1, dtype=np.int32)
        lookup[0] = SEG_BACKGROUND
        for geom in range(self.model.ngeom):
            body = self.model.geom_bodyid[geom]
            name = self.model.body(body).name
            if name.startswith("object"):
                lookup[geom + 1] = int(name[len("object") :])
            elif name == "pusher":
                lookup[geom + 1] = self.num_objects
        return lookup

    # -- gymnasium API -------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Start an episode: objects, velocities and goal drawn from ``self.np_random``."""
        super().reset(seed=seed)
        rng = self.np_random
        self._place_bodies(rng)
        self.goal = rng.uniform(-_SPAWN_LIMIT, _SPAWN_LIMIT, size=2)
        if self.randomize:
            self._randomize_appearance(rng)
        mujoco.mj_forward(self.model, self.data)
        self.overlap_matrix = self._measure_overlap()
        self.overlap = neighbour_overlap(self.overlap_matrix)
        obs = self._observation()
        info = self._info(obs)
        info["overlap"] = self.overlap
        info["overlap_matrix"] = self.overlap_matrix.copy()
        return obs, info

    def step(
        self, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        """Apply ``action`` for ``frame_skip`` physics steps and observe every camera."""
        action = np.asarray(action, dtype=np.float64)
        if action.shape != (2,) or not np.all(np.isfinite(action)):
            raise ValueError(f"action must be 2 finite numbers in [-1, 1], got {action!r}")
        self.data.ctrl[:] = np.clip(action, -1.0, 1.0)
        mujoco.mj_step(self.model, self.data, nstep=self.frame_skip)
        obs = self._observation()
        info = self._info(obs)
        distance = info["distance_to_goal"]
        return obs, -distance, bool(distance < GOAL_RADIUS), False, info

    def render(self) -> np.ndarray | None:
        """Mosaic of all camera views side by side (``render_mode="rgb_array"``)."""
        if self.render_mode is None:
            gym.logger.warn("render() called with render_mode=None; pass render_mode='rgb_array'")
            return None
        return mosaic(list(self.render_views().values()))

    def close(self) -> None:
        """Free the OpenGL context; the env cannot render afterwards."""
        if getattr(self, "_renderer", None) is not None:
            self._renderer.close()
            self._renderer = None

    # -- helpers -------------------------------------------------------------

    def _place_bodies(self, rng: np.random.Generator) -> None:
        """Reset the physics with objects and pusher apart at random, objects moving."""
        mujoco.mj_resetData(self.model, self.data)
        placed: list[np.ndarray] = []
        for address in [*self._object_qpos, self._pusher_qpos]:
            for _ in range(100):
                candidate = rng.uniform(-_SPAWN_LIMIT, _SPAWN_LIMIT, size=2)
                if all(np.linalg.norm(candidate - other) > 0.3 for other in placed):
                    break
            placed.append(candidate)
            self.data.qpos[address : address + 2] = candidate
        for address in self._object_qpos:
            speed, heading = rng.uniform(0.3, 1.2), rng.uniform(0.0, 2.0 * math.pi)
            self.data.qvel[address : address + 2] = speed * np.array(
                [math.cos(heading), math.sin(heading)]
            )

    def _observation(self) -> dict[str, np.ndarray]:
        obs: dict[str, np.ndarray] = {}
        if "rgb" in self.obs_modes:
            obs.update(self.render_views())
        if "depth" in self.obs_modes:
            obs.update({f"{k}_depth": v for k, v in self.render_depth().items()})
        if "segmentation" in self.obs_modes:
            obs.update({f"{k}_seg": v for k, v in self.render_segmentation().items()})
        return {key: obs[key] for key in self.observation_space.spaces}

    def _info(self, obs: dict[str, np.ndarray]) -> dict[str, Any]:
        positions = self.data.xpos[self._object_body].copy()
        velocities = np.stack([self.data.qvel[a : a + 2] for a in self._object_qpos])
        velocities = np.concatenate([velocities, np.zeros((self.num_objects, 1))], axis=1)
        distance = float(np.linalg.norm(positions[0, :2] - self.goal))
        pusher = self.data.xpos[self._pusher_body].copy()
        labels = current_labels(positions, pusher)
        info: dict[str, Any] = {
            "object_pos": positions,
            "object_vel": velocities,
            "agent_pos": pusher,
            "goal": self.goal.copy(),
            "visible": self._visibility(positions, obs),
            "quadrant": labels["label_quadrant"],  # the first release's name for it
            "distance_to_goal": distance,
            "arena_share": self.arena_share.copy(),
        }
        if self.object_pixels:
            info["object_pixels"] = self._object_pixels(obs)
        info.update(labels)
        return info

    def _object_pixels(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """(N, K) pixel area of each object: from the segmentation when rendered, else rays."""
        if "segmentation" in self.obs_modes:
            segs = {camera.name: obs[f"{camera.name}_seg"] for camera in self.cameras}
            return pixels_from_segmentation(segs, self.num_objects)
        return self._pixel_counter.count(self.data)

    def _visibility(self, positions: np.ndarray, obs: dict[str, np.ndarray]) -> np.ndarray:
        visible = np.zeros((self.num_cameras, self.num_objects), dtype=bool)
        for n, camera in enumerate(self.cameras):
            uv, depth = camera.project(positions)
            cols, rows = np.floor(uv[:, 0]), np.floor(uv[:, 1])
            inside = (depth > 0) & (cols >= 0) & (cols < self.width) & (rows >= 0)
            inside &= rows < self.height
            depth_map = obs.get(f"{camera.name}_depth")
            if depth_map is not None:
                for k in np.flatnonzero(inside):
                    seen = depth_map[int(rows[k]), int(cols[k])]
                    inside[k] = depth[k] <= seen + 0.12  # the object's own radius of slack
            visible[n] = inside
        return visible

    def _randomize_appearance(self, rng: np.random.Generator) -> None:
        self.model.geom_rgba[:] = self._default_rgba
        for k, body in enumerate(self._object_body):
            geom = self.model.body_geomadr[body]
            base = np.asarray(OBJECT_COLOURS[k][:3])
            self.model.geom_rgba[geom, :3] = np.clip(base + rng.uniform(-0.15, 0.15, 3), 0, 1)
        floor = self.model.geom("floor").id
        self.model.geom_rgba[floor, :3] = rng.uniform(0.7, 1.0, 3)
        self.model.light_diffuse[:] = self._default_light * rng.uniform(0.7, 1.3)


def mosaic(images: Sequence[np.ndarray], gap: int = 2) -> np.ndarray:
    """Place equally sized RGB images side by side with a ``gap``-pixel white border."""
    height = images[0].shape[0]
    border = np.full((height, gap, 3), 255, dtype=np.uint8)
    pieces: list[np.ndarray] = []
    for index, image in enumerate(images):
        if index:
            pieces.append(border)
        pieces.append(image)
    return np.concatenate(pieces, axis=1)


def _check_int(name: str, value: object, minimum: int, maximum: int | None = None) -> int:
    allowed = (
        f"an integer >= {minimum}" if maximum is None else f"an integer in [{minimum}, {maximum}]"
    )
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return int(value)


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _check_colour(name: str, value: object) -> tuple[float, float, float] | None:
    """``None`` or three numbers in [0, 1] (an RGB colour), as a tuple of floats."""
    if value is None:
        return None
    allowed = "None or three numbers in [0, 1] (r, g, b)"
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    try:
        channels = [float(c) for c in value]  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {allowed}, got {value!r}") from None
    if len(channels) != 3 or not all(0.0 <= c <= 1.0 for c in channels):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return tuple(channels)  # type: ignore[return-value]


def _check_range(name: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}")
    if not (math.isfinite(float(value)) and low <= float(value) <= high):
        raise ValueError(f"{name} must be in [{low}, {high}], got {value!r}")
    return float(value)


def _check_image_size(image_size: object) -> tuple[int, int]:
    allowed = "a positive int or a (height, width) pair of ints in [8, 1024]"
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        size = (int(image_size), int(image_size))
    elif (
        isinstance(image_size, Sequence)
        and not isinstance(image_size, str)
        and len(image_size) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in image_size)
    ):
        size = (int(image_size[0]), int(image_size[1]))
    else:
        raise ValueError(f"image_size must be {allowed}, got {image_size!r}")
    if not all(8 <= v <= 1024 for v in size):
        raise ValueError(f"image_size must be {allowed}, got {image_size!r}")
    return size


def _check_obs_modes(obs_modes: object) -> tuple[str, ...]:
    if isinstance(obs_modes, str):
        obs_modes = (obs_modes,)
    if not isinstance(obs_modes, Sequence) or len(obs_modes) == 0:
        raise ValueError(
            f"obs_modes must be a non-empty list drawn from {OBS_MODES}, got {obs_modes!r}"
        )
    unknown = [mode for mode in obs_modes if mode not in OBS_MODES]
    if unknown:
        raise ValueError(f"obs_modes has unknown mode(s) {unknown}; allowed: {list(OBS_MODES)}")
    return tuple(dict.fromkeys(obs_modes))
