"""The two rigs: slide keeps each view constant across overlaps, zoom is the first release's.

Everything here renders for real (small images); reachable ranges are measured
once per process and cached, so the tests share that cost.
"""

from __future__ import annotations

import re
import time

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import socialview.envs  # noqa: F401  (registers SocialView-v1)
from socialview.benchmarks.cli import main
from socialview.envs import SocialViewEnv, reachable_overlap
from socialview.envs.ground_truth import pixels_from_segmentation

DIAL_TOLERANCE = 0.03
REACH_TOLERANCE = 0.02

#: Poses the first release (commit 4662a87, envs/rig.py before the slide rig) solved.
ZOOM_POSES_BEFORE = {
    (0.5, 30.0, 2): [
        ((-0.309375, 0.0, 0.0), 1.6174792455884828, 105.0),
        ((0.309375, 0.0, 0.0), 1.6174792455884828, 75.0),
    ],
    (0.3, 60.0, 3): [
        ((-0.4833984375, 0.0, 0.0), 0.941183632038696, 150.0),
        ((0.0, 0.0, 0.0), 0.941183632038696, 90.0),
        ((0.4833984375, 0.0, 0.0), 0.941183632038696, 30.0),
    ],
}


@pytest.mark.parametrize(("overlap", "viewpoint_shift", "num_cameras"), list(ZOOM_POSES_BEFORE))
def test_zoom_rig_solves_the_same_poses_as_the_first_release(
    overlap, viewpoint_shift, num_cameras
):
    env = SocialViewEnv(
        rig="zoom",
        overlap=overlap,
        viewpoint_shift=viewpoint_shift,
        num_cameras=num_cameras,
        image_size=48,
    )
    try:
        for camera, (lookat, distance, azimuth) in zip(
            env.cameras, ZOOM_POSES_BEFORE[overlap, viewpoint_shift, num_cameras], strict=True
        ):
            assert camera.pose.lookat == pytest.approx(lookat, abs=1e-12)
            assert camera.pose.distance == pytest.approx(distance, rel=1e-12)
            assert camera.pose.azimuth == pytest.approx(azimuth)
            assert (camera.pose.elevation, camera.pose.fovy) == (-55.0, 45.0)
    finally:
        env.close()


@pytest.mark.parametrize("viewpoint_shift", [0.0, 90.0, 180.0])
def test_slide_rig_keeps_arena_share_and_object_size_across_reachable_overlaps(viewpoint_shift):
    low, high = reachable_overlap(viewpoint_shift, image_size=48)
    shares, areas = [], []
    for target in (low, 0.5 * (low + high), high):
        env = SocialViewEnv(overlap=target, viewpoint_shift=viewpoint_shift, image_size=48)
        try:
            distances = {camera.pose.distance for camera in env.cameras}
            fovys = {camera.pose.fovy for camera in env.cameras}
            assert len(distances) == 1 and len(fovys) == 1
            visible, overlaps = [], []
            for seed in range(60):  # the same object layouts at every overlap
                _, info = env.reset(seed=seed)
                overlaps.append(info["overlap"])  # objects' occlusion scatters it per layout
                pixels = info["object_pixels"]
                visible.extend(pixels[pixels > 0].tolist())
            assert abs(np.mean(overlaps) - target) <= DIAL_TOLERANCE
            shares.extend(env.arena_share.tolist())
            areas.append(np.mean(visible))
        finally:
            env.close()
    shares, areas = np.array(shares), np.array(areas)
    assert (shares.max() - shares.min()) / shares.max() <= 0.10, shares
    assert (areas.max() - areas.min()) / areas.max() <= 0.15, areas
    # Objects at least ~6 px across at 64 px: at 48 px that is an area of ~16 px.
    assert areas.min() * (64 / 48) ** 2 >= np.pi * 3.0**2, areas


def test_footprint_sets_each_cameras_share_of_the_arena():
    distances = {}
    for footprint in (0.3, 0.5):
        _, high = reachable_overlap(0.0, footprint=footprint, image_size=32)
        env = SocialViewEnv(footprint=footprint, overlap=high, viewpoint_shift=0, image_size=32)
        try:
            np.testing.assert_allclose(env.arena_share, footprint, atol=0.02)
            distances[footprint] = env.cameras[0].pose.distance
            assert env.footprint == footprint and env.rig == "slide"
        finally:
            env.close()
    assert distances[0.3] < distances[0.5]  # a smaller footprint is a closer camera


def test_unreachable_overlap_names_overlap_and_the_reachable_range():
    low, high = reachable_overlap(90.0, image_size=32)
    assert high < 0.9  # two cameras 90 degrees apart never see exactly the same floor
    with pytest.raises(ValueError) as caught:
        gym.make("SocialView-v1", overlap=1.0, viewpoint_shift=90, image_size=32)
    message = str(caught.value)
    assert "overlap=1.0 cannot be reached" in message
    assert "viewpoint_shift=90.0" in message
    assert f"ranges over [{low:.3f}, {high:.3f}]" in message


@pytest.mark.parametrize("rig", ["slide", "zoom"])
def test_reachable_overlap_agrees_with_what_make_accepts(rig):
    low, high = reachable_overlap(45.0, rig=rig, image_size=32)
    assert 0.0 <= low < high <= 1.0
    for target in (low, 0.5 * (low + high), high):
        env = gym.make("SocialView-v1", rig=rig, overlap=target, viewpoint_shift=45, image_size=32)
        try:
            assert abs(env.unwrapped.overlap - target) <= DIAL_TOLERANCE
        finally:
            env.close()
    outside = [t for t in (low - REACH_TOLERANCE - 0.02, high + REACH_TOLERANCE + 0.02)]
    for target in [t for t in outside if 0.0 <= t <= 1.0]:
        with pytest.raises(ValueError, match=re.escape(f"overlap={target} cannot be reached")):
            gym.make("SocialView-v1", rig=rig, overlap=target, viewpoint_shift=45, image_size=32)


