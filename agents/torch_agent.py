"""Shared plumbing of the built-in agents: config, own generator, device, state dict.

Subclasses set ``config_class`` (a dataclass whose fields are the config keys,
``seed`` and ``latent_dim`` included), build their networks in ``_build`` from
``self.generator`` and implement ``train_step``. The base class handles the
rest: ``encode`` without gradients, ``to(device)``, an exact ``state_dict`` (weights,
optimizer moments, step counter, generator state) and a clear error when a state
dict from another agent kind is loaded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from socialview.agents.base import Batch, as_uint8_tensor
from socialview.agents.nets import EncoderConfig, training_settings

__all__ = ["AgentStateError", "TorchAgent", "core_width", "spectral_gap"]


class AgentStateError(ValueError):
    """Raised when a state dict does not belong to this agent kind or shape."""


class TorchAgent:
    """Base class of the built-in agents (not required for third-party agents)."""

    config_class: ClassVar[type]
    #: Attributes holding ``nn.Module`` objects saved in the state dict, in order.
    module_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **config: Any) -> None:
        self.config = self.config_class(**config)
        self.latent_dim = int(self.config.latent_dim)
        self.generator = torch.Generator().manual_seed(int(self.config.seed))
        self.device = torch.device("cpu")
        self.step = 0
        self.optimizer: torch.optim.Optimizer | None = None
        self._build()

    # -- to override --------------------------------------------------------
    def _build(self) -> None:
        """Create networks (from ``self.generator``) and the optimizer."""
        raise NotImplementedError

    def _adamw(self, *names: str) -> torch.optim.AdamW:
        """AdamW over the parameters of the named modules, in that order, with the config's
        ``lr`` and ``weight_decay`` (the optimiser every built-in trainable agent uses)."""
        params = [p for name in names for p in getattr(self, name).parameters()]
        return torch.optim.AdamW(params, lr=self.config.lr, weight_decay=self.config.weight_decay)

    def _encode(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 frames on ``self.device`` -> latents (called under ``no_grad``)."""
        raise NotImplementedError

    def train_step(self, batch: Batch) -> dict[str, float]:
        raise NotImplementedError

    # -- shared -------------------------------------------------------------
    @property
    def kind(self) -> str:
        """Fully qualified class name, stored in checkpoints to catch kind mix-ups."""
        cls = type(self)
        return f"{cls.__module__}.{cls.__qualname__}"

    def modules(self) -> dict[str, nn.Module]:
        """The named networks of this agent."""
        return {name: getattr(self, name) for name in self.module_names}

    @torch.no_grad()
    def encode(self, frames: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Encode uint8 frames ``(B, H, W, 3)`` into float latents ``(B, latent_dim)``."""
        x = as_uint8_tensor(frames, self.device)
        training = {name: m.training for name, m in self.modules().items()}
        for m in self.modules().values():
            m.eval()
        try:
            return self._encode(x).float()
        finally:
            for name, m in self.modules().items():
                m.train(training[name])

    def training_settings(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The part of a resolved config of this agent kind (a run folder's
        ``agent_config``) that decides training: for an encoder's config, all but the
        settings that only change what ``encode`` reads after calibration
        (:func:`~socialview.agents.nets.training_settings`); otherwise all of it. The
        trainer resumes a run whose training settings match this agent's, and
        recalibrates it where only the others changed."""
        if isinstance(self.config, EncoderConfig):
            return training_settings(config)
        return dict(config)

    def _calibrated_encoders(self) -> list[nn.Module]:
        """Submodules whose readout keeps statistics to refresh (``calibrates``)."""
        return [m for module in self.modules().values() for m in module.modules()
                if getattr(m, "calibrates", False)]

    @property
    def needs_calibration(self) -> bool:
        """Whether :meth:`calibrate` changes anything (an encoder with ``readout="core"``)."""
        return bool(self._calibrated_encoders())

    @property
    def needs_change_calibration(self) -> bool:
        """Whether a readout also wants consecutive frames (``core_slow_step`` > 0): the
        trainer then passes :meth:`calibrate` its ``pairs``."""
        return any(getattr(m, "calibrates_change", False)
                   for m in self._calibrated_encoders())

    @torch.no_grad()
    def calibrate(self, frames: np.ndarray | torch.Tensor, chunk: int = 256,
                  pairs: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Refresh the statistics of every readout that keeps them from uint8 ``frames``
        ``(N, H, W, 3)`` (a memory map is read ``chunk`` rows at a time), with the
        networks as they are now; the trainer calls this after its last step. ``pairs``:
        frames ``(M, H, W, 3)`` and the frames one step later in the same episode, for a
        readout that reads the latent's change (:attr:`needs_change_calibration`).
        Weights, optimizer and generator are untouched, so training resumes exactly as
        before."""
        encoders = self._calibrated_encoders()
        if not encoders:
            return
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk!r}")
        chunks = [as_uint8_tensor(frames[i:i + chunk], self.device)
                  for i in range(0, len(frames), chunk)]
        paired = None
        if pairs is not None:
            before, after = pairs
            if len(before) != len(after):
                raise ValueError(f"pairs must hold as many frames after as before, got "
                                 f"{len(before)} and {len(after)}")
            paired = [(as_uint8_tensor(before[i:i + chunk], self.device),
                       as_uint8_tensor(after[i:i + chunk], self.device))
                      for i in range(0, len(before), chunk)]
        for encoder in encoders:
            encoder.calibrate_readout(chunks, paired)

    def to(self, device: torch.device | str) -> TorchAgent:
        """Move networks (and optimizer state) to ``device``; returns ``self``."""
        self.device = torch.device(device)
        for m in self.modules().values():
            m.to(self.device)
        if self.optimizer is not None:  # moments created before a move follow the params
            for state in self.optimizer.state.values():
                for key, value in state.items():
                    if isinstance(value, torch.Tensor) and value.ndim > 0:
                        state[key] = value.to(self.device)
        return self

    def parameters(self) -> list[torch.Tensor]:
        """All trainable parameters (used for counting and by tests)."""
        return [p for m in self.modules().values() for p in m.parameters() if p.requires_grad]

    def state_dict(self) -> dict[str, Any]:
        """Return everything needed to resume exactly; only tensors, numbers and strings."""
        return {
            "agent_class": self.kind,
            "config": dataclasses.asdict(self.config),
            "step": self.step,
            "modules": {name: m.state_dict() for name, m in self.modules().items()},
            "optimizer": self.optimizer.state_dict() if self.optimizer is not None else None,
            "generator": self.generator.get_state(),
            "extra": self._extra_state(),
        }

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, extra: dict[str, Any]) -> None:
        pass

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; refuses one written by another agent kind."""
        if not isinstance(state, dict) or "agent_class" not in state:
            raise AgentStateError(f"not a {type(self).__name__} state dict "
                                  "(no 'agent_class' key)")
        if state["agent_class"] != self.kind:
            raise AgentStateError(f"state dict belongs to agent {state['agent_class']!r}, "
                                  f"cannot load it into {self.kind!r}")
        for name, m in self.modules().items():
            if name not in state["modules"] and not m.state_dict():
                continue  # a stateless module (e.g. nn.Identity) older states did not save
            try:
                m.load_state_dict(state["modules"][name])
            except (KeyError, RuntimeError) as exc:
                raise AgentStateError(f"state dict does not fit this {type(self).__name__} "
                                      f"(different config?): {exc}") from exc
        if self.optimizer is not None and state.get("optimizer") is not None:
            self.optimizer.load_state_dict(state["optimizer"])
        self.step = int(state["step"])
        self.generator.set_state(state["generator"])
        self._load_extra_state(state.get("extra") or {})

    def compile(self) -> None:
        """Compile the networks with ``torch.compile`` (needs a C++ compiler on CPU)."""
        for name in self.module_names:
            module = getattr(self, name)
            module.forward = torch.compile(module.forward, dynamic=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config})"


def core_width(agent: object) -> int | None:
    """Width of the whitened core ``agent.encode`` returns now (``readout="core"`` with a
    gap in its spectrum, or a width latched in training whose ratio holds), or None where
    it returns its full latent (no core readout, or no core). Reported beside results so
    a reader knows which latent was compared."""
    readout = getattr(getattr(agent, "encoder", None), "readout", None)
    rank = getattr(readout, "rank", None)
    return rank() if callable(rank) else None


def spectral_gap(agent: object) -> dict[str, float | int | None] | None:
    """The widest gap in the spectrum a ``readout="core"`` agent's core is read from, and
    the width latched during training: ``{"width": k, "ratio": r, "share": s,
    "action_share": a, "reader_share": h, "latched": w, "latched_ratio": q,
    "latched_share": ..., "latched_action_share": ..., "latched_reader_share": ...}``,
    ``s`` the share of the latent's variance its ``k`` leading directions hold, ``a`` the
    share of the actions' effect on the predictions they hold (None for an agent that
    tracks none), ``h`` the share of its own head's output variance they pass (None for
    an agent with no such head); the ``latched_`` shares are the same three at ``w``. The
    ``k``-th eigenvalue is ``r`` times the next; the core is taken at ``w`` where ``q``
    (its ratio now, 0 where a guard fails there) is at least ``core_keep`` (with
    ``core_sticky``, the default; without it only when ``r < core_gap``), else at ``k``
    where ``r >= core_gap``; ``w``, ``q`` and the ``latched_`` shares are None when
    nothing is latched. With the slowness guard on (``core_slow_step`` > 0) also
    ``slow_step``, ``latched_slow_step`` and ``read_slow_step``: the slowness spectrum's
    step after ``k``, after ``w`` and after the width the core is read at (None where
    unknown or where no core is read); as a fallback (``core_slow_fallback`` > 0) also
    ``fallback``: whether the fallback read the core. None without a core readout.
    Reported beside :func:`core_width`, so a reader sees how far from each threshold a
    camera's core stood, also where the latched width is not the widest gap's."""
    readout = getattr(getattr(agent, "encoder", None), "readout", None)
    widest = getattr(readout, "widest_gap", None)
    found = widest() if callable(widest) else None
    if found is None:
        return None
    latched = readout.latched() if callable(getattr(readout, "latched", None)) else None
    action = getattr(readout, "action_share_at", None)
    reader = getattr(readout, "reader_share_at", None)

    def shares_at(width: int | None) -> tuple[float | None, float | None, float | None]:
        if width is None:
            return None, None, None
        return (readout.variance_share(width),
                action(width) if callable(action) else None,
                reader(width) if callable(reader) else None)

    share, action_share, reader_share = shares_at(found[0])
    kept_share, kept_action, kept_reader = shares_at(latched)
    slow = getattr(readout, "slow_step_at", None)
    gap = {"width": found[0], "ratio": found[1], "share": share,
           "action_share": action_share, "reader_share": reader_share,
           "latched": latched,
           "latched_ratio": None if latched is None else readout.ratio_at(latched),
           "latched_share": kept_share, "latched_action_share": kept_action,
           "latched_reader_share": kept_reader}
    if callable(slow) and getattr(readout, "slow_step", 0.0) > 0:
        # the slowness guard's figures, where it is on (finding 26); under it the width
        # read can be neither the widest gap nor the latched one
        read = readout.rank()
        gap["slow_step"] = slow(found[0])
        gap["latched_slow_step"] = None if latched is None else slow(latched)
        gap["read_slow_step"] = None if read is None else slow(read)
        if getattr(readout, "slow_fallback", 0.0) > 0:
            gap["fallback"] = readout.read_by_fallback()
    return gap
