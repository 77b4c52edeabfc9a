"""A tiny dataset in the documented format, drawn with numpy (no MuJoCo needed).

Coloured discs move on a grey floor; disc 0 is pushed by the action. Fast unit
tests of the trainer use it; the end-to-end test uses a real recording.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def make_synthetic_dataset(out: Path, *, frames: int = 120, episodes: int = 3, size: int = 32,
                           cameras: int = 2, objects: int = 3, seed: int = 0) -> Path:
    """Write a dataset folder with ``frames`` frames split into ``episodes`` episodes."""
    rng = np.random.default_rng(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    episode = np.repeat(np.arange(episodes), -(-frames // episodes))[:frames].astype(np.int32)
    actions = rng.uniform(-1, 1, size=(frames, 2)).astype(np.float32)
    pos = np.zeros((frames, objects, 3), np.float32)
    vel = np.zeros((frames, objects, 3), np.float32)
    p = rng.uniform(-0.8, 0.8, size=(objects, 2))
    v = rng.uniform(-0.05, 0.05, size=(objects, 2))
    for t in range(frames):
        if t > 0 and episode[t] != episode[t - 1]:
            p = rng.uniform(-0.8, 0.8, size=(objects, 2))
        pos[t, :, :2], vel[t, :, :2] = p, v
        v[0] = 0.08 * actions[t]
        p = p + v
        hit = np.abs(p) > 0.9
        v[hit] *= -1
        p = np.clip(p, -0.9, 0.9)
    colours = np.array([[230, 40, 40], [40, 200, 40], [40, 80, 230], [220, 220, 40]], np.uint8)
    yy, xx = np.mgrid[0:size, 0:size]
    for c in range(cameras):
        imgs = np.full((frames, size, size, 3), 110 + 20 * c, np.uint8)
        shift = 0.3 * c  # cameras see shifted windows of the floor
        for t in range(frames):
            for k in range(objects):
                cx = (pos[t, k, 0] - shift + 1.3) / 2.6 * size
                cy = (pos[t, k, 1] + 1.3) / 2.6 * size
                mask = (xx - cx) ** 2 + (yy - cy) ** 2 < (size / 10) ** 2
                imgs[t][mask] = colours[k % len(colours)]
        np.save(out / f"cam{c}.npy", imgs)
    np.save(out / "actions.npy", actions)
    np.save(out / "episode.npy", episode)
    np.save(out / "object_pos.npy", pos)
    np.save(out / "object_vel.npy", vel)
    np.save(out / "reward.npy", np.zeros(frames, np.float32))
    meta = {
        "format_version": 1, "num_frames": frames, "num_episodes": episodes,
        "image_size": [size, size], "camera_names": [f"cam{c}" for c in range(cameras)],
        "cameras": [], "overlap": 0.5, "overlap_matrix": [], "env_kwargs": {}, "seed": seed,
        "policy": "random", "arrays": {}, "versions": {}, "created": "synthetic",
    }
    (out / "meta.json").write_text(json.dumps(meta))
    return out
