"""The ``socialview`` command line: one entry point, one sub-command per job.

Each sub-command lives beside the code it drives and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a callable
taking the parsed namespace and returning an exit code. This module only
collects them, so adding a command never means editing a central ``if`` chain.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Modules that contribute sub-commands, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "socialview.envs.cli",
    "socialview.agents.cli",
    "socialview.benchmarks.overlap_sweep",
    "socialview.benchmarks.migration",
    "socialview.benchmarks.emergence",
    "socialview.benchmarks.perf",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="socialview",
        description="Multi-camera MuJoCo worlds, independent agents, latent-space alignment.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen sub-command; return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
