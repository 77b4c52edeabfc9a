"""Build the arena's MuJoCo model: the XML asset plus objects and cameras.

The asset is read through :mod:`importlib.resources`, so the scene loads the same
from a source checkout, an editable install or a wheel.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

import mujoco

from socialview.envs.cameras import CameraPose

#: Base colours of the free objects (RGBA), object k takes entry k.
OBJECT_COLOURS: tuple[tuple[float, float, float, float], ...] = (
    (0.86, 0.16, 0.14, 1.0),
    (0.15, 0.62, 0.22, 1.0),
    (0.16, 0.32, 0.86, 1.0),
    (0.92, 0.78, 0.12, 1.0),
    (0.85, 0.25, 0.75, 1.0),
    (0.10, 0.75, 0.80, 1.0),
)
#: Shapes cycle through these MuJoCo geom types, so objects differ in outline too.
OBJECT_SHAPES = ("cylinder", "box", "sphere")
OBJECT_SIZE = 0.1
MAX_OBJECTS = len(OBJECT_COLOURS)
#: Half side of the square floor inside the walls, metres.
ARENA_HALF_SIZE = 1.0


def _object_xml(index: int) -> str:
    shape = OBJECT_SHAPES[index % len(OBJECT_SHAPES)]
    size = {"cylinder": "0.1 0.08", "box": "0.085 0.085 0.08", "sphere": "0.095"}[shape]
    rgba = " ".join(f"{c:g}" for c in OBJECT_COLOURS[index])
    return (
        f'    <body name="object{index}" pos="0 0 0.095">\n'
        f'      <joint name="object{index}_x" type="slide" axis="1 0 0"/>\n'
        f'      <joint name="object{index}_y" type="slide" axis="0 1 0"/>\n'
        f'      <geom name="object{index}" type="{shape}" size="{size}" mass="0.3" '
        f'rgba="{rgba}" group="1"/>\n'
        "    </body>"
    )


def _camera_xml(index: int, pose: CameraPose) -> str:
    pos = " ".join(f"{v:.9g}" for v in pose.position())
    quat = " ".join(f"{v:.9g}" for v in pose.mujoco_quaternion())
    return f'    <camera name="cam{index}" pos="{pos}" quat="{quat}" fovy="{pose.fovy:.9g}"/>'


def build_model(
    poses: Sequence[CameraPose],
    height: int,
    width: int,
    num_objects: int = 3,
    shadows: bool = False,
    offscreen_size: tuple[int, int] | None = None,
) -> mujoco.MjModel:
    """Compile the arena with ``num_objects`` free objects and one camera per pose.

    The offscreen buffer is exactly ``height`` x ``width`` and the shadow map is
    off unless ``shadows`` is set: in software rendering MuJoCo's defaults
    (640x480 buffer, 4096 shadow map) cost tens of times more per frame.
    ``offscreen_size`` (height, width) overrides the buffer size, for benchmarks
    that measure exactly that cost.
    """
    buffer_height, buffer_width = offscreen_size or (height, width)
    template = resources.files("socialview.envs").joinpath("assets/arena.xml").read_text()
    xml = template.format(
        width=buffer_width,
        height=buffer_height,
        shadowsize=4096 if shadows else 0,
        castshadow="true" if shadows else "false",
        objects="\n".join(_object_xml(k) for k in range(num_objects)),
        cameras="\n".join(_camera_xml(i, pose) for i, pose in enumerate(poses)),
    )
    return mujoco.MjModel.from_xml_string(xml)


def set_camera_pose(model: mujoco.MjModel, index: int, pose: CameraPose) -> None:
    """Move camera ``index`` of a compiled model to ``pose`` in place (no recompile)."""
    model.cam_pos[index] = pose.position()
    model.cam_quat[index] = pose.mujoco_quaternion()
    model.cam_fovy[index] = pose.fovy
