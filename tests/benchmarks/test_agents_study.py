"""The agents study's variants: each names an agent that builds, and old rows keep their meaning."""

from __future__ import annotations

import pytest

from socialview.agents import make_agent
from socialview.benchmarks.agents_study import FLATTEN_ERA, VARIANTS, _today


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_variant_builds_its_agent(name):
    spec = VARIANTS[name]
    make_agent(spec["agent"], seed=0, **spec.get("config", {}))  # unknown keys raise


def test_rows_of_the_flatten_era_keep_their_head_unless_they_name_one():
    assert _today("jepa", "x")["config"] == FLATTEN_ERA
    assert _today("jepa", "x", head="moments")["config"]["head"] == "moments"
    assert _today("pca", "x")["config"] == {}
    assert VARIANTS["default_jepa"]["config"]["head"] == "flatten"
    assert VARIANTS["default_jepa_moments"]["config"]["head"] == "moments"


def test_rows_measured_before_the_default_depth_changed_keep_their_depth():
    assert _today("jepa", "x")["config"]["depth"] == 3
    assert VARIANTS["default_jepa_moments"]["config"]["depth"] == 3
    assert VARIANTS["default_jepa_moments_d2"]["config"]["depth"] == 2
