"""An example socialview agent: coarse colour grid + a linear next-step predictor."""

from __future__ import annotations

import torch
from torch.nn import functional as F

__all__ = ["MeanColorAgent"]


class MeanColorAgent:
    """Latent = learned linear map of the mean colours of a ``grid x grid`` split of the frame."""

    def __init__(self, seed: int = 0, latent_dim: int = 16, grid: int = 4, lr: float = 1e-2):
        self.latent_dim, self.grid = latent_dim, grid
        gen = torch.Generator().manual_seed(seed)  # own random stream: nothing global
        d = 3 * grid * grid
        self.proj = (torch.randn(d, latent_dim, generator=gen) / d**0.5).requires_grad_()
        self.pred = torch.zeros(latent_dim + 2, latent_dim, requires_grad=True)
        self.opt = torch.optim.Adam([self.proj, self.pred], lr=lr)

    def _cells(self, frames) -> torch.Tensor:
        x = torch.as_tensor(frames).permute(0, 3, 1, 2).float() / 255.0
        return F.adaptive_avg_pool2d(x, self.grid).flatten(1)

    def encode(self, frames) -> torch.Tensor:
        with torch.no_grad():
            return self._cells(frames) @ self.proj

    def train_step(self, batch) -> dict[str, float]:
        z, target = self._cells(batch.obs) @ self.proj, self.encode(batch.next_obs[:, 0])
        pred = z + torch.cat([z, batch.action[:, 0]], 1) @ self.pred
        loss = F.mse_loss(pred, target) + F.relu(1 - z.std(0)).mean()  # keep z from collapsing
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return {"loss": float(loss.detach())}

    def state_dict(self) -> dict:
        return {"proj": self.proj.detach().clone(), "pred": self.pred.detach().clone(),
                "opt": self.opt.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        with torch.no_grad():
            self.proj.copy_(state["proj"])
            self.pred.copy_(state["pred"])
        self.opt.load_state_dict(state["opt"])
