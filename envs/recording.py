"""Record synchronized multi-view datasets and open them again.

The on-disk format is documented in ``docs/dataset_format.md``: one plain
``.npy`` file per camera (memory-mappable), actions, episode indices, ground
truth, and ``meta.json``. Recording writes into a hidden temporary folder next to
the destination and renames it into place at the end, so an interrupted run
leaves nothing half written behind.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from socialview.envs.labels import compute_labels
from socialview.envs.overlap import neighbour_overlap
from socialview.envs.social_view import SocialViewEnv, mosaic

FORMAT_VERSION = 1
#: Policy signature: ``policy(observation, info, rng) -> action`` (2 floats in [-1, 1]).
Policy = Callable[[Mapping[str, np.ndarray], Mapping[str, Any], np.random.Generator], np.ndarray]
PREVIEW_FRAMES = 200
_STATE_ARRAYS = {
    "actions": (np.float32, lambda env: (2,)),
    "episode": (np.int32, lambda env: ()),
    "reward": (np.float32, lambda env: ()),
    "object_pos": (np.float32, lambda env: (env.num_objects, 3)),
    "object_vel": (np.float32, lambda env: (env.num_objects, 3)),
    "agent_pos": (np.float32, lambda env: (3,)),
    "visible": (np.bool_, lambda env: (env.num_cameras, env.num_objects)),
    "quadrant": (np.int64, lambda env: ()),
    "arena_share": (np.float32, lambda env: (env.num_cameras,)),
    "object_pixels": (np.int32, lambda env: (env.num_cameras, env.num_objects)),
}
#: Per-frame ground truth copied from ``info`` (the rest of _STATE_ARRAYS is written apart).
_INFO_ARRAYS = (
    "object_pos", "object_vel", "agent_pos", "visible", "quadrant", "arena_share", "object_pixels"
)


def random_policy(
    observation: Mapping[str, np.ndarray], info: Mapping[str, Any], rng: np.random.Generator
) -> np.ndarray:
    """Uniform random force in [-1, 1]^2: the default exploration policy."""
    return rng.uniform(-1.0, 1.0, size=2).astype(np.float32)


def record_dataset(
    out: str | os.PathLike,
    *,
    steps: int,
    overlap: float = 0.5,
    num_cameras: int = 2,
    image_size: int = 64,
    seed: int = 0,
    policy: Policy | None = None,
    force: bool = False,
    preview: bool = True,
    env_kwargs: Mapping[str, Any] | None = None,
    episode_steps: int = 200,
    progress: bool = True,
) -> Path:
    """Roll out ``policy`` in SocialView-v1 and write a synchronized dataset to ``out``.

    Parameters
    ----------
    out
        Destination folder; must not exist unless ``force`` is set.
    steps
        Frames to record in total (episodes are cut at ``episode_steps``).
    overlap, num_cameras, image_size
        Shorthands for the env's keyword arguments of the same names.
    seed
        Seeds the env (episode ``e`` is reset with ``seed + e``) and the policy's generator.
    policy
        ``policy(observation, info, rng) -> action``; uniform random by default.
    force
        Replace an existing dataset at ``out`` (only once the new one is complete).
    preview
        Also write ``preview.mp4`` (or ``preview.gif`` without ffmpeg) of the mosaic.
    env_kwargs
        Any other :class:`SocialViewEnv` keyword arguments (they override the shorthands;
        ``object_pixels=False`` is refused, since recordings store ``object_pixels``).
    episode_steps
        Frames per episode before a new reset.
    progress
        Show a tqdm progress bar.

    Returns
    -------
    pathlib.Path
        The dataset folder.
    """
    out = Path(out)
    steps = _positive_int("steps", steps)
    episode_steps = _positive_int("episode_steps", episode_steps)
    if out.exists() and not force:
        raise FileExistsError(
            f"out={str(out)!r} already exists; pass force=True (CLI: --force) to replace it"
        )
    kwargs = {"overlap": overlap, "num_cameras": num_cameras, "image_size": image_size}
    kwargs.update(env_kwargs or {})
    policy = policy or random_policy
    if isinstance(kwargs.get("object_pixels"), (bool, np.bool_)) and not kwargs["object_pixels"]:
        raise ValueError(
            "record_dataset needs object_pixels=True (recordings store object_pixels), "
            "got env_kwargs={'object_pixels': False}"
        )
    env = SocialViewEnv(**kwargs)  # bad kwargs fail here, before anything is written
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir()
        _record_into(staging, env, steps, seed, policy, episode_steps, kwargs, preview, progress)
        _move_into_place(staging, out)
    finally:
        env.close()
        shutil.rmtree(staging, ignore_errors=True)
    return out


def _record_into(
    folder: Path,
    env: SocialViewEnv,
    steps: int,
    seed: int,
    policy: Policy,
    episode_steps: int,
    kwargs: Mapping[str, Any],
    preview: bool,
    progress: bool,
) -> None:
    shape = (env.height, env.width, 3)
    names = [camera.name for camera in env.cameras]
    arrays: dict[str, np.ndarray] = {
        name: np.lib.format.open_memmap(folder / f"{name}.npy", "w+", np.uint8, (steps, *shape))
        for name in names
    }
    for name, (dtype, trailing) in _STATE_ARRAYS.items():
        arrays[name] = np.lib.format.open_memmap(
            folder / f"{name}.npy", "w+", dtype, (steps, *trailing(env))
        )
    rng = np.random.default_rng(seed)
    preview_frames: list[np.ndarray] = []
    episode, frame_in_episode = -1, episode_steps
    overlaps = []
    for t in tqdm(range(steps), desc="record", unit="frame", disable=not progress):
        if frame_in_episode >= episode_steps:
            episode += 1
            frame_in_episode = 0
            obs, info = env.reset(seed=seed + episode)
            overlaps.append(info["overlap_matrix"])
        action = np.asarray(policy(obs, info, rng), dtype=np.float32)
        for name in names:
            arrays[name][t] = obs[name]
        if preview and len(preview_frames) < PREVIEW_FRAMES:
            preview_frames.append(mosaic([obs[name] for name in names]))
        arrays["actions"][t] = action
        arrays["episode"][t] = episode
        for key in _INFO_ARRAYS:
            arrays[key][t] = info[key]
        obs, reward, terminated, truncated, info = env.step(action)
        arrays["reward"][t] = reward
        frame_in_episode += 1
        if terminated or truncated:
            frame_in_episode = episode_steps
    for array in arrays.values():
        array.flush()
    labels = compute_labels(arrays["object_pos"], arrays["agent_pos"], arrays["episode"])
    for name, values in labels.items():  # look-ahead labels need the whole recording
        np.save(folder / f"label_{name}.npy", values)
        arrays[f"label_{name}"] = values
    matrix = np.mean(overlaps, axis=0)
    meta = {
        "format_version": FORMAT_VERSION,
        "num_frames": steps,
        "num_episodes": episode + 1,
        "image_size": [env.height, env.width],
        "camera_names": names,
        "cameras": [camera.to_dict() for camera in env.cameras],
        "overlap": neighbour_overlap(matrix),
        "overlap_matrix": matrix.tolist(),
        "target_overlap": env.target_overlap,
        "rig": env.rig,
        "footprint": env.footprint,
        "arena_share": env.arena_share.tolist(),
        "env_kwargs": _jsonable(dict(kwargs)),
        "env_id": "SocialView-v1",
        "frame_skip": env.frame_skip,
        "seed": seed,
        "episode_steps": episode_steps,
        "policy": getattr(policy, "__qualname__", repr(policy)),
        "arrays": {
            name: {"dtype": str(array.dtype), "shape": list(array.shape)}
            for name, array in arrays.items()
        },
        "versions": package_versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    del arrays
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))
    if preview and preview_frames:
        write_preview(folder, preview_frames, fps=env.metadata["render_fps"])


def write_preview(folder: Path, frames: list[np.ndarray], fps: int) -> Path:
    """Write ``preview.mp4`` (ffmpeg) or, failing that, ``preview.gif``; return its path."""
    import imageio.v2 as imageio

    try:
        path = folder / "preview.mp4"
        with imageio.get_writer(path, fps=fps, macro_block_size=1, codec="libx264") as writer:
            for frame in frames:
                writer.append_data(frame)
    except Exception:  # no ffmpeg: a GIF needs nothing beyond Pillow
        path.unlink(missing_ok=True)
        path = folder / "preview.gif"
        imageio.mimsave(path, frames, duration=1000 / fps)
    return path


def _move_into_place(staging: Path, out: Path) -> None:
    if out.exists():
        trash = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, trash)
        os.replace(staging, out)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(staging, out)


def package_versions(
    names: Sequence[str] = ("socialview", "mujoco", "gymnasium", "numpy"),
) -> dict[str, str]:
    """Installed versions of ``names`` (default: what shapes a recording), for metadata."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Dataset:
    """A recorded dataset opened read-only; arrays are memory-mapped, not loaded.

    Attributes
    ----------
    path: the dataset folder.
    meta: the parsed ``meta.json``.
    """

    path: Path
    meta: dict

    @property
    def camera_names(self) -> list[str]:
        """Observation keys of the recorded cameras."""
        return list(self.meta["camera_names"])

    def __len__(self) -> int:
        return int(self.meta["num_frames"])

    def array(self, name: str) -> np.ndarray:
        """Memory-mapped array ``name`` (a camera name or a state array such as ``actions``)."""
        if name not in self.meta["arrays"]:
            raise KeyError(
                f"dataset {str(self.path)!r} has no array {name!r}; it has "
                f"{sorted(self.meta['arrays'])}"
            )
        return np.load(self.path / f"{name}.npy", mmap_mode="r")

    def frames(self, camera: str) -> np.ndarray:
        """Frames of ``camera``, (T, H, W, 3) uint8, memory-mapped."""
        if camera not in self.camera_names:
            raise KeyError(
                f"dataset {str(self.path)!r} has no camera {camera!r}; cameras: {self.camera_names}"
            )
        return self.array(camera)

    def transition_mask(self, horizon: int = 1) -> np.ndarray:
        """Bool (T,): True where frame t and frame t + horizon belong to one episode."""
        episode = self.array("episode")
        mask = np.zeros(len(self), dtype=bool)
        if horizon < len(self):
            mask[:-horizon] = episode[:-horizon] == episode[horizon:]
        return mask


