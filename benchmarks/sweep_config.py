"""What an overlap sweep runs: its configuration, presets, and their validation.

A sweep is a grid over two axes of the camera rig, target pixel overlap x
viewpoint shift, repeated over seeds. Not every pair is reachable by every rig
(see :func:`socialview.envs.reachable_overlap`): the sweep records those cells
as ``unreachable`` instead of failing.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Settings of earlier config files that load under a new name (old key -> new key).
LEGACY_KEYS = {"viewpoint_shift": "viewpoint_shifts"}
#: Default training steps per agent kind when ``agent_steps`` does not say:
#: the untrained control takes none, PCA sees enough batches to fill its sample.
DEFAULT_AGENT_STEPS = {"random": 0, "pca": 40}


@dataclass
class SweepConfig:
    """Everything that fixes an overlap sweep's results (saved as ``config.json``).

    The defaults are the ``quick`` preset.
    """

    overlaps: list[float] = field(default_factory=lambda: [0.25, 0.7, 1.0])
    """Target pixel overlaps of the two cameras, each in [0, 1]."""
    viewpoint_shifts: list[float] = field(default_factory=lambda: [0.0])
    """Degrees of azimuth between the two cameras, each in [0, 180]: the second axis.
    (Older configs' single ``viewpoint_shift`` loads as a one-element list.) The quick
    grid keeps the overlap dial whole at one shift: with an encoder that can know the
    world a cell costs ~3.9 min on one core, and the 90-degree row (0.25 and 0.7; 1.0
    is unreachable there) made ``make sweep`` take 31 min on 2 cores."""
    rig: str = "slide"
    """How the env reaches an overlap: "slide" (fixed distance and field of view; not
    every overlap is reachable at every shift) or "zoom" (backs off; reaches [0, ~1])."""
    footprint: float | None = None
    """Slide rig only: share of the arena floor one camera sees (None: the env's default)."""
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    """One cell per (overlap, shift, seed): the seed fixes the world's trajectories (the
    same at every overlap and shift) and the agents."""
    agents: list[str] = field(default_factory=lambda: ["jepa", "supervised", "random", "pca"])
    """Agent kinds: registry names or "package.module:attr" strings. The default trains the
    labelled ``supervised`` ceiling beside ``jepa`` in every cell (a reference, marked as
    such), so the report says how close each cell's agent comes to what its encoder could
    know there; ``random`` and ``pca`` are the untrained controls."""
    image_size: int = 64
    """Square image side in pixels."""
    latent_dim: int = 64
    """Latent width of every agent."""
    dataset_steps: int = 8000
    """Frames recorded for training the agents (8,000 since round fourteen, 4,000 before:
    more distinct frames lift ``jepa`` and its ceiling at the same steps, for ~15 s of
    rendering a cell; docs/agents-study.md, finding 19)."""
    eval_steps: int = 2400
    """Frames of a separately seeded recording used only for evaluation."""
    train_steps: int = 800
    """Training steps of each learning agent (see ``agent_steps`` for exceptions)."""
    agent_steps: dict[str, int] = field(default_factory=dict)
    """Per-kind training steps overriding ``train_steps`` (defaults: random 0, pca 40)."""
    agent_config: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per-kind extra keyword arguments for ``make_agent``."""
    batch_size: int = 64
    """Transitions per training step."""
    episode_steps: int = 24
    """Frames per recorded episode: short episodes give the held-out split many
    independent starts, so its labels and latents are not one long correlated run."""
    test_size: float = 0.25
    """Held-out share of the evaluation frames (its last episodes, never random frames)."""
    n_permutations: int = 100
    """Shuffled pairings per similarity metric (the null)."""
    n_map_permutations: int = 10
    """Refits on shuffled pairs per map kind (the null of held-out R2)."""
    n_bootstrap: int = 200
    """Bootstrap resamples for the per-cell confidence intervals."""
    threads_per_cell: int = 2
    """Torch threads inside one cell; results are reproducible for a fixed value."""
    device: str = "cpu"
    """Torch device the agents train and encode on: ``cpu``, ``cuda``, ``cuda:N``, or
    ``auto`` (CUDA where there is one). CPU by default, so a sweep's numbers are
    bit-for-bit reproducible for a fixed ``threads_per_cell``; a GPU measures the same
    things with other float rounding, and cells with ``--jobs`` share it. Recording,
    probes and maps run on the CPU either way."""
    keep_data: bool = False
    """Keep each cell's recordings and run folders after the cell is done."""

    def steps_for(self, agent: str) -> int:
        """Training steps of agent kind ``agent``."""
        if agent in self.agent_steps:
            return int(self.agent_steps[agent])
        return DEFAULT_AGENT_STEPS.get(agent, self.train_steps)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form; :meth:`from_dict` inverts it."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> SweepConfig:
        """Build and validate a config; unknown keys are an error that lists the known ones."""
        values = upgrade_legacy_keys(values)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown sweep setting(s) {unknown}; known settings: {sorted(known)}")
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        """Raise ``ValueError`` naming the setting, its value and what is allowed."""
        _check_grid("overlaps", self.overlaps, 0.0, 1.0)
        if not self.seeds or not all(isinstance(s, int) and s >= 0 for s in self.seeds):
            raise ValueError(f"seeds must be a non-empty list of ints >= 0, got {self.seeds!r}")
        if not self.agents:
            raise ValueError("agents must name at least one agent kind, got []")
        _check_grid("viewpoint_shifts", self.viewpoint_shifts, 0.0, 180.0)
        from socialview.envs import RIGS

        if self.rig not in RIGS:
            raise ValueError(f"rig must be one of {list(RIGS)}, got {self.rig!r}")
        if self.footprint is not None:
            if isinstance(self.footprint, bool) or not isinstance(self.footprint, (int, float)):
                raise ValueError(f"footprint must be a number or null, got {self.footprint!r}")
            if self.rig != "slide":
                raise ValueError(
                    f"footprint={self.footprint!r} applies to rig='slide' only; leave it unset "
                    f"(null) with rig={self.rig!r}"
                )
        for name in (
            "image_size",
            "latent_dim",
            "dataset_steps",
            "eval_steps",
            "batch_size",
            "episode_steps",
            "n_permutations",
            "n_bootstrap",
            "threads_per_cell",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        check_device_name(self.device)
        if not 0.0 < self.test_size < 1.0:
            raise ValueError(f"test_size must be in (0, 1), got {self.test_size}")
        if self.eval_steps < 2 * self.episode_steps and self.eval_steps < 40:
            raise ValueError(
                f"eval_steps={self.eval_steps} is too few frames to split into fitting and "
                "held-out episodes; use at least 40"
            )


def upgrade_legacy_keys(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with old setting names mapped to new ones, so old config files still load.

    ``viewpoint_shift: 30`` becomes ``viewpoint_shifts: [30]``. Giving both the old
    and the new name in one mapping is ambiguous and an error.
    """
    values = dict(values)
    for old, new in LEGACY_KEYS.items():
        if old in values:
            if new in values:
                raise ValueError(f"give {new!r} or the older {old!r}, not both")
            value = values.pop(old)
            values[new] = value if isinstance(value, list) else [value]
    return values


def check_device_name(device: Any) -> None:
    """``device`` spelled as a sweep setting allows: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.

    Only the spelling: whether this machine has that GPU is checked when a run starts
    (:func:`socialview.agents.trainer.resolve_device`), so a config made for a GPU
    machine still loads, and its report can be rewritten, on one without.
    """
    if not isinstance(device, str) or not re.fullmatch(r"auto|cpu|cuda(:\d+)?", device):
        raise ValueError(
            f"device must be 'cpu', 'auto' (CUDA where there is one), 'cuda' or 'cuda:N', "
            f"got {device!r}"
        )


def _check_grid(name: str, values: Any, low: float, high: float) -> None:
    """An axis of the grid: a non-empty list of distinct numbers in [low, high]."""
    allowed = f"[{low:g}, {high:g}]"
    if not isinstance(values, list) or not values:
        raise ValueError(f"{name} must list at least one value in {allowed}, got {values!r}")
    for value in values:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or not low <= value <= high:
            raise ValueError(f"{name} must lie in {allowed}, got {value!r}")
    if len(set(values)) != len(values):
        raise ValueError(f"{name} must not repeat a value, got {values}")


PRESETS: dict[str, dict[str, Any]] = {
    # CI: seconds per cell; 2 overlaps x 2 shifts (all reachable by the slide rig), one seed.
    "smoke": {
        "overlaps": [0.3, 0.6],
        "viewpoint_shifts": [0.0, 90.0],
        "seeds": [0],
        "agents": ["jepa", "random"],
        "image_size": 32,
        "latent_dim": 16,
        "dataset_steps": 300,
        "eval_steps": 160,
        "episode_steps": 20,
        "train_steps": 30,
        "agent_steps": {"pca": 5},
        "batch_size": 32,
        "n_permutations": 20,
        "n_map_permutations": 2,
        "n_bootstrap": 30,
        "threads_per_cell": 1,
    },
    # `make sweep` (the defaults): slide rig, overlaps 0.25 0.7 1.0 at shift 0, three
    # seeds, JEPA, its labelled ceiling and the two controls, 2 CPU cores (~12 min).
    "quick": {},
    # GPU scale: the whole 2-D grid (unreachable cells are recorded and skipped), five
    # seeds, every built-in agent, the labelled ceiling included.
    "full": {
        "overlaps": [round(0.1 * i, 1) for i in range(11)],
        "viewpoint_shifts": [0.0, 45.0, 90.0, 135.0, 180.0],
        "seeds": [0, 1, 2, 3, 4],
        "agents": ["jepa", "autoencoder", "supervised", "random", "pca"],
        "dataset_steps": 20000,
        "eval_steps": 4000,
        "train_steps": 10000,
        "agent_steps": {"pca": 64},
        "n_permutations": 500,
        "n_map_permutations": 50,
        "n_bootstrap": 1000,
        "threads_per_cell": 4,
    },
}


def preset_config(name: str) -> SweepConfig:
    """The named preset as a :class:`SweepConfig`."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return SweepConfig.from_dict(PRESETS[name])


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Settings from a JSON or YAML file (by extension), as a plain dict."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"config file {str(path)!r} does not exist")
    text = path.read_text()
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        values = yaml.safe_load(text)
    elif path.suffix.lower() == ".json":
        values = json.loads(text)
    else:
        raise ValueError(f"config file must end in .json, .yaml or .yml, got {str(path)!r}")
    if not isinstance(values, dict):
        raise ValueError(f"config file {str(path)!r} must hold a mapping of settings")
    return values
