"""``autoencoder``: pixel reconstruction, the baseline JEPA is compared against.

Same convolutional encoder as ``jepa``; a transposed-conv decoder reconstructs
the frame (area-resized to ``recon_size``) and the loss is the pixel MSE. It sees
no actions and no future frames: whatever structure its latents have comes from
reconstructing pixels alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from socialview.agents.base import Batch, frames_to_float
from socialview.agents.nets import (
    ConvDecoder,
    ConvEncoder,
    EncoderConfig,
    build_module,
    effective_rank,
    embedding_std,
)
from socialview.agents.registry import register_agent
from socialview.agents.torch_agent import TorchAgent

__all__ = ["AutoencoderAgent", "AutoencoderConfig"]


@dataclass
class AutoencoderConfig(EncoderConfig):
    """Hyperparameters of :class:`AutoencoderAgent` (encoder fields from ``EncoderConfig``)."""

    readout: str = "latent"
    """The full latent by default, not the spectral core that ``jepa`` and ``supervised``
    read. A core is worth reading only where something vouches that its directions are
    the world: ``jepa``'s actions' effect and ``supervised``'s state head guard theirs.
    Pixel reconstruction has no such witness, and most of its latent's variance lies in
    the x/y of the one object that covers the most pixels: from 1% of the quick budget
    on, its core is those 2 directions, and through them two cameras' autoencoders agree
    at an orthogonal-map R² of 0.83-0.90 on a quarter of the state (probes 0.20-0.23,
    the pusher 0.01) (``docs/agents-study.md``, finding 29). ``readout="core"`` gives the
    other one."""
    seed: int = 0
    """Seeds this agent's own generator (initialisation)."""
    recon_size: int = 32
    """Side of the reconstructed image; must be ``grid * 2**n`` for some n >= 1."""
    lr: float = 1e-3
    """AdamW learning rate."""
    weight_decay: float = 1e-5
    """AdamW weight decay."""


@register_agent("autoencoder")
class AutoencoderAgent(TorchAgent):
    """Convolutional autoencoder trained on pixel MSE.

    Parameters
    ----------
    **config
        Fields of :class:`AutoencoderConfig`.
    """

    config_class = AutoencoderConfig
    module_names = ("encoder", "decoder")

    def _build(self) -> None:
        cfg: AutoencoderConfig = self.config
        ratio = cfg.recon_size // cfg.grid
        if ratio < 2 or ratio * cfg.grid != cfg.recon_size or ratio & (ratio - 1):
            raise ValueError(f"recon_size must be grid * 2**n (n >= 1); got recon_size="
                             f"{cfg.recon_size}, grid={cfg.grid}")
        enc_cfg = cfg.encoder_fields()
        dec_cfg = EncoderConfig(**{**enc_cfg.__dict__, "depth": ratio.bit_length() - 1})
        self.encoder = build_module(lambda: ConvEncoder(enc_cfg), self.generator)
        self.decoder = build_module(lambda: ConvDecoder(dec_cfg), self.generator)
        self.optimizer = self._adamw("encoder", "decoder")

    def _encode(self, frames: torch.Tensor) -> torch.Tensor:
        return self.encoder(frames)

    def train_step(self, batch: Batch) -> dict[str, float]:
        """One AdamW step on the reconstruction MSE of ``batch.obs``."""
        self.encoder.train()
        self.decoder.train()
        size = self.config.recon_size
        target = frames_to_float(batch.obs)
        if target.shape[-1] != size or target.shape[-2] != size:
            target = F.interpolate(target, size=(size, size), mode="area")
        z = self.encoder(batch.obs)
        loss = F.mse_loss(self.decoder(z), target)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.step += 1
        z = z.detach()
        return {"loss": float(loss.detach()), "emb_std": embedding_std(z),
                "eff_rank": effective_rank(z)}
