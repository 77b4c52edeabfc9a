"""One trainer for every agent, plus ``embed`` and ``load_agent``.

Run folder written by :func:`train_agent` (``out_dir``)::

    RUN/
      config.json     agent name + resolved config, dataset, camera, trainer settings, versions
      checkpoint.pt   latest checkpoint (atomic write; loaded with weights_only=True)
      metrics.jsonl   one JSON object per step: step, samples, flops, total_flops, agent metrics
      result.json     summary of the last finished call (a TrainResult)

FLOP accounting: ``torch.utils.flop_counter.FlopCounterMode`` wraps the first
step of each call (batches always have the same shape, so one count is exact for
every step); ``flops_per_step`` is that count and ``total_flops = flops_per_step x
steps``. It counts the matmul/convolution FLOPs of everything the agent runs in
``train_step`` (for ``jepa``: online forward and backward, the EMA target
encoder's forward, the predictor), not elementwise ops or the optimizer update.
Counting every step would slow training several-fold.

Calibration: an agent whose ``needs_calibration`` is True (an encoder with
``readout="core"``) is handed :func:`calibration_frames` of its stream at the end of
every call, after the last step and before the last checkpoint, and refreshes its
statistics from its final networks; the weights and the sampler are untouched, so a
resumed run ends exactly where an unbroken one does. ``calibrate=False`` skips it.

Readout changes: a run folder resumes under an agent whose config differs from the one
recorded only in settings that never change training (:func:`trains_alike`; for the
built-in encoders the core readout's ``core_rest`` and slowness rules). Calibration
reads it under the new settings, and a finished run's checkpoint is written again with
that calibration, so a new readout default costs a calibration pass, not a retraining.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from socialview.agents.base import Agent
from socialview.agents.data import CameraStream, DatasetError, open_camera_stream
from socialview.agents.registry import _REGISTRY, make_agent
from socialview.agents.torch_agent import AgentStateError

__all__ = [
    "CALIBRATION_FRAMES",
    "CHECKPOINT_NAME",
    "CONFIG_NAME",
    "METRICS_NAME",
    "QUICK_BATCH_SIZE",
    "QUICK_STEPS",
    "NonFiniteLossError",
    "RunFolderError",
    "TrainResult",
    "agent_identity",
    "calibration_frames",
    "calibration_pairs",
    "embed",
    "load_agent",
    "load_checkpoint",
    "resolve_device",
    "train_agent",
    "trains_alike",
]

#: Default quick budget: steps and batch size that the quick sweep trains each agent with
#: (about 30 s per ``jepa`` agent at 64x64 on 2 free CPU cores).
QUICK_STEPS = 800
QUICK_BATCH_SIZE = 64
#: Training frames (evenly spaced over the stream) an agent that ``needs_calibration`` is
#: calibrated on after a call's last step: about 2 s for the default encoder on 2 cores.
CALIBRATION_FRAMES = 4096

CONFIG_NAME = "config.json"
CHECKPOINT_NAME = "checkpoint.pt"
METRICS_NAME = "metrics.jsonl"
RESULT_NAME = "result.json"
RUN_FORMAT_VERSION = 1


class NonFiniteLossError(FloatingPointError):
    """Raised when an agent reports a NaN or infinite metric; training stops there."""


class RunFolderError(ValueError):
    """Raised when a run folder belongs to another agent, config, camera or dataset."""


@dataclass
class TrainResult:
    """What :func:`train_agent` returns (also written to ``RUN/result.json``)."""

    agent: Agent = field(repr=False)
    """The trained agent (the object passed in, trained in place)."""
    agent_name: str
    """Name that rebuilds the agent with ``make_agent`` (registry name or import string)."""
    steps: int
    """Total optimisation steps the agent has taken (including resumed ones)."""
    batch_size: int
    """Transitions per step."""
    flops_per_step: float
    """FLOPs of one ``train_step`` (counted once, see the module docstring)."""
    total_flops: float
    """``flops_per_step * steps``."""
    final_metrics: dict[str, float]
    """Metrics the agent returned at the last step taken in this call (empty if none)."""
    wall_time_s: float
    """Seconds spent in this call, FLOP counting and checkpoints included."""
    samples_per_s: float
    """Training throughput of this call, excluding the FLOP-counted first step."""
    resumed_from: int
    """Step the call started from (0 for a fresh run)."""
    run_dir: Path | None
    """Run folder, or None when ``out_dir`` was None."""
    device: str
    """Device trained on."""
    peak_rss_mb: float
    """Peak resident memory of this process so far, in MiB."""

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable summary (everything except the agent object)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "agent"}
        out["run_dir"] = str(self.run_dir) if self.run_dir is not None else None
        return out


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"``/None -> CUDA when available, else CPU; any other name, checked.

    A CUDA device this machine does not have is refused here, with the reason, so a
    long run fails before it records or trains anything rather than at its first tensor.

    Raises
    ------
    ValueError
        ``device`` is not a device name torch knows, or names a CUDA device that
        torch cannot see (no CUDA build or driver, or an index past the last GPU).
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r} "
                         f"({error})") from error
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"device {str(device)!r} needs CUDA, but torch {torch.__version__} "
                             "sees no CUDA device here; use 'cpu', or 'auto' to take a GPU "
                             "only where there is one")
        if dev.index is not None and dev.index >= count:
            raise ValueError(f"device {str(device)!r}: torch sees {count} CUDA device(s), "
                             f"so the index must be in [0, {count - 1}]")
    return dev


def _atomic_write_bytes(path: Path, writer) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            writer(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _atomic_write_json(path: Path, obj: Any) -> None:
    data = (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode()
    _atomic_write_bytes(path, lambda fh: fh.write(data))


def agent_identity(agent: Agent) -> tuple[str, dict[str, Any]]:
    """Name and resolved config (every field, defaults included, JSON-ready) that rebuild
    ``agent`` through ``make_agent``: what tells two runs of one agent kind apart."""
    spec = getattr(agent, "agent_spec", None)
    config = getattr(agent, "config", None)
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        resolved = dataclasses.asdict(config)
    elif isinstance(config, dict):
        resolved = dict(config)
    elif spec is not None:
        resolved = dict(spec["config"])
    else:
        resolved = {}
    if spec is not None:
        name = spec["name"]
    else:
        cls = type(agent)
        name = next((n for n, f in _REGISTRY.items() if f is cls),
                    f"{cls.__module__}:{cls.__qualname__}")
    return name, json.loads(json.dumps(resolved, default=str))


def _agent_class(agent: Agent) -> str:
    cls = type(agent)
    return f"{cls.__module__}.{cls.__qualname__}"


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint written by the trainer with ``torch.load(weights_only=True)``.

    Only tensors, containers and primitive values are unpickled, so loading a
    checkpoint cannot run code.
    """
    path = Path(path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise AgentStateError(f"{path}: not a loadable checkpoint ({type(exc).__name__}: "
                              f"{exc})") from exc
    if not isinstance(ckpt, dict) or "agent_state" not in ckpt:
        raise AgentStateError(f"{path}: not a socialview checkpoint")
    return ckpt


def _check_kind(ckpt: dict[str, Any], agent: Agent, where: Path) -> None:
    if ckpt.get("agent_class") != _agent_class(agent):
        raise AgentStateError(
            f"checkpoint {where} was written by agent {ckpt.get('agent')!r} "
            f"({ckpt.get('agent_class')}), not by {_agent_class(agent)}: "
            "use another run folder"
        )


def _dataset_summary(stream: CameraStream) -> dict[str, Any]:
    meta = stream.meta
    return {
        "path": str(stream.path.resolve()),
        "camera": stream.camera,
        "num_frames": len(stream),
        "image_size": list(stream.image_shape),
        "seed": meta.get("seed"),
        "overlap": meta.get("overlap"),
    }


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"torch": torch.__version__, "numpy": np.__version__}
    try:
        out["socialview"] = metadata.version("socialview")
    except metadata.PackageNotFoundError:
        pass
    return out


