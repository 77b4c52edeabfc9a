"""The :class:`Agent` protocol and the batch type every agent trains on.

An agent is anything with a ``latent_dim``, an ``encode`` method, a ``train_step``
method and a pair of state-dict methods. Nothing else is required, so a user can
write one in about thirty lines (see ``examples/socialview-example-agent``). The
trainer looks for a few *optional* attributes and uses them when present:

``horizon`` (int, default 1)
    How many future frames (and actions) each batch carries.
``action_dim`` (int)
    Checked against the dataset's action width before training starts.
``to(device)``
    Called once to move the agent to the training device.
``compile()``
    Called when the trainer is asked for ``torch.compile``.
``uses_state`` (bool, default False)
    When True, batches carry the world state at frame ``t`` (``Batch.state``).
``config``
    A dataclass (or dict) of the agent's constructor arguments, saved in the run folder.
``calibrate(frames)`` and ``needs_calibration`` (bool)
    When ``needs_calibration`` is True, called after a call's last step with up to
    ``CALIBRATION_FRAMES`` training frames spread evenly over the stream, for statistics
    that should describe the final networks (e.g. ``readout="core"``), before the
    checkpoint is written.
``encodes_untrained`` (bool, default True)
    False for an agent with no latent before its first step (``pca``, fitted on the
    frames it has seen): the emergence curve then measures it from its first step.
``training_settings(config)``
    The part of a resolved config (a run folder's ``agent_config``) that decides
    training. A run folder whose recorded config has the same training settings as the
    agent's resumes, and is recalibrated where the rest differs; without the method,
    every setting counts.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
import torch

__all__ = ["Agent", "Batch", "as_uint8_tensor", "frames_to_float"]


class Batch(NamedTuple):
    """A batch of transitions ``(obs_t, actions, future frames)`` from one camera.

    With ``K = horizon`` (1 unless the agent asks for more), sample ``i`` holds
    frame ``t``, the ``K`` actions applied after frames ``t .. t+K-1``, and frames
    ``t+1 .. t+K``, all inside one episode. For the one-step case use
    ``batch.action[:, 0]`` and ``batch.next_obs[:, 0]``.
    """

    obs: torch.Tensor
    """uint8 ``(B, H, W, 3)``: frames at time ``t``."""
    action: torch.Tensor
    """float32 ``(B, K, A)``: actions applied right after frames ``t .. t+K-1``."""
    next_obs: torch.Tensor
    """uint8 ``(B, K, H, W, 3)``: frames ``t+1 .. t+K``."""
    state: torch.Tensor | None = None
    """float32 ``(B, S)``: the world state at frame ``t`` (x/y of the pusher and objects),
    only for agents that set ``uses_state = True`` (the labelled ``supervised``
    reference); ``None`` for every self-supervised agent, so no label can leak in."""

    def to(self, device: torch.device | str) -> Batch:
        """Return the batch on ``device`` (non-blocking where the source is pinned)."""
        return Batch(*(None if t is None else t.to(device, non_blocking=True) for t in self))


@runtime_checkable
class Agent(Protocol):
    """What the trainer, ``embed`` and the sweep need from an agent.

    Each agent owns all of its state (parameters, optimizer, ``torch.Generator``):
    two agents never share a tensor or a random stream, which is what makes
    "independently trained" true.
    """

    latent_dim: int
    """Width of the vectors returned by :meth:`encode`."""

    def encode(self, frames: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Map uint8 frames ``(B, H, W, 3)`` to float latents ``(B, latent_dim)``."""
        ...

    def train_step(self, batch: Batch) -> dict[str, float]:
        """Take one optimisation step on ``batch``; return scalar metrics (``loss`` first)."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly: weights, optimizer, counters, RNG state."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        ...


def as_uint8_tensor(frames: np.ndarray | torch.Tensor, device: torch.device | None = None
                    ) -> torch.Tensor:
    """Return ``frames`` as a uint8 ``(B, H, W, 3)`` tensor, checking the layout.

    Accepts numpy arrays (memory-mapped ones included) and tensors, so agents can
    be handed either. Raises ``ValueError`` for any other dtype or shape, rather
    than silently rescaling floats.
    """
    tensor = frames
    if isinstance(frames, np.ndarray):
        array = np.ascontiguousarray(frames)
        if not array.flags.writeable:  # memory-mapped datasets are read-only
            array = array.copy()
        tensor = torch.from_numpy(array)
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"frames must be a numpy array or a torch tensor, got {type(frames)}")
    if tensor.dtype != torch.uint8:
        raise ValueError(f"frames must be uint8 RGB, got dtype {tensor.dtype}")
    if tensor.ndim != 4 or tensor.shape[-1] != 3:
        raise ValueError(f"frames must have shape (B, H, W, 3), got {tuple(tensor.shape)}")
    if device is not None:
        tensor = tensor.to(device)
    return tensor


def frames_to_float(frames: torch.Tensor) -> torch.Tensor:
    """Turn uint8 ``(B, H, W, 3)`` frames into float ``(B, 3, H, W)`` in ``[-0.5, 0.5]``.

    The conversion happens on the fly, batch by batch, so datasets stay uint8 on
    disk and in memory (4x smaller). Permuting NHWC to NCHW yields a
    channels-last tensor without a copy, which is the layout the CPU conv kernels
    prefer; the cast is the only pass over the data.
    """
    return frames.permute(0, 3, 1, 2).float().mul_(1.0 / 255.0).sub_(0.5)
