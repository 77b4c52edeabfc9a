"""``socialview perf``: the env, trainer and alignment benchmarks in one run, one table.

Each benchmark compares our code with the bare MuJoCo/PyTorch/numpy loop doing
the same work in the same run; the table lists those ratios (the numbers worth
quoting on a shared, noisy machine) and the JSON keeps every benchmark's full
result.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from socialview.benchmarks._io import write_json_atomic


def _env_rows(result: dict) -> list[tuple[str, float, float | None]]:
    rows = []
    for size in result["sizes"]:
        px = f"{size['image_size']}px, {size['num_cameras']} cameras"
        rows.append((f"env step ({px}) / bare MuJoCo loop", size["env_vs_bare"], 0.8))
        if "env_no_object_pixels_vs_bare" in size:  # results from before the option lack it
            rows.append(
                (
                    f"env step, object_pixels=False ({px}) / bare MuJoCo loop",
                    size["env_no_object_pixels_vs_bare"],
                    None,  # the goal is the default env's; this shows what the rays cost
                )
            )
        rows.append((f"recording ({px}) / bare MuJoCo loop", size["record_vs_bare"], 0.7))
        rows.append(
            (
                f"our render set-up ({px}) / MuJoCo defaults",
                size["speedup_over_mujoco_defaults"],
                None,
            )
        )
    return rows


def _train_rows(result: dict) -> list[tuple[str, float, float | None]]:
    throughput = result["throughput"]
    return [
        (
            "trainer samples/s / bare PyTorch loop",
            throughput["ratio"],
            throughput.get("target_ratio", 0.8),
        )
    ]


def _alignment_rows(result: dict) -> list[tuple[str, float, float | None]]:
    rows = []
    for size in result["sizes"]:
        ratio = (size.get("reference") or {}).get("linear_cka_ratio_ours_over_bare")
        if ratio:
            label = f"linear_cka ({size['n']}x{size['d']}) / bare numpy formula"
            rows.append((label, 1.0 / ratio, None))
    return rows


def _benchmarks(quick: bool, device: str) -> list[tuple[str, Callable[[], dict], Callable]]:
    from socialview.benchmarks import alignment_perf, env_perf, train_perf

    return [
        ("env", lambda: env_perf.run_benchmark(quick=quick), _env_rows),
        ("trainer", lambda: train_perf.run_benchmark(quick=quick, device=device), _train_rows),
        ("alignment", lambda: alignment_perf.run_benchmark(quick=quick), _alignment_rows),
    ]


def run_perf(quick: bool = False, device: str = "cpu") -> dict[str, Any]:
    """Run every benchmark; a failing one is recorded and the others still run.

    ``device`` is where the trainer benchmark trains (its JSON's ``machine`` says which);
    the env and alignment benchmarks run on the CPU.
    """
    results: dict[str, Any] = {}
    table: list[dict[str, Any]] = []
    for name, run, rows in _benchmarks(quick, device):
        start = time.perf_counter()
        try:
            result = run()
        except Exception as error:  # report it, keep the other numbers
            results[name] = {"error": f"{type(error).__name__}: {error}"}
            continue
        result["wall_time_s"] = time.perf_counter() - start
        results[name] = result
        for label, ratio, goal in rows(result):
            table.append(
                {
                    "benchmark": name,
                    "ratio": label,
                    "value": ratio,
                    "goal": goal,
                    "meets_goal": None if goal is None else ratio >= goal,
                }
            )
    return {"quick": quick, "device": device, "table": table, "results": results}


def format_table(table: list[dict[str, Any]]) -> str:
    """Fixed-width text table of the ratios (higher is faster for us)."""
    width = max((len(row["ratio"]) for row in table), default=10)
    lines = [f"{'ratio (higher = ours faster)':<{width}}  {'value':>7}  goal"]
    for row in table:
        goal = (
            ""
            if row["goal"] is None
            else (f">= {row['goal']:.2f} {'ok' if row['meets_goal'] else 'MISSED'}")
        )
        lines.append(f"{row['ratio']:<{width}}  {row['value']:>7.2f}  {goal}")
    return "\n".join(lines)


def command(args: argparse.Namespace) -> int:
    """Run ``socialview perf`` and write its JSON."""
    from socialview.agents.trainer import resolve_device

    try:
        resolve_device(args.device)  # refuse a missing GPU before minutes of benchmarks
    except ValueError as error:
        print(f"socialview perf: error: {error}", file=sys.stderr)
        return 2
    result = run_perf(quick=args.quick, device=args.device)
    write_json_atomic(args.out, result)
    print(format_table(result["table"]))
    failed = [name for name, r in result["results"].items() if "error" in r]
    for name in failed:
        print(f"{name} benchmark failed: {result['results'][name]['error']}", file=sys.stderr)
    print(f"wrote {args.out}")
    return 1 if failed else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``perf`` sub-command."""
    parser = subparsers.add_parser(
        "perf",
        help="env, trainer and alignment speed as ratios to bare loops",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--out", type=Path, default=Path("results/perf.json"))
    parser.add_argument("--quick", action="store_true", help="small sizes: about a minute")
    parser.add_argument(
        "--device", default="cpu",
        help="where the trainer benchmark trains: cpu (default), cuda, cuda:N or auto",
    )
    parser.set_defaults(func=command)
