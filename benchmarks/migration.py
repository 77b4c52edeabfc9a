"""``socialview migrate``: does distilling through the map save compute for a new camera?

An agent A already exists, trained on camera A. A new agent for camera B is
trained two ways, and each way's probe accuracy is tracked against the FLOPs it
has spent:

(i) **scratch**: a fresh agent B trains on camera B as usual.
(ii) **distill**: a fresh agent B' (same seed as B, so the two paths differ only
     in what happens before normal training) is first regressed onto A's
     latents of the *paired* frame from camera A, expressed in the coordinates of B'
     through a map re-fitted with :func:`socialview.alignment.fit_map` (orthogonal by
     default), then trains as usual.

Accuracy is a linear probe (:class:`socialview.alignment.LogisticProbe`) reading a
task label (``label``, default :data:`socialview.envs.labels.DEFAULT_LABEL`; any
name in :data:`~socialview.envs.labels.LABELS`, ``quadrant`` included) from
camera-B latents of a separate evaluation recording (another seed), fitted on its
first episodes and scored on its last episodes: whole held-out episodes, never
randomly split consecutive frames, which would leak; frames where the label is
undefined (-1, e.g. ``contact_soon`` at an episode's end) are dropped from both.
The headline is the FLOPs ratio: FLOPs of path (ii) when it first reaches an
accuracy over those of path (i), linearly interpolated between evaluation points,
read at an absolute target (85% by default) and at a relative level
(``relative_fraction`` x the seed's best scratch accuracy, which the scratch
path reaches by construction). The Social-JEPA paper reports 0.28x at 85%; this
module reports what it measures, including "never reached".

Every seed in ``seeds`` is a whole independent run (recordings, A, B, B') in
``out/seed<N>/`` with its own ``result.json``; a rerun reuses finished seeds
whose config matches, so a killed run resumes and an added seed costs only
itself. ``migration.json`` (format 2) holds the per-seed results under ``seeds``
and, under ``summary``, each ratio's mean over the seeds that reached its level
with a Student t interval and how many did (n of N); ``migration.csv`` holds
every curve point.

FLOP accounting (also written into ``migration.json``, key ``accounting``):
:class:`torch.utils.flop_counter.FlopCounterMode` counts matmul/convolution FLOPs
(forward and backward); elementwise ops and optimizer updates are not counted,
the same convention as :func:`socialview.agents.train_agent`.

Examples
--------
>>> from socialview.benchmarks.migration import PRESETS, run_migration  # doctest: +SKIP
>>> result = run_migration(PRESETS["smoke"], "results/migration-smoke")  # doctest: +SKIP
>>> result["summary"]["ratio_at_relative_level"]["mean"]                # doctest: +SKIP

On the command line: ``socialview migrate --preset quick --seeds 0 1 2 --label quadrant``.

The code is split by job, and this module is the public entry: the command line
and a re-export of every public name, so ``socialview.benchmarks.migration`` is
the one place to import from.

- :mod:`~socialview.benchmarks.migration_config`: :class:`MigrationConfig`, presets, files.
- :mod:`~socialview.benchmarks.migration_data`: recordings, the label's probe split,
  raw-pixel features.
- :mod:`~socialview.benchmarks.migration_distill`: :func:`distill_through_map`.
- :mod:`~socialview.benchmarks.migration_curves`: FLOPs to a level, ratios, accounting,
  and ratios from ``(flops, accuracy)`` curves summarised over seeds.
- :mod:`~socialview.benchmarks.migration_summary`: the summary over seeds, the CSV,
  reading format 1 results.
- :mod:`~socialview.benchmarks.migration_report`: the chart and the printed summary.
- :mod:`~socialview.benchmarks.migration_run`: :func:`run_migration`, which drives them.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import itertools
import json
import sys
import textwrap
import types
import typing
from pathlib import Path
from typing import Any

from .migration_config import (
    DISTILL_MAP_KINDS,
    PIXEL_SIDE,
    PRESETS,
    MigrationConfig,
    get_preset,
    load_config,
)
from .migration_curves import (
    ACCOUNTING,
    PAPER_RATIO,
    RatioSummary,
    flops_ratio_at_target,
    flops_to_reach,
    relative_target,
    summarise_ratios,
)
from .migration_distill import DistillResult, distill_through_map
from .migration_report import summary_lines
from .migration_run import run_migration
from .migration_summary import csv_text, summarise_seeds, upgrade_result

__all__ = [
    "ACCOUNTING",
    "DISTILL_MAP_KINDS",
    "PAPER_RATIO",
    "PIXEL_SIDE",
    "PRESETS",
    "DistillResult",
    "MigrationConfig",
    "RatioSummary",
    "config_from_args",
    "csv_text",
    "distill_through_map",
    "flops_ratio_at_target",
    "flops_to_reach",
    "get_preset",
    "load_config",
    "register",
    "relative_target",
    "run_migration",
    "summarise_ratios",
    "summarise_seeds",
    "summary_lines",
    "upgrade_result",
]


# --------------------------------------------------------------------------------------
# command line


def _field_docs() -> dict[str, str]:
    """Docstrings under each field of :class:`MigrationConfig` (for ``--help``)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(MigrationConfig)))
    except (OSError, TypeError):
        return {}
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs = {}
    for node, nxt in itertools.pairwise(body):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)):
            docs[node.target.id] = " ".join(nxt.value.value.split()).replace("%", "%%")
    return docs


