"""What an emergence run measures: :class:`EmergenceConfig`, its presets and validation.

The settings it shares with the overlap sweep (rig, recordings, training budget,
permutation counts) carry the same names and meanings as in
:class:`~socialview.benchmarks.sweep_config.SweepConfig`, and
:meth:`EmergenceConfig.sweep_config` turns them into one, so recording,
training and alignment measurement go through the sweep's own helpers and give
numbers comparable with the sweep's.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from socialview.agents.trainer import QUICK_STEPS
from socialview.benchmarks.sweep_config import SweepConfig, load_config_file

__all__ = ["PRESETS", "EmergenceConfig", "load_config_file", "preset_config"]

#: Default checkpoints, as fractions of an agent's total training steps (log-spaced;
#: 0 is the untrained encoder).
DEFAULT_FRACTIONS = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0)


@dataclass
class EmergenceConfig:
    """Everything that fixes an emergence run's results (saved as ``config.json``).

    The defaults are the ``quick`` preset.
    """

    agents: list[str] = field(default_factory=lambda: ["jepa", "random", "supervised"])
    """Agent kinds: registry names or "package.module:attr" strings. Kinds whose class
    sets ``reference = True`` (``supervised``) are drawn dashed: they use labels."""
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    """Each seed trains a fresh pair of agents (one per camera) per kind, seeded as in the
    sweep; the spread over seeds is the band of the chart."""
    dataset_seed: int = 0
    """Seeds the two recordings the way the sweep's seed does (``dataset_seeds``): every
    agent seed sees the same world, and dataset seed 0 is the world of sweep seed 0."""
    fractions: list[float] = field(default_factory=lambda: list(DEFAULT_FRACTIONS))
    """Checkpoints as fractions of each agent's total steps, increasing, in [0, 1]; 0 is the
    untrained encoder. Fractions that round to the same step are measured once."""
    overlap: float = 1.0
    """Target pixel overlap of the two cameras, in [0, 1] (the env's dial)."""
    rig: str = "zoom"
    """Camera rig ("zoom" or "slide", see ``docs/rigs.md``). The default zoom rig at
    overlap 1 lets both cameras see the whole arena from any viewpoint shift: the
    setting of the isometry goal."""
    footprint: float | None = None
    """Share of the arena floor one camera sees (slide rig only; None: the env's)."""
    viewpoint_shift: float = 90.0
    """Degrees of azimuth between the two cameras, in [0, 90]."""
    image_size: int = 64
    """Square image side in pixels."""
    latent_dim: int = 64
    """Latent width of every agent."""
    dataset_steps: int = 8000
    """Frames recorded for training the agents: the quick sweep's (8,000 since round
    fourteen, 4,000 before)."""
    eval_steps: int = 2400
    """Frames of a separately seeded recording used only for evaluation (probes, maps)."""
    episode_steps: int = 24
    """Frames per recorded episode. The state probe wants many held-out episodes
    (100 or more in all), so they are shorter than the sweep's."""
    train_steps: int = 5 * QUICK_STEPS
    """Total training steps of each learning agent: five times the quick budget, so a late
    fall of alignment would show (see ``agent_steps`` for exceptions)."""
    agent_steps: dict[str, int] = field(default_factory=dict)
    """Per-kind total steps overriding ``train_steps`` (sweep defaults: random 0, pca 40)."""
    agent_config: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per-kind extra keyword arguments for ``make_agent``."""
    batch_size: int = 64
    """Transitions per training step."""
    test_size: float = 0.25
    """Held-out share of the evaluation recording (its last whole episodes) for the probes,
    maps and transfer; everything is fitted on the earlier episodes only."""
    n_permutations: int = 50
    """Shuffled pairings per similarity metric (the null)."""
    n_map_permutations: int = 5
    """Refits on shuffled pairs per map kind (the null of held-out R²)."""
    n_bootstrap: int = 100
    """Bootstrap resamples for each checkpoint's confidence intervals."""
    threads_per_cell: int = 2
    """Torch threads for training and measuring; results are reproducible for a fixed value."""
    device: str = "cpu"
    """Torch device the agents train and encode on (``cpu``, ``cuda``, ``cuda:N`` or
    ``auto``), as in the sweep: CPU by default, for bit-for-bit reproducible curves."""

    def steps_for(self, agent: str) -> int:
        """Total training steps of agent kind ``agent``."""
        return self.sweep_config().steps_for(agent)

    def checkpoints(self, agent: str) -> list[int]:
        """Distinct training steps at which ``agent`` is measured, increasing.

        An agent kind with no latent before its first step (``pca``, whose components
        are fitted on the frames it has seen: ``encodes_untrained`` is False) is
        measured after its first step where a fraction rounds to 0.
        """
        from socialview.agents import encodes_untrained

        total = self.steps_for(agent)
        steps = {round(fraction * total) for fraction in self.fractions}
        if not encodes_untrained(agent):
            if total < 1:
                raise ValueError(f"agent_steps[{agent!r}] must be >= 1: a {agent!r} agent "
                                 f"has no latent before its first step, got {total}")
            steps = {max(step, 1) for step in steps}
        return sorted(steps)

    def sweep_config(self) -> SweepConfig:
        """The one-overlap :class:`SweepConfig` holding the settings both share."""
        shared = {f.name for f in dataclasses.fields(SweepConfig)} & set(self.to_dict())
        return SweepConfig(
            overlaps=[self.overlap],
            viewpoint_shifts=[self.viewpoint_shift],
            **{k: getattr(self, k) for k in shared},
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form; :meth:`from_dict` inverts it."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> EmergenceConfig:
        """Build and validate a config; unknown keys are an error that lists the known ones."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown emergence setting(s) {unknown}; known settings: {sorted(known)}"
            )
        config = cls(**dict(values))
        config.validate()
        return config

    def validate(self) -> None:
        """Raise ``ValueError`` naming the setting, its value and what is allowed."""
        if (
            isinstance(self.overlap, bool)
            or not isinstance(self.overlap, (int, float))
            or not 0.0 <= self.overlap <= 1.0
        ):
            raise ValueError(f"overlap must be a number in [0, 1], got {self.overlap!r}")
        fractions = self.fractions
        if (
            not isinstance(fractions, list)
            or not fractions
            or not all(
                isinstance(f, (int, float)) and not isinstance(f, bool) and 0.0 <= f <= 1.0
                for f in fractions
            )
            or any(b <= a for a, b in itertools.pairwise(fractions))
        ):
            raise ValueError(
                "fractions must be a non-empty, strictly increasing list of numbers in [0, 1] "
                f"(e.g. {list(DEFAULT_FRACTIONS)}), got {fractions!r}"
            )
        if isinstance(self.train_steps, bool) or not isinstance(self.train_steps, int) or (
            self.train_steps < 1
        ):
            raise ValueError(f"train_steps must be an integer >= 1, got {self.train_steps!r}")
        for agent, steps in self.agent_steps.items():
            if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
                raise ValueError(f"agent_steps[{agent!r}] must be an integer >= 0, got {steps!r}")
        for name, least in (("n_map_permutations", 1), ("dataset_seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        self.sweep_config().validate()  # the settings shared with the sweep, same rules


PRESETS: dict[str, dict[str, Any]] = {
    # CI and a first look: about a minute on 2 CPU cores.
    "smoke": {
        "agents": ["jepa", "random"],
        "seeds": [0],
        "image_size": 32,
        "latent_dim": 16,
        "dataset_steps": 400,
        "eval_steps": 400,
        "episode_steps": 10,
        "train_steps": 120,
        "batch_size": 32,
        "n_permutations": 10,
        "n_map_permutations": 2,
        "n_bootstrap": 20,
        "threads_per_cell": 1,
    },
    # The quick sweep's budget per agent, five times the steps, three seeds, the ceiling.
    "quick": {},
    # GPU scale: every built-in agent, more seeds, finer checkpoints, longer training.
    "full": {
        "agents": ["jepa", "autoencoder", "supervised", "random", "pca"],
        "seeds": [0, 1, 2, 3, 4],
        "fractions": [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0],
        "dataset_steps": 20000,
        "eval_steps": 4000,
        "episode_steps": 40,
        "train_steps": 50000,
        "agent_steps": {"pca": 64},
        "n_permutations": 200,
        "n_map_permutations": 20,
        "n_bootstrap": 500,
        "threads_per_cell": 4,
    },
}


def preset_config(name: str) -> EmergenceConfig:
    """The named preset as an :class:`EmergenceConfig`."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return EmergenceConfig.from_dict(PRESETS[name])
