"""Time of the alignment metrics and maps on sweep-sized latents.

    python -m socialview.benchmarks.alignment_perf --out results/alignment_perf.json [--quick]

For each latent size (rows x width, default 10k and 100k rows x 64 and 256
dims, float32 like an encoder's output) it times every registered metric at
its default settings, every map's ``fit``, and :func:`compare` at the size the
sweep uses (2000 x 64, default settings). Linear CKA is also timed as a bare
numpy implementation of the same formula in the same run; the ratio
``ours / bare`` is the number to quote (absolute seconds move with the load of
the machine). Metrics whose cost grows as ``n^2`` say what they did: ``rbf_cka``
and ``rsa`` subsample to their ``max_rows`` (4000) by default, and
``mutual_knn`` (exact) is skipped above ``pairwise_limit`` rows. The BLAS
thread policy of the package (``SOCIALVIEW_ALIGNMENT_BLAS``, default one thread)
applies to the bare reference too, and is recorded under ``machine``.

The perf command line calls :func:`run_benchmark`; :func:`main` is the
stand-alone entry point.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy

from socialview.alignment import compare, fit_map, get_metric, map_kinds, metric_names
from socialview.alignment._threads import blas_policy, blas_threads_for

#: (rows, width) pairs of the full benchmark.
DEFAULT_SIZES: tuple[tuple[int, int], ...] = (
    (10_000, 64),
    (10_000, 256),
    (100_000, 64),
    (100_000, 256),
)
#: (rows, width) pairs of the quick benchmark (seconds, for CI).
QUICK_SIZES: tuple[tuple[int, int], ...] = ((2_000, 32), (5_000, 64))

#: Metrics that subsample to ``max_rows`` rows by default, and that default.
_SUBSAMPLED = {"rbf_cka": 4000, "rsa": 4000}
#: Metrics that are exact and O(n^2) in time.
_QUADRATIC = {"mutual_knn"}


def bare_linear_cka(X: np.ndarray, Y: np.ndarray) -> float:
    """Linear CKA written directly in numpy (float64, feature space): the reference."""
    X = X.astype(np.float64)
    Y = Y.astype(np.float64)
    X -= X.mean(axis=0)
    Y -= Y.mean(axis=0)
    xy = np.linalg.norm(X.T @ Y) ** 2
    return float(xy / (np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y)))


def _time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Best (smallest) wall time of ``repeats`` calls, and the last return value.

    The minimum is the least load-sensitive estimate of what the code costs.
    """
    times = []
    out = None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def make_latents(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two float32 latent arrays related by a rotation, a shift and noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.float32)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    Y = (X @ Q.astype(np.float32)) * 1.5 + 2.0
    Y += 0.5 * rng.standard_normal((n, d), dtype=np.float32)
    return X, Y


def _as_float(v: Any) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


