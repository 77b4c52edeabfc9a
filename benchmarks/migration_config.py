"""Configuration of ``socialview migrate``: the :class:`MigrationConfig` fields, presets, files.

Everything that defines one migration run lives here, with the checks that make a
typo fail before anything is recorded. :mod:`socialview.benchmarks.migration`
re-exports every public name.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from socialview.envs.labels import DEFAULT_LABEL, LABELS

__all__ = [
    "DISTILL_MAP_KINDS",
    "PIXEL_SIDE",
    "PRESETS",
    "MigrationConfig",
    "get_preset",
    "load_config",
]

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
    a label such as object 0's quadrant stays the same for long stretches, so short
    episodes (many independent starts) make the held-out accuracy far less noisy."""
    image_size: int = 64
    """Side of the recorded frames in pixels."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Further SocialView-v1 settings of both recordings (e.g. ``{"rig": "zoom",
    "viewpoint_shift": 90}``); empty: the env's defaults."""
    agent: str = "jepa"
    """Agent kind for A, B and B' (registry name or ``module:attr``); it needs a trainable
    ``encoder`` module, which distillation regresses."""
    latent_dim: int = 64
    """Latent width of every agent."""
    agent_kwargs: dict[str, Any] = field(default_factory=dict)
    """Further agent config (e.g. ``{"width": 16}``), the same for all three agents. Unless
    it names a readout, built-in encoders read the full latent (``readout="latent"``):
    distillation regresses the encoder's training output, which a ``readout="core"``
    encoder does not return from ``encode``."""
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
    label: str = DEFAULT_LABEL
    """Task label the probe reads (a name in :data:`socialview.envs.labels.LABELS`, e.g.
    ``nearest_object``, ``quadrant``, ``contact_soon``); frames where it is undefined
    (-1) are dropped from the probe's fitting and scoring."""
    target_accuracy: float = 0.85
    """Probe accuracy at which the FLOPs ratio is read (absolute, as in the paper)."""
    relative_fraction: float = 0.9
    """The relative level, in (0, 1]: each seed's ratio is also read at this share of its
    best scratch accuracy, a level the scratch path reaches by construction (an absolute
    target says nothing when the scratch path never gets there)."""
    probe_train_fraction: float = 0.6
    """Share of the evaluation recording's episodes (the first ones) the probe is fitted on;
    the rest are the test episodes."""
    probe_l2: float = 1e-3
    """L2 penalty of the logistic probe."""
    seeds: list[int] = field(default_factory=lambda: [0])
    """Master seeds, one whole run each (its own recordings and agents, in ``seed<N>/``).
    For seed ``s``: A uses ``s``, B and B' ``s + 1``, the distillation sampler ``s + 2``,
    the training recording ``s`` and the evaluation one ``s + 1_000_000``. Old configs
    with a single ``seed`` key load as ``seeds=[seed]``."""
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
        """Build a config from a dict; unknown keys are an error that lists the known ones.

        A legacy ``seed`` key (format 1 results, old config files) becomes
        ``seeds=[seed]``.
        """
        if not isinstance(data, dict):
            raise ValueError(f"a migration config must be a mapping, got {type(data).__name__}")
        data = _upgrade_legacy_keys(data)
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
        if (not isinstance(self.relative_fraction, (int, float))
                or isinstance(self.relative_fraction, bool)
                or not 0.0 < float(self.relative_fraction) <= 1.0):
            raise ValueError("relative_fraction must be a number in (0, 1], got "
                             f"{self.relative_fraction!r}")
        _check_seeds(self.seeds)
        if self.label not in LABELS:
            raise ValueError(f"label={self.label!r} is not a task label; choose one of "
                             f"{', '.join(sorted(LABELS))}")
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
        if not isinstance(self.env_kwargs, dict):
            raise ValueError(f"env_kwargs must be a mapping of SocialView-v1 settings, got "
                             f"{self.env_kwargs!r}")
        _check_agent(self.agent, self._agent_config(self.seeds[0]))
        return self

    def without_seeds(self) -> dict[str, Any]:
        """:meth:`to_dict` minus ``seeds``: what one seed's run depends on besides its seed.

        A finished seed's ``result.json`` is reused when this matches, so adding a
        seed to a run (or resuming a killed one) repeats no finished work.
        """
        return {k: v for k, v in self.to_dict().items() if k != "seeds"}

    def num_cameras(self) -> int:
        """Cameras to record: enough for ``camera_a`` and ``camera_b`` (named ``camN``)."""
        idx = []
        for cam in (self.camera_a, self.camera_b):
            if not (isinstance(cam, str) and cam.startswith("cam") and cam[3:].isdigit()):
                raise ValueError(f"camera names are 'cam0', 'cam1', ...; got {cam!r}")
            idx.append(int(cam[3:]))
        return max(idx) + 1

    def _agent_config(self, seed: int) -> dict[str, Any]:
        from socialview.agents.registry import config_keys, resolve_agent

        config = {**self.agent_kwargs, "seed": int(seed), "latent_dim": int(self.latent_dim)}
        if "readout" in (config_keys(resolve_agent(self.agent)) or []):
            config.setdefault("readout", "latent")
        return config