def _parser_for(tp: Any) -> Any:
    """argparse ``type=`` callable for a field annotation (for ``list[X]``: one item's)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        base = _parser_for(inner[0])

        def optional(text: str) -> Any:
            return None if text.lower() in ("none", "null") else base(text)

        return optional
    if tp is dict or origin is dict:
        return json.loads
    if tp is bool:
        return lambda text: text.lower() in ("1", "true", "yes", "on")
    if origin is list:
        return _parser_for(typing.get_args(tp)[0])
    return tp


def _nargs_for(tp: Any) -> dict[str, Any]:
    """``nargs="+"`` for a list field (``--seeds 0 1 2``), nothing for a scalar one."""
    return {"nargs": "+"} if typing.get_origin(tp) is list else {}


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``migrate`` sub-command to ``subparsers``; returns its parser."""
    parser = subparsers.add_parser(
        "migrate",
        help="compute-to-accuracy: a new agent from scratch vs distilled through the map",
        description=(
            "Train a new agent for camera B from scratch and, separately, distilled from an "
            "existing agent A through the fitted latent map; report probe accuracy against "
            "cumulative FLOPs for both and the FLOPs ratios at a target accuracy and at a "
            "level relative to the scratch path, for every seed and summarised over seeds. "
            "Writes seed<N>/ folders, migration.json, migration.csv, migration.png and "
            "migration.svg to --out; a rerun reuses finished seeds."),
    )
    parser.add_argument("--preset", default="quick",
                        help=f"starting configuration: {', '.join(PRESETS)} (default quick)")
    parser.add_argument("--out", default="results/migration",
                        help="results folder (default results/migration)")
    parser.add_argument("--config", default=None, metavar="FILE",
                        help="JSON or YAML file of config fields applied over the preset")
    parser.add_argument("--no-progress", "--quiet", dest="no_progress", action="store_true",
                        help="no progress bars")
    docs = _field_docs()
    hints = typing.get_type_hints(MigrationConfig)
    group = parser.add_argument_group("config overrides (applied last)")
    for f in dataclasses.fields(MigrationConfig):
        group.add_argument(f"--{f.name.replace('_', '-')}", dest=f"override_{f.name}",
                           type=_parser_for(hints[f.name]), default=argparse.SUPPRESS,
                           metavar=f.name.upper(), help=docs.get(f.name),
                           **_nargs_for(hints[f.name]))
    parser.set_defaults(func=_main)
    return parser


def config_from_args(args: argparse.Namespace) -> MigrationConfig:
    """Preset, then ``--config`` file, then per-field overrides; validated."""
    cfg = get_preset(args.preset)
    if args.config is not None:
        cfg = load_config(args.config, base=cfg)
    # Flags default to SUPPRESS, so only those given appear (``--num-threads none`` too).
    overrides = {f.name: getattr(args, f"override_{f.name}")
                 for f in dataclasses.fields(MigrationConfig)
                 if hasattr(args, f"override_{f.name}")}
    return cfg.replace(**overrides).validate()


def _main(args: argparse.Namespace) -> int:
    try:
        cfg = config_from_args(args)
    except (ValueError, KeyError, TypeError, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"socialview migrate: error: {message}", file=sys.stderr)
        return 2
    result = run_migration(cfg, args.out, progress=not args.no_progress)
    for line in summary_lines(result):
        print(line)
    print(f"wrote {Path(args.out) / 'migration.json'}")
    return 0
