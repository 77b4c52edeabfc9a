"""The example package registers an agent through the ``socialview.agents`` entry point."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from socialview.agents import (
    Agent,
    clear_entry_point_cache,
    embed,
    list_agents,
    load_agent,
    make_agent,
    train_agent,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "socialview-example-agent"


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory) -> Path:
    """Install the example into a private folder (the main environment is left alone)."""
    if not EXAMPLE.is_dir():
        pytest.skip("examples/ is not shipped with this installation")
    target = tmp_path_factory.mktemp("plugin")
    source = tmp_path_factory.mktemp("plugin-src") / EXAMPLE.name  # keep build/ out of the repo
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(source)],
        check=True, capture_output=True, cwd=tmp_path_factory.getbasetemp(),
    )
    return target


@pytest.fixture()
def plugin_path(installed_example, monkeypatch):
    monkeypatch.syspath_prepend(str(installed_example))
    clear_entry_point_cache()
    yield installed_example
    monkeypatch.undo()
    clear_entry_point_cache()
    sys.modules.pop("socialview_example_agent", None)


@pytest.mark.slow
def test_entry_point_agent_is_found_and_trains(plugin_path, synthetic_dataset, tmp_path):
    assert "example-mean-color" in list_agents()
    agent = make_agent("example-mean-color", seed=1, latent_dim=6)
    assert isinstance(agent, Agent)
    assert type(agent).__module__ == "socialview_example_agent"
    result = train_agent(agent, synthetic_dataset, "cam0", steps=4, out_dir=tmp_path / "run",
                         batch_size=8, progress=False)
    assert np.isfinite(result.final_metrics["loss"]) and result.flops_per_step > 0
    reloaded = load_agent(tmp_path / "run")
    np.testing.assert_array_equal(embed(reloaded, synthetic_dataset, "cam1"),
                                  embed(agent, synthetic_dataset, "cam1"))


def test_entry_point_is_gone_without_the_package():
    clear_entry_point_cache()
    assert "example-mean-color" not in list_agents()
