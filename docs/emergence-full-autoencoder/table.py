"""Print this folder's README table from its emergence.json: per checkpoint, the
`autoencoder`'s orthogonal map, state probe (pusher, objects) and state share, beside
`jepa` and the labelled `supervised`, each as the mean over seeds with the min-max.

    python docs/emergence-full-autoencoder/table.py [docs/emergence-full-autoencoder/emergence.json]
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

CAMERAS = ("cam0", "cam1")


def _camera_mean(record: dict, key: str) -> float:
    return sum(record["probe"][cam][key] for cam in CAMERAS) / len(CAMERAS)


def _cell(values: list[float]) -> str:
    mean = sum(values) / len(values)
    return f"{mean:.3f} ({min(values):.3f} to {max(values):.3f})"


def main(path: Path) -> str:
    records = json.loads(path.read_text())["records"]
    columns: dict[tuple[str, str], dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        agent, step = record["agent"], record["step"]
        columns[(agent, "map")][step].append(record["compare"]["map_r2"]["orthogonal"])
        for key in ("pooled_r2", "pusher_r2", "objects_r2", "state_share"):
            columns[(agent, key)][step].append(_camera_mean(record, key))
    wanted = [("autoencoder", "map"), ("autoencoder", "pooled_r2"), ("autoencoder", "pusher_r2"),
              ("autoencoder", "objects_r2"), ("autoencoder", "state_share"),
              ("jepa", "map"), ("jepa", "pooled_r2"), ("supervised", "map"),
              ("supervised", "pooled_r2")]
    names = {"map": "map", "pooled_r2": "probe", "pusher_r2": "pusher",
             "objects_r2": "objects", "state_share": "state share"}
    seeds = sorted({r["seed"] for r in records if r["agent"] == "autoencoder"})
    lines = [f"Seeds {', '.join(map(str, seeds))}: mean (min to max over seeds).", "",
             "| step | " + " | ".join(f"{a}: {names[k]}" for a, k in wanted) + " |",
             "|---|" + "---|" * len(wanted)]
    for step in sorted(columns[("autoencoder", "map")]):
        cells = [_cell(columns[col][step]) if columns[col].get(step) else "–" for col in wanted]
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    default = Path(__file__).with_name("emergence.json")
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
