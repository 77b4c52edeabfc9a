"""Seeds together: the ``summary`` of ``migration.json``, its CSV rows, and format 1 results.

Pure functions over per-seed results (the entries of ``migration.json``'s
``seeds`` list), so a summary can be recomputed, and a CSV or chart redrawn,
from a saved result without re-running anything.
:mod:`socialview.benchmarks.migration` re-exports the public names.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from typing import Any

from .migration_curves import curve_ratios, summarise_ratios

__all__ = ["CSV_COLUMNS", "RATIO_NAMES", "csv_text", "summarise_seeds", "upgrade_result"]

#: The per-seed ratios summarised over seeds (keys of each seed's ``ratios``).
RATIO_NAMES = ("ratio_at_target", "ratio_at_target_including_a", "ratio_at_relative_level",
               "ratio_at_relative_level_including_a")

#: Columns of ``migration.csv``: one row per seed x path x checkpoint.
CSV_COLUMNS = ("seed", "path", "step", "cumulative_flops", "accuracy")


def _spread(values: Sequence[float]) -> dict[str, float | None]:
    """Mean, min and max of ``values`` (all None when there are none)."""
    if not values:
        return {"mean": None, "min": None, "max": None}
    return {"mean": math.fsum(values) / len(values), "min": min(values), "max": max(values)}


def summarise_seeds(seeds: Sequence[dict[str, Any]], confidence: float = 0.95
                    ) -> dict[str, Any]:
    """The ``summary`` entry of ``migration.json`` from its per-seed results.

    For each of :data:`RATIO_NAMES`, :func:`summarise_ratios` over the seeds
    (mean and Student t interval over the seeds that reached the level, and how
    many did); for the accuracies that frame them (best scratch and distill
    accuracy, A's accuracy, chance, the raw-pixel probe on camera B) their mean,
    min and max over seeds, so a ratio can be read against how well the probe
    does at all.
    """
    if not seeds:
        raise ValueError("no seed results to summarise")
    ratios = [s["ratios"] for s in seeds]
    camera_b = seeds[0]["scratch"]["camera"]
    accuracies = {
        "best_accuracy_scratch": [r["best_accuracy_scratch"] for r in ratios],
        "best_accuracy_distill": [r["best_accuracy_distill"] for r in ratios],
        "a_probe_accuracy": [s["a"]["probe_accuracy"] for s in seeds],
        "chance": [s["chance"] for s in seeds],
        "raw_pixels_b_accuracy": [s["reference"]["raw_pixels_probe_accuracy"][camera_b]
                                  for s in seeds],
        "relative_level": [r["relative_level"] for r in ratios],
    }
    out: dict[str, Any] = {
        "seeds": [s["seed"] for s in seeds],
        "n_seeds": len(seeds),
        "target_accuracy": ratios[0]["target_accuracy"],
        "relative_fraction": ratios[0]["relative_fraction"],
    }
    for name in RATIO_NAMES:
        out[name] = summarise_ratios([r[name] for r in ratios], confidence).to_json()
    out.update({name: _spread(values) for name, values in accuracies.items()})
    return out


def csv_text(seeds: Sequence[dict[str, Any]]) -> str:
    """``migration.csv``: one row per seed x path x checkpoint (:data:`CSV_COLUMNS`).

    The distill path's FLOPs include its distillation (its first row sits at
    that cost); A's training is in neither path's rows.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for seed in seeds:
        for path in ("scratch", "distill"):
            for point in seed[path]["curve"]:
                writer.writerow([seed["seed"], path, point["step"],
                                 repr(float(point["cumulative_flops"])),
                                 repr(float(point["accuracy"]))])
    return buffer.getvalue()


def upgrade_result(result: dict[str, Any]) -> dict[str, Any]:
    """A format 1 (one seed) ``migration.json`` in the format 2 layout; format 2 unchanged.

    The single run becomes the one entry of ``seeds`` (its ``seed`` from the
    legacy config), its ratios are recomputed from its curves with the relative
    level at 0.9 of the best scratch accuracy, and the summary is made from it;
    the label is ``quadrant``, the only one format 1 measured. Lets the report
    functions read results saved before seeds existed.
    """
    if result.get("format_version", 1) >= 2:
        return result
    config = {k: v for k, v in result["config"].items() if k != "seed"}
    config.setdefault("label", "quadrant")
    config.setdefault("relative_fraction", 0.9)
    seed = int(result["config"].get("seed", 0))
    entry = {k: result[k] for k in ("a", "scratch", "distill", "chance", "reference", "probe",
                                    "datasets") if k in result}
    entry["seed"] = seed
    entry["ratios"] = curve_ratios(result["scratch"]["curve"], result["distill"]["curve"],
                                   result["ratios"]["target_accuracy"],
                                   result["a"]["train_flops"], config["relative_fraction"])
    entry["probe"] = {**entry.get("probe", {}), "label": "quadrant"}
    return {**{k: v for k, v in result.items() if k not in entry and k != "ratios"},
            "format_version": 2, "config": {**config, "seeds": [seed]}, "seeds": [entry],
            "summary": summarise_seeds([entry])}