#: Named configurations. ``smoke`` is what the tests run (about ten seconds a seed on two
#: CPU cores); ``quick`` takes a few minutes a seed on a laptop CPU; ``full`` is GPU scale.
PRESETS: dict[str, MigrationConfig] = {
    "smoke": MigrationConfig(
        overlap=1.0, env_kwargs={"rig": "zoom", "viewpoint_shift": 90.0},
        dataset_steps=400, eval_steps=400, episode_steps=25, image_size=32, latent_dim=32,
        batch_size=32, a_steps=30, b_steps=30, eval_every=10, distill_steps=20,
        map_anchors=128, map_refit_every=10, num_threads=1, device="cpu", seeds=[0, 1, 2],
    ),
    # Both cameras see the whole arena from 90 degrees apart (the zoom rig at overlap 1),
    # the setting where the agents study found agents that know the world and align.
    "quick": MigrationConfig(
        overlap=1.0, env_kwargs={"rig": "zoom", "viewpoint_shift": 90.0},
        dataset_steps=4000, eval_steps=2000, episode_steps=40, image_size=64, latent_dim=64,
        batch_size=64, a_steps=1500, b_steps=1000, eval_every=100, distill_steps=300,
        map_anchors=512, map_refit_every=50, num_threads=1, device="cpu", seeds=[0, 1, 2],
    ),
    "full": MigrationConfig(
        overlap=1.0, env_kwargs={"rig": "zoom", "viewpoint_shift": 90.0},
        dataset_steps=50_000, eval_steps=10_000, episode_steps=50, image_size=64,
        latent_dim=64, batch_size=256, a_steps=20_000, b_steps=20_000, eval_every=500,
        distill_steps=3000, map_anchors=4096, map_refit_every=100, device="auto",
        seeds=[0, 1, 2, 3, 4],
    ),
}


def get_preset(name: str) -> MigrationConfig:
    """Return a deep copy of preset ``name`` (its lists and dicts too, so editing the copy
    never edits the preset); an unknown name raises ``ValueError`` listing them."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}")
    return copy.deepcopy(PRESETS[name])


def load_config(path: str | os.PathLike, base: MigrationConfig | None = None
                ) -> MigrationConfig:
    """Read a JSON or YAML file of config fields, applied on top of ``base`` (or defaults).

    The file may hold a subset of the fields, or a whole ``migration.json``'s
    ``config`` entry; a legacy ``seed`` key becomes ``seeds=[seed]``.
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
    try:
        data = _upgrade_legacy_keys(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    merged = (base or MigrationConfig()).to_dict()
    unknown = sorted(set(data) - set(merged))
    if unknown:
        raise ValueError(f"{path}: unknown migration config key(s) {unknown}; known keys: "
                         f"{', '.join(merged)}")
    merged.update(data)
    return MigrationConfig.from_dict(merged)


def _upgrade_legacy_keys(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with a format-1 ``seed: int`` turned into ``seeds: [seed]``."""
    if "seed" not in data:
        return data
    if "seeds" in data:
        raise ValueError("give either seeds (a list) or the legacy seed (one int), not both; "
                         f"got seed={data['seed']!r} and seeds={data['seeds']!r}")
    upgraded = {k: v for k, v in data.items() if k != "seed"}
    upgraded["seeds"] = [data["seed"]]
    return upgraded


def _check_seeds(seeds: Any) -> None:
    """``seeds`` must be a non-empty list of unique ints >= 0 (each names a folder)."""
    ok = (isinstance(seeds, (list, tuple)) and len(seeds) > 0
          and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds))
    if not ok:
        raise ValueError(f"seeds must be a non-empty list of integers >= 0, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be unique (each seed is one run), got {seeds!r}")


# --------------------------------------------------------------------------------------
# agents (checked once, when the config is validated)


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