def test_reachable_overlap_is_cached():
    reachable_overlap(45.0, image_size=32)
    start = time.perf_counter()
    for _ in range(100):
        reachable_overlap(45.0, image_size=32)
    assert time.perf_counter() - start < 0.1


@pytest.mark.parametrize("rig", ["slide", "zoom"])
def test_viewpoint_shift_180_works_under_both_rigs(rig):
    low, high = reachable_overlap(180.0, rig=rig, image_size=32)
    target = 0.5 * (low + high)
    env = SocialViewEnv(rig=rig, overlap=target, viewpoint_shift=180, image_size=32)
    try:
        azimuths = [camera.pose.azimuth for camera in env.cameras]
        assert azimuths[0] - azimuths[1] == pytest.approx(180.0)
        _, info = env.reset(seed=0)
        assert abs(env.overlap - target) <= DIAL_TOLERANCE + 0.03
        assert info["object_pixels"].shape == (2, env.num_objects)
    finally:
        env.close()


@pytest.mark.parametrize("rig", ["slide", "zoom"])
@pytest.mark.parametrize("shift", [-1.0, 180.5])
def test_viewpoint_shift_outside_0_180_is_rejected(rig, shift):
    pattern = rf"viewpoint_shift must be in \[0.0, 180.0\], got {shift}"
    with pytest.raises(ValueError, match=pattern):
        reachable_overlap(shift, rig=rig)
    with pytest.raises(ValueError, match=pattern):
        SocialViewEnv(rig=rig, viewpoint_shift=shift, image_size=16)


def test_info_carries_arena_share_and_object_pixels_every_step():
    env = SocialViewEnv(image_size=32, num_cameras=3, overlap=0.5)
    try:
        _, info = env.reset(seed=0)
        for _ in range(3):
            assert info["arena_share"].shape == (3,)
            assert np.all((info["arena_share"] > 0) & (info["arena_share"] <= 1))
            assert info["object_pixels"].shape == (3, env.num_objects)
            assert info["object_pixels"].dtype == np.int32
            *_, info = env.step(np.zeros(2))
    finally:
        env.close()


def test_object_pixels_from_rays_match_the_segmentation_render():
    env = SocialViewEnv(image_size=64, overlap=0.5, obs_modes=("rgb", "segmentation"))
    try:
        rays, segs = [], []
        rng = np.random.default_rng(0)
        for seed in range(6):
            obs, info = env.reset(seed=seed)
            for _ in range(4):
                obs, *_, info = env.step(rng.uniform(-1, 1, 2))
                rays.append(env._pixel_counter.count(env.data))
                segs.append(info["object_pixels"])
                names = {camera.name: obs[f"{camera.name}_seg"] for camera in env.cameras}
                np.testing.assert_array_equal(
                    segs[-1], pixels_from_segmentation(names, env.num_objects)
                )
        rays, segs = np.array(rays), np.array(segs)
        assert segs.sum() > 1000  # objects were in view
        assert np.abs(rays - segs).mean() <= 1.0
        assert abs(rays.sum() - segs.sum()) <= 0.03 * segs.sum()
    finally:
        env.close()


def test_object_pixels_per_camera_when_an_object_is_beside_one_and_behind_another():
    """The counter's three cases in one rig, each against the segmentation render.

    cam0 stands low with object 1 beside it (its bound straddles the camera's
    plane: every pixel is tested), cam1 looks out of the arena (no object can be
    in view: no rays), cam2 looks down on the floor (boxes around the objects).
    """
    cameras = [
        {"position": [-0.9, 0.0, 0.3], "lookat": [0.0, 0.0, 0.0]},
        {"position": [0.9, 0.9, 0.5], "lookat": [2.0, 2.0, 0.5]},
        {"lookat": [0, 0, 0], "distance": 3.0, "azimuth": 90, "elevation": -60},
    ]
    env = SocialViewEnv(cameras=cameras, image_size=48)
    try:
        env.reset(seed=0)
        layout = [(0.0, 0.0), (-0.9, 0.5), (0.5, -0.5)]
        for address, xy in zip(env._object_qpos, layout, strict=True):
            env.data.qpos[address : address + 2] = xy
            env.data.qvel[address : address + 2] = 0.0
        mujoco.mj_forward(env.model, env.data)
        counter = env._pixel_counter
        straddling, away, above = counter._candidate_pixels(env.data.xpos[counter.object_bodies])
        assert straddling is not None and straddling.all()
        assert away is None
        assert above is not None and 0 < above.sum() < above.size
        rays = counter.count(env.data)
        segs = pixels_from_segmentation(env.render_segmentation(), env.num_objects)
        assert segs[0].sum() > 30 and segs[2].sum() > 30 and segs[1].sum() == 0
        np.testing.assert_array_equal(rays[1], 0)
        np.testing.assert_allclose(rays, segs, rtol=0.1, atol=3)
    finally:
        env.close()


def test_view_draws_a_grid_with_unreachable_cells(tmp_path, capsys):
    out = tmp_path / "views.png"
    code = main(
        ["view", "--overlap", "0", "0.5", "--viewpoint-shift", "0", "180",
         "--image-size", "24", "--out", str(out)]
    )  # fmt: skip
    assert code == 0 and out.stat().st_size > 0
    assert "wrote" in capsys.readouterr().out
    assert main(["view", "--viewpoint-shift", "200", "--out", str(out)]) == 2
    assert "viewpoint_shift must be in [0.0, 180.0]" in capsys.readouterr().err
