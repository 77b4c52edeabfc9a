"""Fixtures of the alignment tests: a synthetic world whose state is known."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest


def _random_walk_world(rng: np.random.Generator, episodes: int = 120,
                       length: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Random-walk 'positions' of 3 bodies (6 columns) in many short episodes, and the
    episode id of every row."""
    start = rng.uniform(-1, 1, size=(episodes, 1, 6))
    steps = rng.normal(scale=0.05, size=(episodes, length, 6))
    state = (start + np.cumsum(steps, axis=1)).reshape(-1, 6)
    return state, np.repeat(np.arange(episodes), length)


@pytest.fixture(scope="session")
def world() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """``world(rng, episodes=120, length=20) -> (state, episode)`` (session-scoped, so
    hypothesis tests may use it)."""
    return _random_walk_world