@contextlib.contextmanager
def _num_threads(n: int | None) -> Iterator[None]:
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _check_finite(metrics: dict[str, float], step: int, run_dir: Path | None,
                  last_ckpt: int | None) -> None:
    bad = {k: v for k, v in metrics.items() if not math.isfinite(float(v))}
    if not bad:
        return
    where = (f"the last good checkpoint (step {last_ckpt}) is in {run_dir}"
             if last_ckpt else "no checkpoint was written")
    raise NonFiniteLossError(
        f"training stopped at step {step}: non-finite metric(s) "
        f"{', '.join(f'{k}={v}' for k, v in bad.items())}; {where}. "
        "Try a lower learning rate or check the data."
    )


def train_agent(
    agent: Agent,
    dataset_dir: str | Path,
    camera: str,
    *,
    steps: int,
    out_dir: str | Path | None = None,
    seed: int | None = None,
    batch_size: int = QUICK_BATCH_SIZE,
    checkpoint_every: int = 500,
    device: str | torch.device | None = "auto",
    compile: bool = False,
    num_threads: int | None = None,
    progress: bool = True,
    resume: bool = True,
    calibrate: bool = True,
) -> TrainResult:
    """Train ``agent`` on one camera's stream, with checkpoints, metrics and FLOP counts.

    Parameters
    ----------
    agent : Agent
        Any object following the :class:`~socialview.agents.Agent` protocol; trained in
        place. Its optional ``horizon`` sets how many future frames each batch holds.
    dataset_dir : str or Path
        Dataset folder written by ``socialview record``.
    camera : str
        Camera whose frames the agent sees (e.g. ``"cam0"``).
    steps : int
        Total number of steps the agent should have taken when this call returns.
        Resuming a run that already reached ``steps`` trains nothing.
    out_dir : str or Path, optional
        Run folder (config, checkpoints, metrics). None trains in memory only.
    seed : int, optional
        Seeds the batch sampler's own generator. Defaults to the agent's ``seed``.
        With a fixed seed, training on CPU is bit-for-bit reproducible.
    batch_size : int
        Transitions per step.
    checkpoint_every : int
        Write ``checkpoint.pt`` every this many steps (and always at the end).
    device : str or torch.device, optional
        ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"``...
    compile : bool
        Call the agent's ``compile()`` (``torch.compile``) after the first step.
    num_threads : int, optional
        ``torch.set_num_threads`` for the duration of the call (restored afterwards).
    progress : bool
        Show a tqdm progress bar on stderr.
    resume : bool
        Continue from ``out_dir/checkpoint.pt`` when present; False refuses to touch
        a folder that already holds a run.
    calibrate : bool
        After the call's last step, let an agent that ``needs_calibration`` refresh its
        statistics on :func:`calibration_frames` of the stream (with the final networks),
        before the last checkpoint. False keeps the statistics training left.

    Returns
    -------
    TrainResult
        Steps, FLOPs, final metrics, throughput and the run folder.

    Raises
    ------
    ValueError
        ``device`` is not a device name, or a GPU this machine lacks (nothing is
        written).
    DatasetError
        The dataset or the camera does not exist (nothing is written).
    RunFolderError
        ``out_dir`` holds a run of another agent, config, camera or seed.
    AgentStateError
        ``out_dir``'s checkpoint was written by another agent kind.
    NonFiniteLossError
        The agent reported a NaN/inf metric; the last good checkpoint is kept.
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if batch_size < 1 or checkpoint_every < 1:
        raise ValueError("batch_size and checkpoint_every must be >= 1")
    stream = open_camera_stream(dataset_dir, camera,
                                with_state=bool(getattr(agent, "uses_state", False)))
    horizon = int(getattr(agent, "horizon", 1))
    starts = stream.valid_starts(horizon)
    if starts.size == 0:
        raise DatasetError(f"{stream.path}: no transition of horizon {horizon} fits inside an "
                           "episode")
    agent_dim = getattr(agent, "action_dim", None)
    if agent_dim is not None and int(agent_dim) != stream.action_dim:
        raise DatasetError(f"agent expects actions of width {agent_dim}, dataset "
                           f"{str(stream.path)!r} has {stream.action_dim}")
    name, agent_config = agent_identity(agent)
    if seed is None:
        seed = int(agent_config.get("seed", 0) or 0)
    run_config = {
        "format_version": RUN_FORMAT_VERSION,
        "agent": name,
        "agent_class": _agent_class(agent),
        "agent_config": agent_config,
        "camera": camera,
        "dataset": _dataset_summary(stream),
        "train": {"seed": seed, "batch_size": batch_size, "horizon": horizon,
                  "checkpoint_every": checkpoint_every},
        "versions": _versions(),
    }

    dev = resolve_device(device)  # before the run folder is touched
    run_dir = Path(out_dir) if out_dir is not None else None
    ckpt: dict[str, Any] | None = None
    reread = False
    if run_dir is not None:
        ckpt, reread = _prepare_run_dir(run_dir, run_config, agent, resume)

    if hasattr(agent, "to"):
        agent.to(dev)
    sampler = torch.Generator().manual_seed(int(seed))
    start = 0
    flops_per_step: float | None = None
    if ckpt is not None:
        agent.load_state_dict(ckpt["agent_state"])
        sampler.set_state(ckpt["sampler"])
        start = int(ckpt["step"])
        flops_per_step = float(ckpt["flops_per_step"]) if ckpt.get("flops_per_step") else None
        if start > steps:
            raise RunFolderError(f"run {run_dir} is already at step {start} > steps={steps}")
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write_json(run_dir / CONFIG_NAME, run_config)
        _truncate_metrics(run_dir / METRICS_NAME, start)

    def save(step: int) -> None:
        if run_dir is None:
            return
        state = {
            "format_version": RUN_FORMAT_VERSION,
            "agent": name,
            "agent_class": _agent_class(agent),
            "step": step,
            "agent_state": agent.state_dict(),
            "sampler": sampler.get_state(),
            "flops_per_step": flops_per_step,
            "batch_size": batch_size,
        }
        _atomic_write_bytes(run_dir / CHECKPOINT_NAME, lambda fh: torch.save(state, fh))

    t0 = time.perf_counter()
    metrics: dict[str, float] = {}
    last_ckpt = start if ckpt is not None else None
    timed_steps, timed_s = 0, 0.0
    bar = None
    if progress and steps > start:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, initial=start, desc=f"train {name}/{camera}", unit="step",
                   dynamic_ncols=True)
    metrics_fh = open(run_dir / METRICS_NAME, "a") if run_dir is not None else None
    compiled = False
    try:
        with _num_threads(num_threads):
            for step in range(start, steps):
                ts = time.perf_counter()
                batch = stream.sample(batch_size, sampler, horizon, starts)
                if dev.type != "cpu":
                    batch = batch.to(dev)
                if step == start:  # count once: every batch has the same shape
                    with FlopCounterMode(display=False) as counter:
                        metrics = agent.train_step(batch)
                    flops_per_step = float(counter.get_total_flops())
                else:
                    metrics = agent.train_step(batch)
                    timed_steps += 1
                    timed_s += time.perf_counter() - ts
                metrics = {k: float(v) for k, v in metrics.items()}
                done = step + 1
                if metrics_fh is not None:
                    line = {"step": done, "samples": done * batch_size,
                            "flops": flops_per_step, "total_flops": flops_per_step * done,
                            **metrics}
                    metrics_fh.write(json.dumps(line) + "\n")
                _check_finite(metrics, done, run_dir, last_ckpt)
                if compile and not compiled:
                    if hasattr(agent, "compile"):
                        agent.compile()
                    compiled = True
                if bar is not None:
                    bar.update(1)
                    if done % 10 == 0 or done == steps:
                        bar.set_postfix(loss=f"{metrics.get('loss', float('nan')):.4g}")
                if calibrate and done == steps and getattr(agent, "needs_calibration", False):
                    _calibrate(agent, stream)
                if done % checkpoint_every == 0 or done == steps:
                    if metrics_fh is not None:
                        metrics_fh.flush()
                    save(done)
                    last_ckpt = done
    finally:
        if bar is not None:
            bar.close()
        if metrics_fh is not None:
            metrics_fh.close()

    if calibrate and steps <= start and getattr(agent, "needs_calibration", False):
        # no step taken (an untrained agent, or a finished run): the checkpoint, if any,
        # was calibrated when written; an agent in memory is calibrated as it stands
        _calibrate(agent, stream)
        if ckpt is not None and reread:
            save(start)  # calibrated for a readout the checkpoint was not: keep it so
    wall = time.perf_counter() - t0
    total_steps = max(steps, start)
    fps = flops_per_step or 0.0
    result = TrainResult(
        agent=agent,
        agent_name=name,
        steps=total_steps,
        batch_size=batch_size,
        flops_per_step=fps,
        total_flops=fps * total_steps,
        final_metrics=metrics,
        wall_time_s=wall,
        samples_per_s=(timed_steps * batch_size / timed_s) if timed_s > 0 else 0.0,
        resumed_from=start,
        run_dir=run_dir,
        device=str(dev),
        peak_rss_mb=_peak_rss_mb(),
    )
    if run_dir is not None:
        _atomic_write_json(run_dir / RESULT_NAME, result.to_json())
    return result


def calibration_frames(stream: CameraStream, count: int = CALIBRATION_FRAMES) -> np.ndarray:
    """Up to ``count`` of the stream's frames, evenly spaced over it (so over every
    episode), in order: what the trainer calibrates an agent on after its last step.
    Chosen without a random stream, so calibrating never shifts the batch sampler."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count!r}")
    picks = np.unique(np.linspace(0, len(stream) - 1, min(count, len(stream))).round())
    return stream.frames[picks.astype(np.int64)]


