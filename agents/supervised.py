"""``supervised``: the labelled reference, an upper bound on what an encoder can know.

The same convolutional encoder as ``jepa``, trained with the answer: a linear
head regresses the standardised world state (x/y of the pusher and every object,
from the recording) from the latent. It uses labels, so it is never an emergent
result; it answers "how much *could* this encoder, at this budget, know about the
world?". Every report marks it as a reference.

With the core readout, the head is also what guards the core: a core must pass
``core_reader_share`` of the head's output variance (finding 22), so a core that
leaves out directions the head reads the world from is not read out.

Targets are standardised with running statistics of every state seen in
training (Welford's update, kept in the state dict), so each coordinate weighs
the same in the loss whatever the arena's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from socialview.agents.base import Batch
from socialview.agents.nets import (
    ConvEncoder,
    EncoderConfig,
    build_module,
    effective_rank,
    embedding_std,
    keypoint_spread,
)
from socialview.agents.registry import register_agent
from socialview.agents.torch_agent import TorchAgent

__all__ = ["SupervisedAgent", "SupervisedConfig"]


@dataclass
class SupervisedConfig(EncoderConfig):
    """Hyperparameters of :class:`SupervisedAgent` (encoder fields from ``EncoderConfig``)."""

    seed: int = 0
    """Seeds this agent's own generator (initialisation)."""
    state_dim: int = 8
    """Width of the world state regressed (2 + 2 x objects: 8 for the default 3 objects)."""
    lr: float = 2e-3
    """AdamW learning rate: ``jepa``'s (2e-3 since round fourteen, 1e-3 before), so the
    ceiling has the same budget; at 2e-3 it reads the quick sweep's cells 0.01 better
    (docs/agents-study.md, findings 18-19)."""
    weight_decay: float = 1e-5
    """AdamW weight decay."""
    latent_penalty: float = 0.0
    """Weight of the mean squared latent, ``mean_b ||z_b||^2 / D``: latent directions the
    head does not read then decay instead of keeping their initial (view-specific)
    variance. Meant for an unnormalised latent (``output_norm=False``)."""


@register_agent("supervised")
class SupervisedAgent(TorchAgent):
    """Encoder + linear head regressing the world state: a labelled ceiling, not a result.

    Parameters
    ----------
    **config
        Fields of :class:`SupervisedConfig`.
    """

    config_class = SupervisedConfig
    module_names = ("encoder", "head")
    uses_state: ClassVar[bool] = True
    #: Marks the agent as a labelled reference in reports and charts.
    reference: ClassVar[bool] = True

    def _build(self) -> None:
        cfg: SupervisedConfig = self.config
        if cfg.state_dim < 1:
            raise ValueError(f"state_dim must be >= 1, got {cfg.state_dim}")
        if cfg.latent_penalty < 0:
            raise ValueError(f"latent_penalty must be >= 0, got {cfg.latent_penalty}")
        enc_cfg = cfg.encoder_fields()
        self.encoder = build_module(lambda: ConvEncoder(enc_cfg), self.generator)
        self.head = build_module(lambda: nn.Linear(cfg.latent_dim, cfg.state_dim), self.generator)
        if hasattr(self.encoder.readout, "await_witnesses"):  # every train_step tracks it
            self.encoder.readout.await_witnesses(reader=True)
        self.optimizer = self._adamw("encoder", "head")
        self._count = 0
        self._mean = torch.zeros(cfg.state_dim, dtype=torch.float64)
        self._m2 = torch.zeros(cfg.state_dim, dtype=torch.float64)

    def _encode(self, frames: torch.Tensor) -> torch.Tensor:
        return self.encoder(frames)

    def _update_stats(self, state: torch.Tensor) -> None:
        """Merge a batch into the running mean and sum of squares (Chan et al.)."""
        x = state.detach().to("cpu", torch.float64)
        n_b = x.shape[0]
        mean_b = x.mean(0)
        m2_b = ((x - mean_b) ** 2).sum(0)
        total = self._count + n_b
        delta = mean_b - self._mean
        self._mean = self._mean + delta * n_b / total
        self._m2 = self._m2 + m2_b + delta**2 * self._count * n_b / total
        self._count = total

    def standardise(self, state: torch.Tensor) -> torch.Tensor:
        """World state in units of the running std, centred on the running mean."""
        std = (self._m2 / max(self._count - 1, 1)).sqrt().clamp_min(1e-6)
        return ((state.to(torch.float64) - self._mean.to(state.device)) / std.to(state.device)
                ).to(state.dtype)

    def train_step(self, batch: Batch) -> dict[str, float]:
        """One AdamW step on the MSE between the head's output and the standardised state;
        the head's new weights go to a core readout's reader guard (finding 22), which
        changes no weight."""
        if batch.state is None:
            raise ValueError("supervised needs batches with the world state (Batch.state); "
                             "train it with socialview.agents.train_agent, which loads it")
        if batch.state.shape[1] != self.config.state_dim:
            raise ValueError(f"batch state has width {batch.state.shape[1]}, this agent was "
                             f"built for state_dim={self.config.state_dim}")
        self.encoder.train()
        self.head.train()
        self._update_stats(batch.state)
        z, feats = self.encoder(batch.obs, return_features=True)
        loss = F.mse_loss(self.head(z), self.standardise(batch.state))
        if self.config.latent_penalty:
            loss = loss + self.config.latent_penalty * z.pow(2).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        readout = self.encoder.readout
        if hasattr(readout, "track_reader"):  # the core must pass what the head reads
            readout.track_reader(self.head.weight)
        self.step += 1
        z = z.detach()
        metrics = {"loss": float(loss.detach()), "emb_std": embedding_std(z),
                   "eff_rank": effective_rank(z)}
        if self.config.head == "keypoints":
            metrics["kp_std"] = keypoint_spread(feats)
        return metrics

    def _extra_state(self) -> dict[str, Any]:
        return {"count": self._count, "mean": self._mean.clone(), "m2": self._m2.clone()}

    def _load_extra_state(self, extra: dict[str, Any]) -> None:
        if extra:
            self._count = int(extra["count"])
            self._mean = extra["mean"].clone()
            self._m2 = extra["m2"].clone()
