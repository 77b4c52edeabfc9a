"""socialview.envs: the multi-camera MuJoCo world and its recorder.

Importing this package registers ``SocialView-v1`` (and the first release,
``SocialView-v0``) with Gymnasium::

    import gymnasium as gym
    import socialview.envs  # noqa: F401  (registers the env)

    env = gym.make("SocialView-v1", num_cameras=2, overlap=0.4)  # rig="slide"
    low, high = socialview.envs.reachable_overlap(90)  # overlaps reachable at 90 degrees
    # or, without the import: gym.make("socialview.envs:SocialView-v1")

With no display and no ``MUJOCO_GL`` set, the package selects the headless EGL
backend before MuJoCo is imported.
"""

from socialview.envs._gl import choose_default_backend

choose_default_backend()

import gymnasium as gym  # noqa: E402

from socialview.envs.calibration import reachable_overlap  # noqa: E402
from socialview.envs.cameras import Camera, CameraPose  # noqa: E402
from socialview.envs.overlap import overlap_matrix  # noqa: E402
from socialview.envs.recording import (  # noqa: E402
    Dataset,
    load_dataset,
    random_policy,
    record_dataset,
)
from socialview.envs.rig import RIGS  # noqa: E402
from socialview.envs.slide_rig import DEFAULT_FOOTPRINT  # noqa: E402
from socialview.envs.social_view import SocialViewEnv, mosaic  # noqa: E402
from socialview.envs.viewstrip import view_grid, view_strip  # noqa: E402

ENV_ID = "SocialView-v1"
MAX_EPISODE_STEPS = 200
#: The first release's world: 50 ms steps and the zooming rig. Kept so that results
#: made with it can be reproduced; v1 changed both defaults (see the env's version history).
V0_KWARGS = {"frame_skip": 5, "rig": "zoom"}

for _env_id, _kwargs in ((ENV_ID, {}), ("SocialView-v0", V0_KWARGS)):
    if _env_id not in gym.registry:
        gym.register(
            id=_env_id,
            entry_point="socialview.envs.social_view:SocialViewEnv",
            max_episode_steps=MAX_EPISODE_STEPS,
            kwargs=dict(_kwargs),
        )

__all__ = [
    "DEFAULT_FOOTPRINT",
    "ENV_ID",
    "MAX_EPISODE_STEPS",
    "RIGS",
    "V0_KWARGS",
    "Camera",
    "CameraPose",
    "Dataset",
    "SocialViewEnv",
    "load_dataset",
    "mosaic",
    "overlap_matrix",
    "random_policy",
    "reachable_overlap",
    "record_dataset",
    "view_grid",
    "view_strip",
]
