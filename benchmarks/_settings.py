"""Command-line plumbing shared by the benchmark commands built on a settings dataclass.

A command's settings come from a preset, then an optional JSON/YAML file, then
explicit flags (later ones win); its report quotes the command line that
reproduces them. The sweep and the emergence curve share these steps and their
common flags, so both behave the same way.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from socialview.benchmarks.sweep_config import load_config_file

__all__ = [
    "add_setting_flags",
    "appendix_lines",
    "describe_settings",
    "register_command",
    "run_standalone",
    "settings_from_args",
]


def add_setting_flags(
    parser: argparse.ArgumentParser,
    presets: Mapping[str, Any],
    default_out: str,
    extra: Sequence[tuple[str, dict[str, Any]]] = (),
) -> None:
    """Add ``--preset``, ``--config``, ``--out``, the flags of the shared settings, and ``extra``.

    ``extra`` holds ``(flag, add_argument keyword arguments)`` pairs of the
    command's own settings, added after ``--seeds``.
    """
    parser.add_argument(
        "--preset", default="quick", help=f"starting settings: {', '.join(presets)} (default quick)"
    )
    parser.add_argument("--config", type=Path, help="JSON/YAML file of settings (over the preset)")
    parser.add_argument("--out", type=Path, default=Path(default_out), help="output folder")
    parser.add_argument(
        "--agents", nargs="+", help="agent kinds: built-in names or package.module:attr"
    )
    parser.add_argument("--seeds", type=int, nargs="+")
    for flag, options in extra:
        parser.add_argument(flag, **options)
    parser.add_argument("--viewpoint-shift", type=float)
    parser.add_argument("--image-size", type=int)
    parser.add_argument("--latent-dim", type=int)
    parser.add_argument("--dataset-steps", type=int)
    parser.add_argument("--eval-steps", type=int)
    parser.add_argument("--train-steps", type=int)
    parser.add_argument("--threads-per-cell", type=int)
    parser.add_argument(
        "--device", help="torch device for the agents: cpu (default), cuda, cuda:N or auto"
    )


def settings_from_args(
    args: argparse.Namespace, presets: Mapping[str, Mapping[str, Any]], flags: Sequence[str]
) -> dict[str, Any]:
    """Preset, then ``--config`` file, then the given flags that were set: later ones win."""
    if args.preset not in presets:
        raise ValueError(f"unknown preset {args.preset!r}; choose one of {sorted(presets)}")
    values = dict(presets[args.preset])
    if args.config:
        values.update(load_config_file(args.config))
    values.update({f: getattr(args, f) for f in flags if getattr(args, f) is not None})
    return values


def describe_settings(args: argparse.Namespace, flags: Sequence[str]) -> list[str]:
    """``--preset``, ``--config`` and every set flag, in canonical form, for a report."""
    parts = [f"--preset {args.preset}"]
    if args.config:
        parts.append(f"--config {args.config}")
    for flag in flags:
        value = getattr(args, flag)
        if value is not None:
            shown = " ".join(map(str, value)) if isinstance(value, list) else value
            parts.append(f"--{flag.replace('_', '-')} {shown}")
    return parts


def appendix_lines(config: Any, versions: Mapping[str, str]) -> list[str]:
    """The closing sections of a report: the resolved settings as JSON and the versions."""
    import json

    return [
        "## Configuration",
        "",
        "```json",
        json.dumps(config.to_dict(), indent=2),
        "```",
        "",
        "## Software",
        "",
        *[f"- {name} {version}" for name, version in versions.items()],
        "",
    ]



def register_command(
    subparsers: argparse._SubParsersAction,
    name: str,
    summary: str,
    module_doc: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    command: Callable[[argparse.Namespace], int],
) -> None:
    """Add sub-command ``name``: help ``summary``, description ``module_doc``'s first paragraph."""
    parser = subparsers.add_parser(name, help=summary, description=module_doc.split("\n\n")[0])
    add_arguments(parser)
    parser.set_defaults(func=command)


def run_standalone(
    module: str,
    module_doc: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    command: Callable[[argparse.Namespace], int],
    argv: Sequence[str] | None = None,
) -> int:
    """``python -m <module>``: the same flags and behaviour as the sub-command."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {module}", description=module_doc.split("\n\n")[0]
    )
    add_arguments(parser)
    return command(parser.parse_args(argv))