def measure_size(
    n: int,
    d: int,
    *,
    metrics: Sequence[str],
    kinds: Sequence[str],
    repeats: int,
    pairwise_limit: int,
    seed: int,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Time every metric and map fit on one (n, d) pair of latents."""
    X, Y = make_latents(n, d, seed)
    rows: dict[str, Any] = {"n": n, "d": d, "metrics": {}, "maps": {}}
    for name in metrics:
        entry: dict[str, Any] = {"rows_used": n, "note": ""}
        if name in _QUADRATIC and n > pairwise_limit:
            entry.update(
                seconds=None,
                value=None,
                rows_used=0,
                note=f"skipped: exact O(n^2) metric above pairwise_limit={pairwise_limit}",
            )
            rows["metrics"][name] = entry
            continue
        if name in _SUBSAMPLED and n > _SUBSAMPLED[name]:
            entry.update(
                rows_used=_SUBSAMPLED[name],
                note=f"subsampled to max_rows={_SUBSAMPLED[name]} (default)",
            )
        fn = get_metric(name).function
        seconds, value = _time(lambda fn=fn: fn(X, Y), repeats)
        entry.update(seconds=seconds, value=_as_float(value))
        rows["metrics"][name] = entry
        if log:
            log(f"{n} x {d} {name}: {seconds:.3f}s")
    if "linear_cka" in metrics:
        # Same BLAS thread policy as ours, so the ratio is the wrapper's overhead only.
        with blas_threads_for(X.size + Y.size):
            ref_s, ref_v = _time(lambda: bare_linear_cka(X, Y), repeats)
        ours = rows["metrics"]["linear_cka"]
        rows["reference"] = {
            "linear_cka_bare_numpy_seconds": ref_s,
            "linear_cka_bare_numpy_value": ref_v,
            "linear_cka_ratio_ours_over_bare": ours["seconds"] / ref_s if ref_s > 0 else None,
            "values_agree": bool(abs(ours["value"] - ref_v) < 1e-6),
        }
    for kind in kinds:
        seconds, m = _time(lambda kind=kind: fit_map(X, Y, kind), repeats)
        rows["maps"][kind] = {"fit_seconds": seconds, "train_r2": _as_float(m.score(X, Y))}
        if log:
            log(f"{n} x {d} fit {kind}: {seconds:.3f}s")
    return rows


def run_benchmark(
    sizes: Sequence[tuple[int, int]] | None = None,
    quick: bool = False,
    *,
    metrics: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    repeats: int | None = None,
    pairwise_limit: int = 20_000,
    compare_size: tuple[int, int] | None = (2000, 64),
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Time the alignment metrics, map fits and ``compare()``.

    Parameters
    ----------
    sizes : sequence of (rows, width), optional
        Latent sizes; default :data:`DEFAULT_SIZES`, or :data:`QUICK_SIZES`
        when ``quick``.
    quick : bool, default False
        Small sizes and two repeats: seconds in total on an idle machine.
    metrics : sequence of str, optional
        Registered metric names; default all.
    kinds : sequence of str, optional
        Map kinds; default all.
    repeats : int, optional
        Repeats per timing, best reported; default 3 (2 when ``quick``).
    pairwise_limit : int, default 20000
        Exact O(n^2) metrics (``mutual_knn``) are skipped above this many rows.
    compare_size : (rows, width) or None, default (2000, 64)
        Size at which one default ``compare()`` call is timed; None skips it.
    seed : int, default 0
        Seed of the synthetic latents.
    log : callable, optional
        Called with one line per timing, for progress output.

    Returns
    -------
    dict
        ``{"benchmark", "quick", "machine", "sizes": [per-size dict], "compare"}``;
        each per-size dict has ``metrics`` (name -> seconds, value, rows_used,
        note), ``maps`` (kind -> fit_seconds, train_r2) and ``reference`` (bare
        numpy linear CKA time and the ratio ours / bare).
    """
    if sizes is None:
        sizes = QUICK_SIZES if quick else DEFAULT_SIZES
    if repeats is None:
        repeats = 2 if quick else 3
    metrics = list(metric_names() if metrics is None else metrics)
    kinds = list(map_kinds() if kinds is None else kinds)
    start = time.perf_counter()
    out: dict[str, Any] = {
        "benchmark": "alignment_perf",
        "quick": quick,
        "repeats": repeats,
        "machine": machine_info(),
        "sizes": [],
    }
    # Warm up once-per-process costs (thread-pool discovery, lazy imports) so the
    # first timing is not charged for them.
    warm_x, warm_y = make_latents(64, 4, seed)
    for name in metrics:
        get_metric(name).function(warm_x, warm_y)
    for n, d in sizes:
        out["sizes"].append(
            measure_size(
                int(n),
                int(d),
                metrics=metrics,
                kinds=kinds,
                repeats=repeats,
                pairwise_limit=pairwise_limit,
                seed=seed,
                log=log,
            )
        )
    if compare_size is not None:
        X, Y = make_latents(*compare_size, seed=seed)
        seconds, res = _time(lambda: compare(X, Y, test_size=0.25, seed=seed), 1)
        out["compare"] = {
            "n": compare_size[0],
            "d": compare_size[1],
            "seconds": seconds,
            "settings": {
                "n_permutations": res.n_permutations,
                "n_map_permutations": res.n_map_permutations,
                "n_bootstrap": res.n_bootstrap,
            },
        }
    out["total_seconds"] = time.perf_counter() - start
    return out


def machine_info() -> dict[str, Any]:
    """What the timings ran on."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "alignment_blas_policy": blas_policy(),
        "blas_threads_env": {
            k: os.environ[k]
            for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
            if k in os.environ
        },
    }


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> Path:
    """Write ``data`` as JSON to ``path`` via a temporary file in the same folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _parse_sizes(text: str) -> list[tuple[int, int]]:
    try:
        pairs = [tuple(int(v) for v in item.lower().split("x")) for item in text.split(",")]
    except ValueError:
        pairs = []
    if not pairs or any(len(p) != 2 or min(p) < 1 for p in pairs):
        raise argparse.ArgumentTypeError(
            f"sizes must look like '10000x64,100000x256'; got {text!r}"
        )
    return [(p[0], p[1]) for p in pairs]


def format_table(result: dict[str, Any]) -> str:
    """A short human-readable summary of :func:`run_benchmark` output."""
    lines = []
    for size in result["sizes"]:
        lines.append(f"{size['n']} x {size['d']}")
        for name, e in size["metrics"].items():
            t = "skipped" if e["seconds"] is None else f"{e['seconds']:.3f}s"
            note = f"  ({e['note']})" if e["note"] else ""
            lines.append(f"  {name:<22} {t:>10}{note}")
        for kind, e in size["maps"].items():
            lines.append(f"  fit {kind:<18} {e['fit_seconds']:>9.3f}s")
        ref = size.get("reference")
        if ref:
            lines.append(
                f"  linear_cka / bare numpy: {ref['linear_cka_ratio_ours_over_bare']:.2f}x"
            )
    if "compare" in result:
        c = result["compare"]
        lines.append(f"compare() {c['n']} x {c['d']}: {c['seconds']:.2f}s")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print a summary, write JSON if ``--out`` is given."""
    parser = argparse.ArgumentParser(
        prog="python -m socialview.benchmarks.alignment_perf",
        description="Time the alignment metrics and maps on synthetic latents.",
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON file to write (atomic).")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--sizes", type=_parse_sizes, default=None, help="e.g. 10000x64,100000x256")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per timing (best)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic latents")
    parser.add_argument(
        "--skip-compare", action="store_true", help="do not time compare() at 2000 x 64"
    )
    args = parser.parse_args(argv)
    result = run_benchmark(
        args.sizes,
        args.quick,
        repeats=args.repeats,
        seed=args.seed,
        compare_size=None if args.skip_compare else (2000, 64),
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(format_table(result))
    if args.out is not None:
        write_json_atomic(args.out, result)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
