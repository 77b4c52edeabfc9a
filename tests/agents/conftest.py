"""Fixtures of the agents tests: a synthetic dataset (fast) and a real recording (tiny)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")


def _load_synthetic():
    # tests run with --import-mode=importlib, so sibling modules are loaded by path
    name = "socialview_agents_tests_synthetic"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(
            "synthetic.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def make_synthetic():
    """The ``make_synthetic_dataset(out, **kw)`` helper."""
    return _load_synthetic().make_synthetic_dataset


@pytest.fixture(scope="session")
def synthetic_dataset(tmp_path_factory, make_synthetic) -> Path:
    """120 frames, 3 episodes, 2 cameras, 32x32, drawn with numpy."""
    return make_synthetic(tmp_path_factory.mktemp("synthetic") / "ds", frames=120,
                          episodes=3, size=32, cameras=2)


@pytest.fixture(scope="session")
def recorded_dataset(tmp_path_factory) -> Path:
    """A real SocialView recording: 200 frames, 2 cameras, 32x32 (a few seconds)."""
    from socialview.envs import record_dataset

    out = tmp_path_factory.mktemp("recorded") / "ds"
    return record_dataset(out, steps=200, overlap=0.5, num_cameras=2, image_size=32, seed=0,
                          preview=False, progress=False, episode_steps=100)


@pytest.fixture(scope="session")
def whole_arena_recordings(tmp_path_factory) -> tuple[Path, Path]:
    """Training and separately seeded evaluation recordings, both cameras seeing the
    whole arena (zoom rig, overlap 1), 32x32, short episodes: what the slow tests of
    "does this agent learn the world" train and probe on (recorded once, ~20 s)."""
    from socialview.envs import record_dataset

    root = tmp_path_factory.mktemp("whole_arena")
    kwargs = {"overlap": 1.0, "num_cameras": 2, "image_size": 32, "preview": False,
              "progress": False, "episode_steps": 16, "env_kwargs": {"rig": "zoom"}}
    return (record_dataset(root / "train", steps=2000, seed=1, **kwargs),
            record_dataset(root / "eval", steps=1600, seed=2, **kwargs))


@pytest.fixture()
def register_temp_agent():
    """Register agents for one test and remove them afterwards (no leaks between tests)."""
    from socialview.agents import register_agent, unregister_agent

    names: list[str] = []

    def _register(name, factory):
        register_agent(name)(factory)
        names.append(name)
        return factory

    yield _register
    for name in names:
        unregister_agent(name)
