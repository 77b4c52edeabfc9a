"""Does an agent know the world, and do two such agents align? One study row per variant.

A variant is an agent kind, config overrides, a training budget and (optionally)
env overrides. For each variant this module records (once, cached by env
settings) a training recording and a separately seeded evaluation recording of
two cameras, trains one agent per camera, embeds the evaluation frames and
measures:

* the held-out state probe of each camera's agent (ridge and k-NN, pusher and
  objects apart; :func:`socialview.alignment.state_probe`), on the frames where
  each body is visible to that camera;
* the share of each latent's held-out variance that is a linear function of the
  world state (:func:`socialview.alignment.state_share`): with the probe, what
  makes an orthogonal map between the cameras possible;
* the held-out orthogonal- and linear-map R² between the two agents' latents.

Encoder agents keep ``readout="latent"`` (the full latent) unless a variant names a
readout: every row before round nine was measured so, and the same command must make
the same row after the default became ``readout="core"``.

Rows are written as JSON (atomically) to ``--out``, one file per variant and
seed, and reused when present, so a killed study resumes. ``docs/agents-study.md``
tabulates them; every row there names the command that made it::

    python -m socialview.benchmarks.agents_study --variant jepa_default --seed 0
    python -m socialview.benchmarks.agents_study --list
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from socialview.benchmarks._io import save_npz_atomic, write_json_atomic
from socialview.benchmarks.probes import probe_summary
from socialview.benchmarks.sweep_config import PRESETS

__all__ = ["VARIANTS", "WORLD", "main", "principal_subspace", "run_variant", "whitened_principal"]

#: The study's world: both cameras see the whole arena from 90 degrees apart
#: (the setting of the isometry goal), many short episodes for honest probes.
WORLD: dict[str, Any] = {
    "env": {"overlap": 1.0, "viewpoint_shift": 90.0, "image_size": 64, "num_cameras": 2,
            "rig": "zoom", "frame_skip": 5},
    "train_steps": 6000,
    "eval_steps": 4000,
    "episode_steps": 40,
}

#: The study began in the first release's world (frame_skip 5, the zoom rig) with the
#: first release's agents; these spell those settings out, so every row below still
#: means what it meant when it was measured, whatever today's defaults are.
OLD_ENCODER = {"input_size": 32, "depth": 1, "width": 32, "output_norm": False}
OLD_JEPA = {**OLD_ENCODER, "regularizer": "vicreg", "target": "ema", "horizon": 1}
CAPABLE = {"input_size": None, "depth": 3, "width": 32, "output_norm": False}
INFONCE = {"regularizer": "infonce", "target": "online", "output_norm": True, "horizon": 1}
FAST_WORLD = {"frame_skip": 20}
#: The fourth round's readout: first moments of 16 conv maps on the 8x8 maps of three
#: convs (the default head; the default depth until the fifth round).
MOMENTS = {"head": "moments", "keypoints": 16, "depth": 3}
#: The fifth round's encoder, today's default: the same head on the 16x16 maps of two convs.
FINE_MOMENTS = {**MOMENTS, "depth": 2}
#: The sixth round's narrow latent: the fifth round's encoder with 8 whitened units (the
#: x/y of the four bodies).
WHITE8 = {**FINE_MOMENTS, "latent_dim": 8, "output_norm": "whiten"}
#: The eighth to tenth rounds' readout: the spectral core where an eigenvalue ratio
#: reaches 3, without hysteresis (the default until round eleven), spelled out so those
#: rows keep their meaning.
CORE_GAP3 = {"readout": "core", "core_gap": 3.0, "core_keep": 3.0}
#: Round ten's readout: a core where the ratio reaches 2 (tried, not the default).
CORE_GAP2 = {"readout": "core", "core_gap": 2.0, "core_keep": 2.0}
#: Round eleven's readout (the default): a width latched at a ratio of 3 during
#: training, kept while its ratio is at least 2.
CORE_HYST = {"readout": "core", "core_gap": 3.0, "core_keep": 2.0, "core_sticky": False}
#: Round twelve's readout (tried, not the default): a latched width kept while its
#: ratio is at least 1.5, whatever other width reaches 3 later.
CORE_STICKY = {"readout": "core", "core_gap": 3.0, "core_keep": 1.5, "core_sticky": True}


#: The encoder head and depth of every ``default_*`` row up to the fourth round (the
#: default until the "moments" head replaced it), spelled out so those rows keep their
#: meaning.
FLATTEN_ERA = {"head": "flatten", "keypoints": 64, "depth": 3}
#: The ``full`` sweep preset, whose training recordings, steps and PCA batches the
#: ``full_*`` rows take.
FULL = PRESETS["full"]
ENCODER_AGENTS = ("jepa", "supervised", "random", "autoencoder")
#: The agents whose default learning rate became 2e-3 in round fourteen: the study's
#: rows that name none ran at 1e-3.
LR_ERA_AGENTS = ("jepa", "supervised")


def long_lens_cameras(fovy: float) -> list[dict[str, Any]]:
    """The study's two cameras (the zoom rig's whole-arena poses, 90 degrees apart) with a
    narrower field of view, moved back so that the arena fills the frame as before.

    A long lens far away is close to an orthographic camera: a body's apparent size no
    longer changes with its distance from the camera (it does by about +-25% at 45
    degrees), and the floor maps to the image almost affinely. Rows in this world ask
    how much of an agent's non-linearity in the state is perspective.
    """
    from socialview.envs.rig import RigSpec

    wide = RigSpec(num_cameras=2, viewpoint_shift=WORLD["env"]["viewpoint_shift"])
    scale = np.tan(np.radians(wide.fovy / 2)) / np.tan(np.radians(fovy / 2))
    return [{**pose.to_dict(), "lookat": [0.0, 0.0, 0.0], "distance": pose.distance * scale,
             "fovy": fovy} for pose in wide.poses(0.0)]


#: The quick sweep's middle cell: the slide rig (each camera sees half the arena, bodies
#: enter and leave its view) at overlap 0.7, cameras 90 degrees apart.
SLIDE_WORLD = {**FAST_WORLD, "rig": "slide", "overlap": 0.7}

#: The slide rig's middle cell with the pusher painted near-black (default near-white, the
#: lowest-contrast body on the pale floor).
DARK_SLIDE_WORLD = {**SLIDE_WORLD, "pusher_colour": [0.08, 0.08, 0.08]}

#: The study's whole-arena world with that near-black pusher.
DARK_WORLD = {**FAST_WORLD, "pusher_colour": DARK_SLIDE_WORLD["pusher_colour"]}

#: The study's whole-arena world with the cameras 45 and 0 degrees apart (the isometry
#: goal asks for any viewpoint shift up to 90).
SHIFT45_WORLD = {**FAST_WORLD, "viewpoint_shift": 45.0}
SHIFT0_WORLD = {**FAST_WORLD, "viewpoint_shift": 0.0}

#: Today's world seen through 10-degree lenses from ~20 m (nearly orthographic views).
LONG_LENS_WORLD = {**FAST_WORLD, "cameras": long_lens_cameras(10.0)}


def _today(agent: str, note: str, steps: int = 800, env: dict[str, Any] = FAST_WORLD,
           **config: Any) -> dict[str, Any]:
    """A variant in today's world (SocialView-v1's 200 ms steps; ``env`` overrides more)
    at the quick budget, unless ``steps`` says otherwise; ``config`` overrides the agent's
    defaults. Encoder agents keep the flatten-era head, keypoint count and depth unless
    ``config`` names them."""
    if agent in ENCODER_AGENTS:
        config = {**FLATTEN_ERA, **config}
    return {"agent": agent, "config": config, "steps": steps, "env": env, "note": note}


def _running(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` trained without the trainer's calibration pass (``calibrate=False``): the
    statistics a readout keeps are the running ones training left."""
    return {**spec, "calibrate": False}


