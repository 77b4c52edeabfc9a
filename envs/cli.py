"""``socialview record`` and ``socialview view``."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``record`` and ``view`` sub-commands."""
    record = subparsers.add_parser(
        "record",
        help="roll out a policy and write a synchronized multi-view dataset",
        description="Roll out a policy in SocialView-v1 and write a multi-view dataset.",
    )
    record.add_argument("--out", required=True, type=Path, help="dataset folder to create")
    record.add_argument("--steps", type=int, default=5000, help="frames to record")
    _add_env_arguments(record)
    record.add_argument("--seed", type=int, default=0)
    record.add_argument("--episode-steps", type=int, default=200, help="frames per episode")
    record.add_argument(
        "--policy",
        default=None,
        help="'package.module:callable' taking (obs, info, rng) and returning an action; "
        "uniform random by default",
    )
    record.add_argument("--force", action="store_true", help="replace an existing dataset")
    record.add_argument("--no-preview", action="store_true", help="skip the mp4/gif preview")
    record.set_defaults(func=_record)

    view = subparsers.add_parser(
        "view",
        help="save a grid of every camera's view over overlaps x viewpoint shifts",
        description="Save a PNG/SVG grid of all camera views: one column per --overlap, one "
        "row per --viewpoint-shift; settings the rig cannot reach are left blank and labelled "
        "with the reachable range.",
    )
    view.add_argument("--out", required=True, type=Path, help="image to write (.png or .svg)")
    view.add_argument("--seed", type=int, default=0)
    _add_env_arguments(view, many_overlaps=True)
    view.set_defaults(func=_view)


def _add_env_arguments(parser: argparse.ArgumentParser, many_overlaps: bool = False) -> None:
    if many_overlaps:
        parser.add_argument(
            "--overlap", type=float, nargs="+", default=[0.5], help="target pixel overlap(s)"
        )
        parser.add_argument(
            "--viewpoint-shift", type=float, nargs="+", default=[30.0], help="degrees, 0-180"
        )
    else:
        parser.add_argument("--overlap", type=float, default=0.5, help="target pixel overlap")
        parser.add_argument("--viewpoint-shift", type=float, default=30.0, help="degrees, 0-180")
    parser.add_argument("--num-cameras", type=int, default=2)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--rig", choices=["slide", "zoom"], default="slide", help="camera rig")
    parser.add_argument(
        "--footprint",
        type=float,
        default=None,
        help="slide rig: share of the arena floor one camera sees (default 0.5)",
    )
    parser.add_argument(
        "--env-kwargs", type=json.loads, default={}, help="extra env kwargs as a JSON object"
    )


def _env_kwargs(args: argparse.Namespace, with_shift: bool = True) -> dict:
    kwargs = {"num_cameras": args.num_cameras, "image_size": args.image_size, "rig": args.rig}
    if with_shift:
        kwargs["viewpoint_shift"] = args.viewpoint_shift
    if args.footprint is not None:
        kwargs["footprint"] = args.footprint
    return {**kwargs, **args.env_kwargs}


def _load_callable(spec: str):
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"--policy must look like 'package.module:callable', got {spec!r}")
    return getattr(importlib.import_module(module_name), attribute)


def _record(args: argparse.Namespace) -> int:
    from socialview.envs.recording import record_dataset

    try:
        policy = _load_callable(args.policy) if args.policy else None
        path = record_dataset(
            args.out,
            steps=args.steps,
            overlap=args.overlap,
            seed=args.seed,
            policy=policy,
            force=args.force,
            preview=not args.no_preview,
            env_kwargs=_env_kwargs(args),
            episode_steps=args.episode_steps,
        )
    except (ValueError, FileExistsError, ImportError, AttributeError) as error:
        print(f"socialview record: error: {error}", file=sys.stderr)
        return 2
    meta = json.loads((path / "meta.json").read_text())
    print(f"wrote {path} ({meta['num_frames']} frames, measured overlap {meta['overlap']:.3f})")
    return 0


def _view(args: argparse.Namespace) -> int:
    from socialview.envs.viewstrip import view_grid

    try:
        path = view_grid(
            args.out,
            args.overlap,
            args.viewpoint_shift,
            seed=args.seed,
            env_kwargs=_env_kwargs(args, with_shift=False),
        )
    except ValueError as error:
        print(f"socialview view: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0
