"""Env speed next to a bare MuJoCo loop doing the same physics and renders, in one run.

    python -m socialview.benchmarks.env_perf --out results/env_perf.json [--quick]

For each image size: env steps/s and render frames/s of ``SocialViewEnv.step``
with the default ``info`` and with ``object_pixels=False`` (the per-step rays
left out, so the difference is what they cost), of ``record_dataset`` (preview
off; recordings need ``object_pixels``), and of a bare loop (``mujoco.mj_step`` +
``mujoco.Renderer`` on the same model, same cameras, same frame skip), each the
median of interleaved repeats; the ratios are what to quote, since absolute
numbers move with the machine's load. The goals (``env_vs_bare`` >= 0.8,
``record_vs_bare`` >= 0.7) apply to the default configuration; each size's
``configurations`` says what every key measured. It also reports the speed-up of our
rendering set-up (buffer = image, no shadow map) over MuJoCo's defaults (640x480
offscreen buffer, 4096 shadow map), and whether make/reset/close cycles leak
file descriptors or memory.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from socialview.benchmarks._io import write_json_atomic
from socialview.envs import SocialViewEnv, record_dataset
from socialview.envs.recording import package_versions
from socialview.envs.scene import build_model


@dataclass
class EnvPerfArgs:
    """Settings of the env benchmark."""

    image_sizes: Sequence[int] = (64, 128)
    """Square image sizes to time."""
    num_cameras: int = 2
    """Cameras in the rig."""
    steps: int = 300
    """Env steps per timed repeat."""
    record_steps: int = 1500
    """Frames per timed recording (it includes the recorder's fixed set-up cost)."""
    repeats: int = 3
    """Interleaved repeats; the median is reported."""
    default_steps: int = 20
    """Steps for the slow MuJoCo-defaults loop."""
    cycles: int = 500
    """make/reset/close cycles for the GL-release check (0 to skip)."""


def bare_loop(
    model, steps: int, frame_skip: int, height: int, width: int
) -> Callable[[], tuple[int, float]]:
    """The reference: step physics and render every camera with MuJoCo's own API."""
    import mujoco

    def run() -> tuple[int, float]:
        data = mujoco.MjData(model)
        renderer = mujoco.Renderer(model, height, width)
        rng = np.random.default_rng(0)
        mujoco.mj_forward(model, data)
        try:
            start = time.perf_counter()
            for _ in range(steps):
                data.ctrl[:] = rng.uniform(-1.0, 1.0, 2)
                mujoco.mj_step(model, data, nstep=frame_skip)
                for camera in range(model.ncam):
                    renderer.update_scene(data, camera=camera)
                    renderer.render()
            return steps, time.perf_counter() - start
        finally:
            renderer.close()

    return run


def _rate(run: Callable[[], tuple[int, float]]) -> float:
    count, seconds = run()
    return count / seconds


def env_loop(env: SocialViewEnv, steps: int) -> Callable[[], tuple[int, float]]:
    """Our env: ``reset`` once (untimed), then ``step`` with random actions."""

    def run() -> tuple[int, float]:
        env.reset(seed=0)
        rng = np.random.default_rng(0)
        start = time.perf_counter()
        for _ in range(steps):
            env.step(rng.uniform(-1.0, 1.0, 2))
        return steps, time.perf_counter() - start

    return run


def record_loop(kwargs: dict, steps: int) -> Callable[[], tuple[int, float]]:
    """``record_dataset`` end to end (env construction, memmaps, metadata), preview off."""

    def run() -> tuple[int, float]:
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            record_dataset(
                Path(folder) / "data", steps=steps, preview=False, progress=False, **kwargs
            )
            return steps, time.perf_counter() - start

    return run


#: What each timed loop is (the keys of ``steps_per_s`` and ``repeats``).
CONFIGURATIONS = {
    "env": "SocialViewEnv.step, default info (object_pixels by rays, labels, ...); "
    "the env_vs_bare goal applies to this",
    "env_no_object_pixels": "SocialViewEnv(object_pixels=False).step: default info "
    "without object_pixels (no rays)",
    "record": "record_dataset end to end, preview off; needs object_pixels "
    "(the record_vs_bare goal applies to this)",
    "bare": "mj_step + mujoco.Renderer of every camera, same model and frame skip",
    "defaults": "the bare loop with MuJoCo's defaults (640x480 buffer, 4096 shadow map)",
}


def measure_size(args: EnvPerfArgs, size: int) -> dict:
    """Steps/s of both env configurations, recorder, bare and MuJoCo-defaults loops."""
    kwargs = {"num_cameras": args.num_cameras, "image_size": size, "overlap": 0.5}
    env = SocialViewEnv(**kwargs)
    lean = SocialViewEnv(**kwargs, object_pixels=False)
    poses = [camera.pose for camera in env.cameras]
    bare = bare_loop(env.model, args.steps, env.frame_skip, size, size)
    defaults_model = build_model(poses, size, size, shadows=True, offscreen_size=(480, 640))
    defaults = bare_loop(defaults_model, args.default_steps, env.frame_skip, size, size)
    loops = {
        "bare": bare,
        "env": env_loop(env, args.steps),
        "env_no_object_pixels": env_loop(lean, args.steps),
        "record": record_loop(kwargs, args.record_steps),
        "defaults": defaults,
    }
    rates: dict[str, list[float]] = {key: [] for key in loops}
    try:
        for _ in range(args.repeats):
            for key, loop in loops.items():
                rates[key].append(_rate(loop))
    finally:
        env.close()
        lean.close()
    median = {key: statistics.median(values) for key, values in rates.items()}
    cameras = args.num_cameras
    return {
        "image_size": size,
        "num_cameras": cameras,
        "configurations": CONFIGURATIONS,
        "steps_per_s": median,
        "render_frames_per_s": {key: value * cameras for key, value in median.items()},
        "env_vs_bare": median["env"] / median["bare"],
        "env_no_object_pixels_vs_bare": median["env_no_object_pixels"] / median["bare"],
        "record_vs_bare": median["record"] / median["bare"],
        "object_pixels_ms_per_step": 1e3 / median["env"] - 1e3 / median["env_no_object_pixels"],
        "speedup_over_mujoco_defaults": median["bare"] / median["defaults"],
        "repeats": rates,
    }


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def gl_release_check(cycles: int) -> dict:
    """make/reset/close ``cycles`` times; report fd and RSS growth after a warm-up."""
    camera = [{"lookat": [0, 0, 0], "distance": 3.0, "azimuth": 90, "elevation": -60}]
    warmup = min(20, cycles)
    fds = rss = 0.0
    for index in tqdm(range(cycles), desc="gl cycles", leave=False):
        if index == warmup:
            fds, rss = _open_fds(), _rss_mib()
        env = SocialViewEnv(cameras=camera, image_size=16)
        env.reset(seed=index)
        env.close()
    return {
        "cycles": cycles,
        "fd_growth": _open_fds() - fds,
        "rss_growth_mib": round(_rss_mib() - rss, 2),
    }


def run_benchmark(quick: bool = False, args: EnvPerfArgs | None = None) -> dict:
    """Run the env benchmark and return its JSON-ready result."""
    args = args or (
        EnvPerfArgs(steps=60, record_steps=60, repeats=1, default_steps=5, cycles=40)
        if quick
        else EnvPerfArgs()
    )
    sizes = [measure_size(args, size) for size in tqdm(args.image_sizes, desc="env perf")]
    return {
        "benchmark": "env_perf",
        "args": asdict(args) | {"image_sizes": list(args.image_sizes)},
        "sizes": sizes,
        "gl_release": gl_release_check(args.cycles) if args.cycles else None,
        "goals": {"env_vs_bare": 0.8, "record_vs_bare": 0.7},
        "goal_configurations": {
            "env_vs_bare": "default info (object_pixels on)",
            "record_vs_bare": "record_dataset (object_pixels on, as recordings need)",
        },
        "machine": machine_info(),
        "versions": package_versions(),
    }


def machine_info() -> dict:
    """Where the numbers come from: CPU count, platform, GL backend, GPU if any."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "mujoco_gl": os.environ.get("MUJOCO_GL"),
        "gpu": None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; writes the JSON result to ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/env_perf.json"))
    parser.add_argument("--quick", action="store_true", help="a few seconds, for smoke tests")
    options = parser.parse_args(argv)
    result = run_benchmark(quick=options.quick)
    write_json_atomic(options.out, result)
    for size in result["sizes"]:
        print(
            f"{size['image_size']}px: env {size['steps_per_s']['env']:.0f} steps/s "
            f"({size['env_vs_bare']:.2f}x bare; object_pixels=False "
            f"{size['env_no_object_pixels_vs_bare']:.2f}x), "
            f"record {size['record_vs_bare']:.2f}x bare, "
            f"{size['speedup_over_mujoco_defaults']:.1f}x faster than MuJoCo defaults"
        )
    print(f"wrote {options.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
