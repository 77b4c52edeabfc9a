"""The pixel-overlap dial, checked against an independent reprojection of the depth maps.

The zoom rig reaches [0, 1] at shifts up to 90 degrees and is tested over all of it;
the slide rig's narrower, measured ranges are tested in test_rigs.py.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from socialview.envs import SocialViewEnv
from socialview.envs.rig import RigSpec, solve_rig

DIAL_TOLERANCE = 0.03


def reference_overlap_matrix(env: SocialViewEnv, depths: dict[str, np.ndarray]) -> np.ndarray:
    """Overlap computed from MuJoCo's own camera frames (cam_xpos, cam_xmat, cam_fovy).

    Written independently of socialview.envs.cameras/overlap: MuJoCo's camera
    looks down its -z axis with y up, so rows grow downwards as -y.
    """
    model, data = env.model, env.data
    height, width = env.height, env.width
    frames = []
    for index in range(env.num_cameras):
        focal = 0.5 * height / np.tan(np.deg2rad(model.cam_fovy[index]) / 2)
        frames.append((data.cam_xpos[index].copy(), data.cam_xmat[index].reshape(3, 3), focal))
    size = env.num_cameras
    matrix = np.eye(size)
    rows, cols = np.mgrid[0:height, 0:width]
    for a in range(size):
        depth_a = depths[f"cam{a}"]
        seen = np.isfinite(depth_a)
        pos_a, rot_a, focal_a = frames[a]
        d = depth_a[seen]
        local = np.stack(
            [
                (cols[seen] + 0.5 - width / 2) / focal_a * d,
                -(rows[seen] + 0.5 - height / 2) / focal_a * d,
                -d,
            ],
            axis=1,
        )
        world = pos_a + local @ rot_a.T
        for b in range(size):
            if a == b:
                continue
            pos_b, rot_b, focal_b = frames[b]
            in_b = (world - pos_b) @ rot_b
            z = -in_b[:, 2]
            with np.errstate(divide="ignore", invalid="ignore"):
                col = np.floor(focal_b * in_b[:, 0] / z + width / 2)
                row = np.floor(-focal_b * in_b[:, 1] / z + height / 2)
            ok = (z > 0) & (col >= 0) & (col < width) & (row >= 0) & (row < height)
            depth_b = depths[f"cam{b}"][row[ok].astype(int), col[ok].astype(int)]
            visible = z[ok] <= depth_b * 1.03 + 0.02
            matrix[a, b] = visible.sum() / max(seen.sum(), 1)
    return matrix


@pytest.mark.parametrize("viewpoint_shift", [0.0, 30.0, 60.0, 90.0])
@pytest.mark.parametrize("target", [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0])
def test_dial_reaches_every_target_with_two_cameras(target, viewpoint_shift):
    env = SocialViewEnv(
        overlap=target, viewpoint_shift=viewpoint_shift, image_size=48, rig="zoom"
    )
    try:
        for seed in (0, 1):
            _, info = env.reset(seed=seed)
            assert abs(info["overlap"] - target) <= DIAL_TOLERANCE, info["overlap"]
            assert info["overlap_matrix"].shape == (2, 2)
            assert env.overlap == info["overlap"]
    finally:
        env.close()


@pytest.mark.parametrize("num_cameras", [3, 4])
@pytest.mark.parametrize("target", [0.0, 0.4, 0.8, 1.0])
def test_dial_holds_for_neighbouring_pairs_of_larger_rigs(num_cameras, target):
    env = SocialViewEnv(
        num_cameras=num_cameras, overlap=target, viewpoint_shift=45, image_size=48, rig="zoom"
    )
    try:
        _, info = env.reset(seed=0)
        assert abs(info["overlap"] - target) <= DIAL_TOLERANCE
        assert info["overlap_matrix"].shape == (num_cameras, num_cameras)
    finally:
        env.close()


@pytest.mark.parametrize(
    ("target", "viewpoint_shift", "num_cameras", "rig"),
    [
        (0.2, 0.0, 2, "zoom"),
        (0.5, 45.0, 2, "zoom"),
        (0.85, 90.0, 2, "zoom"),
        (0.5, 30.0, 3, "zoom"),
        (0.3, 0.0, 2, "slide"),
        (0.6, 135.0, 2, "slide"),
        (0.5, 30.0, 3, "slide"),
    ],
)
def test_measured_overlap_matches_independent_reprojection(
    target, viewpoint_shift, num_cameras, rig
):
    env = SocialViewEnv(
        overlap=target,
        viewpoint_shift=viewpoint_shift,
        num_cameras=num_cameras,
        image_size=64,
        rig=rig,
    )
    try:
        _, info = env.reset(seed=2)
        reference = reference_overlap_matrix(env, env.render_depth())
        np.testing.assert_allclose(info["overlap_matrix"], reference, atol=0.01)
    finally:
        env.close()


def test_identical_cameras_overlap_fully_and_disjoint_ones_not_at_all():
    same = {"lookat": [0.2, 0.1, 0], "distance": 2.0, "azimuth": 70, "elevation": -60}
    env = SocialViewEnv(cameras=[same, same], image_size=32)
    try:
        np.testing.assert_allclose(env.overlap_matrix, np.ones((2, 2)))
    finally:
        env.close()
    corners = [
        {"lookat": [-0.6, -0.6, 0], "distance": 0.6, "azimuth": 90, "elevation": -90},
        {"lookat": [0.6, 0.6, 0], "distance": 0.6, "azimuth": 90, "elevation": -90},
    ]
    env = SocialViewEnv(cameras=corners, image_size=32)
    try:
        np.testing.assert_allclose(env.overlap_matrix, np.eye(2))
    finally:
        env.close()


def test_viewpoint_shift_sets_azimuth_gap_without_moving_the_overlap():
    overlaps = []
    for shift in (0.0, 45.0, 90.0):
        env = SocialViewEnv(overlap=0.5, viewpoint_shift=shift, image_size=48)
        try:
            azimuths = [camera.pose.azimuth for camera in env.cameras]
            assert azimuths[0] - azimuths[1] == pytest.approx(shift)
            overlaps.append(env.overlap)
        finally:
            env.close()
    assert max(overlaps) - min(overlaps) <= 2 * DIAL_TOLERANCE


def test_solver_raises_with_reachable_range_when_target_is_out_of_reach():
    def narrow_measure(poses):
        # A rig whose overlap only spans [0.2, 0.7] as its cameras spread.
        spread = abs(poses[0].lookat[0] - poses[1].lookat[0]) / 1.2
        return 0.7 - 0.5 * spread

    with pytest.raises(ValueError, match=r"ranges over \[0.200, 0.700\]"):
        solve_rig(RigSpec(2, 30.0), 0.95, narrow_measure)
    solution = solve_rig(RigSpec(2, 30.0), 0.45, narrow_measure)
    assert abs(solution.measured_overlap - 0.45) <= 0.01


def test_unreachable_env_setting_raises_value_error():
    # Grazing views with a narrow lens cannot all see the whole arena: 1.0 is out of reach.
    with pytest.raises(ValueError, match=r"overlap=1.0 cannot be reached .* ranges over"):
        SocialViewEnv(
            overlap=1.0, viewpoint_shift=90, elevation=-15, fovy=10, image_size=32, rig="zoom"
        )


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.slow
def test_make_reset_close_cycles_release_gl_context():
    """120 cycles here (each costs ~0.2 s in software GL); benchmarks/env_perf runs 500."""
    camera = [{"lookat": [0, 0, 0], "distance": 3.0, "azimuth": 90, "elevation": -60}]

    def cycle():
        env = SocialViewEnv(cameras=camera, image_size=16)
        env.reset(seed=0)
        env.close()

    for _ in range(20):
        cycle()
    fds, rss = _open_fds(), _rss_mb()
    for _ in range(100):
        cycle()
    assert _open_fds() <= fds
    assert _rss_mb() - rss < 40.0
