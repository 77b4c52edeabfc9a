"""The sweep screen's configs (docs/sweep-screen): each is a valid sweep config that
names the learning rates, the training recording's length and the core readout's share
guard its rows were made with (the learning rate and the length are what the screen is
about; all three defaults changed in round fourteen), so its command keeps its meaning
when defaults change."""

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
def test_every_screen_config_is_a_valid_sweep_config_that_pins_what_its_rows_ran_with(path):
    values = json.loads(path.read_text())
    config = SweepConfig.from_dict(values)
    assert "dataset_steps" in values, f"{path.name} leaves the recording's length to the default"
    for agent in ("jepa", "supervised"):
        for key in ("lr", "core_share"):
            assert key in config.agent_config[agent], (
                f"{path.name} leaves {agent}'s {key} to the default")


def test_every_screen_row_names_a_config_that_exists():
    rows = json.loads(SCREEN.read_text())
    assert rows
    for row in rows:
        words = row["invocation"].split()
        config = Path(words[words.index("--config") + 1])
        assert (CONFIGS.parents[1] / config.relative_to("docs")).is_file(), row["invocation"]
