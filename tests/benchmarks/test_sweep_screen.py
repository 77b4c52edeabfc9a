"""The sweep screen's configs (docs/sweep-screen): each is a valid sweep config that
names the learning rates its rows were made with (the setting the screen is about), so
its command keeps its meaning if those defaults change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from socialview.benchmarks.sweep_config import SweepConfig

CONFIGS = Path(__file__).resolve().parents[2] / "docs" / "sweep-screen" / "configs"
SCREEN = CONFIGS.parent / "screen.json"

pytestmark = pytest.mark.skipif(not CONFIGS.is_dir(), reason="docs/ not beside the tests")


def _configs() -> list[Path]:
    return sorted(CONFIGS.glob("*.json")) if CONFIGS.is_dir() else []


@pytest.mark.parametrize("path", _configs(), ids=lambda p: p.stem)
def test_every_screen_config_is_a_valid_sweep_config_that_pins_the_learning_rates(path):
    config = SweepConfig.from_dict(json.loads(path.read_text()))
    for agent in ("jepa", "supervised"):
        assert "lr" in config.agent_config[agent], f"{path.name} leaves {agent}'s lr to the default"


def test_every_screen_row_names_a_config_that_exists():
    rows = json.loads(SCREEN.read_text())
    assert rows
    for row in rows:
        words = row["invocation"].split()
        config = Path(words[words.index("--config") + 1])
        assert (CONFIGS.parents[1] / config.relative_to("docs")).is_file(), row["invocation"]