def calibration_pairs(stream: CameraStream, count: int = CALIBRATION_FRAMES // 2
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``count`` frames, evenly spaced over the stream's transitions that stay in
    one episode, and the frame after each: what a readout that reads the latent's change
    from one frame to the next is calibrated on (``core_slow_step``). Chosen without a
    random stream, like :func:`calibration_frames`."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count!r}")
    starts = stream.valid_starts(1)
    if starts.size == 0:
        raise DatasetError(f"{stream.path}: no two consecutive frames in one episode to "
                           "calibrate the latent's change on")
    picks = starts[np.unique(np.linspace(0, starts.size - 1,
                                         min(count, starts.size)).round().astype(np.int64))]
    return stream.frames[picks], stream.frames[picks + 1]


def _calibrate(agent: Agent, stream: CameraStream) -> None:
    """Calibrate ``agent`` on :func:`calibration_frames`, and on :func:`calibration_pairs`
    where it reads the latent's change (``needs_change_calibration``)."""
    if getattr(agent, "needs_change_calibration", False):
        agent.calibrate(calibration_frames(stream), pairs=calibration_pairs(stream))
    else:
        agent.calibrate(calibration_frames(stream))


def _prepare_run_dir(run_dir: Path, run_config: dict[str, Any], agent: Agent,
                     resume: bool) -> tuple[dict[str, Any] | None, bool]:
    """Validate an existing run folder against this run; return its checkpoint if
    resuming, and whether its recorded agent config differs from this run's in settings
    that do not change training (:func:`trains_alike`), so its readout is read anew.

    Raises before anything is written, so a mistaken ``--out`` never clobbers a run.
    """
    if run_dir.exists() and not run_dir.is_dir():
        raise RunFolderError(f"{run_dir} exists and is not a folder")
    cfg_path, ckpt_path = run_dir / CONFIG_NAME, run_dir / CHECKPOINT_NAME
    old: dict[str, Any] | None = None
    if cfg_path.is_file():
        try:
            old = json.loads(cfg_path.read_text())
        except json.JSONDecodeError as exc:
            raise RunFolderError(f"{cfg_path}: unreadable ({exc}); use another run folder"
                                 ) from exc
    if old is None and not ckpt_path.exists():
        return None, False
    if not resume:
        raise RunFolderError(f"{run_dir} already holds a run; pass another folder "
                             "(or resume=True to continue it)")
    ckpt = load_checkpoint(ckpt_path) if ckpt_path.exists() else None
    if ckpt is not None:
        _check_kind(ckpt, agent, ckpt_path)
    if old is not None:
        if old.get("agent_class") != run_config["agent_class"]:
            raise AgentStateError(
                f"run {run_dir} was trained by agent {old.get('agent')!r} "
                f"({old.get('agent_class')}), not {run_config['agent']!r}: use another run "
                "folder")
        before, after = _training_views(agent, old.get("agent_config"))
        if before != after:  # trains_alike, with the differences to name
            raise RunFolderError(
                f"run {run_dir} has a different agent config, in settings that change "
                f"training ({_differences(before, after)}); use another run folder")
        if old.get("camera") != run_config["camera"]:
            raise RunFolderError(
                f"run {run_dir} has a different camera ({old.get('camera')!r} vs "
                f"{run_config['camera']!r}); use another run folder")
        for key in ("seed", "batch_size", "horizon"):
            if old.get("train", {}).get(key) != run_config["train"][key]:
                raise RunFolderError(
                    f"run {run_dir} used {key}={old['train'].get(key)!r}, this call "
                    f"{run_config['train'][key]!r}; use another run folder")
        old_data, new_data = old.get("dataset", {}), run_config["dataset"]
        for key in ("num_frames", "image_size"):
            if old_data.get(key) != new_data[key]:
                raise RunFolderError(
                    f"run {run_dir} was trained on another dataset ({key} "
                    f"{old_data.get(key)!r} vs {new_data[key]!r}); use another run folder")
    return ckpt, old is not None and old.get("agent_config") != run_config["agent_config"]


