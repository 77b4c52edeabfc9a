"""Choose MuJoCo's OpenGL backend before ``mujoco`` is imported.

MuJoCo reads ``MUJOCO_GL`` once, at import. On a machine with no display the
only backend that works is EGL (through the GPU driver or Mesa's llvmpipe), so
when the user has not chosen one and no display is set we pick ``egl``.
"""

from __future__ import annotations

import os
import sys

#: Backends MuJoCo understands, in the order worth trying on a headless machine.
BACKENDS = ("egl", "osmesa", "glfw")
_STATE = {"chosen_after_mujoco_import": False}


def choose_default_backend() -> str | None:
    """Set ``MUJOCO_GL`` (and ``PYOPENGL_PLATFORM``) to ``egl`` when headless and unset."""
    headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if "MUJOCO_GL" not in os.environ and headless:
        if "mujoco" in sys.modules:
            # Too late for MuJoCo to see it; remember so the error can say so.
            _STATE["chosen_after_mujoco_import"] = True
        os.environ["MUJOCO_GL"] = "egl"
    backend = os.environ.get("MUJOCO_GL")
    if backend in ("egl", "osmesa") and "PYOPENGL_PLATFORM" not in os.environ:
        os.environ["PYOPENGL_PLATFORM"] = backend
    return backend


def backend_error(error: Exception) -> RuntimeError:
    """A RuntimeError that says which backend failed and which ones to try instead."""
    current = os.environ.get("MUJOCO_GL", "<unset>")
    if _STATE["chosen_after_mujoco_import"]:
        return RuntimeError(
            "MuJoCo could not create an offscreen OpenGL context: `mujoco` was imported before "
            "socialview.envs could choose a headless backend, so MuJoCo kept its default. "
            "Set MUJOCO_GL=egl (or osmesa) in the environment, or import socialview.envs "
            f"before mujoco. ({type(error).__name__}: {error})"
        )
    others = ", ".join(f"MUJOCO_GL={name}" for name in BACKENDS if name != current)
    return RuntimeError(
        f"MuJoCo could not create an offscreen OpenGL context with MUJOCO_GL={current} "
        f"({type(error).__name__}: {error}). Set the variable before importing socialview "
        f"or mujoco and try {others}. EGL needs libEGL (Debian: libegl1 libegl-mesa0, works "
        "without a GPU), osmesa needs libosmesa6, glfw needs a display."
    )
