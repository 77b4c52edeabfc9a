"""Distillation through the map: path (ii) of ``socialview migrate``, with its FLOP count.

A fresh agent's encoder is regressed onto an existing agent's latents of the
paired frame, expressed in the student's own coordinates through a re-fitted
:func:`socialview.alignment.fit_map`. Every FLOP it spends is counted, because the
benchmark's question is whether this start saves compute.
:mod:`socialview.benchmarks.migration` re-exports the public names.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode

__all__ = ["DistillResult", "distill_through_map"]


def _frames_tensor(frames: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 frames as a contiguous tensor on ``device``."""
    return torch.from_numpy(np.ascontiguousarray(frames)).to(device)


@dataclass
class DistillResult:
    """What :func:`distill_through_map` spent and achieved."""

    steps: int
    """Regression steps taken."""
    teacher_flops: float
    """FLOPs of A's encoder forward on every paired frame the targets and anchors needed."""
    student_flops: float
    """FLOPs of the student's encoder forward and backward over all regression steps."""
    map_flops: float
    """The student's encoder forward on the anchors at each re-fit (counted) plus the map
    algebra in numpy (estimated: cross-covariance, SVD, target transform)."""
    teacher_frames: int
    """Distinct paired frames A encoded."""
    refits: int
    """Times the map was fitted."""
    loss_first: float
    """Regression loss at the first step."""
    loss_last: float
    """Regression loss at the last step."""
    wall_time_s: float
    """Seconds spent."""

    @property
    def total_flops(self) -> float:
        """Everything path (ii) spends before normal training."""
        return self.teacher_flops + self.student_flops + self.map_flops

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable summary, with the total."""
        out = dataclasses.asdict(self)
        out["total_flops"] = self.total_flops
        return out


def _map_algebra_flops(n: int, d_s: int, d_t: int) -> float:
    """Estimated FLOPs of one map fit on ``n`` pairs: cross-covariance + SVD (~22 d^3)."""
    d = max(d_s, d_t)
    return 2.0 * n * d_s * d_t + 22.0 * d ** 3


def distill_through_map(
    student: Any,
    teacher: Any,
    dataset_dir: str | os.PathLike,
    camera_student: str,
    camera_teacher: str,
    *,
    steps: int,
    batch_size: int,
    lr: float,
    map_kind: str = "orthogonal",
    anchors: int = 512,
    refit_every: int = 50,
    seed: int = 0,
    progress: bool = False,
) -> DistillResult:
    """Regress ``student.encoder`` on camera-B frames onto the teacher's paired latents.

    The teacher's latents of frame ``t`` seen by ``camera_teacher`` are mapped
    into the student's current coordinates with the inverse of a
    ``map_kind`` map fitted from student to teacher latents on ``anchors``
    paired frames (re-fitted every ``refit_every`` steps, because the student's
    coordinates move while it learns). So the student only has to learn the
    teacher's *geometry*, not its arbitrary basis, which is exactly what the
    alignment results say is shared. Loss: MSE, optimised by a separate AdamW on
    the encoder. A JEPA student's EMA target encoder is set to the distilled
    encoder afterwards, so normal training starts from a consistent pair.

    Parameters
    ----------
    student, teacher : Agent
        Agents with an ``encoder`` module (student) and ``encode`` (teacher).
    dataset_dir : path
        Recording holding both cameras (frames with the same index are paired).
    camera_student, camera_teacher : str
        Camera names.
    steps, batch_size : int
        Regression steps and frames per step.
    lr : float
        AdamW learning rate.
    map_kind : str
        A map kind with an inverse (see ``DISTILL_MAP_KINDS``).
    anchors, refit_every : int
        Paired frames the map is fitted on, and how often it is re-fitted.
    seed : int
        Seeds the frame sampler (its own generator).
    progress : bool
        Show a tqdm bar.

    Returns
    -------
    DistillResult
        FLOPs by part (every step counted with ``FlopCounterMode``), losses, time.
    """
    from tqdm.auto import tqdm

    from socialview.agents import open_camera_stream
    from socialview.alignment import fit_map

    if getattr(getattr(student, "encoder", None), "calibrates", False):
        raise ValueError("distill_through_map regresses the student encoder's training "
                         "output, which readout='core' does not return from encode; build "
                         "the student (and teacher) with readout='latent'")
    t0 = time.perf_counter()
    stream_s = open_camera_stream(dataset_dir, camera_student)
    stream_t = open_camera_stream(dataset_dir, camera_teacher)
    n = len(stream_s)
    gen = torch.Generator().manual_seed(int(seed))
    batches = torch.randint(n, (steps, batch_size), generator=gen).numpy()
    anchor_idx = np.sort(torch.randperm(n, generator=gen)[:min(anchors, n)].numpy())
    needed = np.unique(np.concatenate([batches.ravel(), anchor_idx]))
    device = getattr(student, "device", torch.device("cpu"))
    teacher_device = getattr(teacher, "device", torch.device("cpu"))

    # A's latents of every paired frame the targets and anchors use (spent for path ii).
    teacher_lat = np.zeros((n, int(teacher.latent_dim)), dtype=np.float64)
    with FlopCounterMode(display=False) as counter:
        for lo in range(0, needed.size, 256):
            chunk = needed[lo:lo + 256]
            z = torch.as_tensor(teacher.encode(_frames_tensor(stream_t.frames[chunk],
                                                              teacher_device)))
            teacher_lat[chunk] = z.float().cpu().numpy()
    teacher_flops = float(counter.get_total_flops())

    encoder = student.encoder
    opt = torch.optim.AdamW([p for p in encoder.parameters() if p.requires_grad], lr=lr,
                            weight_decay=0.0)
    student_flops = map_flops = 0.0
    losses: list[float] = []
    mapping = None
    refits = 0
    d_s, d_t = int(student.latent_dim), int(teacher.latent_dim)
    bar = tqdm(total=steps, desc="distill", unit="step", disable=not progress,
               dynamic_ncols=True)
    try:
        for step in range(steps):
            if mapping is None or step % refit_every == 0:
                with FlopCounterMode(display=False) as counter:
                    z_anchor = torch.as_tensor(student.encode(
                        _frames_tensor(stream_s.frames[anchor_idx], device)))
                map_flops += float(counter.get_total_flops())
                mapping = fit_map(z_anchor.double().cpu().numpy(), teacher_lat[anchor_idx],
                                  map_kind)
                map_flops += _map_algebra_flops(anchor_idx.size, d_s, d_t)
                refits += 1
            idx = batches[step]
            target = mapping.inverse_transform(teacher_lat[idx])
            map_flops += 2.0 * batch_size * d_s * d_t
            target_t = torch.as_tensor(target, dtype=torch.float32, device=device)
            frames = _frames_tensor(stream_s.frames[idx], device)
            encoder.train()
            with FlopCounterMode(display=False) as counter:
                z = encoder(frames)
                loss = F.mse_loss(z, target_t)
                opt.zero_grad(set_to_none=True)
                loss.backward()
            opt.step()
            student_flops += float(counter.get_total_flops())
            value = float(loss.detach())
            if not math.isfinite(value):
                raise FloatingPointError(f"distillation loss became {value} at step {step + 1}; "
                                         "try a lower distill_lr")
            losses.append(value)
            bar.update(1)
            if (step + 1) % 10 == 0:
                bar.set_postfix(loss=f"{value:.4g}")
    finally:
        bar.close()
    target_encoder = getattr(student, "target_encoder", None)
    if isinstance(target_encoder, torch.nn.Module):
        target_encoder.load_state_dict(encoder.state_dict())
    return DistillResult(
        steps=steps, teacher_flops=teacher_flops, student_flops=student_flops,
        map_flops=map_flops, teacher_frames=int(needed.size), refits=refits,
        loss_first=losses[0] if losses else float("nan"),
        loss_last=losses[-1] if losses else float("nan"),
        wall_time_s=time.perf_counter() - t0,
    )
