"""``socialview train`` and ``socialview embed``.

::

    socialview train --data DIR --camera cam0 --agent jepa --steps 3000 --out RUN
    socialview train ... --agent mypkg.agents:MyAgent --set lr=3e-4 --set width=64
    socialview embed --run RUN --data DIR --camera cam0 --out latents.npy

Bad input (missing dataset or camera, unknown agent, config key the agent does
not take, a run folder of another agent) ends with a one-line message and exit
code 2; nothing is written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["parse_overrides", "register"]

#: Exit code for bad input (the message says what to fix).
EXIT_BAD_INPUT = 2
#: Exit code when training stopped on a NaN/inf loss.
EXIT_NON_FINITE = 3


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """Turn ``["lr=3e-4", "rollout=true", "name=x"]`` into a dict (values parsed as JSON)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--set expects KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` and ``embed`` sub-commands to the ``socialview`` parser."""
    p = subparsers.add_parser("train", help="train one agent on one camera's stream",
                              description="Train one agent on one camera of a recorded dataset.")
    p.add_argument("--data", required=True, help="dataset folder (from `socialview record`)")
    p.add_argument("--camera", required=True, help="camera name, e.g. cam0")
    p.add_argument("--agent", default="jepa",
                   help="registered name, entry point or package.module:attr (default: jepa)")
    p.add_argument("--steps", type=int, default=1000, help="total training steps")
    p.add_argument("--out", required=True, help="run folder (resumed if it holds this run)")
    p.add_argument("--seed", type=int, default=0, help="agent and sampler seed (default 0)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="agent config value (JSON-parsed), repeatable")
    p.add_argument("--config", help="JSON file of agent config values (--set wins)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1...")
    p.add_argument("--compile", action="store_true", help="torch.compile the networks")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--no-resume", action="store_true",
                   help="refuse to continue a run already in --out")
    p.set_defaults(func=_train)

    e = subparsers.add_parser("embed", help="encode a camera's frames with a trained agent",
                              description="Write the latents of every frame of a camera.")
    e.add_argument("--run", required=True, help="run folder written by `socialview train`")
    e.add_argument("--data", required=True, help="dataset folder")
    e.add_argument("--camera", default=None, help="camera to encode (default: the run's)")
    e.add_argument("--out", required=True, help="output .npy file, float32 (T, latent_dim)")
    e.add_argument("--batch-size", type=int, default=256)
    e.add_argument("--device", default="cpu")
    e.set_defaults(func=_embed)


def _fail(command: str, exc: BaseException, code: int = EXIT_BAD_INPUT) -> int:
    print(f"socialview {command}: error: {exc}", file=sys.stderr)
    return code


def _bad_input_errors() -> tuple[type[BaseException], ...]:
    from socialview.agents import (
        AgentConfigError,
        AgentStateError,
        DatasetError,
        RunFolderError,
        UnknownAgentError,
    )

    return (AgentConfigError, AgentStateError, DatasetError, RunFolderError, UnknownAgentError,
            FileNotFoundError, ValueError)


def _train(args: argparse.Namespace) -> int:
    from socialview.agents import NonFiniteLossError, make_agent, train_agent

    try:
        config: dict[str, Any] = {}
        if args.config:
            config.update(json.loads(Path(args.config).read_text()))
        config.update(parse_overrides(args.overrides))
        config.setdefault("seed", args.seed)
        agent = make_agent(args.agent, **config)
        result = train_agent(
            agent, args.data, args.camera, steps=args.steps, out_dir=args.out, seed=args.seed,
            batch_size=args.batch_size, checkpoint_every=args.checkpoint_every,
            device=args.device, compile=args.compile, num_threads=args.threads,
            progress=not args.no_progress, resume=not args.no_resume,
        )
    except NonFiniteLossError as exc:
        return _fail("train", exc, EXIT_NON_FINITE)
    except _bad_input_errors() as exc:
        return _fail("train", exc)
    loss = result.final_metrics.get("loss")
    print(f"trained {result.agent_name} on {args.camera} to step {result.steps} "
          f"({result.total_flops / 1e12:.3f} TFLOP, {result.wall_time_s:.1f} s"
          + (f", loss {loss:.4g}" if loss is not None else "") + f") -> {result.run_dir}")
    return 0


def _embed(args: argparse.Namespace) -> int:
    from socialview.agents import embed, load_agent

    try:
        run = Path(args.run)
        camera = args.camera
        if camera is None:
            cfg_file = run / "config.json"
            camera = json.loads(cfg_file.read_text())["camera"] if cfg_file.is_file() else None
            if camera is None:
                raise ValueError(f"{run} has no config.json; pass --camera")
        agent = load_agent(run, device=args.device)
        latents = embed(agent, args.data, camera, batch_size=args.batch_size)
    except _bad_input_errors() as exc:
        return _fail("embed", exc)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}.npy")
    np.save(tmp, latents)
    os.replace(tmp, out)
    print(f"wrote {latents.shape[0]} x {latents.shape[1]} latents of {camera} -> {out}")
    return 0
