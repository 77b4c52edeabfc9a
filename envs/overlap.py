"""Pixel overlap between cameras, measured from rendered depth.

overlap(A -> B) is the share of A's pixels that see a surface whose 3-D point
lands inside B's image and is not hidden in B: unproject every pixel of A with
its z-depth, project the point into B, keep it if it falls inside B's image in
front of B and is no farther than what B's own depth map shows at that pixel
(within a tolerance). Pixels of A that see no surface (infinite depth) are not
counted. The overlap of a pair is the mean of both directions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from socialview.envs.cameras import Camera

#: Depth-test slack: a point counts as visible in B when its depth in B is at
#: most ``depth_B * (1 + RELATIVE_TOLERANCE) + ABSOLUTE_TOLERANCE`` metres. It
#: absorbs the half-pixel sampling error on slanted surfaces at low resolution.
RELATIVE_TOLERANCE = 0.03
ABSOLUTE_TOLERANCE = 0.02


def directed_overlap(
    source: Camera,
    source_depth: np.ndarray,
    target: Camera,
    target_depth: np.ndarray,
) -> float:
    """Share of ``source``'s surface pixels that ``target`` also sees (0 when none)."""
    surface = np.isfinite(source_depth)
    count = int(surface.sum())
    if count == 0:
        return 0.0
    points = source.unproject(np.where(surface, source_depth, 0.0))[surface]
    uv, depth = target.project(points)
    cols = np.floor(uv[:, 0])
    rows = np.floor(uv[:, 1])
    inside = (depth > 0) & (cols >= 0) & (cols < target.width) & (rows >= 0)
    inside &= rows < target.height
    seen_depth = target_depth[rows[inside].astype(int), cols[inside].astype(int)]
    unhidden = depth[inside] <= seen_depth * (1.0 + RELATIVE_TOLERANCE) + ABSOLUTE_TOLERANCE
    return float(unhidden.sum()) / count


def overlap_matrix(cameras: Sequence[Camera], depths: Mapping[str, np.ndarray]) -> np.ndarray:
    """N x N matrix of directed overlaps; entry (i, j) is overlap(cam i -> cam j)."""
    size = len(cameras)
    matrix = np.eye(size)
    for i, source in enumerate(cameras):
        for j, target in enumerate(cameras):
            if i != j:
                matrix[i, j] = directed_overlap(
                    source, depths[source.name], target, depths[target.name]
                )
    return matrix


def pair_overlap(matrix: np.ndarray, i: int, j: int) -> float:
    """Symmetric overlap of cameras ``i`` and ``j``: the mean of both directions."""
    return 0.5 * float(matrix[i, j] + matrix[j, i])


def neighbour_overlap(matrix: np.ndarray) -> float:
    """Mean symmetric overlap over neighbouring pairs (0, 1), (1, 2), ...; 1.0 for one camera."""
    size = matrix.shape[0]
    if size < 2:
        return 1.0
    return float(np.mean([pair_overlap(matrix, i, i + 1) for i in range(size - 1)]))
