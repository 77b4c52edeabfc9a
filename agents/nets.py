"""Small networks shared by the built-in agents, built without the global RNG.

Modules are created on the ``meta`` device and then materialised and initialised
from the agent's own ``torch.Generator`` (:func:`build_module`). So building an
agent neither reads nor advances ``torch``'s global random state, and two agents
built with different seeds differ only through their own generators.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from socialview.agents.base import frames_to_float

__all__ = [
    "READOUT_SETTINGS",
    "BatchWhitening",
    "ConvDecoder",
    "ConvEncoder",
    "EncoderConfig",
    "PredictorMLP",
    "SpectralCoreReadout",
    "TotalVarianceNorm",
    "build_module",
    "effective_rank",
    "embedding_std",
    "init_parameters",
    "make_inverse_model",
    "make_output_norm",
    "make_projector",
    "make_readout",
    "training_settings",
]


@dataclass
class EncoderConfig:
    """Shape of the convolutional encoder shared by ``jepa``, ``autoencoder`` and ``random``."""

    latent_dim: int = 64
    """Width of the latent vector."""
    width: int = 16
    """Channels of every conv layer. 16 costs a quarter of 32 and lost nothing measurable
    with the default JEPA (held-out state probe 0.92 vs 0.93; ``docs/agents-study.md``)."""
    depth: int = 2
    """Number of stride-2 conv layers (each halves the image side): two at 64 px leave
    16x16 maps. On 8x8 maps (three convs, the default until the fifth round of
    ``docs/agents-study.md``) a body of a few pixels falls inside one cell and its response
    depends on where in the cell it stands, a nonlinearity the moments inherit: the
    default ``jepa`` on 16x16 maps reads the world at 0.95-0.96 (3 seeds; 0.93-0.94 on
    8x8), its latent is 0.92 a linear function of the positions (0.79-0.82) and two
    cameras' agents align at orthogonal R² 0.85-0.86 (0.74-0.79), at 9% more FLOPs.
    The "flatten" head wants three (the first round measured its supervised ceiling at
    0.83 with two convs at 64 px)."""
    input_size: int | None = None
    """Frames are area-resized to this side before the convs (None: keep the dataset's).
    Resizing 64 -> 32 cuts the conv cost 4x but loses the pusher's position."""
    grid: int = 4
    """head="flatten": side of the spatial grid flattened into the output layer (adaptive
    pooling makes it work for any input size). Also the autoencoder decoder's first grid."""
    norm: bool = True
    """GroupNorm after each conv (stabilises training without batch statistics)."""
    head: str = "moments"
    """How the last conv map becomes the latent (``docs/agents-study.md``, finding 8).
    "moments" (default): a 3x3 conv gives ``keypoints`` maps, :class:`SpatialMoments`
    their first moments (mean of map value times pixel x, and y), a linear layer the
    latent. Convs are translation-equivariant, so these features move linearly with the
    bodies whatever the maps detect: on 8x8 maps the default ``jepa`` read the world at
    0.93-0.94 (3 seeds), its latent was 0.79-0.82 a linear function of the positions
    and two cameras' agents aligned at orthogonal R² 0.74-0.79, against 0.88-0.91,
    0.51-0.53 and 0.63-0.69 on "flatten" (finer maps do better still: ``depth``).
    "flatten": a linear layer reads the ``grid`` x ``grid`` pooled feature map, free to
    read positions nonlinearly (the default until the moments head).
    "centroids": as "moments", but each map rectified and its moments divided by its mass
    (:class:`SpatialMoments` with ``normalise``), so they do not grow with a body's size.
    "keypoints": a spatial softmax turns each of ``keypoints`` heat maps into its expected
    (x, y). Under a self-supervised loss the keypoints stay diffuse and still (their
    coordinates' std ~0.01) unless a strong variance hinge makes them move, and then
    which bodies they follow is left to chance."""
    keypoints: int = 16
    """Number of maps of the "moments", "centroids" and "keypoints" heads (64 maps no better
    than 16 with the moments head)."""
    temperature: float = 0.1
    """Initial softmax temperature of the "keypoints" head (learned afterwards); lower is
    sharper."""
    output_norm: bool | str = True
    """How the latent's scale is fixed (running statistics at ``encode`` time), which a
    contrastive loss would otherwise inflate. ``True`` or ``"unit"``: standardise every
    latent unit over the batch (BatchNorm without scale or shift), so every unit carries
    the same variance whether it encodes the world or not. ``"total"``: centre the latent
    and fix only its total variance (:class:`TotalVarianceNorm`), so the loss decides how
    the variance is shared among units. ``"whiten"``: centre and whiten the latent
    (:class:`BatchWhitening`: identity covariance, for latents about the state's size).
    ``False`` or ``"none"``: no normalisation."""
    whiten_shrinkage: float = 0.0
    """``output_norm="whiten"`` only: a ridge added to the latent's covariance before it is
    whitened, as a share of the covariance's mean eigenvalue. 0 whitens every direction to
    unit variance; > 0 whitens the directions whose variance is well above the ridge and
    leaves the weaker ones small (a direction of variance ``v`` ends with ``v / (v +
    ridge)``), so a latent wider than the state can be whitened where the state lies."""
    readout: str = "core"
    """What ``encode`` returns. "core" (default): the latent's whitened leading principal
    directions, when the spectrum of its covariance has a clear gap, padded with zeros to
    ``latent_dim`` (or with the remaining directions, damped: ``core_rest``); the latent
    itself where it has none (:class:`SpectralCoreReadout`).
    Training is untouched; the covariance is tracked over training batches and, after a
    trainer call's last step, recomputed from the final encoder on training frames
    (``train_agent(calibrate=True)``). "latent": the normalised latent, always. With
    whole-arena cameras the default ``jepa``'s spectrum drops after its 8th direction
    (the x/y of four bodies): its core is an orthogonal map apart between cameras at
    0.913-0.922 (5 seeds, 90 degrees; 0.921-0.933 at lr 2e-3), its full latent at
    0.85-0.88; under half-arena views there is almost never a gap and the latent comes
    back as it is (``docs/agents-study.md``, findings 11-13 and 19)."""
    core_gap: float = 3.0
    """readout="core": the smallest ratio of consecutive eigenvalues that counts as a gap
    (after one of the first ``latent_dim // 2`` directions that holds at least 1% of the
    first's variance). Measured at the default's 8th direction with whole-arena views:
    3.7-22 at the quick budget, but 2.4-3.6 at 5x and 1.84-2.87 at 12.5x (the gap erodes
    with training); the widest ratio under half-arena views reaches 2.47 (a 12-d "core"
    that reads the state worse). The two overlap, so no threshold serves both; 3 keeps
    the half-arena latents whole, and ``core_keep`` keeps an eroded core that once
    passed 3 (``docs/agents-study.md``, findings 14-16)."""
    core_keep: float = 1.5
    """readout="core": hysteresis. A width whose ratio reached ``core_gap`` on the
    running statistics during training stays the core while its ratio is at least this
    (checked on the running statistics during training, and on the statistics read at
    encode time), so a core that stood out survives the erosion of its gap with longer
    training; ``core_keep = core_gap`` turns it off. Whole-arena cores measured fall to
    1.84-2.87 at 10,000 steps on 6,000 frames (2.44-3.62 on 20,000), where a bound of 2
    (round eleven's) dropped two seeds' cores; at lr 1e-3 no half-arena camera measured
    reached 3 on its running statistics once latching starts, so it latches nothing to
    keep (at 2e-3, one ``jepa`` camera of 18 in the quick sweep latched a 12-d core,
    finding 19)
    (``docs/agents-study.md``, findings 14-16)."""
    core_sticky: bool = True
    """readout="core" with hysteresis: if True (the default), a latched width is kept
    while its ratio is at least ``core_keep`` even when another width's ratio reaches
    ``core_gap`` later, and is read before it. False (round eleven's rule): the latest
    width to reach ``core_gap`` replaces it. At 10,000 steps one whole-arena camera's
    latch moved from its 8-d core to a passing 14-d gap and was then dropped; with both
    changes every camera of 5 seeds keeps its 8-d core (3 trained, 2 replayed;
    ``docs/agents-study.md``, finding 16)."""
    core_share: float = 0.8
    """readout="core": the least share of the latent's variance a core's directions must
    hold; a gap before it counts as none. A core is most of the latent: the default
    ``jepa``'s whole-arena 8-d cores hold 0.94-0.99 of its variance at the quick budget
    (0.87-0.93 at 10,000 steps on 20,000 frames), while the one
    false core that wrecked a probe (a ``supervised`` camera under half-arena views at
    lr 2e-3, its 1-d "core" at ratio 3.66 read at 0.07) held 0.43. 0 turns the guard
    off (the rule before round fourteen). It does not catch a 12-d half-arena core that
    held 0.95 (``docs/agents-study.md``, finding 19)."""
    core_rest: float = 0.0
    """readout="core": the scale the directions outside the core are kept at, relative to
    the core's weakest direction (each of those comes back whitened, each of these
    divided by that direction's standard deviation and multiplied by this); 0 (the
    default) drops them. Above 0 the readout is an invertible linear map of the latent,
    so a core cannot cut what the latent knows: the state probe, which standardises
    each direction, then reads the whole latent (a 12-d half-arena core's camera 0.927
    instead of 0.903; whole-arena cameras 0.956-0.982 instead of 0.942-0.971) and the
    orthogonal map moves by under 0.001 at 0.05. But a zero-shot transfer classifier
    standardises its features too, so it reads each camera's own weak directions at
    full strength, and the pusher's grid cell transfers at 0.38-0.56 instead of
    0.75-0.81 between whole-arena cameras; any value above 0 does the same, so it is
    off (``docs/agents-study.md``, finding 20)."""
    core_action_share: float = 0.8
    """readout="core", agents with an action-conditioned predictor (``jepa``): the least
    share of what the agent's actions change in its predictions that a core's directions
    must hold; a gap before it counts as none. The effect is the difference between the
    predictor's outputs for each training batch's contexts under their own actions and
    under the actions of another sample, tracked like the covariance (a running second
    moment over training batches). The body the actions drive is part of the world: a
    core that leaves out most of where the agent's own model puts its actions has
    dropped it. Measured (findings 21-22): the whole-arena 8-d cores hold 0.89-0.92
    of the effect at the end of training (10 cameras, quick and ``full`` budgets) and
    0.83-0.88 at half the quick budget (the predictor learns what the actions do as
    it trains), the widest gap of every half-arena camera of the quick sweep 0.02-0.79,
    the 12-d false core that read 0.903 instead of 0.930 0.75, and the 4-8-d partial
    cores of the first 1-3% of training, which drop the pusher, 0.09-0.52; 0.8 lies
    between (0.85, the first default, refused true cores at half the quick budget).
    Training is untouched: only the readout's choice can change. Agents without a
    predictor track no effect and are not guarded. 0 turns the guard off (the rule
    before round sixteen)."""
    core_reader_share: float = 0.99
    """readout="core", agents whose latent is read by a linear head of their own
    (``supervised``'s state head): the least share of the head's output variance that
    reaches it through a core's directions (direction ``j`` of variance ``l_j`` passes
    ``l_j * |W v_j|^2`` of it); a gap before it counts as none. The head is what the
    agent knows the world through: a core that leaves out directions the head reads
    has dropped part of it. Measured (finding 22): the whole-arena 8-d ``supervised``
    cores pass 0.9995 of it, the two half-arena 8-d cores that read 0.898-0.903
    where their whole latents read 0.923-0.932 pass 0.974-0.975; 0.99 lies between.
    Training is untouched. Agents without such a head are not guarded. 0 turns the
    guard off (the rule before round seventeen)."""
    core_slow_step: float = 0.0
    """readout="core": the least step of the latent's slowness spectrum (linear slow
    feature analysis of the calibrated latent: its whitened directions ordered by the
    mean squared change from one frame to the next within an episode,
    :class:`socialview.alignment.SlowFeatures`) after a core's last direction; a gap
    where the slowness spectrum steps less counts as none, and so does every gap where
    the slowness is not known (no calibration on consecutive frames: the trainer
    calibrates on them when this is above 0, and the latch, which reads running
    statistics during training, latches nothing under it). A core is the world's state,
    and the world's bodies move at their own pace: where the variance width falls on a
    true core, the slowness spectrum steps there too. Measured after training on kept
    agents (finding 25): x1.50-2.55 at every whole-arena 8-d core, the 50,000-step
    cores that the share and action guards refuse included, and x1.03-1.28 at every
    half-arena candidate, the 12-d false core included. Under it, of the gaps that reach
    ``core_gap`` the core is the one where the slowness spectrum steps most (a wider gap
    further out, a 14-d one at 5x the quick budget, can step too). 0 (the default)
    turns it off; finding 26 measures it with ``core_share`` and ``core_action_share``
    at 0, a ``core_gap`` of 1.5 and no hysteresis (``core_keep`` 1.5)."""
    core_slow_fallback: float = 0.0
    """readout="core" with ``core_slow_step`` > 0: turns the slowness guard from a test
    every core must pass into a second witness heard only where the others find none.
    The core is chosen as without the slowness guard (``core_gap``, the latch,
    ``core_share``, ``core_action_share``); only where that leaves no core, a width
    whose ratio reaches ``core_keep``, whose directions hold at least this share of the
    latent's variance and of the actions' effect (or ``core_share`` /
    ``core_action_share``, where lower) and after which the slowness spectrum steps by
    at least ``core_slow_step`` is read after all (of several, the one where it steps
    most). Variance and action mark a core early in training, speed marks it late
    (findings 21 and 26); where the first two refuse a core that speed marks, as at
    50,000 steps, it is read, and elsewhere nothing changes. 0 (the default): off, the
    slowness guard (if on) tests every width (finding 26). Ignored where
    ``core_slow_step`` is 0, which turns every slowness rule off (finding 27)."""
    core_momentum: float = 0.01
    """readout="core": weight of each training batch in the running mean and covariance
    the core is read from (after a plain average over the first ``1 / core_momentum``
    batches). Larger follows the encoder's last steps more closely."""

    def encoder_fields(self) -> EncoderConfig:
        """This config's encoder fields alone: an agent's config extends this class, and
        its encoder is built from just these."""
        return EncoderConfig(**{name: getattr(self, name)
                                for name in EncoderConfig.__dataclass_fields__})


#: Encoder settings that change only what ``encode`` returns once the readout is
#: calibrated, never the weights or the statistics and latch that training writes: the
#: damping of the directions outside the core, and the slowness rules (read from the
#: calibration, which the latch never sees; but see :func:`training_settings`).
READOUT_SETTINGS = ("core_rest", "core_slow_step", "core_slow_fallback")


def training_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """An encoder config (a resolved dict, as run folders record it) less
    :data:`READOUT_SETTINGS`: two configs with equal training settings train to the same
    weights, running statistics and latch, so a run trained under one is read under the
    other by calibrating it again (the trainer does: ``train_agent`` on a finished run).

    The slowness guard without a fallback (``core_slow_step`` > 0, ``core_slow_fallback``
    0) does reach training: every width counts as no core where the slowness is unknown,
    as it is during training, so the latch latches nothing (finding 25). That is kept as
    ``latch_reads_slowness``. A setting missing from ``config`` (a run recorded before it
    existed) counts as 0, its value when it was added."""
    settings = {key: value for key, value in config.items() if key not in READOUT_SETTINGS}
    if config.get("readout", "core") == "core":
        settings["latch_reads_slowness"] = _bare_slow_guard(
            float(config.get("core_slow_step", 0.0) or 0.0),
            float(config.get("core_slow_fallback", 0.0) or 0.0))
    return settings


def _bare_slow_guard(slow_step: float, slow_fallback: float) -> bool:
    """Whether the slowness rules test every width (``core_slow_step`` on, no fallback),
    the latch's included, rather than only where the other rules find no core."""
    return slow_step > 0 and slow_fallback == 0


def _activation() -> nn.Module:
    return nn.GELU()


class ConvEncoder(nn.Module):
    """uint8 frames -> latent vectors: ``depth`` stride-2 convs, a readout, a linear head.

    No readout global-pools the map, so position information survives (the probes read
    positions out of the latents); the default "moments" readout keeps it linearly.
    """

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.input_size = cfg.input_size
        layers: list[nn.Module] = []
        in_ch = 3
        for _ in range(cfg.depth):
            layers.append(nn.Conv2d(in_ch, cfg.width, kernel_size=4, stride=2, padding=1))
            if cfg.norm:
                layers.append(nn.GroupNorm(max(1, cfg.width // 8), cfg.width))
            layers.append(_activation())
            in_ch = cfg.width
        self.convs = nn.Sequential(*layers)
        if cfg.head == "keypoints":
            self.pool = nn.Sequential(nn.Conv2d(in_ch, cfg.keypoints, 3, padding=1),
                                      SpatialSoftmax(cfg.temperature))
            self.head = nn.Linear(2 * cfg.keypoints, cfg.latent_dim)
        elif cfg.head in ("moments", "centroids"):
            self.pool = nn.Sequential(nn.Conv2d(in_ch, cfg.keypoints, 3, padding=1),
                                      SpatialMoments(normalise=cfg.head == "centroids"))
            self.head = nn.Linear(2 * cfg.keypoints, cfg.latent_dim)
        elif cfg.head == "flatten":
            self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(cfg.grid), nn.Flatten(1))
            self.head = nn.Linear(in_ch * cfg.grid * cfg.grid, cfg.latent_dim)
        else:
            raise ValueError(f"head must be 'flatten', 'keypoints', 'moments' or "
                             f"'centroids', got {cfg.head!r}")
        self.out_norm = make_output_norm(cfg.output_norm, cfg.latent_dim,
                                         whiten_shrinkage=cfg.whiten_shrinkage)
        self.readout = make_readout(cfg.readout, cfg.latent_dim, cfg.core_gap,
                                    cfg.core_momentum, cfg.core_keep, cfg.core_sticky,
                                    cfg.core_share, cfg.core_rest, cfg.core_action_share,
                                    cfg.core_reader_share, cfg.core_slow_step,
                                    cfg.core_slow_fallback)

    def preprocess(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 ``(B, H, W, 3)`` -> float ``(B, 3, S, S)``, resized to ``input_size``."""
        x = frames_to_float(frames)
        if self.input_size is not None and x.shape[-1] != self.input_size:
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="area")
        return x

    def _features(self, frames: torch.Tensor) -> torch.Tensor:
        """The head's input for uint8 frames."""
        return self.pool(self.convs(self.preprocess(frames)))

    @property
    def calibrates(self) -> bool:
        """Whether the readout keeps statistics that :meth:`calibrate_readout` refreshes."""
        return hasattr(self.readout, "calibrate")

    @property
    def calibrates_change(self) -> bool:
        """Whether the readout also wants the latent's frame-to-frame change
        (``core_slow_step`` > 0): :meth:`calibrate_readout`'s ``pairs``."""
        return self.calibrates and getattr(self.readout, "slow_step", 0.0) > 0

    @torch.no_grad()
    def calibrate_readout(self, chunks: Iterable[torch.Tensor],
                          pairs: Iterable[tuple[torch.Tensor, torch.Tensor]] | None = None
                          ) -> None:
        """Give the readout the statistics of this encoder's eval-mode latents on the
        uint8 frame ``chunks`` (each ``(B, H, W, 3)``); nothing to do without one. With
        ``pairs`` (chunks of frames and the frames one step later in the same episode)
        and a readout that wants them (:attr:`calibrates_change`), also the statistics
        of the latent's change between them."""
        if not self.calibrates:
            return
        mode = self.training
        self.eval()
        try:
            latents = [self._latent(x) for x in chunks]
            changes = ([self._latent(after) - self._latent(before) for before, after in pairs]
                       if pairs is not None and self.calibrates_change else None)
        finally:
            self.train(mode)
        self.readout.calibrate(torch.cat(latents))
        if changes is not None:
            self.readout.calibrate_change(torch.cat(changes))

    def _latent(self, frames: torch.Tensor) -> torch.Tensor:
        """The normalised latent of uint8 ``frames``, before the readout."""
        return self.out_norm(self.head(self._features(frames)))

    def forward(self, frames: torch.Tensor, return_features: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Latents ``(B, latent_dim)``; with ``return_features`` also the head's input
        (the ``2 * keypoints`` image coordinates for the "keypoints" head)."""
        feats = self._features(frames)
        z = self.readout(self.out_norm(self.head(feats)))
        return (z, feats) if return_features else z


class TotalVarianceNorm(nn.Module):
    """Centre ``(B, D)`` latents and divide by the root of their mean per-unit variance.

    BatchNorm gives every unit unit variance; this fixes only the total (``D``), so a
    unit the loss has no use for can shrink while the units that matter carry the
    variance. Batch statistics in training, running ones (``momentum``) otherwise.
    """

    def __init__(self, dim: int, momentum: float = 0.01, eps: float = 1e-5) -> None:
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.register_buffer("running_mean", torch.zeros(dim))
        self.register_buffer("running_var", torch.ones(()))

    def reset_running_stats(self) -> None:
        """Running mean 0, running mean variance 1."""
        self.running_mean.zero_()
        self.running_var.fill_(1.0)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.training and h.shape[0] > 1:
            mean, var = h.mean(0), h.var(0, unbiased=False).mean()
            with torch.no_grad():
                self.running_mean.lerp_(mean.detach(), self.momentum)
                self.running_var.lerp_(var.detach(), self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        return (h - mean) / torch.sqrt(var + self.eps)


class BatchWhitening(nn.Module):
    """Centre ``(B, D)`` latents and whiten them: their covariance becomes the identity.

    If two agents' latents are both whitened and both invertible linear functions of one
    world state, the map between them is exactly orthogonal; BatchNorm fixes only each
    unit's variance, not the correlations between units. The whitening matrix is the
    inverse of the Cholesky factor of the covariance (as in W-MSE, Ermolov et al. 2021:
    differentiable and stable where eigenvalues are close, which they are for an
    isotropic latent), from the batch in training and from running statistics
    (``momentum``) otherwise. A batch must have more rows than ``D`` (several times
    more for a stable estimate): meant for latents about the state's size. With
    ``shrinkage`` > 0 a ridge of that share of the mean variance is added first
    (``EncoderConfig.whiten_shrinkage``): strong directions are whitened, weak ones
    stay weak, and any batch size works.
    """

    def __init__(self, dim: int, momentum: float = 0.01, eps: float = 1e-4,
                 shrinkage: float = 0.0) -> None:
        super().__init__()
        self.momentum, self.eps, self.shrinkage = momentum, eps, float(shrinkage)
        self.register_buffer("running_mean", torch.zeros(dim))
        self.register_buffer("running_cov", torch.eye(dim))

    def reset_running_stats(self) -> None:
        """Running mean 0, running covariance the identity."""
        self.running_mean.zero_()
        self.running_cov.copy_(torch.eye(self.running_cov.shape[0]))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        rows, dim = h.shape
        if self.training and 1 < rows <= dim and self.shrinkage == 0:
            raise ValueError(f"output_norm='whiten' needs batches of more rows than latent "
                             f"units: got {rows} rows for latent_dim={dim} (use a larger "
                             f"batch_size or a smaller latent_dim)")
        if self.training and rows > 1:
            mean = h.mean(0)
            centred = h - mean
            cov = centred.T @ centred / (h.shape[0] - 1)
            with torch.no_grad():
                self.running_mean.lerp_(mean.detach(), self.momentum)
                self.running_cov.lerp_(cov.detach(), self.momentum)
        else:
            centred, cov = h - self.running_mean, self.running_cov
        eye = torch.eye(dim, device=h.device, dtype=h.dtype)
        ridge = self.eps + self.shrinkage * torch.diagonal(cov).mean()
        factor = torch.linalg.cholesky(cov + ridge * eye)
        # rows x with x L^T = centred, i.e. x = centred L^{-T}: covariance L^{-1} C L^{-T} = I
        return torch.linalg.solve_triangular(factor, centred.T, upper=False).T


class SpectralCoreReadout(nn.Module):
    """In training, pass ``(B, D)`` latents through unchanged and track their running mean
    and covariance (a plain average over the first ``1 / momentum`` batches, then an
    exponential one with ``momentum``); otherwise return their whitened core where the
    covariance's spectrum has a gap, and the latents unchanged where it has none.

    The core: the ``k`` leading principal directions, where ``k`` (up to ``D // 2``) is
    where the ratio of consecutive eigenvalues is largest, if that ratio is at least
    ``min_ratio``, the core's last direction has at least ``min_share`` of the first
    one's variance and the ``k`` directions hold at least ``core_share`` of the latent's
    variance (a width that fails either test has ratio 0); the output is those ``k``
    whitened coordinates followed by the ``D - k`` other principal coordinates divided
    by the ``k``-th direction's standard deviation and multiplied by ``rest`` (zeros
    for ``rest=0``), so its width stays ``D``. Two agents whose latents are the same
    state in different coordinates plus weaker detail of their own agree on the core up
    to a rotation; the detail, which no map between them can carry, is damped (or, at
    ``rest=0``, left out). Like scikit-learn's ``PCA(whiten=True)`` with the number of
    components read off the spectrum; the statistics come from the agent's own training
    batches, never labels. With ``rest > 0`` the readout is invertible: whatever the
    latent knows, the output knows, even where a core was read that should not have
    been, but a consumer that standardises each direction undoes the damping (finding
    20).

    Hysteresis (``keep_ratio`` below ``min_ratio``): during training, from the
    ``4 / momentum``-th batch on (when the first ``1 / momentum`` batches, from the
    encoder's fast early changes, weigh under 5% of the running statistics) and then
    every ``0.1 / momentum`` batches, the width of a gap that reaches ``min_ratio`` is
    *latched*; it is kept while its own ratio stays at least ``keep_ratio`` and dropped
    when it falls below. Where no ratio reaches ``min_ratio``, the core is the latched
    width if its ratio is at least ``keep_ratio``. So a core that stood out during
    training survives the erosion of its gap with longer training, while a spectrum
    that never had a clear gap (a smooth one whose widest ratio wanders about 2) gets no
    core. ``keep_ratio == min_ratio`` is no hysteresis at all. Agents study, finding 15.
    ``sticky``: a latched width whose ratio holds is neither replaced by a later gap
    elsewhere nor read after one (finding 16).

    Action guard (``action_share`` > 0): an agent whose predictor takes actions hands
    :meth:`track_effect` what its actions change in each training batch's predictions;
    a width whose directions hold under ``action_share`` of that effect's second moment
    fails like one under ``core_share`` (finding 21). Nothing tracked, nothing guarded,
    but for an agent that said it will track an effect (:meth:`await_witnesses`) and has
    not trained yet: then every width fails (finding 29).

    Reader guard (``reader_share`` > 0): an agent whose latent is read by a linear head
    of its own hands :meth:`track_reader` that head's weights ``W``; a width whose
    directions pass under ``reader_share`` of the head's output variance (direction
    ``v_j`` of variance ``l_j`` passes ``l_j |W v_j|^2``) fails the same way (finding
    22). Nothing tracked, nothing guarded, with the same exception as the action guard.

    Slowness guard (``slow_step`` > 0): :meth:`calibrate_change` hands the readout the
    calibrated encoder's latent change from one frame to the next within an episode; a
    width after which the slowness spectrum (:meth:`slowness`) steps by under
    ``slow_step`` fails like one under ``core_share``, and so does every width while no
    change matching the statistics read is known (finding 25). With ``slow_fallback`` >
    0 it is a fallback instead: the core is chosen without it, and only where that
    finds none is a width read whose ratio reaches ``keep_ratio``, whose shares reach
    ``slow_fallback`` (where lower than the guards') and after which the slowness
    spectrum steps by at least ``slow_step`` (finding 27).

    :meth:`calibrate` stores the statistics of the encoder as it stands beside the
    running ones, which it leaves alone: the latch and the running statistics depend on
    the training batches only, so training in stages ends where an unbroken run does.
    Calibrated statistics are read until the next training batch.
    """

    def __init__(self, dim: int, min_ratio: float = 3.0, momentum: float = 0.01,
                 min_share: float = 0.01, keep_ratio: float | None = None,
                 sticky: bool = False, core_share: float = 0.0, rest: float = 0.0,
                 action_share: float = 0.0, reader_share: float = 0.0,
                 slow_step: float = 0.0, slow_fallback: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= slow_fallback < 1.0:
            raise ValueError(f"core_slow_fallback must be in [0, 1) (the least share of "
                             f"variance and action effect a fallback core holds; 0: no "
                             f"fallback), got {slow_fallback!r}")
        # no step to test, no fallback: core_slow_step=0 turns every slowness rule off
        self.slow_fallback = float(slow_fallback) if slow_step > 0 else 0.0
        if not (slow_step == 0.0 or slow_step > 1.0):
            raise ValueError(f"core_slow_step must be 0 (no guard) or > 1 (a ratio of "
                             f"consecutive slowness values), got {slow_step!r}")
        self.slow_step = float(slow_step)
        if not 0.0 <= reader_share < 1.0:
            raise ValueError(f"core_reader_share must be in [0, 1) (a share of what the "
                             f"agent's head reads; 0: no guard), got {reader_share!r}")
        self.reader_share = float(reader_share)
        if not 0.0 <= action_share < 1.0:
            raise ValueError(f"core_action_share must be in [0, 1) (a share of the actions' "
                             f"effect on the predictions; 0: no guard), got {action_share!r}")
        self.action_share = float(action_share)
        if not 0.0 <= rest <= 1.0:
            raise ValueError(f"core_rest must be in [0, 1] (the scale of the directions "
                             f"outside the core relative to its weakest; 0: dropped), "
                             f"got {rest!r}")
        self.rest = float(rest)
        if not min_ratio > 1.0:
            raise ValueError(f"core_gap must be > 1 (a ratio of eigenvalues), got {min_ratio!r}")
        if not 0.0 <= core_share < 1.0:
            raise ValueError(f"core_share must be in [0, 1) (a share of the latent's "
                             f"variance; 0: no guard), got {core_share!r}")
        self.core_share = float(core_share)
        keep = min_ratio if keep_ratio is None else keep_ratio
        if not 1.0 < keep <= min_ratio:
            raise ValueError(f"core_keep must be > 1 and at most core_gap ({min_ratio!r}), "
                             f"got {keep_ratio!r}")
        self.min_ratio, self.keep_ratio = float(min_ratio), float(keep)
        self.momentum, self.min_share, self.sticky = momentum, min_share, bool(sticky)
        # latch only once the first window of batches weighs under 5%: early in training
        # the running statistics mix encoders far apart, and a half-arena camera's showed
        # ratios of 5 after the 32nd direction at 100-200 steps (agents study, finding 15)
        self.settle = 4 * math.ceil(1.0 / momentum)
        self.latch_every = max(1, round(0.1 / momentum))
        self.register_buffer("running_mean", torch.zeros(dim))
        self.register_buffer("running_cov", torch.eye(dim))
        self.register_buffer("num_batches_tracked", torch.zeros((), dtype=torch.long))
        self.register_buffer("calibrated_mean", torch.zeros(dim))
        self.register_buffer("calibrated_cov", torch.eye(dim))
        self.register_buffer("calibrated_at", torch.full((), -1, dtype=torch.long))
        self.register_buffer("latched_width", torch.zeros((), dtype=torch.long))
        self.register_buffer("running_effect", torch.zeros(dim, dim))
        self.register_buffer("effect_batches_tracked", torch.zeros((), dtype=torch.long))
        self.register_buffer("reader_gram", torch.zeros(dim, dim))
        self.register_buffer("calibrated_change", torch.zeros(dim, dim))
        self.register_buffer("change_calibrated_at", torch.full((), -1, dtype=torch.long))
        # what the agent will hand the guards in training (await_witnesses); not state:
        # the agent says it again whenever it is built
        self.awaits_effect, self.awaits_reader = False, False

    def await_witnesses(self, effect: bool = False, reader: bool = False) -> None:
        """Declare what the agent will hand this readout from its first training batch on:
        an action effect (:meth:`track_effect`, ``effect``) and its head's weights
        (:meth:`track_reader`, ``reader``).

        Before that batch, a guard whose witness is awaited has not been heard, not found
        nothing: the untrained encoder's spectrum can show a gap (at an emergence curve's
        step 0, 2- and 4-d "cores" read the state at 0.12-0.36 where the whole latent reads
        0.42-0.70, finding 29), and no guard could weigh it. So every width fails there,
        and ``encode`` returns the whole latent. After the first training batch, or for
        an agent that declared nothing (the untrained ``random`` control's opt-in core, a
        state saved before the guards existed), nothing tracked is nothing guarded, as
        before."""
        self.awaits_effect, self.awaits_reader = bool(effect), bool(reader)

    def _unheard(self, awaited: bool) -> bool:
        """Whether an awaited witness is still unheard: the agent declared it and has not
        trained a batch (see :meth:`await_witnesses`)."""
        return awaited and int(self.num_batches_tracked) == 0

    def reset_running_stats(self) -> None:
        """No statistics yet: mean 0, covariance the identity (no gap), no batch seen, no
        calibration, nothing latched."""
        eye = torch.eye(self.running_cov.shape[0])
        self.running_mean.zero_()
        self.running_cov.copy_(eye)
        self.num_batches_tracked.zero_()
        self.calibrated_mean.zero_()
        self.calibrated_cov.copy_(eye)
        self.calibrated_at.fill_(-1)
        self.latched_width.zero_()
        self.running_effect.zero_()
        self.effect_batches_tracked.zero_()
        self.reader_gram.zero_()
        self.calibrated_change.zero_()
        self.change_calibrated_at.fill_(-1)

    def _load_from_state_dict(self, state_dict: dict[str, torch.Tensor], prefix: str,
                              *args: object, **kwargs: object) -> None:
        # a state saved before calibration and latch had buffers of their own: its running
        # statistics were what encode read, calibrated or not, and nothing was latched
        if prefix + "calibrated_at" not in state_dict and prefix + "running_cov" in state_dict:
            state_dict[prefix + "calibrated_mean"] = state_dict[prefix + "running_mean"]
            state_dict[prefix + "calibrated_cov"] = state_dict[prefix + "running_cov"]
            state_dict[prefix + "calibrated_at"] = state_dict[prefix + "num_batches_tracked"]
            state_dict[prefix + "latched_width"] = torch.zeros((), dtype=torch.long)
        if prefix + "running_cov" in state_dict:
            dim = state_dict[prefix + "running_cov"].shape[0]
            # one saved before the action guard tracked no effect, so none guards it
            if prefix + "effect_batches_tracked" not in state_dict:
                state_dict[prefix + "running_effect"] = torch.zeros(dim, dim)
                state_dict[prefix + "effect_batches_tracked"] = torch.zeros((), dtype=torch.long)
            # and one saved before the reader guard had no head to read: unguarded
            if prefix + "reader_gram" not in state_dict:
                state_dict[prefix + "reader_gram"] = torch.zeros(dim, dim)
            # and one saved before the slowness guard knew no change
            if prefix + "change_calibrated_at" not in state_dict:
                state_dict[prefix + "calibrated_change"] = torch.zeros(dim, dim)
                state_dict[prefix + "change_calibrated_at"] = torch.full((), -1,
                                                                          dtype=torch.long)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @property
    def is_calibrated(self) -> bool:
        """Whether :meth:`calibrate` ran after the last training batch (its statistics are
        then the ones read)."""
        return int(self.calibrated_at) == int(self.num_batches_tracked)

    def statistics(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mean, covariance)`` the core is read from: the calibrated ones if
        :attr:`is_calibrated`, else the running ones."""
        if self.is_calibrated:
            return self.calibrated_mean, self.calibrated_cov
        return self.running_mean, self.running_cov

    def spectrum(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Eigenvalues (descending, float64) and eigenvectors of :meth:`statistics`'
        covariance."""
        values, vectors = torch.linalg.eigh(self.statistics()[1].double())
        return values.flip(0), vectors.flip(1)

    def widest_gap(self) -> tuple[int, float] | None:
        """``(k, ratio)``: the largest ratio of consecutive eigenvalues among the first
        ``D // 2`` (the ``k``-th over the ``k+1``-th), whatever ``min_ratio`` says, or
        None for a latent too narrow to have one. ``rank`` is ``k`` where ``ratio >=
        min_ratio`` (else the latched width, if its ratio holds); reported beside results
        so a reader sees how clear the gap was. Its width need not pass ``core_share``
        (:meth:`variance_share` says whether it does)."""
        ratios = self._ratios(*self.spectrum(), guarded=False)
        return None if ratios is None else _largest(ratios)

    def ratios(self, agent_guards: bool = True) -> torch.Tensor | None:
        """Ratios of consecutive eigenvalues of :meth:`statistics`' covariance among the
        first ``D // 2`` (the ``k``-th over the ``k+1``-th at index ``k - 1``; 0 after a
        direction under ``min_share`` of the first or where the leading directions hold
        under ``core_share`` of the variance, ``action_share`` of the actions' effect or
        ``reader_share`` of what the agent's head reads), or None for a latent too narrow
        to have one: what :meth:`ratio_at`, the core's width and the latch read.
        ``agent_guards=False`` leaves the action and reader tests out (what a record of
        the gaps, replayed under other rules, wants: neither the effect nor the head is
        in it)."""
        values, vectors = self.spectrum()
        return self._ratios(values, vectors if agent_guards else None)

    def latched(self) -> int | None:
        """The width latched during training (see the class docstring), or None."""
        width = int(self.latched_width)
        return width or None

    def ratio_at(self, width: int) -> float:
        """The ratio of the ``width``-th eigenvalue to the next in the statistics read (0
        after a direction under ``min_share`` of the first, or beyond the first ``D // 2``)."""
        ratios = self.ratios()
        if ratios is None or not 0 < width <= len(ratios):
            return 0.0
        return float(ratios[width - 1])

    def variance_share(self, width: int) -> float:
        """Share of the latent's variance (in the statistics read) that its ``width``
        leading principal directions hold: 1 where the latent is its core and nothing
        else, lower the more variance lies in the directions a core of that width leaves
        out. Reported beside the gap, so a reader sees how much a core reads."""
        values = self.spectrum()[0].clamp_min(0.0)
        if not 0 < width <= len(values):
            raise ValueError(f"width must be in [1, {len(values)}], got {width!r}")
        return float(values[:width].sum() / values.sum().clamp_min(1e-30))

    @torch.no_grad()
    def track_effect(self, effect: torch.Tensor) -> None:
        """Fold a training batch's action effect ``(B, D)`` into the running second moment
        the action guard reads (a plain average over the first ``1 / momentum`` batches,
        then an exponential one, like the covariance). ``effect``: for each sample, the
        predicted latent under its own actions minus that under another sample's, so it
        lies where the agent's model puts what its actions change."""
        if effect.dim() != 2 or effect.shape[1] != self.running_effect.shape[0]:
            raise ValueError(f"track_effect needs (B, {self.running_effect.shape[0]}) effects, "
                             f"got {tuple(effect.shape)}")
        if effect.shape[0] == 0:
            return
        e = effect.detach().to(self.running_effect.dtype)
        self.effect_batches_tracked += 1
        weight = max(self.momentum, 1.0 / int(self.effect_batches_tracked))
        self.running_effect.lerp_(e.T @ e / e.shape[0], weight)

    def action_shares(self, vectors: torch.Tensor | None = None) -> torch.Tensor | None:
        """Cumulative shares of the tracked action effect that the leading principal
        directions hold (``vectors``, columns in order; default: :meth:`spectrum`'s), or
        None where no effect was tracked (an agent without an action-conditioned
        predictor) or it is zero."""
        if int(self.effect_batches_tracked) == 0:
            return None
        if vectors is None:
            vectors = self.spectrum()[1]
        return _cumulative_shares(_along(vectors, self.running_effect.double()))

    def action_share_at(self, width: int) -> float | None:
        """Share of the tracked action effect that the ``width`` leading principal
        directions (of the statistics read) hold, or None with no effect tracked.
        Reported beside the gap and :meth:`variance_share`."""
        return _share_at(self.action_shares(), width)

    @torch.no_grad()
    def track_reader(self, weight: torch.Tensor) -> None:
        """Remember the weights ``(S, D)`` of the linear head that reads this latent (the
        latest ones: the head is the agent's own and changes with training), for the
        reader guard: a core must pass ``reader_share`` of the head's output variance."""
        if weight.dim() != 2 or weight.shape[1] != self.reader_gram.shape[0]:
            raise ValueError(f"track_reader needs (S, {self.reader_gram.shape[0]}) head "
                             f"weights, got {tuple(weight.shape)}")
        w = weight.detach().to(self.reader_gram.dtype)
        self.reader_gram.copy_(w.T @ w)

    def reader_shares(self, values: torch.Tensor | None = None,
                      vectors: torch.Tensor | None = None) -> torch.Tensor | None:
        """Cumulative shares of the head's output variance that the leading principal
        directions pass (descending ``values`` with their ``vectors``; default:
        :meth:`spectrum`'s), or None where no head was tracked (an agent with no linear
        head of its own) or it reads nothing."""
        if not bool(self.reader_gram.any()):
            return None
        if values is None or vectors is None:
            values, vectors = self.spectrum()
        gram = self.reader_gram.to(vectors.dtype)
        return _cumulative_shares(values.clamp_min(0.0) * _along(vectors, gram))

    def reader_share_at(self, width: int) -> float | None:
        """Share of the head's output variance that the ``width`` leading principal
        directions (of the statistics read) pass, or None with no head tracked. Reported
        beside the gap, :meth:`variance_share` and :meth:`action_share_at`."""
        return _share_at(self.reader_shares(), width)

    def _ratios(self, values: torch.Tensor, vectors: torch.Tensor | None = None,
                guarded: bool = True, steps: torch.Tensor | None = None,
                fallback: bool = False) -> torch.Tensor | None:
        """Ratios of consecutive eigenvalues (descending ``values``, eigenvectors
        ``vectors``) among the first ``D // 2``, 0 after a direction under ``min_share``
        of the first or (if ``guarded``) where the leading directions hold under
        ``core_share`` of the variance or (with ``vectors`` and a tracked effect or head)
        under ``action_share`` of the actions' effect or ``reader_share`` of what the
        head reads, or (with ``slow_step``) where the slowness spectrum's ``steps``
        (default :meth:`slow_steps`) step by less or are not known; None for a latent
        too narrow to have one. With ``slow_fallback`` > 0 the slowness test applies
        only to the ``fallback`` tier, whose variance and action thresholds are
        ``slow_fallback`` where lower."""
        top = min(len(values) // 2, len(values) - 1)
        if top < 1:
            return None
        first = values[0].clamp_min(1e-30)
        ratios = values[:top] / values[1:top + 1].clamp_min(1e-12 * first)
        # a core ends on a direction of some weight: a gap after a negligible one (before
        # the numerically zero directions of a latent wider than the features under it,
        # or the traces training leaves in the running covariance) would whiten noise
        keep = values[:top] >= self.min_share * first
        if guarded:
            # and it is most of the latent: a gap after a few directions that hold little
            # of its variance cuts away the rest of what the latent knows (finding 19)
            core_share, action_share = self.core_share, self.action_share
            if fallback:  # the weaker tier heard where the others find no core (finding 27)
                core_share = min(core_share, self.slow_fallback)
                action_share = min(action_share, self.slow_fallback)
            positive = values.clamp_min(0.0)
            keep &= positive.cumsum(0)[:top] / positive.sum().clamp_min(1e-30) >= core_share
            # and it holds what the agent's actions move (finding 21)
            if action_share > 0 and vectors is not None:
                shares = self.action_shares(vectors)
                if shares is not None:
                    keep &= shares[:top] >= action_share
                elif self._unheard(self.awaits_effect):  # untrained: no core (finding 29)
                    keep[:] = False
            # and it passes what the agent's own head reads (finding 22)
            if self.reader_share > 0 and vectors is not None:
                read = self.reader_shares(values, vectors)
                if read is not None:
                    keep &= read[:top] >= self.reader_share
                elif self._unheard(self.awaits_reader):
                    keep[:] = False
            # and the slowness spectrum steps there too (finding 25), in every tier or,
            # as a fallback, in its own (finding 27)
            if (fallback and self.slow_step > 0) or _bare_slow_guard(self.slow_step,
                                                                     self.slow_fallback):
                steps = self.slow_steps() if steps is None else steps
                known = torch.zeros(top, dtype=torch.bool)
                if steps is not None:
                    known[:min(top, len(steps))] = steps[:top] >= self.slow_step
                keep &= known
        return torch.where(keep, ratios, 0.0)

    def _width(self, values: torch.Tensor, vectors: torch.Tensor | None = None) -> int | None:
        """The core's width for the descending eigenvalues ``values``: the widest gap's if
        it reaches ``min_ratio``, else the latched width's if its ratio is at least
        ``keep_ratio``, else None; with ``sticky``, a latched width whose ratio holds
        comes first. Under the slowness guard, the gap chosen among those that reach
        ``min_ratio`` is the one after which the slowness spectrum steps most, not the
        widest (a second gap further out can be wider and step too, finding 26). As a
        fallback (``slow_fallback``), see :meth:`_choose`."""
        return self._choose(values, vectors)[0]

    def _choose(self, values: torch.Tensor, vectors: torch.Tensor | None = None
                ) -> tuple[int | None, bool]:
        """``(width, by_fallback)``: :meth:`_width`'s answer, and whether the slowness
        fallback chose it (the other rules found no core; ``slow_fallback`` > 0)."""
        # at most one slow feature analysis per call (encode reads the core on every
        # batch), and as a fallback only where the other rules find no core
        guard = _bare_slow_guard(self.slow_step, self.slow_fallback)
        steps = self.slow_steps() if guard else None
        ratios = self._ratios(values, vectors, steps=steps)
        if ratios is None:
            return None, False
        k, ratio = _largest(ratios)
        if steps is not None and ratio >= self.min_ratio:  # the bare guard
            k = _slowest_step(ratios, steps, self.min_ratio)
        width = int(self.latched_width)
        held = 0 < width <= len(ratios) and float(ratios[width - 1]) >= self.keep_ratio
        if held and self.sticky:
            return width, False
        if ratio >= self.min_ratio:
            return k, False
        if held:
            return width, False
        steps = self.slow_steps() if self.slow_fallback > 0 else None
        if steps is None:
            return None, False
        # the fallback: a width the weaker tier passes, where the speeds step most
        ratios = self._ratios(values, vectors, steps=steps, fallback=True)
        if float(ratios.max()) < self.keep_ratio:
            return None, False
        return _slowest_step(ratios, steps, self.keep_ratio), True

    def read_by_fallback(self) -> bool:
        """Whether the core ``encode`` returns now was read by the slowness fallback
        (``slow_fallback`` > 0; the other rules found none). Reported beside the gap."""
        return self._choose(*self.spectrum())[1]

    @torch.no_grad()
    def _update_latch(self) -> None:
        """Latch the widest gap of the running statistics if it reaches ``min_ratio``
        (with ``sticky``, only when no latched width's ratio holds at ``keep_ratio``);
        drop a latched width whose ratio fell under ``keep_ratio``."""
        values, vectors = torch.linalg.eigh(self.running_cov.double())
        ratios = self._ratios(values.flip(0), vectors.flip(1))
        if ratios is None:
            return
        width = int(self.latched_width)
        held = float(ratios[width - 1]) if 0 < width <= len(ratios) else 0.0
        self.latched_width.fill_(latch_after(width, _largest(ratios), held, self.min_ratio,
                                             self.keep_ratio, self.sticky))

    def core(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """``(mean, projection)`` of the current core, or None without one. ``projection``
        is ``(D, k)`` for ``rest=0`` (the leading eigenvectors over the roots of their
        eigenvalues) and ``(D, D)`` otherwise (then the other eigenvectors follow, over
        the root of the ``k``-th eigenvalue, times ``rest``)."""
        values, vectors = self.spectrum()  # one decomposition per call: encode calls it
        k = self._width(values, vectors)
        if k is None:
            return None
        mean, cov = self.statistics()
        projection = vectors[:, :k] / values[:k].sqrt()
        if self.rest > 0:
            damped = vectors[:, k:] * (self.rest / values[k - 1].sqrt())
            projection = torch.cat([projection, damped], dim=1)
        return mean, projection.to(cov.dtype)

    @torch.no_grad()
    def calibrate(self, latents: torch.Tensor) -> None:
        """Set the calibrated statistics to the mean and covariance of ``latents``
        ``(N, D)`` (N > D): the statistics of the encoder as it is now, read until the next
        training batch.

        Running statistics average batches from the encoder's last ``1 / momentum``
        steps, while it still moves; one pass of the final encoder over training frames
        (as BatchNorm recalibration does) removes that lag. The trainer calls it through
        :meth:`~socialview.agents.torch_agent.TorchAgent.calibrate` after its last step.
        The running statistics and the latch are left as they are.
        """
        rows, dim = latents.shape
        if dim != self.running_cov.shape[0] or rows <= dim:
            raise ValueError(f"calibrate needs (N, {self.running_cov.shape[0]}) latents with "
                             f"N > {self.running_cov.shape[0]}, got {tuple(latents.shape)}")
        z = latents.double()
        mean = z.mean(0)
        centred = z - mean
        self.calibrated_mean.copy_(mean.to(self.calibrated_mean.dtype))
        self.calibrated_cov.copy_((centred.T @ centred / (rows - 1)).to(self.calibrated_cov.dtype))
        self.calibrated_at.copy_(self.num_batches_tracked)

    @torch.no_grad()
    def calibrate_change(self, change: torch.Tensor) -> None:
        """Set the second moment of the latent's change ``(N, D)`` (``z[t+1] - z[t]``
        within an episode, by the encoder :meth:`calibrate` just read), which the
        slowness guard reads until the next training batch. Call after :meth:`calibrate`."""
        rows, dim = change.shape
        if dim != self.calibrated_change.shape[0] or rows < 2:
            raise ValueError(f"calibrate_change needs (N, {self.calibrated_change.shape[0]}) "
                             f"changes with N >= 2, got {tuple(change.shape)}")
        c = change.double()
        self.calibrated_change.copy_((c.T @ c / rows).to(self.calibrated_change.dtype))
        self.change_calibrated_at.copy_(self.num_batches_tracked)

    def slowness(self) -> torch.Tensor | None:
        """The calibrated latent's slowness spectrum, ascending (float64): the mean squared
        change from one frame to the next of each of its whitened directions (those over
        1e-6 of the first's variance), as :class:`socialview.alignment.SlowFeatures`
        finds it; None unless both :meth:`calibrate` and :meth:`calibrate_change` ran
        after the last training batch."""
        if not (self.is_calibrated
                and int(self.change_calibrated_at) == int(self.num_batches_tracked)):
            return None
        values, vectors = torch.linalg.eigh(self.calibrated_cov.double())
        kept = values > 1e-6 * values.max().clamp_min(1e-300)
        whiten = vectors[:, kept] / values[kept].sqrt()
        return torch.linalg.eigvalsh(whiten.T @ self.calibrated_change.double() @ whiten)

    def slow_steps(self) -> torch.Tensor | None:
        """Steps of :meth:`slowness` (the ``k+1``-th value over the ``k``-th at index
        ``k - 1``), or None where it is not known."""
        speeds = self.slowness()
        if speeds is None or len(speeds) < 2:
            return None
        return speeds[1:] / speeds[:-1].clamp_min(1e-12 * float(speeds[-1]) + 1e-300)

    def slow_step_at(self, width: int) -> float | None:
        """The slowness spectrum's step after its ``width``-th value, or None where it is
        not known (or ``width`` is beyond the directions the latent uses). Reported
        beside the gap and the shares."""
        steps = self.slow_steps()
        if steps is None or not 0 < width <= len(steps):
            return None
        return float(steps[width - 1])

    def rank(self) -> int | None:
        """Width of the core ``encode`` returns now (None: no core, the latent as it is)."""
        return self._width(*self.spectrum())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.training:
            if z.shape[0] > 1:
                with torch.no_grad():
                    mean = z.mean(0)
                    centred = z - mean
                    self.num_batches_tracked += 1
                    seen = int(self.num_batches_tracked)
                    weight = max(self.momentum, 1.0 / seen)
                    self.running_mean.lerp_(mean, weight)
                    self.running_cov.lerp_(centred.T @ centred / (z.shape[0] - 1), weight)
                    if (self.keep_ratio < self.min_ratio and seen >= self.settle
                            and seen % self.latch_every == 0):
                        self._update_latch()
            return z
        found = self.core()
        if found is None:
            return z
        mean, projection = found
        out = z.new_zeros(z.shape)
        out[:, :projection.shape[1]] = (z - mean) @ projection
        return out


def latch_after(latched: int, widest: tuple[int, float], latched_ratio: float,
                min_ratio: float, keep_ratio: float, sticky: bool) -> int:
    """The width :class:`SpectralCoreReadout` latches at an update (0: none), given the
    width ``latched`` before it (0: none), the running statistics' ``widest`` gap ``(k,
    ratio)`` and the ratio at ``latched`` now (``latched_ratio``). A pure function, so a
    recorded history of gaps replays any rule (the agents study's ``--replay-latch``)."""
    held = latched > 0 and latched_ratio >= keep_ratio
    if held and sticky:
        return latched
    if widest[1] >= min_ratio:
        return widest[0]
    return latched if held else 0


def _along(vectors: torch.Tensor, moment: torch.Tensor) -> torch.Tensor:
    """``v_j^T M v_j`` for each column ``v_j`` of ``vectors`` (clamped at 0): how much of
    the second moment ``M`` lies along each direction."""
    return ((vectors.T @ moment) * vectors.T).sum(1).clamp_min(0.0)


def _cumulative_shares(amounts: torch.Tensor) -> torch.Tensor | None:
    """Cumulative shares of the non-negative ``amounts`` (one per direction, leading
    first), or None where they sum to 0."""
    total = float(amounts.sum())
    return None if total <= 0.0 else amounts.cumsum(0) / total


def _share_at(shares: torch.Tensor | None, width: int) -> float | None:
    """The cumulative share at ``width`` directions, or None without shares."""
    if shares is None:
        return None
    if not 0 < width <= len(shares):
        raise ValueError(f"width must be in [1, {len(shares)}], got {width!r}")
    return float(shares[width - 1])


def _largest(ratios: torch.Tensor) -> tuple[int, float]:
    """``(k, ratio)`` of the largest of ``ratios`` (the ``k``-th over the ``k+1``-th)."""
    k = int(torch.argmax(ratios)) + 1
    return k, float(ratios[k - 1])


def _slowest_step(ratios: torch.Tensor, steps: torch.Tensor, least: float) -> int:
    """Of the widths whose ``ratios`` reach ``least`` (one at least must), the one after
    which the slowness ``steps`` are largest (a width: index + 1)."""
    passing = (ratios >= least).nonzero().flatten()
    return int(passing[torch.argmax(steps[passing])]) + 1


def make_readout(kind: str, dim: int, core_gap: float = 3.0, core_momentum: float = 0.01,
                 core_keep: float | None = None, core_sticky: bool = False,
                 core_share: float = 0.0, core_rest: float = 0.0,
                 core_action_share: float = 0.0, core_reader_share: float = 0.0,
                 core_slow_step: float = 0.0, core_slow_fallback: float = 0.0) -> nn.Module:
    """The readout named by ``EncoderConfig.readout``."""
    if kind == "latent":
        return nn.Identity()
    if kind == "core":
        if not 0.0 < core_momentum <= 1.0:
            raise ValueError(f"core_momentum must be in (0, 1], got {core_momentum!r}")
        return SpectralCoreReadout(dim, core_gap, momentum=core_momentum, keep_ratio=core_keep,
                                   sticky=core_sticky, core_share=core_share,
                                   rest=core_rest, action_share=core_action_share,
                                   reader_share=core_reader_share, slow_step=core_slow_step,
                                   slow_fallback=core_slow_fallback)
    raise ValueError(f"readout must be 'latent' or 'core', got {kind!r}")


def make_output_norm(kind: bool | str, dim: int, whiten_shrinkage: float = 0.0) -> nn.Module:
    """The latent normalisation named by ``EncoderConfig.output_norm``."""
    if whiten_shrinkage < 0 or (whiten_shrinkage > 0 and kind != "whiten"):
        raise ValueError(f"whiten_shrinkage must be >= 0 and is used by output_norm='whiten' "
                         f"only; got {whiten_shrinkage!r} with output_norm={kind!r}")
    if kind is True or kind == "unit":
        return nn.BatchNorm1d(dim, affine=False, momentum=0.01)
    if kind == "total":
        return TotalVarianceNorm(dim)
    if kind == "whiten":
        return BatchWhitening(dim, shrinkage=whiten_shrinkage)
    if kind is False or kind == "none":
        return nn.Identity()
    raise ValueError(f"output_norm must be True/'unit', 'total', 'whiten' or False/'none'; "
                     f"got {kind!r}")


class SpatialSoftmax(nn.Module):
    """Heat maps ``(B, K, h, w)`` -> expected coordinates ``(B, 2K)`` in ``[-1, 1]``.

    Each map is turned into a distribution over pixels by a softmax (with a learned
    temperature) and replaced by its mean position, as in deep spatial autoencoders
    (Finn et al., 2016). A map that fires on one object reports that object's
    image position, so positions become linear functions of the output.
    """

    def __init__(self, temperature: float = 1.0) -> None:
        super().__init__()
        self.initial_temperature = float(temperature)
        self.log_temperature = nn.Parameter(torch.zeros(()))

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        b, k, h, w = maps.shape
        attn = torch.softmax(maps.flatten(2) / self.log_temperature.exp(), dim=-1)
        ys = torch.linspace(-1.0, 1.0, h, device=maps.device, dtype=attn.dtype)
        xs = torch.linspace(-1.0, 1.0, w, device=maps.device, dtype=attn.dtype)
        attn = attn.view(b, k, h, w)
        ex = (attn.sum(dim=2) * xs).sum(dim=-1)
        ey = (attn.sum(dim=3) * ys).sum(dim=-1)
        return torch.cat([ex, ey], dim=1)


class SpatialMoments(nn.Module):
    """Maps ``(B, K, h, w)`` -> first moments ``(B, 2K)``: the mean over pixels of each map
    times the pixel's x (and y) coordinate, in ``[-1, 1]``.

    Convolutions are translation-equivariant: a body's response moves with the body, so
    its share of a map's first moment moves linearly with it (away from the borders and
    from other bodies). Whatever the maps detect, these features are then linear in the
    bodies' image positions, which is what a latent needs to be a linear code of the
    world. A spatial softmax with a very high temperature tends to the same moments.

    With ``normalise``, each map is rectified and its moments divided by its mass (plus
    ``eps``): the map's centroid, which does not grow with a body's apparent size the
    way a moment does (a moment is mass times position), but mixes the positions of
    the bodies one map responds to, weighted by their masses.
    """

    def __init__(self, normalise: bool = False, eps: float = 1e-3) -> None:
        super().__init__()
        self.normalise = bool(normalise)
        self.eps = float(eps)

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        _, _, h, w = maps.shape
        ys = torch.linspace(-1.0, 1.0, h, device=maps.device, dtype=maps.dtype)
        xs = torch.linspace(-1.0, 1.0, w, device=maps.device, dtype=maps.dtype)
        if self.normalise:
            maps = F.relu(maps)
        mx = (maps.mean(dim=2) * xs).mean(dim=-1)
        my = (maps.mean(dim=3) * ys).mean(dim=-1)
        if self.normalise:
            mass = maps.mean(dim=(2, 3)) + self.eps
            mx, my = mx / mass, my / mass
        return torch.cat([mx, my], dim=1)


class ConvDecoder(nn.Module):
    """Latent vectors -> images ``(B, 3, S, S)`` with ``S = grid * 2**depth``."""

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.grid = cfg.grid
        self.width = cfg.width
        self.fc = nn.Linear(cfg.latent_dim, cfg.width * cfg.grid * cfg.grid)
        layers: list[nn.Module] = []
        for i in range(cfg.depth):
            last = i == cfg.depth - 1
            layers.append(nn.ConvTranspose2d(cfg.width, 3 if last else cfg.width,
                                             kernel_size=4, stride=2, padding=1))
            if not last:
                layers.append(_activation())
        self.deconvs = nn.Sequential(*layers)
        self.output_size = cfg.grid * 2 ** cfg.depth

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.fc(z).view(-1, self.width, self.grid, self.grid)
        return self.deconvs(F.gelu(x))


class PredictorMLP(nn.Module):
    """Residual MLP ``(z, a) -> z_last + f([z, a])``: the JEPA dynamics model in latent space.

    ``z`` may hold the latents of the last ``history`` frames side by side
    (``(B, history * latent_dim)``, oldest first); the residual is added to the
    newest one. A single frame shows where things are but not how fast they move,
    so a short history lets the predictor see velocities.
    """

    def __init__(self, latent_dim: int, action_dim: int, hidden: int, layers: int = 2,
                 history: int = 1) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        dims = [history * latent_dim + action_dim] + [hidden] * (layers - 1)
        mods: list[nn.Module] = []
        for a, b in itertools.pairwise(dims):
            mods += [nn.Linear(a, b), nn.LayerNorm(b), _activation()]
        mods.append(nn.Linear(dims[-1], latent_dim))
        self.net = nn.Sequential(*mods)

    def forward(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return z[:, -self.latent_dim:] + self.net(torch.cat([z, a], dim=-1))


def make_projector(latent_dim: int, hidden: int, out_dim: int) -> nn.Module:
    """MLP ``latent -> hidden -> out_dim`` with a batch-normalised output (no scale or
    shift), or ``nn.Identity`` when ``hidden`` is 0: where a contrastive loss reads the
    latent through a projection, the projection (not the latent) carries the spread."""
    if hidden == 0:
        return nn.Identity()
    return nn.Sequential(nn.Linear(latent_dim, hidden), nn.LayerNorm(hidden), _activation(),
                         nn.Linear(hidden, out_dim), nn.BatchNorm1d(out_dim, affine=False))


def make_inverse_model(latent_dim: int, actions_dim: int, hidden: int) -> nn.Module:
    """MLP ``[z_t, z_{t+k}] -> the k actions between them`` (inverse dynamics), or
    ``nn.Identity`` when ``hidden`` is 0 (switched off)."""
    if hidden == 0:
        return nn.Identity()
    return nn.Sequential(nn.Linear(2 * latent_dim, hidden), nn.LayerNorm(hidden), _activation(),
                         nn.Linear(hidden, actions_dim))


def init_parameters(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """(Re)initialise every parameter of ``module`` from ``generator``, in place.

    Uses PyTorch's default schemes (Kaiming-uniform weights with ``a=sqrt(5)``,
    uniform biases in ``+-1/sqrt(fan_in)``; norms to 1 and 0) but draws from the
    given generator instead of the global one. Unknown parameterised layers are an
    error, so nothing is left uninitialised.
    """
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                nn.init.kaiming_uniform_(sub.weight, a=math.sqrt(5), generator=generator)
                if sub.bias is not None:
                    fan_in, _ = nn.init._calculate_fan_in_and_fan_out(sub.weight)
                    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                    nn.init.uniform_(sub.bias, -bound, bound, generator=generator)
            elif isinstance(sub, (nn.GroupNorm, nn.LayerNorm)):
                if sub.weight is not None:
                    nn.init.ones_(sub.weight)
                if sub.bias is not None:
                    nn.init.zeros_(sub.bias)
            elif isinstance(sub, (nn.BatchNorm1d, TotalVarianceNorm, BatchWhitening,
                                  SpectralCoreReadout)) and not \
                    getattr(sub, "affine", False):
                sub.reset_running_stats()
            elif isinstance(sub, SpatialSoftmax):
                nn.init.constant_(sub.log_temperature, math.log(sub.initial_temperature))
            elif any(True for _ in sub.parameters(recurse=False)):
                raise TypeError(f"init_parameters does not know how to initialise {type(sub)}")
    return module


def build_module(factory: Callable[[], nn.Module], generator: torch.Generator) -> nn.Module:
    """Build ``factory()`` on the meta device, materialise it on CPU, init from ``generator``."""
    with torch.device("meta"):
        module = factory()
    module = module.to_empty(device="cpu")
    for buf in module.buffers():  # never leave memory uninitialised (norms reset below)
        buf.zero_()
    return init_parameters(module, generator)


@torch.no_grad()
def embedding_std(z: torch.Tensor) -> float:
    """Mean over dimensions of the per-dimension std across the batch (0 means collapse)."""
    return float(z.float().std(dim=0).mean())


def keypoint_spread(coords: torch.Tensor) -> float:
    """Mean std over the batch of a keypoint head's image coordinates ``(B, 2K)``, in
    ``[-1, 1]`` image units: near 0 when no keypoint follows anything that moves."""
    return float(coords.detach().std(dim=0).mean())


@torch.no_grad()
def effective_rank(z: torch.Tensor) -> float:
    """Effective rank (Roy & Vetterli 2007): ``exp(entropy)`` of the normalised singular values.

    Ranges from 1 (all samples on a line, dimensional collapse) to
    ``min(B, latent_dim)`` (variance spread evenly).
    """
    z = z.float()
    z = z - z.mean(dim=0, keepdim=True)
    s = torch.linalg.svdvals(z)
    total = s.sum()
    if not torch.isfinite(total) or total <= 0:
        return 0.0 if total == 0 else float("nan")
    p = s / total
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))