def load_dataset(path: str | os.PathLike) -> Dataset:
    """Open the dataset at ``path`` and check its metadata against the files.

    Raises ``FileNotFoundError`` for a missing folder or ``meta.json`` and
    ``ValueError`` when the format version, an array's dtype or its shape does
    not match what ``meta.json`` records.
    """
    path = Path(path)
    meta_path = path / "meta.json"
    if not meta_path.is_file():
        raise FileNotFoundError(
            f"{str(path)!r} is not a socialview dataset: no meta.json (record one with "
            "`socialview record --out DIR`)"
        )
    meta = json.loads(meta_path.read_text())
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"dataset {str(path)!r} has format_version={meta.get('format_version')!r}; "
            f"this socialview reads version {FORMAT_VERSION}"
        )
    for name, spec in meta["arrays"].items():
        file = path / f"{name}.npy"
        if not file.is_file():
            raise ValueError(f"dataset {str(path)!r} is incomplete: {file.name} is missing")
        array = np.load(file, mmap_mode="r")
        if str(array.dtype) != spec["dtype"] or list(array.shape) != spec["shape"]:
            raise ValueError(
                f"dataset {str(path)!r}: {file.name} has dtype {array.dtype} shape "
                f"{list(array.shape)}, but meta.json records {spec['dtype']} {spec['shape']}"
            )
    return Dataset(path, meta)