def _full_recording(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` trained on a recording of the :data:`FULL` preset's ``dataset_steps``
    frames instead of the study's :data:`WORLD` ``train_steps`` (the evaluation recording
    is the study's own)."""
    return {**spec, "train_frames": FULL["dataset_steps"]}


def _white8(agent: str, what: str = "", slide: bool = False, steps: int = 800,
            batch_size: int | None = None, env: dict[str, Any] | None = None,
            **config: Any) -> dict[str, Any]:
    """A sixth-round variant on the 8-d whitened latent (:data:`WHITE8`) at the quick budget
    unless ``steps`` says otherwise; ``what`` names the one thing that differs (it goes
    into the note), ``slide`` moves it to the slide rig, ``env`` to another world (the
    note then says so through ``what``), ``config`` overrides more."""
    parts = ["ceiling"] if agent == "supervised" else []
    parts += ["16x16 maps, 8-d latent, whitened"] + ([what] if what else [])
    parts += ["slide rig"] if slide else []
    if env is None:
        env = SLIDE_WORLD if slide else FAST_WORLD
    spec = _today(agent, ", ".join(parts), steps=steps, env=env, **WHITE8, **config)
    return {**spec, "batch_size": batch_size} if batch_size else spec


def _full_at_shift(degrees: int, env: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The full budget's default ``jepa`` (lr 2e-3, today's readout with the share guard
    named) in ``env``, whose cameras are ``degrees`` apart, beside its two controls:
    ``full<degrees>_jepa_lr2``, ``full<degrees>_random``, ``full<degrees>_pca``."""
    apart = f"cameras {degrees} degrees apart"
    return {
        f"full{degrees}_jepa_lr2": _full_recording(_today(
            "jepa", "16x16 maps, today's readout with the share guard, lr 2e-3, 3 ahead, "
            f"10,000 steps on 20,000 frames, {apart}", steps=FULL["train_steps"], env=env,
            **FINE_MOMENTS, **CORE_STICKY, lr=2e-3, horizon=3, core_share=0.8)),
        f"full{degrees}_random": _full_recording(_today(
            "random", "16x16 maps, untrained, today's readout with the share guard, "
            f"calibrated on 20,000 frames, {apart}", steps=0, env=env, **FINE_MOMENTS,
            **CORE_STICKY, core_share=0.8)),
        f"full{degrees}_pca": _full_recording(_today(
            "pca", "raw-pixel PCA, a 2,048-frame reservoir of 64 batches of 20,000 frames, "
            f"{apart}", steps=FULL["agent_steps"]["pca"], env=env)),
    }


#: name -> {"agent", "config", "steps", "env" (overrides of WORLD["env"]), "note"}
VARIANTS: dict[str, dict[str, Any]] = {
    # today's defaults (SocialView-v1's 200 ms steps, the default encoder and objective)
    "default_jepa": _today("jepa", "the default jepa (InfoNCE, 3 steps ahead), quick budget"),
    "default_supervised": _today("supervised", "ceiling of the default encoder"),
    "default_random": _today("random", "the default encoder, untrained", steps=0),
    "default_pca": _today("pca", "raw-pixel PCA", steps=40),
    "default_jepa_3000": _today("jepa", "the default jepa, ~4x the quick budget", steps=3000),
    # a narrower latent: whitening 64 dims for an ~8-d world fills the spare dims with
    # view-specific detail that no map between cameras can carry
    "default_jepa_z16": _today("jepa", "the default jepa with a 16-d latent", latent_dim=16),
    "default_jepa_z8": _today("jepa", "the default jepa with an 8-d latent", latent_dim=8),
    "default_supervised_z16": _today("supervised", "ceiling of the default encoder, 16-d latent",
                                     latent_dim=16),
    "default_jepa_z16_1500": _today("jepa", "16-d latent, 1,500 steps", steps=1500, latent_dim=16),
    "jepa_w32_z16": _today("jepa", "16-d latent, conv width 32, 1,500 steps", steps=1500,
                           latent_dim=16, width=32),
    # batch-normalising the latent gives every one of its 64 dims unit variance, world or
    # not: the labelled ceiling without that norm shows what it costs the orthogonal map
    "default_supervised_nonorm": _today("supervised",
                                        "ceiling of the default encoder, latent not normalised",
                                        output_norm=False),
    "default_jepa_nonorm": _today("jepa", "the default jepa, latent not normalised",
                                  output_norm=False),
    "default_jepa_totalnorm": _today("jepa",
                                     "the default jepa, only the latent's total variance fixed",
                                     output_norm="total"),
    "default_supervised_totalnorm": _today("supervised",
                                           "ceiling, only the latent's total variance fixed",
                                           output_norm="total"),
    # a wider Gaussian kernel asks the code to place frames coarsely, not to tell every
    # frame from every other: fewer dimensions spent on detail?
    "default_jepa_t03": _today("jepa", "the default jepa, InfoNCE temperature 0.3",
                               infonce_temperature=0.3),
    "default_jepa_t1": _today("jepa", "the default jepa, InfoNCE temperature 1",
                              infonce_temperature=1.0),
    # a linear latent dynamics model (z" = z + W[z, a]): a code in which the world moves
    # linearly is what makes two agents" codes linear functions of one state
    "default_jepa_linpred": _today("jepa", "the default jepa, linear predictor",
                                   predictor_layers=1),
    "default_jepa_linpred_z16": _today("jepa", "linear predictor, 16-d latent",
                                       predictor_layers=1, latent_dim=16),
    # third round: a contrastive loss spreads its codes over every latent dimension, and
    # only about half of the default's latent variance is a linear function of the state;
    # read the latent through a nonlinear projector, and let unused directions decay
    "default_jepa_proj": _today("jepa", "InfoNCE on a projector, latent not normalised",
                                projector_hidden=256, output_norm=False),
    "default_jepa_proj_p01": _today("jepa", "projector + latent penalty 0.1",
                                    projector_hidden=256, output_norm=False, latent_penalty=0.1),
    "default_jepa_proj_unit": _today("jepa", "InfoNCE on a projector, latent batch-normalised",
                                     projector_hidden=256),
    "default_jepa_proj_total": _today("jepa",
                                      "InfoNCE on a projector, latent's total variance fixed",
                                      projector_hidden=256, output_norm="total"),
    "default_jepa_proj_total_z16": _today("jepa", "projector, 16-d latent, total variance fixed",
                                          projector_hidden=256, output_norm="total",
                                          latent_dim=16),
    # the theorem"s recipe (prediction + an isotropic-Gaussian regulariser recovers the
    # state linearly, up to a rotation) with the default"s 3-step-ahead targets
    "default_jepa_sigreg": _today("jepa", "next-embedding MSE + SIGReg 3 steps ahead, no norm",
                                  regularizer="sigreg", output_norm=False),
    "default_jepa_sigreg_z16": _today("jepa", "SIGReg 3 steps ahead, 16-d latent",
                                      regularizer="sigreg", output_norm=False, latent_dim=16),
    "default_jepa_z32": _today("jepa", "the default jepa with a 32-d latent", latent_dim=32),
    # a latent that is linear in where things are by construction: a spatial-softmax head
    # gives the expected image coordinates of learned heat maps, the latent is a linear
    # map of those coordinates
    "default_jepa_keypoints": _today("jepa",
                                     "the default jepa, spatial-softmax keypoint head (64)",
                                     head="keypoints"),
    "default_jepa_keypoints16": _today("jepa", "the default jepa, 16 keypoints", head="keypoints",
                                       keypoints=16),
    "default_jepa_keypoints4": _today("jepa", "4 keypoints: one per body, if each finds one",
                                      head="keypoints", keypoints=4),
    "default_jepa_keypoints4_2000": _today("jepa", "4 keypoints, 2,000 steps", steps=2000,
                                           head="keypoints", keypoints=4),
    "default_jepa_keypoints16_total": _today("jepa",
                                             "16 keypoints, only the total variance fixed",
                                             head="keypoints", keypoints=16, output_norm="total"),
    "default_jepa_keypoints16_nonorm": _today("jepa", "16 keypoints, latent not normalised",
                                              head="keypoints", keypoints=16, output_norm=False),
    "default_jepa_keypoints8_2000": _today("jepa", "8 keypoints, 2,000 steps", steps=2000,
                                           head="keypoints", keypoints=8),
    "default_jepa_keypoints8": _today("jepa", "8 keypoints", head="keypoints", keypoints=8),
    "default_jepa_keypoints16_2000": _today("jepa", "16 keypoints, 2,000 steps", steps=2000,
                                            head="keypoints", keypoints=16),
    "default_supervised_keypoints_nonorm": _today("supervised",
                                                  "ceiling, keypoint head, no latent norm",
                                                  head="keypoints", output_norm=False),
    "default_supervised_keypoints": _today("supervised", "ceiling of the keypoint-head encoder",
                                           head="keypoints"),
    # with two or three frames of context the predictor sees velocities, so the future is
    # nearly determined: a sharp kernel then asks for no more than the world allows
    "default_jepa_hist2": _today("jepa", "the default jepa, 2 frames of context", history=2),
    "default_jepa_hist3": _today("jepa", "the default jepa, 3 frames of context", history=3),
    # hard negatives: the prediction must also beat the batch's context frames, its own
    # frame 3 steps earlier included, which differs from the target in what moved
    "default_jepa_ctxneg": _today("jepa", "the default jepa, context frames as extra negatives",
                                  context_negatives=True),
    "default_jepa_ctxneg_kp16": _today("jepa", "context negatives, 16 keypoints",
                                       context_negatives=True, head="keypoints", keypoints=16),
    # inverse dynamics: recover the actions from z_t and z_t+k, so what the actions move
    # (the pusher) must stay in the latent
    "default_jepa_inv": _today("jepa", "the default jepa + inverse dynamics", inverse_weight=1.0),
    "default_jepa_kp16_inv": _today("jepa", "16 keypoints + inverse dynamics", inverse_weight=1.0,
                                    head="keypoints", keypoints=16),
    "default_jepa_kp4_inv_2000": _today("jepa", "4 keypoints + inverse dynamics, 2,000 steps",
                                        steps=2000, inverse_weight=1.0, head="keypoints",
                                        keypoints=4),
    "default_jepa_kp6_inv03_2000": _today("jepa",
                                          "6 keypoints + inverse dynamics (0.3), 2,000 steps",
                                          steps=2000, inverse_weight=0.3, head="keypoints",
                                          keypoints=6),
    # fourth round: make each keypoint track a different body. The covariance penalty on
    # coordinates whose std is ~0.2 is ~0.04^2, too weak to part two keypoints on one body;
    # their correlation is ~1 whatever the scale
    "default_jepa_kp4_corr_2000": _today("jepa", "4 keypoints, correlation penalty, 2,000 steps",
                                         steps=2000, head="keypoints", keypoints=4,
                                         keypoint_correlation=True),
    # ... but every keypoint JEPA above ends with its keypoint coordinates' std near 0.01
    # (the variance hinge's target is 0.2): the keypoints sit still, diffuse, and BatchNorm
    # blows their tiny shifts up. A hinge strong enough to make each keypoint move
    "default_jepa_kp4_var10_2000": _today("jepa", "4 keypoints that must move (hinge 10), "
                                          "correlation penalty, 2,000 steps", steps=2000,
                                          head="keypoints", keypoints=4,
                                          keypoint_correlation=True, keypoint_var_weight=10.0),
    "default_jepa_kp4_var10_cov10_2000": _today("jepa", "4 keypoints that must move and part "
                                                "(hinge 10, correlation 10), 2,000 steps",
                                                steps=2000, head="keypoints", keypoints=4,
                                                keypoint_correlation=True,
                                                keypoint_var_weight=10.0,
                                                keypoint_cov_weight=10.0),
    "default_jepa_kp4_var3_cov3_2000": _today("jepa", "4 keypoints, hinge 3, correlation 3, "
                                              "2,000 steps", steps=2000, head="keypoints",
                                              keypoints=4, keypoint_correlation=True,
                                              keypoint_var_weight=3.0, keypoint_cov_weight=3.0),
    # more keypoints than bodies, each made to move: a body followed by two keypoints is
    # still a linear code of the state, so duplicates need no penalty
    "default_jepa_kp16_var10_2000": _today("jepa", "16 keypoints that must move (hinge 10), "
                                           "2,000 steps", steps=2000, head="keypoints",
                                           keypoints=16, keypoint_var_weight=10.0),
    # they follow the objects, not the pusher: inverse dynamics asks for what the actions move
    "default_jepa_kp16_var10_inv_2000": _today("jepa", "16 keypoints that must move + inverse "
                                               "dynamics, 2,000 steps", steps=2000,
                                               head="keypoints", keypoints=16,
                                               keypoint_var_weight=10.0, inverse_weight=1.0),
    # a head linear in positions by construction: first moments of translation-equivariant
    # conv maps move linearly with the bodies, whatever the maps detect
    "default_jepa_moments": _today("jepa", "moments head (16 maps)", **MOMENTS),
    "default_supervised_moments": _today("supervised", "ceiling of the moments head (16 maps)",
                                         **MOMENTS),
    "default_jepa_moments_2000": _today("jepa", "moments head (16 maps), 2,000 steps",
                                        steps=2000, **MOMENTS),
    "default_random_moments": _today("random", "the moments-head encoder, untrained", steps=0,
                                     **MOMENTS),
    "default_jepa_moments64": _today("jepa", "moments head, 64 maps", head="moments",
                                     keypoints=64),
    "default_jepa_moments_nonorm": _today("jepa", "moments head (16 maps), latent not "
                                          "normalised", **MOMENTS, output_norm=False),
    "default_jepa_moments_total": _today("jepa", "moments head (16 maps), only the total "
                                         "variance fixed", **MOMENTS, output_norm="total"),
    "default_jepa_moments_t03": _today("jepa", "moments head (16 maps), InfoNCE temperature "
                                       "0.3", **MOMENTS, infonce_temperature=0.3),
    "default_jepa_moments_z16": _today("jepa", "moments head (16 maps), 16-d latent",
                                       **MOMENTS, latent_dim=16),
    # what else moves the moments JEPA's share (0.8) towards the ceiling's (0.97)?
    "default_jepa_moments_w32": _today("jepa", "moments head (16 maps), conv width 32",
                                       **MOMENTS, width=32),
    "default_jepa_moments_h2": _today("jepa", "moments head (16 maps), 2 steps ahead",
                                      **MOMENTS, horizon=2),
    "default_jepa_moments_hist2": _today("jepa", "moments head (16 maps), 2 frames of context",
                                         **MOMENTS, history=2),
    "default_jepa_moments_inv": _today("jepa", "moments head (16 maps) + inverse dynamics",
                                       **MOMENTS, inverse_weight=1.0),
    "default_jepa_moments_linpred": _today("jepa", "moments head (16 maps), linear predictor",
                                           **MOMENTS, predictor_layers=1),
    # the residue is each body's own quadratic: a moment is mass x position, and a body's
    # apparent size changes across the arena; a centroid (moment / mass) does not
    "default_jepa_centroids": _today("jepa", "centroids head (16 rectified maps, moment / mass)",
                                     head="centroids", keypoints=16),
    # fifth round: is the residue perspective? The same agents through nearly orthographic
    # lenses, where a body's apparent size is the same everywhere in the arena
    "lens10_jepa_moments": _today("jepa", "moments head, 10-degree lenses (near-orthographic)",
                                  env=LONG_LENS_WORLD, **MOMENTS),
    "lens10_supervised_moments": _today("supervised", "ceiling of the moments head, 10-degree "
                                        "lenses", env=LONG_LENS_WORLD, **MOMENTS),
    "lens10_random_moments": _today("random", "the moments-head encoder, untrained, 10-degree "
                                    "lenses", steps=0, env=LONG_LENS_WORLD, **MOMENTS),
    "lens10_pca": _today("pca", "raw-pixel PCA, 10-degree lenses", steps=40,
                         env=LONG_LENS_WORLD),
    # ... it is not (through nearly orthographic lenses the JEPA is no more linear): is it
    # the objective? The
    # regularisers of the first rounds, now on the moments head. SIGReg is the one the
    # identifiability theorem (prediction + isotropic Gaussian latents) is about.
    "default_jepa_moments_sigreg": _today("jepa", "moments head, next-embedding MSE + SIGReg "
                                          "(0.1), no norm", **MOMENTS, regularizer="sigreg",
                                          output_norm=False),
    "default_jepa_moments_sigreg1": _today("jepa", "moments head, next-embedding MSE + SIGReg "
                                           "(1.0), no norm", **MOMENTS, regularizer="sigreg",
                                           sigreg_weight=1.0, output_norm=False),
    "default_jepa_moments_vicreg": _today("jepa", "moments head, next-embedding MSE + VICReg",
                                          **MOMENTS, regularizer="vicreg"),
    # three stride-2 convs leave 8x8 maps: a body of a few pixels falls inside one cell,
    # and its response depends on where in the cell it stands (aliasing), a nonlinearity
    # the moments inherit. Two convs leave 16x16 maps.
    "default_jepa_moments_d2": _today("jepa", "moments head on 16x16 maps (2 convs)",
                                      **FINE_MOMENTS),
    "default_supervised_moments_d2": _today("supervised", "ceiling, moments head on 16x16 "
                                            "maps (2 convs)", **FINE_MOMENTS),
    "default_jepa_moments_d1": _today("jepa", "moments head on 32x32 maps (1 conv)",
                                      **{**MOMENTS, "depth": 1}),
    "default_random_moments_d2": _today("random", "the moments-head encoder on 16x16 maps, "
                                        "untrained", steps=0, **FINE_MOMENTS),
    # what else moves the 16x16-map JEPA (share 0.92, orth 0.85-0.86) towards the ceiling?
    "default_jepa_moments_d2_2000": _today("jepa", "16x16 maps, 2,000 steps", steps=2000,
                                           **FINE_MOMENTS),
    "default_jepa_moments_d2_w32": _today("jepa", "16x16 maps, conv width 32",
                                          **{**FINE_MOMENTS, "width": 32}),
    "default_jepa_moments_d2_k32": _today("jepa", "16x16 maps, 32 of them",
                                          **{**FINE_MOMENTS, "keypoints": 32}),
    # sixth round: the last 8% of the 16x16-map latent that is not the state. GroupNorm
    # divides each frame's maps by that frame's own statistics, so one body's response
    # depends on where the others are (a cross-body nonlinearity the moments inherit)
    "default_jepa_moments_d2_nogn": _today("jepa", "16x16 maps, no GroupNorm in the convs",
                                           **{**FINE_MOMENTS, "norm": False}),
    "default_supervised_moments_d2_nogn": _today("supervised", "ceiling, 16x16 maps, no "
                                                 "GroupNorm", **{**FINE_MOMENTS, "norm": False}),
    "default_random_moments_d2_nogn": _today("random", "16x16 maps, no GroupNorm, untrained",
                                             steps=0, **{**FINE_MOMENTS, "norm": False}),
    # ... or the latent's geometry: which units carry variance, how many, how many negatives
    "default_jepa_moments_d2_total": _today("jepa", "16x16 maps, only the total variance "
                                            "fixed", **FINE_MOMENTS, output_norm="total"),
    "default_jepa_moments_d2_z16": _today("jepa", "16x16 maps, 16-d latent", **FINE_MOMENTS,
                                          latent_dim=16),
    "default_jepa_moments_d2_z32": _today("jepa", "16x16 maps, 32-d latent", **FINE_MOMENTS,
                                          latent_dim=32),
    "default_jepa_moments_d2_b128": {**_today("jepa", "16x16 maps, batches of 128 (2x the "
                                              "negatives and the FLOPs)", **FINE_MOMENTS),
                                     "batch_size": 128},
    "default_jepa_moments_d2_t005": _today("jepa", "16x16 maps, InfoNCE temperature 0.05",
                                           **FINE_MOMENTS, infonce_temperature=0.05),
    "default_jepa_moments_d2_t03": _today("jepa", "16x16 maps, InfoNCE temperature 0.3",
                                          **FINE_MOMENTS, infonce_temperature=0.3),
    "default_jepa_moments_d2_1200": _today("jepa", "16x16 maps, 1,200 steps", steps=1200,
                                           **FINE_MOMENTS),
    # a narrower latent and a free spectrum each lifted the map on seed 0: together?
    "default_jepa_moments_d2_z16_total": _today("jepa", "16x16 maps, 16-d latent, only the "
                                                "total variance fixed", **FINE_MOMENTS,
                                                latent_dim=16, output_norm="total"),
    "default_jepa_moments_d2_z8": _today("jepa", "16x16 maps, 8-d latent (the state's size)",
                                         **FINE_MOMENTS, latent_dim=8),
    "default_jepa_moments_d2_z8_total": _today("jepa", "16x16 maps, 8-d latent, only the "
                                               "total variance fixed", **FINE_MOMENTS,
                                               latent_dim=8, output_norm="total"),
    "default_jepa_moments_d2_z32_total": _today("jepa", "16x16 maps, 32-d latent, only the "
                                                "total variance fixed", **FINE_MOMENTS,
                                                latent_dim=32, output_norm="total"),
    "default_jepa_moments_d2_z16_t03": _today("jepa", "16x16 maps, 16-d latent, temperature "
                                              "0.3", **FINE_MOMENTS, latent_dim=16,
                                              infonce_temperature=0.3),
    "default_jepa_moments_d2_z16_total_t03": _today("jepa", "16x16 maps, 16-d latent, total "
                                                    "variance fixed, temperature 0.3",
                                                    **FINE_MOMENTS, latent_dim=16,
                                                    output_norm="total",
                                                    infonce_temperature=0.3),
    # both latents whitened and both linear in one state: the map between them is then
    # orthogonal, which BatchNorm (unit variances, free correlations) does not ask for
    "default_jepa_moments_d2_z8_whiten": _white8("jepa"),
    "default_jepa_moments_d2_z16_whiten": _today("jepa", "16x16 maps, 16-d latent, whitened",
                                                 **FINE_MOMENTS, latent_dim=16,
                                                 output_norm="whiten"),
    # ... which lands at 0.90: what lifts the 8-d latent's map further?
    "default_jepa_moments_d2_z8_whiten_t03": _white8("jepa", "temperature 0.3",
                                                     infonce_temperature=0.3),
    "default_jepa_moments_d2_z8_whiten_400": _white8("jepa", "400 steps", steps=400),
    "default_jepa_moments_d2_z8_whiten_1600": _white8("jepa", "1,600 steps", steps=1600),
    "default_jepa_moments_d2_z8_whiten_inv": _white8("jepa", "inverse dynamics",
                                                     inverse_weight=1.0),
    "default_jepa_moments_d2_z8_whiten_ctxneg": _white8("jepa", "context negatives",
                                                        context_negatives=True),
    # a latent wider than the state, whitened only where its variance is strong (a ridge
    # of a share of the mean variance added first): room for what else varies under
    # half-arena views, an isotropic state part where the cameras see everything
    "default_jepa_moments_d2_wsh03": _today("jepa", "16x16 maps, 64-d latent whitened with "
                                            "ridge 0.3", **FINE_MOMENTS, output_norm="whiten",
                                            whiten_shrinkage=0.3),
    "default_jepa_moments_d2_wsh1": _today("jepa", "16x16 maps, 64-d latent whitened with "
                                           "ridge 1", **FINE_MOMENTS, output_norm="whiten",
                                           whiten_shrinkage=1.0),
    "slide_jepa_moments_d2_wsh03": _today("jepa", "16x16 maps, 64-d latent whitened with ridge "
                                          "0.3, slide rig", env=SLIDE_WORLD, **FINE_MOMENTS,
                                          output_norm="whiten", whiten_shrinkage=0.3),
    "slide_jepa_moments_d2_wsh1": _today("jepa", "16x16 maps, 64-d latent whitened with ridge "
                                         "1, slide rig", env=SLIDE_WORLD, **FINE_MOMENTS,
                                         output_norm="whiten", whiten_shrinkage=1.0),
    "default_jepa_moments_d1_z8_whiten": _today("jepa", "32x32 maps (1 conv), 8-d latent, "
                                                "whitened", **{**MOMENTS, "depth": 1},
                                                latent_dim=8, output_norm="whiten"),
    "default_random_moments_d2_z8_whiten": _white8("random", "untrained", steps=0),
    "default_pca_z8": _today("pca", "raw-pixel PCA, 8 components", steps=40, latent_dim=8),
    "default_supervised_moments_d2_z8_whiten": _white8("supervised"),
    "default_supervised_moments_d2_z16": _today("supervised", "ceiling, 16x16 maps, 16-d "
                                                "latent", **FINE_MOMENTS, latent_dim=16),
    "default_jepa_moments_z8": _today("jepa", "moments head, 8-d latent (the state's size)",
                                      **MOMENTS, latent_dim=8),
    # the quick sweep's jepa reads the state at 0.82 under the slide rig: how much could it?
    "slide_jepa_moments": _today("jepa", "moments head, slide rig (half-arena views), "
                                 "overlap 0.7", env=SLIDE_WORLD, **MOMENTS),
    "slide_supervised_moments": _today("supervised", "ceiling of the moments head, slide rig",
                                       env=SLIDE_WORLD, **MOMENTS),
    "slide_random_moments": _today("random", "the moments-head encoder, untrained, slide rig",
                                   steps=0, env=SLIDE_WORLD, **MOMENTS),
    # ... and on today's 16x16 maps
    "slide_jepa_moments_d2": _today("jepa", "16x16 maps, slide rig (half-arena views), "
                                    "overlap 0.7", env=SLIDE_WORLD, **FINE_MOMENTS),
    "slide_supervised_moments_d2": _today("supervised", "ceiling, 16x16 maps, slide rig",
                                          env=SLIDE_WORLD, **FINE_MOMENTS),
    "slide_random_moments_d2": _today("random", "16x16-map encoder, untrained, slide rig",
                                      steps=0, env=SLIDE_WORLD, **FINE_MOMENTS),
    # ... and the 8-d whitened latent of the sixth round under the slide rig, where bodies
    # leave the view (does a latent the state's size still hold every body?)
    "slide_jepa_moments_d2_z8_whiten": _white8("jepa", slide=True),
    "slide_jepa_moments_d2_z16_whiten": _today("jepa", "16x16 maps, 16-d latent, whitened, "
                                               "slide rig", env=SLIDE_WORLD, **FINE_MOMENTS,
                                               latent_dim=16, output_norm="whiten"),
    "slide_jepa_moments_d2_z8_whiten_1600": _white8("jepa", "1,600 steps", slide=True, steps=1600),
    # inverse dynamics asks the latent for what the actions move: the pusher
    "slide_jepa_moments_d2_z8_whiten_inv": _white8("jepa", "inverse dynamics", slide=True,
                                                   inverse_weight=1.0),
    # ... what keeps the pusher in a narrow whitened latent when bodies leave the view?
    "slide_jepa_moments_d2_z12_whiten": _today("jepa", "16x16 maps, 12-d latent, whitened, "
                                               "slide rig", env=SLIDE_WORLD, **FINE_MOMENTS,
                                               latent_dim=12, output_norm="whiten"),
    "slide_jepa_moments_d2_z8_whiten_h5": _white8("jepa", "5 steps ahead", slide=True, horizon=5),
    "slide_jepa_moments_d2_z8_whiten_hist2": _white8("jepa", "2 frames of context", slide=True,
                                                     history=2),
    "slide_jepa_moments_d2_z8_total": _today("jepa", "16x16 maps, 8-d latent, only the total "
                                             "variance fixed, slide rig", env=SLIDE_WORLD,
                                             **FINE_MOMENTS, latent_dim=8,
                                             output_norm="total"),
    "slide_jepa_moments_d2_z8_whiten_t005": _white8("jepa", "temperature 0.05", slide=True,
                                                    infonce_temperature=0.05),
    "slide_jepa_moments_d2_z8_whiten_ctxneg": _white8("jepa", "context negatives", slide=True,
                                                      context_negatives=True),
    "slide_jepa_moments_d2_z8_whiten_inv10": _white8("jepa", "inverse dynamics x10", slide=True,
                                                     inverse_weight=10.0),
    "slide_jepa_moments_d2_z8_whiten_h8": _white8("jepa", "8 steps ahead", slide=True, horizon=8),
    "slide_jepa_moments_d2_z8_whiten_b128": _white8("jepa", "batches of 128", slide=True,
                                                    batch_size=128),
    "slide_supervised_moments_d2_z8_whiten": _white8("supervised", slide=True),
    # seventh round: the horizon that keeps the pusher under half-arena views (8 steps
    # ahead), scored at every step on the way (a one-step predictor rolled out), or 6 ahead
    "slide_jepa_moments_d2_z8_whiten_roll8": _white8("jepa", "8-step rollout", slide=True,
                                                     horizon=8, rollout=True),
    "slide_jepa_moments_d2_z8_whiten_h6": _white8("jepa", "6 steps ahead", slide=True, horizon=6),
    "default_jepa_moments_d2_z8_whiten_h8": _white8("jepa", "8 steps ahead", horizon=8),
    "slide_jepa_moments_d2_z8_whiten_h8_hist2": _white8("jepa", "8 steps ahead, 2 frames of "
                                                        "context", slide=True, horizon=8,
                                                        history=2),
    # the pusher painted near-black: is a white pusher on the pale floor too faint a cue?
    "darkslide_jepa_moments_d2_z8_whiten": _white8("jepa", "dark pusher", slide=True,
                                                   env=DARK_SLIDE_WORLD),
    # a spectrum left free (total variance fixed) keeps the geometry InfoNCE learns, which
    # at its optimum is an isometry of the world's coordinates: more steps, a wider kernel
    "default_jepa_moments_d2_total_1600": _today("jepa", "16x16 maps, only the total variance "
                                                 "fixed, 1,600 steps", steps=1600,
                                                 **FINE_MOMENTS, output_norm="total"),
    "default_jepa_moments_d2_z32_total_t03": _today("jepa", "16x16 maps, 32-d latent, only the "
                                                    "total variance fixed, temperature 0.3",
                                                    **FINE_MOMENTS, latent_dim=32,
                                                    output_norm="total", infonce_temperature=0.3),
    "default_jepa_moments_d2_centroids": _today("jepa", "centroids head on 16x16 maps",
                                                **{**FINE_MOMENTS, "head": "centroids"}),
    # the isometry goal's other viewpoint shifts (whole arena, overlap 1)
    "shift45_jepa_moments_d2": _today("jepa", "16x16 maps, cameras 45 degrees apart",
                                      env=SHIFT45_WORLD, **FINE_MOMENTS),
    "shift45_jepa_moments_d2_z8_whiten": _white8("jepa", "cameras 45 degrees apart",
                                                 env=SHIFT45_WORLD),
    "shift45_jepa_moments_d2_z8_whiten_1600": _white8(
        "jepa", "cameras 45 degrees apart, 1,600 steps", steps=1600, env=SHIFT45_WORLD),
    "shift45_random_moments_d2": _today("random", "16x16 maps, untrained, cameras 45 degrees "
                                        "apart", steps=0, env=SHIFT45_WORLD, **FINE_MOMENTS),
    "shift45_pca": _today("pca", "raw-pixel PCA, cameras 45 degrees apart", steps=40,
                          env=SHIFT45_WORLD),
    "shift0_jepa_moments_d2": _today("jepa", "16x16 maps, cameras 0 degrees apart",
                                     env=SHIFT0_WORLD, **FINE_MOMENTS),
    "shift0_jepa_moments_d2_z8_whiten": _white8("jepa", "cameras 0 degrees apart",
                                                env=SHIFT0_WORLD),
    # the default trained as it is, read out through its whitened spectral core (the
    # leading directions before the spectrum's gap, where it has one; the latent where not)
    # (round eight read the core from the running statistics training leaves: no calibration)
    "default_jepa_moments_d2_core": _running(_today("jepa", "16x16 maps, spectral-core readout",
                                                    **FINE_MOMENTS, **CORE_GAP3)),
    "slide_jepa_moments_d2_core": _running(_today("jepa", "16x16 maps, spectral-core readout, "
                                                  "slide rig", env=SLIDE_WORLD, **FINE_MOMENTS,
                                                  **CORE_GAP3)),
    "default_jepa_moments_d2_core_m01": _running(_today("jepa", "16x16 maps, spectral-core "
                                                        "readout, statistics of the last ~10 "
                                                        "batches", **FINE_MOMENTS,
                                                        **CORE_GAP3, core_momentum=0.1)),
    "shift45_jepa_moments_d2_core": _running(_today("jepa", "16x16 maps, spectral-core readout, "
                                                    "cameras 45 degrees apart",
                                                    env=SHIFT45_WORLD, **FINE_MOMENTS,
                                                    **CORE_GAP3)),
    # round nine: the core read from the final encoder's statistics (the trainer's
    # calibration pass over 4,096 training frames after the last step)
    "default_jepa_moments_d2_core_cal": _today("jepa", "16x16 maps, spectral-core readout, "
                                               "calibrated", **FINE_MOMENTS, **CORE_GAP3),
    "shift45_jepa_moments_d2_core_cal": _today("jepa", "16x16 maps, spectral-core readout, "
                                               "calibrated, cameras 45 degrees apart",
                                               env=SHIFT45_WORLD, **FINE_MOMENTS,
                                               **CORE_GAP3),
    "shift0_jepa_moments_d2_core_cal": _today("jepa", "16x16 maps, spectral-core readout, "
                                              "calibrated, cameras 0 degrees apart",
                                              env=SHIFT0_WORLD, **FINE_MOMENTS, **CORE_GAP3),
    # the untrained control through the same calibrated readout
    "default_random_moments_d2_core_cal": _today("random", "16x16 maps, untrained, "
                                                 "spectral-core readout, calibrated", steps=0,
                                                 **FINE_MOMENTS, **CORE_GAP3),
    "shift45_random_moments_d2_core_cal": _today("random", "16x16 maps, untrained, "
                                                 "spectral-core readout, calibrated, cameras "
                                                 "45 degrees apart", steps=0,
                                                 env=SHIFT45_WORLD, **FINE_MOMENTS,
                                                 **CORE_GAP3),
    "shift0_random_moments_d2": _today("random", "16x16 maps, untrained, cameras 0 degrees "
                                       "apart", steps=0, env=SHIFT0_WORLD, **FINE_MOMENTS),
    "shift0_pca": _today("pca", "raw-pixel PCA, cameras 0 degrees apart", steps=40,
                         env=SHIFT0_WORLD),
    # the default trained 12.5x longer (the full budget's steps, on the study's recording)
    "default_jepa_moments_d2_core_cal_10k": _today("jepa", "16x16 maps, spectral-core readout, "
                                                   "calibrated, 10,000 steps", steps=10000,
                                                   **FINE_MOMENTS, **CORE_GAP3),
    "slide_jepa_moments_d2_core_cal": _today("jepa", "16x16 maps, spectral-core readout, "
                                             "calibrated, slide rig", env=SLIDE_WORLD,
                                             **FINE_MOMENTS, **CORE_GAP3),
    # round ten: a core at an eigenvalue ratio of 2 (the default is 3), spectral gaps recorded
    "default_jepa_moments_d2_core_g2": _today("jepa", "16x16 maps, spectral core at ratio 2",
                                              **FINE_MOMENTS, **CORE_GAP2),
    "default_jepa_moments_d2_core_g2_10k": _today("jepa", "16x16 maps, spectral core at ratio "
                                                  "2, 10,000 steps", steps=10000,
                                                  **FINE_MOMENTS, **CORE_GAP2),
    "slide_jepa_moments_d2_core_g2": _today("jepa", "16x16 maps, spectral core at ratio 2, "
                                            "slide rig", env=SLIDE_WORLD, **FINE_MOMENTS,
                                            **CORE_GAP2),
    # round eleven: hysteresis, a width latched at a ratio of 3 during training and kept
    # while its ratio is at least 2 (the default since)
    "default_jepa_moments_d2_core_hyst": _today("jepa", "16x16 maps, spectral core latched at "
                                                "3, kept at 2", **FINE_MOMENTS, **CORE_HYST),
    "default_jepa_moments_d2_core_hyst_10k": _today("jepa", "16x16 maps, spectral core latched "
                                                    "at 3, kept at 2, 10,000 steps",
                                                    steps=10000, **FINE_MOMENTS, **CORE_HYST),
    # round twelve: the latch kept while its ratio is at least 1.5 (finding 16)
    "default_jepa_moments_d2_core_sticky_10k": _today("jepa", "16x16 maps, spectral core "
                                                      "latched at 3, kept at 1.5 whatever "
                                                      "passes 3 later, 10,000 steps",
                                                      steps=10000, **FINE_MOMENTS,
                                                      **CORE_STICKY),
    # the full budget: 10,000 steps on the full preset's 20,000-frame recordings, with
    # today's readout (round twelve's latch, the default since) and its two controls
    "full_jepa_moments_d2_core_sticky": _full_recording(_today(
        "jepa", "16x16 maps, spectral core latched at 3, kept at 1.5 whatever passes 3 later, "
        "10,000 steps on 20,000 frames", steps=FULL["train_steps"], **FINE_MOMENTS,
        **CORE_STICKY)),
    "full_random_moments_d2_core_sticky": _full_recording(_today(
        "random", "16x16 maps, untrained, the same readout, calibrated on 20,000 frames",
        steps=0, **FINE_MOMENTS, **CORE_STICKY)),
    # round thirteen: what lifted the pusher in the quick sweep's half-arena cells (the
    # screen in docs/sweep-screen, finding 18), checked where both cameras see the whole
    # arena, with today's readout
    "default_jepa_sticky": _today("jepa", "16x16 maps, today's readout, lr 1e-3, 3 ahead "
                                  "(today's default)", **FINE_MOMENTS, **CORE_STICKY,
                                  lr=1e-3, horizon=3),
    "default_jepa_lr2_h2": _today("jepa", "16x16 maps, today's readout, lr 2e-3, 2 ahead",
                                  **FINE_MOMENTS, **CORE_STICKY, lr=2e-3, horizon=2),
    "default_jepa_lr2": _today("jepa", "16x16 maps, today's readout, lr 2e-3, 3 ahead",
                               **FINE_MOMENTS, **CORE_STICKY, lr=2e-3, horizon=3),
    "default_jepa_h2": _today("jepa", "16x16 maps, today's readout, lr 1e-3, 2 ahead",
                              **FINE_MOMENTS, **CORE_STICKY, lr=1e-3, horizon=2),
    # round fourteen: today's default (lr 2e-3, a core must hold 80% of the variance)
    # with the cameras 45 and 0 degrees apart
    "shift45_jepa_lr2": _today("jepa", "16x16 maps, today's readout with the share guard, "
                               "lr 2e-3, 3 ahead, cameras 45 degrees apart",
                               env=SHIFT45_WORLD, **FINE_MOMENTS, **CORE_STICKY, lr=2e-3,
                               horizon=3, core_share=0.8),
    "shift0_jepa_lr2": _today("jepa", "16x16 maps, today's readout with the share guard, "
                              "lr 2e-3, 3 ahead, cameras 0 degrees apart",
                              env=SHIFT0_WORLD, **FINE_MOMENTS, **CORE_STICKY, lr=2e-3,
                              horizon=3, core_share=0.8),
    # round fourteen: lr 2e-3 (the quick budget's learning rate) at the full budget
    "full_jepa_lr2": _full_recording(_today(
        "jepa", "16x16 maps, today's readout, lr 2e-3, 3 ahead, 10,000 steps on 20,000 "
        "frames", steps=FULL["train_steps"], **FINE_MOMENTS, **CORE_STICKY, lr=2e-3,
        horizon=3)),
    # ... and with the cameras 45 degrees apart, today's readout (the share guard named),
    # beside its two controls; round fifteen: the same at 0 degrees, the last of the
    # goal's shifts not yet measured at this budget
    **_full_at_shift(45, SHIFT45_WORLD),
    **_full_at_shift(0, SHIFT0_WORLD),
    "full_pca": _full_recording(_today("pca", "raw-pixel PCA, a 2,048-frame reservoir of 64 "
                                       "batches of the 20,000 frames (the full preset's)",
                                       steps=FULL["agent_steps"]["pca"])),
    "slide_jepa_moments_d2_core_hyst": _today("jepa", "16x16 maps, spectral core latched at 3, "
                                              "kept at 2, slide rig", env=SLIDE_WORLD,
                                              **FINE_MOMENTS, **CORE_HYST),
    "dark_jepa_moments_d2": _today("jepa", "16x16 maps, dark pusher", env=DARK_WORLD,
                                   **FINE_MOMENTS),
    "darkslide_supervised_moments_d2": _today("supervised", "ceiling, 16x16 maps, dark pusher, "
                                              "slide rig", env=DARK_SLIDE_WORLD, **FINE_MOMENTS),
    "darkslide_jepa_moments_d2": _today("jepa", "16x16 maps, dark pusher, slide rig",
                                        env=DARK_SLIDE_WORLD, **FINE_MOMENTS),
    # negatives that differ only in what the actions moved: the same context's predictions
    # under other samples' actions, which only the pusher (and what it pushes) tells apart
    "slide_jepa_moments_d2_z8_whiten_actneg8": _white8("jepa", "8 action negatives",
                                                       slide=True, action_negatives=8),
    "default_jepa_moments_d2_z8_whiten_actneg8": _white8("jepa", "8 action negatives",
                                                         action_negatives=8),
    # a wider kernel asks the 64-d default for coarser discrimination, so perhaps less
    # view-specific detail (temperature 0.3 aligned at 0.88, the best knob of round six)
    "default_jepa_moments_d2_t05": _today("jepa", "16x16 maps, InfoNCE temperature 0.5",
                                          **FINE_MOMENTS, infonce_temperature=0.5),
    "default_jepa_moments_d2_t1": _today("jepa", "16x16 maps, InfoNCE temperature 1",
                                         **FINE_MOMENTS, infonce_temperature=1.0),
    "slide_jepa_moments_d2_t05": _today("jepa", "16x16 maps, InfoNCE temperature 0.5, slide rig",
                                        env=SLIDE_WORLD, **FINE_MOMENTS, infonce_temperature=0.5),
    "slide_jepa_moments_d2_t03": _today("jepa", "16x16 maps, InfoNCE temperature 0.3, slide rig",
                                        env=SLIDE_WORLD, **FINE_MOMENTS, infonce_temperature=0.3),
    # the labelled ceiling whose latent directions the head does not read decay
    "default_supervised_nonorm_p001": _today("supervised",
                                             "ceiling, latent not normalised, penalty 0.01",
                                             output_norm=False, latent_penalty=0.01),
    # the search, in the order it was run
    "supervised_default_enc": {"agent": "supervised", "config": OLD_ENCODER, "steps": 1500,
                               "note": "ceiling of the old default encoder (32 px, 1 conv)"},
    "supervised_64px_3conv": {"agent": "supervised", "config": CAPABLE, "steps": 1500,
                              "note": "ceiling of the 64-px 3-conv encoder"},
    "random_64px_3conv": {"agent": "random", "config": CAPABLE, "steps": 0,
                          "note": "untrained control"},
    "pca": {"agent": "pca", "config": {}, "steps": 40, "note": "raw-pixel PCA control"},
    "jepa_old_default": {"agent": "jepa", "config": OLD_JEPA, "steps": 1500,
                         "note": "the previous default jepa"},
    "jepa_vicreg_64px_3conv": {"agent": "jepa", "config": {**OLD_JEPA, **CAPABLE},
                               "steps": 1500,
                               "note": "the previous jepa objective on the capable encoder"},
    "jepa_infonce": {"agent": "jepa", "steps": 1500,
                     "config": {**CAPABLE, **INFONCE},
                     "note": "InfoNCE prediction (Gaussian kernel), online targets, BN output"},
    "jepa_infonce_hist2": {"agent": "jepa", "steps": 1500,
                           "config": {**CAPABLE, **INFONCE, "history": 2},
                           "note": "+ 2 frames of context"},
    "jepa_infonce_roll4": {"agent": "jepa", "steps": 1500,
                           "config": {**CAPABLE, **INFONCE, "history": 2, "horizon": 4,
                                      "rollout": True},
                           "note": "+ 4-step rollout"},
    "jepa_sigreg_hist2": {"agent": "jepa", "steps": 1500,
                          "config": {**CAPABLE, "regularizer": "sigreg", "target": "online",
                                     "history": 2, "horizon": 1},
                          "note": "LeWorldModel-like: next-embedding MSE + SIGReg, no EMA"},
    "jepa_infonce_k8": {"agent": "jepa", "steps": 1500,
                        "config": {**CAPABLE, **INFONCE, "horizon": 8},
                        "note": "InfoNCE, target 8 steps ahead (all 8 actions given)"},
    "jepa_infonce_k16": {"agent": "jepa", "steps": 1500,
                         "config": {**CAPABLE, **INFONCE, "horizon": 16},
                         "note": "InfoNCE, target 16 steps ahead"},
    "jepa_infonce_k8_w16": {"agent": "jepa", "steps": 1500,
                            "config": {**CAPABLE, **INFONCE, "horizon": 8, "width": 16},
                            "note": "InfoNCE k=8, conv width 16 (4x cheaper)"},
    "jepa_infonce_k8_hist2": {"agent": "jepa", "steps": 1500,
                              "config": {**CAPABLE, **INFONCE, "horizon": 8, "history": 2},
                              "note": "InfoNCE k=8 with 2 frames of context"},
    "jepa_infonce_k8_t1": {"agent": "jepa", "steps": 1500,
                           "config": {**CAPABLE, **INFONCE, "horizon": 8,
                                      "infonce_temperature": 1.0},
                           "note": "InfoNCE k=8, wider kernel (temperature 1)"},
    "supervised_64px_3conv_w16": {"agent": "supervised", "config": {**CAPABLE, "width": 16},
                                  "steps": 1500, "note": "ceiling of the width-16 encoder"},
    "jepa_vicreg_fs20": {"agent": "jepa", "steps": 1500, "env": {"frame_skip": 20},
                         "config": {**OLD_JEPA, **CAPABLE},
                         "note": "previous objective, capable encoder, world 4x faster per step"},
    "jepa_sigreg_fs20": {"agent": "jepa", "steps": 1500, "env": {"frame_skip": 20},
                         "config": {**CAPABLE, "regularizer": "sigreg", "target": "online",
                                    "history": 2, "horizon": 1},
                         "note": "next-embedding MSE + SIGReg, no EMA, frame_skip 20"},
    "jepa_infonce_fs20_k3": {"agent": "jepa", "steps": 1500, "env": {"frame_skip": 20},
                             "config": {**CAPABLE, **INFONCE, "horizon": 3},
                             "note": "InfoNCE 3 steps ahead, frame_skip 20"},
    "jepa_infonce_fs20_k2": {"agent": "jepa", "steps": 1500, "env": {"frame_skip": 20},
                             "config": {**CAPABLE, **INFONCE, "horizon": 2},
                             "note": "InfoNCE 2 steps ahead, frame_skip 20"},
    "jepa_infonce_fs20_k4": {"agent": "jepa", "steps": 1500, "env": {"frame_skip": 20},
                             "config": {**CAPABLE, **INFONCE, "horizon": 4},
                             "note": "InfoNCE 4 steps ahead, frame_skip 20"},
    "jepa_infonce_fs20_k3_w16": {"agent": "jepa", "steps": 1500, "env": {"frame_skip": 20},
                                 "config": {**CAPABLE, **INFONCE, "horizon": 3, "width": 16},
                                 "note": "InfoNCE k=3, frame_skip 20, conv width 16"},
    "jepa_infonce_fs20_k3_800": {"agent": "jepa", "steps": 800, "env": {"frame_skip": 20},
                                 "config": {**CAPABLE, **INFONCE, "horizon": 3},
                                 "note": "InfoNCE k=3, frame_skip 20, 800 steps"},
    "jepa_infonce_fs20": {"agent": "jepa", "steps": 1500, "env": {"frame_skip": 20},
                          "config": {**CAPABLE, **INFONCE},
                          "note": "InfoNCE in a world that moves 4x more per step"},
}


def _key_part(value: Any) -> str:
    """A setting as part of a folder name: scalars as they print, anything else (camera
    poses) as a short digest of its JSON, which is stable across runs."""
    if isinstance(value, (str, int, float, bool)):
        return str(value)
    import hashlib

    text = json.dumps(value, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def _dataset(root: Path, env: dict[str, Any], seed: int, steps: int, episode_steps: int) -> Path:
    """Record (or reuse) one dataset, named by its settings so variants share it."""
    from socialview.envs import load_dataset, record_dataset

    key = "_".join(f"{k}{_key_part(v)}" for k, v in sorted(env.items())).replace(" ", "")
    out = root / f"{key}_seed{seed}_n{steps}_ep{episode_steps}"
    if (out / "meta.json").exists():
        try:
            load_dataset(out)
            return out
        except ValueError:
            pass
    env = dict(env)
    return record_dataset(out, steps=steps, overlap=env.pop("overlap"),
                          num_cameras=env.pop("num_cameras"), image_size=env.pop("image_size"),
                          seed=seed, force=True, preview=False, progress=False,
                          episode_steps=episode_steps, env_kwargs=env)


def _map_r2(a: np.ndarray, b: np.ndarray, test: np.ndarray) -> dict[str, float]:
    from socialview.alignment import fit_map
    from socialview.benchmarks.sweep_cell import unit_total_variance

    order = np.argsort(test, kind="stable")  # fitting rows first, for unit_total_variance
    fit_rows = int((~test).sum())
    a, b = (unit_total_variance(x[order], fit_rows) for x in (a, b))
    out = {}
    for kind in ("orthogonal", "linear"):
        m = fit_map(a[:fit_rows], b[:fit_rows], kind=kind)
        out[kind] = float(m.score(a[fit_rows:], b[fit_rows:]))
    return out


def whitened_principal(latents: np.ndarray, fit: np.ndarray, k: int) -> np.ndarray:
    """``latents`` projected on their ``k`` leading principal directions and whitened,
    the directions and variances taken from the ``fit`` rows only.

    An analysis of a trained latent, not a readout any agent uses: it asks whether the
    latent's strongest ``k`` directions alone are an orthogonal map apart between cameras.
    """
    return _whiten_axes(latents, _principal_axes(latents, fit), k)


def _principal_axes(latents: np.ndarray, fit: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, eigenvalues (largest first) and eigenvectors of the ``fit`` rows' covariance."""
    x = latents[fit].astype(np.float64)
    mean = x.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov((x - mean).T))
    return mean, values[::-1], vectors[:, ::-1]


def _whiten_axes(latents: np.ndarray, axes: tuple[np.ndarray, np.ndarray, np.ndarray],
                 k: int) -> np.ndarray:
    if not 1 <= k <= latents.shape[1]:
        raise ValueError(f"k must be in [1, {latents.shape[1]}] (the latent's width), got {k}")
    mean, values, vectors = axes
    return ((latents.astype(np.float64) - mean) @ vectors[:, :k]
            / np.sqrt(np.maximum(values[:k], 1e-12)))


def principal_subspace(row: dict[str, Any], latents: dict[str, np.ndarray],
                       ks: Sequence[int], root: Path) -> list[dict[str, Any]]:
    """For each ``k`` in ``ks``: probe and map of a two-camera row's latents cut to their
    ``k`` whitened leading principal directions (:func:`whitened_principal`), on the row's
    evaluation recording, with the share of each camera's (fitting-row) latent variance
    those directions hold and the first ``2k`` eigenvalues of its covariance relative to
    the largest. The recording is read, and each camera's covariance decomposed, once."""
    from socialview.agents import world_state

    state = world_state(_evaluation_dataset(root, row["world"]["env"], row["seed"]))
    test = latents["test"].astype(bool)
    cameras = ("cam0", "cam1")
    axes = {cam: _principal_axes(latents[cam], ~test) for cam in cameras}
    out = []
    for k in ks:
        cut = {cam: _whiten_axes(latents[cam], axes[cam], k) for cam in cameras}
        probes = {cam: probe_summary(z, state, cam) for cam, z in cut.items()}
        values = [axes[cam][1] for cam in cameras]
        out.append({
            "variant": row["variant"], "seed": row["seed"], "k": k,
            "variance_share": [float(v[:k].sum() / v.sum()) for v in values],
            "spectrum": [[float(x) for x in v[:2 * k] / v[0]] for v in values],
            "pooled_r2": [probes[c]["pooled_r2"] for c in cameras],
            "objects_r2": [probes[c]["objects_r2"] for c in cameras],
            "pusher_r2": [probes[c]["pusher_r2"] for c in cameras],
            "map_r2": _map_r2(cut["cam0"], cut["cam1"], test)})
    return out


def core_at(raw: np.ndarray, mean: np.ndarray, cov: np.ndarray, width: int | None,
            rest: float = 0.0) -> np.ndarray:
    """What a core readout with statistics ``(mean, cov)`` returns for latents ``raw``
    ``(N, D)`` were its core ``width`` wide (None: no core, ``raw`` itself): the ``width``
    leading principal directions whitened, then the others over the ``width``-th one's
    standard deviation times ``rest`` (zeros at 0), so the width stays ``D``. Replays
    another latch rule or another ``core_rest`` on a row's saved latents
    (:func:`run_variant`)."""
    if width is None:
        return raw
    values, vectors = np.linalg.eigh(cov.astype(np.float64))
    values, vectors = values[::-1], vectors[:, ::-1]
    centred = raw.astype(np.float64) - mean
    out = np.zeros(raw.shape, dtype=np.float64)
    out[:, :width] = centred @ (vectors[:, :width] / np.sqrt(values[:width]))
    if rest > 0:
        out[:, width:] = centred @ vectors[:, width:] * (rest / np.sqrt(values[width - 1]))
    return out.astype(raw.dtype)


def replay_rest(row: dict[str, Any], latents: dict[str, np.ndarray],
                rests: Sequence[float], root: Path) -> list[dict[str, Any]]:
    """Probe and map of a two-camera row of a core readout as each ``core_rest`` in
    ``rests`` would have read it: the core's width is the row's own (``core_rank``), read
    from the saved latents before the readout and its calibrated statistics, and the
    directions outside it come back damped to ``rest`` of its weakest (finding 20). A
    camera without a core reads its latent whole, whatever ``rest`` says."""
    from socialview.agents import world_state

    if "cam0_raw" not in latents:
        raise ValueError(f"row {row['variant']!r} seed {row['seed']} saved no latents before "
                         f"its readout (not a core readout)")
    state = world_state(_evaluation_dataset(root, row["world"]["env"], row["seed"]))
    test = latents["test"].astype(bool)
    cameras = ("cam0", "cam1")
    out = []
    for rest in rests:
        cut = {camera: core_at(latents[f"{camera}_raw"],
                               *(latents[f"{camera}_calibrated_{name}"]
                                 for name in ("mean", "cov")),
                               row["core_rank"][camera], rest) for camera in cameras}
        probes = {camera: probe_summary(z, state, camera) for camera, z in cut.items()}
        out.append({"variant": row["variant"], "seed": row["seed"], "rest": rest,
                    "core_rank": row["core_rank"],
                    "pooled_r2": [probes[c]["pooled_r2"] for c in cameras],
                    "pusher_r2": [probes[c]["pusher_r2"] for c in cameras],
                    "map_r2": _map_r2(cut["cam0"], cut["cam1"], test)})
    return out


def replay_latch(row: dict[str, Any], latents: dict[str, np.ndarray], keep: float,
                 sticky: bool, root: Path) -> dict[str, Any]:
    """Probe and map of a two-camera row of a readout with hysteresis as another latch
    rule (``keep``, ``sticky``; ``core_gap`` and momentum as the row's) would have read
    it: the rule replays the row's ``latch_history`` through
    :func:`~socialview.agents.nets.latch_after` (latching changes no weight, so the
    training is the row's own), and the core is read from the saved latents before the
    readout and its calibrated statistics as the readout itself reads it. A latched width
    past the 16 recorded ratios counts as failed unless it is the widest gap."""
    import torch

    from socialview.agents import world_state
    from socialview.agents.nets import SpectralCoreReadout, latch_after

    config = {**_study_config(row["spec"])}
    gap, momentum = config.get("core_gap", 3.0), config.get("core_momentum", 0.01)
    if "latch_history" not in row:
        raise ValueError(f"row {row['variant']!r} seed {row['seed']} has no latch_history "
                         f"(a readout with hysteresis, recorded since round twelve)")
    state = world_state(_evaluation_dataset(root, row["world"]["env"], row["seed"]))
    test = latents["test"].astype(bool)
    widths, cut, probes = {}, {}, {}
    for camera in ("cam0", "cam1"):
        mean, cov = (latents[f"{camera}_calibrated_{name}"] for name in ("mean", "cov"))
        readout = SpectralCoreReadout(len(mean), gap, momentum, keep_ratio=keep, sticky=sticky)
        latched = 0
        for batch, k, ratio, _was, _was_ratio, ratios in row["latch_history"][camera]:
            if batch < readout.settle:
                continue
            now = (ratios[latched - 1] if 0 < latched <= len(ratios)
                   else ratio if latched == k else 0.0)
            latched = latch_after(latched, (k, ratio), now, gap, keep, sticky)
        readout.calibrated_mean.copy_(torch.from_numpy(mean))
        readout.calibrated_cov.copy_(torch.from_numpy(cov))
        readout.calibrated_at.fill_(0)  # calibrated after the batches it has (none) seen
        readout.latched_width.fill_(latched)
        widths[camera] = readout.rank()
        cut[camera] = core_at(latents[f"{camera}_raw"], mean, cov, widths[camera],
                              config.get("core_rest", 0.0))
        probes[camera] = probe_summary(cut[camera], state, camera)
    return {"variant": row["variant"], "seed": row["seed"], "keep": keep, "sticky": sticky,
            "core_rank": widths,
            "pooled_r2": [probes[c]["pooled_r2"] for c in ("cam0", "cam1")],
            "map_r2": _map_r2(cut["cam0"], cut["cam1"], test)}


def _evaluation_dataset(root: Path, env: dict[str, Any], seed: int) -> Path:
    """The study's separately seeded evaluation recording for ``env`` and ``seed``."""
    return _dataset(root / "data", env, 1000 * seed + 2, WORLD["eval_steps"],
                    WORLD["episode_steps"])


def _study_config(spec: dict[str, Any]) -> dict[str, Any]:
    """A variant's agent config: encoder agents read the full latent unless it names a
    readout (the study's rows predate ``readout="core"`` as the default), a core readout
    has no share guard unless it names one (``core_share``, round fourteen), drops the
    directions outside its core unless it names a ``core_rest`` (round fifteen), has no
    action guard unless it names one (``core_action_share``, round sixteen) and no reader
    guard unless it names one (``core_reader_share``, round seventeen), and
    ``jepa`` and ``supervised`` train at lr 1e-3 unless it names one (the rows predate
    2e-3)."""
    config = dict(spec.get("config", {}))
    if spec["agent"] in ENCODER_AGENTS:
        config.setdefault("readout", "latent")
        if config["readout"] == "core":
            config.setdefault("core_share", 0.0)
            config.setdefault("core_rest", 0.0)
            config.setdefault("core_action_share", 0.0)
            config.setdefault("core_reader_share", 0.0)
    if spec["agent"] in LR_ERA_AGENTS:
        config.setdefault("lr", 1e-3)
    return config


def run_variant(name: str, spec: dict[str, Any], seed: int, root: Path,
                threads: int = 2, cameras: Sequence[str] = ("cam0", "cam1"),
                latents_to: Path | None = None) -> dict[str, Any]:
    """Record, train one agent per camera, probe both, map between them; return the row.
    The training recording has ``spec["train_frames"]`` frames if the spec names them (the
    ``full_*`` variants), else :data:`WORLD`'s ``train_steps``.

    With ``latents_to``, the evaluation latents of every camera are also saved there
    (``.npz``, atomically) for analyses the row does not hold. A readout with hysteresis
    (``core_keep`` under ``core_gap``) also leaves its ``latch_history`` in the row: per
    camera, ``[batch, k, ratio, latched, latched_ratio, ratios]`` of its running
    statistics at every latch update
    (:func:`~socialview.benchmarks.gap_trajectory.running_recorder`), and the ``.npz``
    also holds each camera's latents before the readout (``<camera>_raw``) and the
    calibrated statistics read (``<camera>_calibrated_mean``, ``<camera>_calibrated_cov``),
    so the core any width would give can be computed again (:func:`core_at`).
    """
    import torch

    from socialview.agents import embed, make_agent, train_agent, world_state
    from socialview.agents.torch_agent import core_width, spectral_gap
    from socialview.alignment import episode_split
    from socialview.benchmarks.gap_trajectory import running_recorder
    from socialview.benchmarks.sweep_cell import derived_seed

    torch.set_num_threads(threads)
    env = {**WORLD["env"], **spec.get("env", {})}
    data = root / "data"
    frames = spec.get("train_frames", WORLD["train_steps"])
    train = _dataset(data, env, 1000 * seed + 1, frames, WORLD["episode_steps"])
    evaluation = _evaluation_dataset(root, env, seed)
    state = world_state(evaluation)
    latents, probes, seconds, last, cores, gaps, latches = {}, {}, {}, {}, {}, {}, {}
    extras: dict[str, np.ndarray] = {}
    for camera in cameras:
        agent = make_agent(spec["agent"], seed=derived_seed(seed, name, camera),
                           **_study_config(spec))
        readout = getattr(getattr(agent, "encoder", None), "readout", None)
        if getattr(readout, "keep_ratio", 0.0) < getattr(readout, "min_ratio", 0.0):
            latches[camera] = []  # a readout with hysteresis: record what it latched, when
            readout.register_forward_hook(running_recorder(latches[camera],
                                                           readout.latch_every))
        start = time.perf_counter()
        result = train_agent(agent, train, camera, steps=spec["steps"], progress=False,
                             device="cpu", seed=derived_seed(seed, name, camera, "batches"),
                             batch_size=spec.get("batch_size", 64),
                             calibrate=spec.get("calibrate", True))
        seconds[camera] = time.perf_counter() - start
        last[camera] = result.to_json().get("final_metrics")
        if getattr(agent, "needs_calibration", False):
            cores[camera] = core_width(agent)
            gaps[camera] = spectral_gap(agent)
        if camera in latches:  # the latents before the readout, and what it read them with
            raw: list[np.ndarray] = []
            handle = readout.register_forward_hook(
                lambda _m, inputs, _o, raw=raw: raw.append(inputs[0].detach().numpy()))
        latents[camera] = embed(agent, evaluation, camera)
        if camera in latches:
            handle.remove()
            extras[f"{camera}_raw"] = np.concatenate(raw)
            extras[f"{camera}_calibrated_mean"] = readout.statistics()[0].numpy()
            extras[f"{camera}_calibrated_cov"] = readout.statistics()[1].numpy()
        probes[camera] = probe_summary(latents[camera], state, camera)
    test = episode_split(state.episode, 0.25)
    if latents_to is not None:
        save_npz_atomic(latents_to, test=test, **latents, **extras)
    mapped = _map_r2(latents["cam0"], latents["cam1"], test) if len(latents) == 2 else None
    return {
        "variant": name, "seed": seed, "spec": spec,
        "world": {**WORLD, "env": env, "train_steps": frames},
        "probe": probes, "map_r2": mapped,
        "seconds_per_agent": float(np.mean(list(seconds.values()))),
        "last_metrics": last,
        **({"core_rank": cores, "spectral_gap": gaps} if cores else {}),
        **({"latch_history": latches} if latches else {}),
        "command": f"python -m socialview.benchmarks.agents_study --variant {name} "
                   f"--seed {seed}" + (f" --threads {threads}" if threads != 2 else ""),
    }


def table(rows: Sequence[dict[str, Any]]) -> str:
    """Markdown table of study rows (means over the two cameras; seeds as separate rows)."""
    lines = ["| variant | frame skip | seed | steps | cameras | probe ridge (objects / pusher) "
             "| probe k-NN | state share | orth R² | linear R² | s/agent | note |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        probes = row["probe"].values()
        maps = row["map_r2"] or {}

        def mean(key, probes=probes):
            return float(np.mean([p[key] for p in probes]))

        def fmt(value):
            return "–" if value is None else f"{value:.2f}"

        shares = [p["state_share"] for p in probes if "state_share" in p]

        lines.append(
            f"| `{row['variant']}` | {row['world']['env'].get('frame_skip', 5)} | {row['seed']} | "
            f"{row['spec']['steps']} | {len(row['probe'])} | "
            f"{mean('pooled_r2'):.2f} ({mean('objects_r2'):.2f} / {mean('pusher_r2'):.2f}) | "
            f"{mean('knn_pooled_r2'):.2f} | {fmt(np.mean(shares) if shares else None)} | "
            f"{fmt(maps.get('orthogonal'))} | "
            f"{fmt(maps.get('linear'))} | {row['seconds_per_agent']:.0f} | "
            f"{row['spec'].get('note', '')} |")
    return "\n".join(lines)


def _cached_rows(parser: argparse.ArgumentParser, root: Path, variants: Sequence[str],
                 seeds: Sequence[int]) -> Iterator[tuple[dict[str, Any], dict[str, np.ndarray]]]:
    """Each cached row of ``variants`` x ``seeds`` with its saved latents, for the offline
    analyses; a missing row is a command-line error that says how to make it."""
    for name in variants:
        for seed in seeds:
            path = root / "rows" / f"{name}_seed{seed}.json"
            if not path.exists():
                parser.error(f"no cached row {path}; run --variant {name} --seed {seed}")
            with np.load(path.with_suffix(".npz")) as saved:
                latents = dict(saved)
            yield json.loads(path.read_text()), latents


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: run study variants (each row cached as JSON) and print a one-line summary each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", nargs="*", default=[], help="variant names (see --list)")
    parser.add_argument("--seed", type=int, nargs="+", default=[0])
    parser.add_argument("--out", default="results/agents-study")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--screen", action="store_true",
                        help="train cam0's agent only (probe, no map): half the cost")
    parser.add_argument("--list", action="store_true", help="list the variants and exit")
    parser.add_argument("--force", action="store_true", help="recompute cached rows")
    parser.add_argument("--table", action="store_true",
                        help="print the markdown table of every cached row and exit")
    parser.add_argument("--principal", type=int, nargs="+", metavar="K",
                        help="for the cached rows of --variant/--seed: probe and map their "
                             "latents cut to K whitened leading principal directions")
    parser.add_argument("--replay-latch", nargs=2, metavar=("KEEP", "STICKY"),
                        help="for the cached rows of --variant/--seed (a readout with "
                             "hysteresis): probe and map them as a latch kept at ratio KEEP, "
                             "STICKY 'sticky' or 'latest', would have read them")
    parser.add_argument("--replay-rest", type=float, nargs="+", metavar="REST",
                        help="for the cached rows of --variant/--seed (a core readout): "
                             "probe and map them as a readout keeping the directions "
                             "outside the core at REST of its weakest would have read them")
    args = parser.parse_args(argv)
    if args.list:
        for name, spec in VARIANTS.items():
            print(f"{name:32s} {spec.get('note', '')}")
        return 0
    root = Path(args.out)
    if args.table:
        rows = [json.loads(p.read_text()) for p in sorted((root / "rows").glob("*.json"))]
        print(table(rows))
        return 0
    unknown = [v for v in args.variant if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; see --list")
    if args.replay_latch:
        keep, rule = float(args.replay_latch[0]), args.replay_latch[1]
        if rule not in ("sticky", "latest"):
            parser.error(f"--replay-latch STICKY must be 'sticky' or 'latest', got {rule!r}")
        try:
            for row, latents in _cached_rows(parser, root, args.variant, args.seed):
                print(json.dumps(replay_latch(row, latents, keep, rule == "sticky", root)),
                      flush=True)
        except ValueError as error:  # a row this analysis cannot read: a usage error
            parser.error(f"--replay-latch: {error}")
        return 0
    if args.replay_rest or args.principal:
        try:
            for row, latents in _cached_rows(parser, root, args.variant, args.seed):
                found = (replay_rest(row, latents, args.replay_rest, root)
                         if args.replay_rest
                         else principal_subspace(row, latents, args.principal, root))
                for result in found:
                    print(json.dumps(result), flush=True)
        except ValueError as error:
            flag = "--replay-rest" if args.replay_rest else "--principal"
            parser.error(f"{flag}: {error}")
        return 0
    for name in args.variant:
        for seed in args.seed:
            cameras = ("cam0",) if args.screen else ("cam0", "cam1")
            suffix = "_screen" if args.screen else ""
            path = root / "rows" / f"{name}_seed{seed}{suffix}.json"
            if path.exists() and not args.force:
                row = json.loads(path.read_text())
            else:
                row = run_variant(name, VARIANTS[name], seed, root, args.threads, cameras,
                                  latents_to=path.with_suffix(".npz"))
                write_json_atomic(path, row)
            print(table([row]).splitlines()[-1], flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
