"""``socialview migrate``: does distilling through the map save compute for a new camera?

An agent A already exists, trained on camera A. A new agent for camera B is
trained two ways, and each way's probe accuracy is tracked against the FLOPs it
has spent:

(i) **scratch**: a fresh agent B trains on camera B as usual.
(ii) **distill**: a fresh agent B' (same seed as B, so the two paths differ only
     in what happens before normal training) is first regressed onto A's
     latents of the *paired* frame from camera A, expressed in the coordinates of B'
     through a map re-fitted with :func:`socialview.alignment.fit_map` (orthogonal by
     default), then trains as usual.

Accuracy is a linear probe (:class:`socialview.alignment.LogisticProbe`) reading
the arena quadrant of object 0 from camera-B latents of a separate evaluation
recording (another seed), fitted on its first episodes and scored on its last
episodes: whole held-out episodes, never randomly split consecutive frames, which
would leak. The headline is the FLOPs ratio at a target accuracy (85% by
default): FLOPs of path (ii) when it first reaches the target over those of
path (i), linearly interpolated between evaluation points. The Social-JEPA paper
reports 0.28x; this module reports what it measures, including "never reached".

FLOP accounting (also written into ``migration.json``, key ``accounting``):
:class:`torch.utils.flop_counter.FlopCounterMode` counts matmul/convolution FLOPs
(forward and backward); elementwise ops and optimizer updates are not counted,
the same convention as :func:`socialview.agents.train_agent`.

Examples
--------
>>> from socialview.benchmarks.migration import PRESETS, run_migration  # doctest: +SKIP
>>> result = run_migration(PRESETS["smoke"], "results/migration-smoke")  # doctest: +SKIP
>>> result["ratios"]["ratio_at_target"]                                 # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import itertools
import json
import math
import os
import platform
import shutil
import sys
import textwrap
import time
import types
import typing
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode

__all__ = [
    "PAPER_RATIO",
    "PRESETS",
    "DistillResult",
    "MigrationConfig",
    "distill_through_map",
    "flops_to_reach",
    "get_preset",
    "load_config",
    "register",
    "run_migration",
]

#: FLOPs ratio at 85% probe accuracy reported by Social-JEPA (arXiv 2603.02263).
PAPER_RATIO = 0.28

#: Side of the downsampled raw-pixel reference probe (``reference`` in the results).
PIXEL_SIDE = 16

#: Map kinds usable for distillation: they must have an inverse (A -> B coordinates).
DISTILL_MAP_KINDS = ("orthogonal", "similarity", "linear", "affine")


@dataclass
class MigrationConfig:
    """Everything that defines one migration run (saved in ``migration.json``)."""

    camera_a: str = "cam0"
    """Camera of the existing agent A."""
    camera_b: str = "cam1"
    """Camera of the new agent (B from scratch, B' distilled)."""
    overlap: float = 0.5
    """Target pixel overlap between the two cameras (the env's dial)."""
    dataset_steps: int = 4000
    """Frames in the training recording (both agents train on it; distillation pairs its
    frames)."""
    eval_steps: int = 2000
    """Frames in the held-out evaluation recording (another seed), where probes are fitted
    on the first episodes and scored on the last ones."""
    episode_steps: int = 50
    """Frames per episode in both recordings. The probe split is by whole episodes and
    object 0 stays in one quadrant for long stretches, so short episodes (many
    independent starts) make the held-out accuracy far less noisy."""
    image_size: int = 64
    """Side of the recorded frames in pixels."""
    agent: str = "jepa"
    """Agent kind for A, B and B' (registry name or ``module:attr``); it needs a trainable
    ``encoder`` module, which distillation regresses."""
    latent_dim: int = 64
    """Latent width of every agent."""
    agent_kwargs: dict[str, Any] = field(default_factory=dict)
    """Further agent config (e.g. ``{"width": 16}``), the same for all three agents."""
    batch_size: int = 64
    """Transitions per training step and frames per distillation step."""
    a_steps: int = 1500
    """Training steps of agent A (it 'exists already'; reported, not in the headline)."""
    b_steps: int = 1500
    """Normal training steps of each B path after its start (scratch or distilled)."""
    eval_every: int = 100
    """Evaluate the probe every this many training steps of a B path."""
    distill_steps: int = 300
    """Regression steps of the distilled agent's encoder onto A's mapped latents, before
    its normal training."""
    distill_lr: float = 1e-3
    """AdamW learning rate of the distillation steps (a separate optimizer on the encoder;
    the distilled agent's own optimizer starts fresh afterwards, exactly like B's)."""
    map_kind: str = "orthogonal"
    """Map fitted from the distilled agent's latents to A's, whose inverse puts A's latents
    into the distilled agent's coordinates (``orthogonal``, ``similarity``, ``linear`` or
    ``affine``)."""
    map_anchors: int = 512
    """Paired training frames the map is re-fitted on."""
    map_refit_every: int = 50
    """Re-fit the map every this many distillation steps (the student's coordinates move)."""
    target_accuracy: float = 0.85
    """Probe accuracy at which the FLOPs ratio is read."""
    probe_train_fraction: float = 0.6
    """Share of the evaluation recording's episodes (the first ones) the probe is fitted on;
    the rest are the test episodes."""
    probe_l2: float = 1e-3
    """L2 penalty of the logistic probe."""
    seed: int = 0
    """Master seed: A uses ``seed``, B and B' ``seed + 1``, the distillation sampler
    ``seed + 2``, the training recording ``seed`` and the evaluation one
    ``seed + 1_000_000``."""
    device: str = "auto"
    """Torch device for training (``auto``: CUDA when available)."""
    num_threads: int | None = None
    """``torch.set_num_threads`` during the run (1 is fastest on small shared CPUs); None
    leaves torch's default."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict of every field."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MigrationConfig:
        """Build a config from a dict; unknown keys are an error that lists the known ones."""
        if not isinstance(data, dict):
            raise ValueError(f"a migration config must be a mapping, got {type(data).__name__}")
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ValueError(f"unknown migration config key(s) {unknown}; known keys: "
                             f"{', '.join(names)}")
        return cls(**data)

    def replace(self, **changes: Any) -> MigrationConfig:
        """A copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def validate(self) -> MigrationConfig:
        """Check values and the agent kind; returns self, raises ``ValueError`` otherwise.

        Called by :func:`run_migration` and the CLI before anything is recorded, so a
        typo fails in a second rather than after the datasets are written.
        """
        for name in ("dataset_steps", "eval_steps", "episode_steps", "image_size", "latent_dim",
                     "batch_size", "eval_every", "map_anchors", "map_refit_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("a_steps", "b_steps", "distill_steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        if self.b_steps < 1:
            raise ValueError("b_steps must be >= 1 (the B paths must train)")
        if not 0.0 < float(self.target_accuracy) <= 1.0:
            raise ValueError(f"target_accuracy must be in (0, 1], got {self.target_accuracy}")
        if not 0.0 < float(self.probe_train_fraction) < 1.0:
            raise ValueError("probe_train_fraction must be in (0, 1), got "
                             f"{self.probe_train_fraction}")
        if not 0.0 <= float(self.overlap) <= 1.0:
            raise ValueError(f"overlap must be in [0, 1], got {self.overlap}")
        if self.distill_lr <= 0 or self.probe_l2 < 0:
            raise ValueError("distill_lr must be > 0 and probe_l2 >= 0")
        if self.num_threads is not None and self.num_threads < 1:
            raise ValueError(f"num_threads must be >= 1 or None, got {self.num_threads}")
        if self.map_kind not in DISTILL_MAP_KINDS:
            raise ValueError(f"map_kind {self.map_kind!r} cannot be used for distillation; "
                             f"choose one of {', '.join(DISTILL_MAP_KINDS)}")
        if self.camera_a == self.camera_b:
            raise ValueError(f"camera_a and camera_b must differ (both {self.camera_a!r})")
        self.num_cameras()
        if self.eval_steps < 2 * self.episode_steps:
            raise ValueError(
                f"eval_steps={self.eval_steps} gives fewer than 2 episodes of "
                f"{self.episode_steps} frames; the probe needs separate train and test episodes")
        if self.dataset_steps < 2:
            raise ValueError("dataset_steps must be >= 2 (agents train on transitions)")
        if not isinstance(self.agent_kwargs, dict):
            raise ValueError("agent_kwargs must be a mapping of agent config fields")
        _check_agent(self.agent, self._agent_config(self.seed))
        return self

    def num_cameras(self) -> int:
        """Cameras to record: enough for ``camera_a`` and ``camera_b`` (named ``camN``)."""
        idx = []
        for cam in (self.camera_a, self.camera_b):
            if not (isinstance(cam, str) and cam.startswith("cam") and cam[3:].isdigit()):
                raise ValueError(f"camera names are 'cam0', 'cam1', ...; got {cam!r}")
            idx.append(int(cam[3:]))
        return max(idx) + 1

    def _agent_config(self, seed: int) -> dict[str, Any]:
        return {**self.agent_kwargs, "seed": int(seed), "latent_dim": int(self.latent_dim)}


#: Named configurations. ``smoke`` is what the tests run (well under a minute on two
#: CPU cores); ``quick`` takes a few minutes on a laptop CPU; ``full`` is GPU scale.
PRESETS: dict[str, MigrationConfig] = {
    "smoke": MigrationConfig(
        dataset_steps=400, eval_steps=400, episode_steps=25, image_size=32, latent_dim=32,
        batch_size=32, a_steps=30, b_steps=30, eval_every=10, distill_steps=20,
        map_anchors=128, map_refit_every=10, num_threads=1, device="cpu",
    ),
    "quick": MigrationConfig(
        dataset_steps=4000, eval_steps=2000, episode_steps=50, image_size=64, latent_dim=64,
        batch_size=64, a_steps=1500, b_steps=1500, eval_every=100, distill_steps=300,
        map_anchors=512, map_refit_every=50, num_threads=1, device="cpu",
    ),
    "full": MigrationConfig(
        dataset_steps=50_000, eval_steps=10_000, episode_steps=50, image_size=64,
        latent_dim=64, batch_size=256, a_steps=20_000, b_steps=20_000, eval_every=500,
        distill_steps=3000, map_anchors=4096, map_refit_every=100, device="auto",
    ),
}


def get_preset(name: str) -> MigrationConfig:
    """Return a copy of preset ``name``; an unknown name raises ``ValueError`` listing them."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}")
    return PRESETS[name].replace()


def load_config(path: str | os.PathLike, base: MigrationConfig | None = None
                ) -> MigrationConfig:
    """Read a JSON or YAML file of config fields, applied on top of ``base`` (or defaults).

    The file may hold a subset of the fields, or a whole ``migration.json``'s
    ``config`` entry.
    """
    path = Path(path)
    text = path.read_text()
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of config fields, got "
                         f"{type(data).__name__}")
    merged = (base or MigrationConfig()).to_dict()
    unknown = sorted(set(data) - set(merged))
    if unknown:
        raise ValueError(f"{path}: unknown migration config key(s) {unknown}; known keys: "
                         f"{', '.join(merged)}")
    merged.update(data)
    return MigrationConfig.from_dict(merged)


# --------------------------------------------------------------------------------------
# agents


def _check_agent(name: str, config: dict[str, Any]) -> None:
    """Build the agent once: unknown names and agents without a trainable encoder fail here."""
    from socialview.agents import make_agent

    agent = make_agent(name, **config)
    encoder = getattr(agent, "encoder", None)
    if not isinstance(encoder, torch.nn.Module) or not any(
            p.requires_grad for p in encoder.parameters()):
        raise ValueError(
            f"agent {name!r} has no trainable `encoder` module, so it cannot be distilled; "
            "use an agent with one (built-ins: jepa, autoencoder)")


def _frames_tensor(frames: np.ndarray, device: torch.device) -> torch.Tensor:
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


# --------------------------------------------------------------------------------------
# curves and ratios


def flops_to_reach(curve: list[dict[str, Any]], level: float) -> float | None:
    """Cumulative FLOPs at which ``curve`` first reaches accuracy ``level``.

    Linear interpolation between the last point below ``level`` and the first
    point at or above it; the first point itself if it already reaches it; None
    if no point does.
    """
    prev = None
    for point in curve:
        acc, flops = float(point["accuracy"]), float(point["cumulative_flops"])
        if acc >= level:
            if prev is None:
                return flops
            pacc, pflops = prev
            frac = (level - pacc) / (acc - pacc) if acc > pacc else 1.0
            return pflops + frac * (flops - pflops)
        prev = (acc, flops)
    return None


def _ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or den <= 0:
        return None
    return num / den


def _ratios(scratch: list[dict[str, Any]], distill: list[dict[str, Any]], target: float,
            a_flops: float) -> dict[str, Any]:
    """Headline and secondary ratios, with the reason whenever one is missing."""
    best_s = max(p["accuracy"] for p in scratch)
    best_d = max(p["accuracy"] for p in distill)
    f_s, f_d = flops_to_reach(scratch, target), flops_to_reach(distill, target)
    reasons = []
    if f_s is None:
        reasons.append(f"the scratch path never reached {target:.0%} (best {best_s:.3f})")
    if f_d is None:
        reasons.append(f"the distill path never reached {target:.0%} (best {best_d:.3f})")
    if f_s is not None and f_s <= 0:
        reasons.append("the scratch path is at the target before training (0 FLOPs)")
    common = min(best_s, best_d)
    c_s, c_d = flops_to_reach(scratch, common), flops_to_reach(distill, common)
    c_reason = None
    if c_s is not None and c_s <= 0:
        c_reason = (f"the scratch path already has {common:.3f} before training, so no ratio "
                    "exists at that level")
    return {
        "target_accuracy": target,
        "scratch_flops_at_target": f_s,
        "distill_flops_at_target": f_d,
        "ratio_at_target": _ratio(f_d, f_s),
        "ratio_at_target_including_a": _ratio(None if f_d is None else f_d + a_flops, f_s),
        "reason": "; ".join(reasons) or None,
        "best_accuracy_scratch": best_s,
        "best_accuracy_distill": best_d,
        "common_level": common,
        "scratch_flops_at_common_level": c_s,
        "distill_flops_at_common_level": c_d,
        "ratio_at_common_level": _ratio(c_d, c_s),
        "ratio_at_common_level_including_a": _ratio(None if c_d is None else c_d + a_flops,
                                                    c_s),
        "common_level_reason": c_reason,
        "paper_ratio": PAPER_RATIO,
    }


ACCOUNTING = textwrap.dedent("""\
    FLOPs are matmul/convolution FLOPs counted by torch.utils.flop_counter.FlopCounterMode
    (forward and backward; elementwise ops and optimizer updates are not counted, as in
    socialview.agents.train_agent, which counts one step per call and multiplies by the
    step count since every batch has the same shape). Scratch path: cumulative FLOPs =
    B's training steps x FLOPs per step. Distill path: every distillation FLOP first (A's
    encoder forward on every paired frame used for targets and map anchors; the student
    encoder's forward + backward on every regression step, counted step by step; its
    forward on the anchors at each map re-fit; an estimate of the map algebra done in
    numpy), then its training steps x FLOPs per step; its first point therefore sits at
    the distillation cost. Agent A 'exists already': its training FLOPs (a.train_flops) are
    excluded from the headline ratio (ratio_at_target) and added in full to the distill
    path in ratio_at_target_including_a (the worst case, one migration paying for all of
    A; amortised over k migrations, add a.train_flops / k instead). Probe evaluation
    (embedding the evaluation recording, fitting the probe) is measurement, the same for
    both paths, and counted in neither. Ratios are distill FLOPs / scratch FLOPs at the
    first point where each path reaches the accuracy, interpolated linearly between
    evaluation points.""").replace("\n", " ")


# --------------------------------------------------------------------------------------
# the run


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "torch": torch.__version__,
           "numpy": np.__version__}
    for dist in ("socialview", "mujoco", "matplotlib", "scipy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def _dataset_matches(path: Path, *, steps: int, seed: int, cfg: MigrationConfig) -> bool:
    meta_path = path / "meta.json"
    if not meta_path.is_file():
        return False
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError:
        return False
    return (meta.get("num_frames") == steps and meta.get("seed") == seed
            and meta.get("image_size") == [cfg.image_size, cfg.image_size]
            and meta.get("episode_steps") == cfg.episode_steps
            and meta.get("target_overlap") == cfg.overlap
            and len(meta.get("camera_names", [])) == cfg.num_cameras())


def _ensure_dataset(path: Path, *, steps: int, seed: int, cfg: MigrationConfig,
                    progress: bool) -> tuple[Path, bool]:
    """Reuse the recording at ``path`` if it has the right settings, else (re)record it."""
    from socialview.envs import record_dataset

    if _dataset_matches(path, steps=steps, seed=seed, cfg=cfg):
        return path, True
    record_dataset(path, steps=steps, overlap=cfg.overlap, num_cameras=cfg.num_cameras(),
                   image_size=cfg.image_size, seed=seed, force=True, preview=False,
                   episode_steps=cfg.episode_steps, progress=progress)
    return path, False


@dataclass
class _ProbeSplit:
    labels: np.ndarray
    train: np.ndarray
    test: np.ndarray
    train_episodes: list[int]
    test_episodes: list[int]

    def accuracy(self, latents: np.ndarray, l2: float) -> float:
        from socialview.alignment import LogisticProbe

        probe = LogisticProbe(l2=l2).fit(latents[self.train], self.labels[self.train])
        return probe.score(latents[self.test], self.labels[self.test])

    def chance(self) -> float:
        _, counts = np.unique(self.labels[self.test], return_counts=True)
        return float(counts.max() / self.test.size)


def _probe_split(eval_dir: Path, fraction: float) -> _ProbeSplit:
    """Fit on the first episodes of the evaluation recording, test on the last ones."""
    from socialview.envs import load_dataset

    ds = load_dataset(eval_dir)
    labels = np.asarray(ds.array("quadrant"), dtype=np.int64)
    episode = np.asarray(ds.array("episode"))
    episodes = np.unique(episode)
    if episodes.size < 2:
        raise ValueError(f"{eval_dir}: the evaluation recording has one episode; the probe "
                         "needs separate train and test episodes (raise eval_steps)")
    n_train = min(max(1, round(fraction * episodes.size)), episodes.size - 1)
    train_eps, test_eps = episodes[:n_train], episodes[n_train:]
    train = np.flatnonzero(np.isin(episode, train_eps))
    test = np.flatnonzero(np.isin(episode, test_eps))
    if np.unique(labels[train]).size < 2:
        raise ValueError(f"{eval_dir}: the probe's training episodes show a single quadrant; "
                         "record more evaluation frames (eval_steps)")
    return _ProbeSplit(labels, train, test, [int(e) for e in train_eps],
                       [int(e) for e in test_eps])


def _pixel_features(eval_dir: Path, camera: str, side: int = PIXEL_SIDE) -> np.ndarray:
    """Frames area-downsampled to ``side x side`` RGB and flattened: a no-learning baseline."""
    from socialview.envs import load_dataset

    frames = load_dataset(eval_dir).frames(camera)
    out = []
    for lo in range(0, frames.shape[0], 512):
        x = torch.from_numpy(np.array(frames[lo:lo + 512])).permute(0, 3, 1, 2).float() / 255.0
        out.append(F.interpolate(x, size=(side, side), mode="area").flatten(1).double().numpy())
    return np.concatenate(out)


def _chunk_ends(total: int, every: int) -> list[int]:
    ends = list(range(every, total + 1, every))
    if not ends or ends[-1] != total:
        ends.append(total)
    return ends


def _train_path(agent: Any, *, label: str, run_dir: Path, train_dir: Path,
                cfg: MigrationConfig, split: _ProbeSplit, eval_dir: Path,
                offset_flops: float, progress: bool) -> tuple[list[dict[str, Any]], float]:
    """Train ``agent`` on camera B in chunks; return its (FLOPs, accuracy) curve."""
    from tqdm.auto import tqdm

    from socialview.agents import embed, train_agent

    if run_dir.exists():  # curves are only consistent from step 0: start this path afresh
        shutil.rmtree(run_dir)

    def evaluate() -> float:
        return split.accuracy(embed(agent, eval_dir, cfg.camera_b), cfg.probe_l2)

    t0 = time.perf_counter()
    curve = [{"step": 0, "train_flops": 0.0, "cumulative_flops": offset_flops,
              "accuracy": evaluate(), "wall_time_s": time.perf_counter() - t0}]
    flops_per_step = 0.0
    bar = tqdm(total=cfg.b_steps, desc=f"{label} path", unit="step", disable=not progress,
               dynamic_ncols=True)
    try:
        for end in _chunk_ends(cfg.b_steps, cfg.eval_every):
            res = train_agent(agent, train_dir, cfg.camera_b, steps=end, out_dir=run_dir,
                              batch_size=cfg.batch_size, checkpoint_every=cfg.eval_every,
                              device=cfg.device, progress=False, resume=True)
            flops_per_step = res.flops_per_step
            acc = evaluate()
            curve.append({"step": end, "train_flops": res.total_flops,
                          "cumulative_flops": offset_flops + res.total_flops,
                          "accuracy": acc, "wall_time_s": time.perf_counter() - t0})
            bar.update(end - bar.n)
            bar.set_postfix(acc=f"{acc:.3f}")
    finally:
        bar.close()
    return curve, flops_per_step


def _save_figure(fig: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        fig.savefig(tmp, format=path.suffix[1:], dpi=130, bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _plot(result: dict[str, Any], out_dir: Path) -> list[Path]:
    """Accuracy vs cumulative FLOPs for both paths, with target, chance and A's accuracy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ratios = result["ratios"]
    target = ratios["target_accuracy"]
    fig, ax = plt.subplots(figsize=(7.0, 4.4))
    styles = {"scratch": ("tab:blue", "o", "scratch (i)"),
              "distill": ("tab:orange", "s", "distilled through the map (ii)")}
    for key, (color, marker, label) in styles.items():
        curve = result[key]["curve"]
        ax.plot([p["cumulative_flops"] for p in curve], [p["accuracy"] for p in curve],
                color=color, marker=marker, markersize=3.5, label=label)
    ax.axhline(target, color="black", ls="--", lw=1, label=f"target {target:.0%}")
    ax.axhline(result["chance"], color="grey", ls=":", lw=1,
               label=f"chance {result['chance']:.2f}")
    ax.axhline(result["a"]["probe_accuracy"], color="tab:green", ls="-.", lw=1,
               label=f"agent A {result['a']['probe_accuracy']:.2f}")
    pixels = result["reference"]["raw_pixels_probe_accuracy"][result["config"]["camera_b"]]
    ax.axhline(pixels, color="tab:purple", ls=(0, (1, 3)), lw=1,
               label=f"raw pixels of B ({PIXEL_SIDE}x{PIXEL_SIDE}) {pixels:.2f}")
    for key, color in (("scratch_flops_at_target", "tab:blue"),
                       ("distill_flops_at_target", "tab:orange")):
        if ratios[key] is not None:
            ax.axvline(ratios[key], color=color, lw=0.8, alpha=0.6)
    cfg = result["config"]
    lines = [f"Migration {cfg['camera_a']} -> {cfg['camera_b']} ({cfg['agent']}); "
             f"paper: {PAPER_RATIO}x FLOPs at 85%"]
    if ratios["ratio_at_target"] is not None:
        lines.append(f"measured FLOPs ratio at {target:.0%}: {ratios['ratio_at_target']:.2f}x "
                     f"({ratios['ratio_at_target_including_a']:.2f}x counting A's training)")
    else:
        lines.append(f"no ratio at {target:.0%}: {ratios['reason']}")
        if ratios["ratio_at_common_level"] is not None:
            lines.append(f"ratio at {ratios['common_level']:.2f} (best both reach): "
                         f"{ratios['ratio_at_common_level']:.2f}x")
    ax.set_title("\n".join(textwrap.fill(line, 95) for line in lines), fontsize=8.5)
    ax.set_xlabel("cumulative FLOPs (B's own spending; A's training excluded)")
    ax.set_ylabel("probe accuracy (quadrant, held-out episodes)")
    ax.set_ylim(0.0, 1.02)
    ax.set_xlim(left=0.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="lower right")
    paths = []
    for suffix in (".png", ".svg"):
        path = out_dir / f"migration{suffix}"
        _save_figure(fig, path)
        paths.append(path)
    plt.close(fig)
    return paths


def run_migration(config: MigrationConfig, out_dir: str | os.PathLike,
                  progress: bool = True) -> dict[str, Any]:
    """Run the migration benchmark and write ``migration.json``, ``.png`` and ``.svg``.

    Steps: record (or reuse) the training and evaluation recordings under
    ``out_dir/data``; train (or resume) agent A under ``out_dir/runs/a``; train
    path (i) and path (ii) under ``out_dir/runs/scratch`` and
    ``out_dir/runs/distill``, evaluating the probe every ``eval_every`` steps;
    compute the FLOPs ratios; write the results atomically.

    Parameters
    ----------
    config : MigrationConfig
        What to run (validated first).
    out_dir : path
        Results folder; reused datasets and A's run make a re-run cheaper.
    progress : bool
        Show tqdm progress bars.

    Returns
    -------
    dict
        The content of ``migration.json``.
    """
    from socialview.agents import (
        AgentStateError,
        RunFolderError,
        TrainResult,
        make_agent,
        train_agent,
    )

    config.validate()
    cfg = config
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    old_threads = torch.get_num_threads()
    if cfg.num_threads is not None:
        torch.set_num_threads(cfg.num_threads)
    try:
        train_dir, train_reused = _ensure_dataset(
            out_dir / "data" / "train", steps=cfg.dataset_steps, seed=cfg.seed, cfg=cfg,
            progress=progress)
        eval_seed = cfg.seed + 1_000_000
        eval_dir, eval_reused = _ensure_dataset(
            out_dir / "data" / "eval", steps=cfg.eval_steps, seed=eval_seed, cfg=cfg,
            progress=progress)
        split = _probe_split(eval_dir, cfg.probe_train_fraction)

        # Agent A: "exists already"; reuse its run when it was trained with these settings.
        a_dir = out_dir / "runs" / "a"
        stamp = {"agent": cfg.agent, "agent_config": cfg._agent_config(cfg.seed),
                 "camera": cfg.camera_a, "batch_size": cfg.batch_size,
                 "dataset": _dataset_stamp(cfg, cfg.dataset_steps, cfg.seed)}
        stamp_path = a_dir / "migration_stamp.json"
        if a_dir.exists() and (not stamp_path.is_file()
                               or json.loads(stamp_path.read_text()) != stamp):
            shutil.rmtree(a_dir)
        agent_a = make_agent(cfg.agent, **cfg._agent_config(cfg.seed))

        def train_a() -> TrainResult:
            return train_agent(agent_a, train_dir, cfg.camera_a, steps=cfg.a_steps,
                               out_dir=a_dir, batch_size=cfg.batch_size, checkpoint_every=500,
                               device=cfg.device, progress=progress, resume=True)

        try:
            a_res = train_a()
        except (AgentStateError, RunFolderError):
            # A run left by other code (e.g. the agent's networks changed shape): retrain.
            shutil.rmtree(a_dir)
            agent_a = make_agent(cfg.agent, **cfg._agent_config(cfg.seed))
            a_res = train_a()
        _write_json(stamp_path, stamp)
        from socialview.agents import embed

        a_acc = split.accuracy(embed(agent_a, eval_dir, cfg.camera_a), cfg.probe_l2)
        a_flops = float(a_res.total_flops)

        # Path (i): from scratch.
        b_seed = cfg.seed + 1
        agent_b = make_agent(cfg.agent, **cfg._agent_config(b_seed))
        scratch_curve, b_fps = _train_path(
            agent_b, label="scratch", run_dir=out_dir / "runs" / "scratch", train_dir=train_dir,
            cfg=cfg, split=split, eval_dir=eval_dir, offset_flops=0.0, progress=progress)

        # Path (ii): distil through the map, then train as usual.
        agent_d = make_agent(cfg.agent, **cfg._agent_config(b_seed))
        if hasattr(agent_d, "to"):
            from socialview.agents.trainer import resolve_device

            agent_d.to(resolve_device(cfg.device))
        dist = distill_through_map(
            agent_d, agent_a, train_dir, cfg.camera_b, cfg.camera_a, steps=cfg.distill_steps,
            batch_size=cfg.batch_size, lr=cfg.distill_lr, map_kind=cfg.map_kind,
            anchors=cfg.map_anchors, refit_every=cfg.map_refit_every, seed=cfg.seed + 2,
            progress=progress)
        distill_curve, d_fps = _train_path(
            agent_d, label="distill", run_dir=out_dir / "runs" / "distill",
            train_dir=train_dir, cfg=cfg, split=split, eval_dir=eval_dir,
            offset_flops=dist.total_flops, progress=progress)
        for point in distill_curve:
            point["distill_flops"] = dist.total_flops

        ratios = _ratios(scratch_curve, distill_curve, cfg.target_accuracy, a_flops)
        reference = {
            "note": (f"linear probe on {PIXEL_SIDE}x{PIXEL_SIDE} area-downsampled RGB pixels, "
                     "same split: is the label linearly readable from each view at all?"),
            "raw_pixels_probe_accuracy": {
                cam: split.accuracy(_pixel_features(eval_dir, cam), cfg.probe_l2)
                for cam in (cfg.camera_a, cfg.camera_b)},
        }
        result = {
            "benchmark": "migration",
            "format_version": 1,
            "config": cfg.to_dict(),
            "accounting": ACCOUNTING,
            "ratios": ratios,
            "chance": split.chance(),
            "reference": reference,
            "a": {"camera": cfg.camera_a, "seed": cfg.seed, "steps": a_res.steps,
                  "flops_per_step": a_res.flops_per_step, "train_flops": a_flops,
                  "probe_accuracy": a_acc, "run_dir": str(a_dir),
                  "reused": a_res.resumed_from >= cfg.a_steps and cfg.a_steps > 0},
            "scratch": {"camera": cfg.camera_b, "seed": b_seed, "flops_per_step": b_fps,
                        "curve": scratch_curve},
            "distill": {"camera": cfg.camera_b, "seed": b_seed, "flops_per_step": d_fps,
                        "distillation": dist.to_json(), "curve": distill_curve},
            "probe": {"label": "quadrant of object 0", "classes": 4,
                      "train_episodes": split.train_episodes,
                      "test_episodes": split.test_episodes,
                      "n_train": int(split.train.size), "n_test": int(split.test.size),
                      "l2": cfg.probe_l2},
            "datasets": {"train": {"path": str(train_dir), "seed": cfg.seed,
                                   "reused": train_reused,
                                   "overlap": _measured_overlap(train_dir)},
                         "eval": {"path": str(eval_dir), "seed": eval_seed,
                                  "reused": eval_reused,
                                  "overlap": _measured_overlap(eval_dir)}},
            "versions": _versions(),
            "wall_time_s": None,
        }
        result["wall_time_s"] = time.perf_counter() - t0
        result["files"] = [str(p) for p in _plot(result, out_dir)]
        _write_json(out_dir / "migration.json", result)
        return result
    finally:
        torch.set_num_threads(old_threads)


def _dataset_stamp(cfg: MigrationConfig, steps: int, seed: int) -> dict[str, Any]:
    return {"steps": steps, "seed": seed, "image_size": cfg.image_size,
            "episode_steps": cfg.episode_steps, "overlap": cfg.overlap,
            "num_cameras": cfg.num_cameras()}


def _measured_overlap(path: Path) -> float | None:
    try:
        return json.loads((path / "meta.json").read_text()).get("overlap")
    except (OSError, json.JSONDecodeError):
        return None


def _write_json(path: Path, payload: Any) -> None:
    from socialview.benchmarks._io import write_json_atomic

    write_json_atomic(path, payload)


# --------------------------------------------------------------------------------------
# command line


def _field_docs() -> dict[str, str]:
    """Docstrings under each field of :class:`MigrationConfig` (for ``--help``)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(MigrationConfig)))
    except (OSError, TypeError):
        return {}
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs = {}
    for node, nxt in itertools.pairwise(body):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)):
            docs[node.target.id] = " ".join(nxt.value.value.split()).replace("%", "%%")
    return docs


def _parser_for(tp: Any) -> Any:
    """argparse ``type=`` callable for a field annotation."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        base = _parser_for(inner[0])

        def optional(text: str) -> Any:
            return None if text.lower() in ("none", "null") else base(text)

        return optional
    if tp is dict or origin is dict:
        return json.loads
    if tp is bool:
        return lambda text: text.lower() in ("1", "true", "yes", "on")
    return tp


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``migrate`` sub-command to ``subparsers``; returns its parser."""
    parser = subparsers.add_parser(
        "migrate",
        help="compute-to-accuracy: a new agent from scratch vs distilled through the map",
        description=(
            "Train a new agent for camera B from scratch and, separately, distilled from an "
            "existing agent A through the fitted latent map; report probe accuracy against "
            "cumulative FLOPs for both and the FLOPs ratio at a target accuracy. Writes "
            "migration.json, migration.png and migration.svg to --out."),
    )
    parser.add_argument("--preset", default="quick",
                        help=f"starting configuration: {', '.join(PRESETS)} (default quick)")
    parser.add_argument("--out", default="results/migration",
                        help="results folder (default results/migration)")
    parser.add_argument("--config", default=None, metavar="FILE",
                        help="JSON or YAML file of config fields applied over the preset")
    parser.add_argument("--no-progress", "--quiet", dest="no_progress", action="store_true",
                        help="no progress bars")
    docs = _field_docs()
    hints = typing.get_type_hints(MigrationConfig)
    group = parser.add_argument_group("config overrides (applied last)")
    for f in dataclasses.fields(MigrationConfig):
        group.add_argument(f"--{f.name.replace('_', '-')}", dest=f"override_{f.name}",
                           type=_parser_for(hints[f.name]), default=argparse.SUPPRESS,
                           metavar=f.name.upper(), help=docs.get(f.name))
    parser.set_defaults(func=_main)
    return parser


def config_from_args(args: argparse.Namespace) -> MigrationConfig:
    """Preset, then ``--config`` file, then per-field overrides; validated."""
    cfg = get_preset(args.preset)
    if args.config is not None:
        cfg = load_config(args.config, base=cfg)
    # Flags default to SUPPRESS, so only those given appear (``--num-threads none`` too).
    overrides = {f.name: getattr(args, f"override_{f.name}")
                 for f in dataclasses.fields(MigrationConfig)
                 if hasattr(args, f"override_{f.name}")}
    return cfg.replace(**overrides).validate()


def _main(args: argparse.Namespace) -> int:
    try:
        cfg = config_from_args(args)
    except (ValueError, KeyError, TypeError, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"socialview migrate: error: {message}", file=sys.stderr)
        return 2
    result = run_migration(cfg, args.out, progress=not args.no_progress)
    r = result["ratios"]
    print(f"agent A probe accuracy {result['a']['probe_accuracy']:.3f}, chance "
          f"{result['chance']:.3f}")
    print(f"best accuracy: scratch {r['best_accuracy_scratch']:.3f}, distill "
          f"{r['best_accuracy_distill']:.3f}")
    if r["ratio_at_target"] is not None:
        print(f"FLOPs ratio at {r['target_accuracy']:.0%}: {r['ratio_at_target']:.3f}x "
              f"({r['ratio_at_target_including_a']:.3f}x counting A's training; paper "
              f"{PAPER_RATIO}x)")
    else:
        print(f"no FLOPs ratio at {r['target_accuracy']:.0%}: {r['reason']}")
        if r["ratio_at_common_level"] is not None:
            print(f"FLOPs ratio at {r['common_level']:.3f} (best both reach): "
                  f"{r['ratio_at_common_level']:.3f}x")
    print(f"wrote {Path(args.out) / 'migration.json'}")
    return 0