def trains_alike(agent: Agent, recorded: Any) -> bool:
    """Whether a run recorded with the agent config ``recorded`` (a run folder's
    ``agent_config``) trains exactly as ``agent`` would: the same settings, except those
    the agent says change only its readout (an optional ``training_settings(config)``
    method returns the rest; :meth:`~socialview.agents.torch_agent.TorchAgent.training_settings`
    for the built-in agents), with a setting added after the run was written counting
    as its default. Such a run is resumed; one that differs in readout settings only is
    recalibrated, so a changed readout default reads a finished run without training
    it again."""
    before, after = _training_views(agent, recorded)
    return before == after


def _training_views(agent: Agent, recorded: Any) -> tuple[Any, dict[str, Any]]:
    """The training settings of ``recorded`` (settings added since filled in at their
    defaults) and of ``agent``'s own config, as :func:`trains_alike` compares them."""
    _, config = agent_identity(agent)
    settings = getattr(agent, "training_settings", None)

    def view(value: Any) -> Any:
        return settings(value) if callable(settings) and isinstance(value, dict) else value

    return _with_new_defaults(view(recorded), view(config), agent), view(config)


def _differences(old: Any, new: dict[str, Any]) -> str:
    """``key: old -> new`` for each setting two recorded agent configs disagree on."""
    if not isinstance(old, dict):
        return f"recorded {old!r}"
    unset = "unset"
    keys = sorted(key for key in set(old) | set(new) if old.get(key, unset) != new.get(key, unset))
    return ", ".join(f"{key}: {old.get(key, unset)!r} -> {new.get(key, unset)!r}"
                     for key in keys)


