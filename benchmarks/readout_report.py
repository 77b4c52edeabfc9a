"""Markdown of what each camera of an agent with a core readout compared, and why.

An agent read out through its calibrated spectral core (``readout="core"``)
compares its core where the spectrum has a gap that passes the guards, else its
full latent. The sweep and the emergence curve record, per camera, that choice
(``core_width``) beside the numbers that made it (``spectral_gap``: the widest
gap, the shares the guards test there, the latched width and its ratio now).
Both reports print them with :func:`readout_table`, so a reader sees which cells
or checkpoints compared a core and how far from each threshold it stood.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["FALLBACK_NOTE", "READOUT_NOTE", "SLOW_NOTE", "readout_lines", "readout_table"]

#: What the table's columns mean, printed above it.
READOUT_NOTE = (
    "Agents with a core readout compare their calibrated spectral core where the "
    "spectrum has a gap that passes the guards (variance share, and the actions' effect "
    "or the head's output), else their full latent. The shares are those of the core "
    "compared, or of the widest gap where the full latent is compared (– where not "
    "recorded); the latched width is the one training fixed, with its ratio now (0 where "
    "a guard fails there; kept while at least `core_keep`)."
)
#: Added to the note where any camera was read with the slowness guard on (finding 26).
SLOW_NOTE = (
    "The slowness step is the guard's: how much the calibrated latent's slowness "
    "spectrum steps after the width compared (after the widest gap where the full latent "
    "is compared); under the slowness guard a core needs at least `core_slow_step` "
    "there, under its fallback (`core_slow_fallback`, `jepa`'s default) only a core the "
    "fallback reads."
)
#: Added where any camera's core was read by the slowness fallback (finding 27).
FALLBACK_NOTE = (
    "A core marked (fallback) was refused by the other guards and read by the slowness "
    "fallback (`core_slow_fallback`): its shares reach the fallback's and the slowness "
    "spectrum steps after it."
)
_READOUT_HEADER = (
    "compared",
    "widest gap (ratio)",
    "variance share",
    "action share",
    "reader share",
    "latched (ratio)",
)


def _number(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _shares(readout: dict[str, Any]) -> list[float | None]:
    """Variance, action and reader shares of the width compared: the widest gap's, or the
    latched width's (recorded since the latched shares were; else unknown)."""
    gap = readout["spectral_gap"]
    width = readout.get("core_width")
    keys = ("share", "action_share", "reader_share")
    if width is None or width == gap["width"]:
        return [gap.get(key) for key in keys]
    if width == gap.get("latched"):
        return [gap.get(f"latched_{key}") for key in keys]
    return [None, None, None]


def _slow_step(readout: dict[str, Any]) -> float | None:
    """The slowness guard's step at the width compared, or at the widest gap where the
    full latent is compared (None where not recorded)."""
    gap = readout["spectral_gap"]
    width = readout.get("core_width")
    if width is None or width == gap["width"]:
        return gap.get("slow_step")
    if "read_slow_step" in gap:
        return gap["read_slow_step"]
    return gap.get("latched_slow_step") if width == gap.get("latched") else None


def _readout_cells(readout: dict[str, Any], slow: bool) -> list[str]:
    gap = readout["spectral_gap"]
    width = readout.get("core_width")
    latched = gap.get("latched")
    return [
        "full latent" if width is None else
        f"{width}-d core" + (" (fallback)" if gap.get("fallback") else ""),
        f"{gap['width']} ({_number(gap['ratio'])})",
        *[_number(share, 3) for share in _shares(readout)],
        "–" if latched is None else f"{latched} ({_number(gap.get('latched_ratio'))})",
        *([_number(_slow_step(readout))] if slow else []),
    ]


def _with_gaps(entries: Sequence[tuple[Sequence[Any], dict[str, Any]]]
               ) -> list[tuple[Sequence[Any], dict[str, Any]]]:
    """The entries of agents with a core readout (a recorded ``spectral_gap``)."""
    return [(values, readout) for values, readout in entries
            if readout.get("spectral_gap") is not None]


def _slowly(entries: Sequence[tuple[Sequence[Any], dict[str, Any]]]) -> bool:
    """Whether any entry was read with the slowness guard on (finding 26)."""
    return any("slow_step" in readout["spectral_gap"] for _, readout in entries)


def readout_table(
    columns: Sequence[str], entries: Sequence[tuple[Sequence[Any], dict[str, Any]]]
) -> str | None:
    """A markdown table, one row per entry, in the order given.

    ``columns`` name the leading cells (say agent, seed, camera, step) and each entry
    is ``(values for those columns, readout)``, ``readout`` holding ``core_width``
    (None: the full latent) and ``spectral_gap`` (as recorded by
    ``socialview.agents.torch_agent.spectral_gap``). Entries whose ``spectral_gap``
    is None (agents without a core readout) are left out; None when none is left.
    Where any entry was read with the slowness guard on, a last column gives its
    slowness step at the width compared (at the widest gap for a full latent).
    """
    kept = _with_gaps(entries)
    if not kept:
        return None
    slow = _slowly(kept)
    header = [*columns, *_READOUT_HEADER, *(["slowness step"] if slow else [])]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for values, readout in kept:
        if len(values) != len(columns):
            raise ValueError(f"each entry needs {len(columns)} leading values ({columns}), "
                             f"got {list(values)!r}")
        cells = [str(v) for v in values] + _readout_cells(readout, slow)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def readout_lines(
    heading: str,
    columns: Sequence[str],
    entries: Sequence[tuple[Sequence[Any], dict[str, Any]]],
) -> list[str]:
    """Report lines: ``heading``, the note and the table, or none without a core readout."""
    table = readout_table(columns, entries)
    if table is None:
        return []
    kept = _with_gaps(entries)
    note = f"{READOUT_NOTE} {SLOW_NOTE}" if _slowly(kept) else READOUT_NOTE
    if any(readout["spectral_gap"].get("fallback") for _, readout in kept):
        note = f"{note} {FALLBACK_NOTE}"
    return [heading, "", note, "", table, ""]
