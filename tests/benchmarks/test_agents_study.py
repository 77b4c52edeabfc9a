"""The agents study's variants: each names an agent that builds, and old rows keep their meaning."""

from __future__ import annotations

import math

import pytest

from socialview.agents import make_agent
from socialview.benchmarks.agents_study import (
    FLATTEN_ERA,
    VARIANTS,
    _key_part,
    _today,
    long_lens_cameras,
)
from socialview.envs.cameras import CameraPose


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


def test_long_lenses_keep_the_poses_and_the_framing():
    wide, narrow = long_lens_cameras(45.0), long_lens_cameras(10.0)
    for w, n in zip(wide, narrow, strict=True):
        assert (n["azimuth"], n["elevation"], n["lookat"]) == (w["azimuth"], w["elevation"],
                                                             w["lookat"])
        assert n["fovy"] == 10.0
        # the half-height the view spans at the look-at point is unchanged
        half_wide = w["distance"] * math.tan(math.radians(w["fovy"] / 2))
        half_narrow = n["distance"] * math.tan(math.radians(n["fovy"] / 2))
        assert half_narrow == pytest.approx(half_wide)
        CameraPose.from_dict(n)  # a valid pose for SocialViewEnv(cameras=...)


def test_dataset_folder_names_digest_camera_lists_stably():
    cameras = long_lens_cameras(10.0)
    assert _key_part(0.7) == "0.7" and _key_part("zoom") == "zoom"
    assert _key_part(cameras) == _key_part(long_lens_cameras(10.0))
    assert _key_part(cameras) != _key_part(long_lens_cameras(20.0))
    assert len(_key_part(cameras)) == 10 and _key_part(cameras).isalnum()