def _with_new_defaults(old: Any, new: dict[str, Any], agent: Agent) -> Any:
    """``old``, a run folder's recorded agent config, with the settings a later release
    added filled in where this run sets them to their defaults: a run written before an
    option existed behaved as its default does, so it resumes under the new release. A
    setting the run folder lacks and this run sets otherwise stays missing (a mismatch)."""
    config = getattr(agent, "config", None)
    if not isinstance(old, dict) or not (dataclasses.is_dataclass(config)
                                         and not isinstance(config, type)):
        return old
    defaults = {f.name: json.loads(json.dumps(f.default, default=str))
                for f in dataclasses.fields(config) if f.default is not dataclasses.MISSING}
    added = {key: value for key, value in new.items()
             if key not in old and key in defaults and value == defaults[key]}
    return {**old, **added}


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop metric lines past ``step`` (written after the checkpoint a resume starts from)."""
    if not path.exists():
        return
    keep = []
    for line in path.read_text().splitlines():
        try:
            if json.loads(line).get("step", 0) <= step:
                keep.append(line)
        except json.JSONDecodeError:
            break  # a torn last line from a crash
    data = ("\n".join(keep) + "\n" if keep else "").encode()
    _atomic_write_bytes(path, lambda fh: fh.write(data))


def load_agent(run_dir: str | Path, device: str | torch.device | None = "cpu") -> Agent:
    """Rebuild the agent of a run folder: ``make_agent`` from config.json, then the checkpoint.

    Parameters
    ----------
    run_dir : str or Path
        Folder written by :func:`train_agent`.
    device : str or torch.device, optional
        Where to put the agent (``"auto"`` picks CUDA when available).

    Raises
    ------
    RunFolderError
        The folder has no config.json or checkpoint.
    AgentStateError
        The checkpoint belongs to another agent kind than config.json says.
    """
    run_dir = Path(run_dir)
    cfg_path, ckpt_path = run_dir / CONFIG_NAME, run_dir / CHECKPOINT_NAME
    if not cfg_path.is_file() or not ckpt_path.is_file():
        raise RunFolderError(f"{str(run_dir)!r} is not a run folder (needs {CONFIG_NAME} and "
                             f"{CHECKPOINT_NAME}; train one with `socialview train`)")
    config = json.loads(cfg_path.read_text())
    agent = make_agent(config["agent"], **config.get("agent_config", {}))
    ckpt = load_checkpoint(ckpt_path)
    _check_kind(ckpt, agent, ckpt_path)
    agent.load_state_dict(ckpt["agent_state"])
    if hasattr(agent, "to"):
        agent.to(resolve_device(device))
    return agent


def embed(
    agent: Agent,
    dataset_dir: str | Path,
    camera: str,
    indices: np.ndarray | None = None,
    batch_size: int = 256,
) -> np.ndarray:
    """Encode frames of one camera into latents.

    Parameters
    ----------
    agent : Agent
        A (trained) agent.
    dataset_dir : str or Path
        Dataset folder.
    camera : str
        Camera whose frames are encoded (need not be the one the agent trained on).
    indices : np.ndarray, optional
        Frame indices to encode, in the order wanted. Default: every frame.
    batch_size : int
        Frames per ``encode`` call (bounds memory; for the built-in agents the result
        depends on it only through float rounding).

    Returns
    -------
    np.ndarray
        float32 ``(N, latent_dim)``, row ``i`` the latent of frame ``indices[i]``.
    """
    stream = open_camera_stream(dataset_dir, camera)
    if indices is None:
        indices = np.arange(len(stream))
    indices = np.asarray(indices, dtype=np.int64)
    if indices.ndim != 1:
        raise ValueError("indices must be one-dimensional")
    if indices.size and (indices.min() < -len(stream) or indices.max() >= len(stream)):
        raise IndexError(f"frame index out of range for {len(stream)} frames")
    out = np.empty((indices.size, int(agent.latent_dim)), dtype=np.float32)
    with torch.no_grad():
        for lo in range(0, indices.size, batch_size):
            chunk = indices[lo:lo + batch_size]
            frames = torch.from_numpy(np.ascontiguousarray(stream.frames[chunk]))
            z = agent.encode(frames)
            z = z.detach().float().cpu().numpy() if isinstance(z, torch.Tensor) \
                else np.asarray(z, dtype=np.float32)
            if z.shape != (chunk.size, out.shape[1]):
                raise ValueError(f"agent.encode returned shape {z.shape}, expected "
                                 f"({chunk.size}, {out.shape[1]})")
            out[lo:lo + chunk.size] = z
    return out
