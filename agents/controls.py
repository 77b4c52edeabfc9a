"""The two controls: ``random`` (untrained encoder) and ``pca`` (raw-pixel PCA).

A similarity between two agents' latent spaces means little until it is compared
with what agents that learned nothing score. ``random`` is the ``jepa`` encoder
exactly as initialised (same architecture, same seed -> same weights); ``pca``
projects raw pixels on their top principal components, the best *linear* code
of the pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch.nn import functional as F

from socialview.agents.base import Batch, frames_to_float
from socialview.agents.nets import ConvEncoder, EncoderConfig, build_module
from socialview.agents.registry import register_agent
from socialview.agents.torch_agent import TorchAgent

__all__ = ["PCAAgent", "PCAConfig", "RandomAgent", "RandomConfig"]


@dataclass
class RandomConfig(EncoderConfig):
    """Hyperparameters of :class:`RandomAgent`: the encoder's shape and the seed."""

    readout: str = "latent"
    """The untrained encoder's full latent by default, not its spectral core: an
    untrained encoder's spectrum has no meaning, and where it shows a gap (a 4-d "core"
    in 6 of the quick sweep's 18 cameras) the core reads the state worse (0.46-0.54
    against 0.63-0.72) and aligns worse, which would make the control easy to beat.
    The full latent is the stronger control; ``readout="core"`` gives the other one."""
    seed: int = 0
    """Seeds the initialisation; equal seeds give ``jepa``'s initial encoder weights."""


@register_agent("random")
class RandomAgent(TorchAgent):
    """The ``jepa`` encoder, never trained: ``train_step`` changes nothing."""

    config_class = RandomConfig
    module_names = ("encoder",)

    def _build(self) -> None:
        enc_cfg = self.config.encoder_fields()
        self.encoder = build_module(lambda: ConvEncoder(enc_cfg), self.generator)

    def _encode(self, frames: torch.Tensor) -> torch.Tensor:
        return self.encoder(frames)

    def train_step(self, batch: Batch) -> dict[str, float]:
        """Count the step and return ``loss = 0``; the weights stay as initialised."""
        self.step += 1
        return {"loss": 0.0}


@dataclass
class PCAConfig:
    """Hyperparameters of :class:`PCAAgent`."""

    seed: int = 0
    """Seeds the reservoir sampling of frames kept for the fit."""
    latent_dim: int = 64
    """Number of principal components kept."""
    max_samples: int = 2048
    """Frames kept (reservoir sample of everything seen) to fit the components."""
    input_size: int | None = None
    """Area-resize frames to this side first (None: raw pixels at dataset resolution)."""
    whiten: bool = False
    """Divide each component by its std, so every latent dimension has unit variance."""


@register_agent("pca")
class PCAAgent(TorchAgent):
    """Raw-pixel PCA fitted on a reservoir sample of the frames seen in ``train_step``.

    The components are (re)fitted lazily, on the first ``encode`` or ``state_dict``
    after new frames arrived, from the Gram matrix of the kept frames (so the cost
    is ``O(N^2 D)`` with ``N = max_samples``, never a ``D x D`` covariance).
    """

    config_class = PCAConfig
    module_names = ()
    #: No latent before the first step: the components are fitted on the frames seen.
    encodes_untrained: ClassVar[bool] = False

    def _build(self) -> None:
        self.buffer: torch.Tensor | None = None  # uint8 (N, D) once frames arrive
        self.seen = 0
        self.mean: torch.Tensor | None = None
        self.components: torch.Tensor | None = None  # (latent_dim, D)
        self.scale: torch.Tensor | None = None  # (latent_dim,)
        self._dirty = False

    def _flatten(self, frames: torch.Tensor) -> torch.Tensor:
        x = frames_to_float(frames)
        size = self.config.input_size
        if size is not None and x.shape[-1] != size:
            x = F.interpolate(x, size=(size, size), mode="area")
        return x.reshape(x.shape[0], -1)

    def train_step(self, batch: Batch) -> dict[str, float]:
        """Add ``batch.obs`` to the reservoir of frames the components are fitted on."""
        x = self._flatten(batch.obs.cpu()).add_(0.5).mul_(255).round_().to(torch.uint8)
        n, cap = x.shape[0], self.config.max_samples
        if self.buffer is None:
            self.buffer = torch.zeros(cap, x.shape[1], dtype=torch.uint8)
        elif self.buffer.shape[1] != x.shape[1]:
            raise ValueError("frames changed size between batches")
        idx = torch.arange(self.seen, self.seen + n)
        slots = idx.clone()
        full = idx >= cap
        if full.any():
            draws = torch.rand(int(full.sum()), generator=self.generator, dtype=torch.float64)
            slots[full] = (draws * (idx[full] + 1).double()).long()
        keep = slots < cap
        self.buffer[slots[keep]] = x[keep]
        self.seen += n
        self.step += 1
        self._dirty = True
        return {"loss": 0.0, "frames_kept": float(min(self.seen, cap))}

    def fit(self) -> PCAAgent:
        """Fit mean and components on the kept frames; returns ``self``."""
        if self.buffer is None:
            raise RuntimeError("the pca agent has seen no frames: train it before encoding")
        n = min(self.seen, self.config.max_samples)
        x = self.buffer[:n].double() / 255.0 - 0.5
        self.mean = x.mean(dim=0)
        xc = x - self.mean
        gram = xc @ xc.T
        evals, evecs = torch.linalg.eigh(gram)  # ascending
        k = min(self.latent_dim, n)
        evals, evecs = evals.flip(0)[:k].clamp_min(0), evecs.flip(1)[:, :k]
        sv = evals.sqrt()
        comps = torch.zeros(self.latent_dim, x.shape[1], dtype=torch.float64)
        nonzero = sv > 1e-9 * max(float(sv.max()) if k else 0.0, 1e-30)
        comps[:k][nonzero] = ((xc.T @ evecs[:, nonzero]) / sv[nonzero]).T
        std = torch.ones(self.latent_dim, dtype=torch.float64)
        std[:k][nonzero] = sv[nonzero] / max(n - 1, 1) ** 0.5
        self.mean = self.mean.float()
        self.components = comps.float()
        self.scale = std.float()
        self._dirty = False
        return self

    def _encode(self, frames: torch.Tensor) -> torch.Tensor:
        if self._dirty or self.components is None:
            self.fit()
        z = (self._flatten(frames.cpu()) - self.mean) @ self.components.T
        if self.config.whiten:
            z = z / self.scale
        return z.to(self.device)

    def _extra_state(self) -> dict[str, Any]:
        if self.buffer is not None and (self._dirty or self.components is None):
            self.fit()
        return {"seen": self.seen, "buffer": self.buffer, "mean": self.mean,
                "components": self.components, "scale": self.scale}

    def _load_extra_state(self, extra: dict[str, Any]) -> None:
        self.seen = int(extra.get("seen", 0))
        self.buffer = extra.get("buffer")
        self.mean = extra.get("mean")
        self.components = extra.get("components")
        self.scale = extra.get("scale")
        self._dirty = False
