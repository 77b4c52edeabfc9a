"""The readout table both reports print: what each camera compared, and why."""

from __future__ import annotations

import pytest

from socialview.benchmarks.readout_report import (
    FALLBACK_NOTE,
    READOUT_NOTE,
    SLOW_NOTE,
    readout_lines,
    readout_table,
)

#: Read at its latched 8-d core while the widest gap (12) is another width.
CORE = {
    "core_width": 8,
    "spectral_gap": {"width": 12, "ratio": 4.321, "share": 0.9951, "action_share": 0.93,
                     "reader_share": None, "latched": 8, "latched_ratio": 2.7,
                     "latched_share": 0.944, "latched_action_share": 0.8804,
                     "latched_reader_share": None},
}
#: The same, recorded before the latched width's shares were.
LATCHED_SHARES = ("latched_share", "latched_action_share", "latched_reader_share")
OLD_CORE = {"core_width": 8, "spectral_gap": {
    k: v for k, v in CORE["spectral_gap"].items() if k not in LATCHED_SHARES}}
LATENT = {
    "core_width": None,
    "spectral_gap": {"width": 4, "ratio": 63.46, "share": 0.991, "action_share": 0.087,
                     "reader_share": None, "latched": None, "latched_ratio": None},
}
NO_CORE_READOUT = {"core_width": None, "spectral_gap": None}


def test_rows_follow_the_entries_and_say_what_was_compared():
    table = readout_table(("agent", "step"), [(("jepa", 40), LATENT), (("jepa", 4000), CORE),
                                              (("jepa", 5000), OLD_CORE)])
    lines = table.splitlines()
    assert lines[0].startswith("| agent | step | compared | widest gap (ratio) |")
    assert lines[1].count("---") == 8
    assert lines[2] == "| jepa | 40 | full latent | 4 (63.46) | 0.991 | 0.087 | – | – |"
    # the shares are the compared core's: the latched width's, not the widest gap's
    assert lines[3] == "| jepa | 4000 | 8-d core | 12 (4.32) | 0.944 | 0.880 | – | 8 (2.70) |"
    assert lines[4] == "| jepa | 5000 | 8-d core | 12 (4.32) | – | – | – | 8 (2.70) |"


def test_agents_without_a_core_readout_are_left_out():
    assert readout_table(("agent",), [(("random",), NO_CORE_READOUT)]) is None
    assert readout_lines("## x", ("agent",), [(("random",), NO_CORE_READOUT)]) == []
    lines = readout_lines("## x", ("agent",), [(("random",), NO_CORE_READOUT), (("jepa",), CORE)])
    assert lines[:3] == ["## x", "", READOUT_NOTE] and len(lines) == 6
    rows = lines[4].splitlines()[2:]  # the table's body: only the core agent
    assert rows == ["| jepa | 8-d core | 12 (4.32) | 0.944 | 0.880 | – | 8 (2.70) |"]


def test_an_entry_with_the_wrong_number_of_values_is_refused():
    with pytest.raises(ValueError, match=r"each entry needs 2 leading values .*\['jepa'\]"):
        readout_table(("agent", "step"), [(("jepa",), CORE)])


def test_the_slowness_guards_step_gets_a_column_only_where_it_was_on():
    """Under the slowness guard the width read can be neither the widest gap nor the
    latched one (finding 26): its own step is shown, else the widest gap's for a full
    latent; records made before ``read_slow_step`` show it where they can."""
    by_speed = {"core_width": 8, "spectral_gap": {
        **LATENT["spectral_gap"], "width": 14, "ratio": 4.32, "slow_step": 1.47,
        "latched_slow_step": None, "read_slow_step": 1.85}}
    refused = {"core_width": None, "spectral_gap": {
        **LATENT["spectral_gap"], "slow_step": 1.09, "latched_slow_step": None,
        "read_slow_step": None}}
    older = {"core_width": 8, "spectral_gap": {
        k: v for k, v in by_speed["spectral_gap"].items() if k != "read_slow_step"}}
    lines = readout_table(("step",), [((4000,), by_speed), ((400,), refused),
                                      ((1,), older), ((2,), CORE)]).splitlines()
    assert lines[0].endswith("| latched (ratio) | slowness step |")
    assert lines[2].endswith("| 1.85 |") and lines[3].endswith("| 1.09 |")
    assert lines[4].endswith("| – |") and lines[5].endswith("| – |")
    without = readout_table(("step",), [((2,), CORE)]).splitlines()
    assert "slowness" not in without[0]
    # and the note says what the column is only where it is there
    assert readout_lines("## x", ("step",), [((1,), refused)])[2] == f"{READOUT_NOTE} {SLOW_NOTE}"
    assert readout_lines("## x", ("step",), [((2,), CORE)])[2] == READOUT_NOTE


def test_a_core_the_slowness_fallback_read_is_marked_and_explained():
    """Under ``core_slow_fallback`` a core the other guards refused can still be read
    (finding 27): the table marks it and the note says why."""
    rescued = {"core_width": 8, "spectral_gap": {
        **LATENT["spectral_gap"], "width": 8, "ratio": 2.0, "share": 0.77, "slow_step": 1.64,
        "latched_slow_step": None, "read_slow_step": 1.64, "fallback": True}}
    primary = {"core_width": 8, "spectral_gap": {
        **CORE["spectral_gap"], "slow_step": 1.1, "latched_slow_step": 2.0,
        "read_slow_step": 2.0, "fallback": False}}
    lines = readout_lines("## x", ("step",), [((50000,), rescued), ((400,), primary)])
    assert lines[2] == f"{READOUT_NOTE} {SLOW_NOTE} {FALLBACK_NOTE}"
    rows = lines[4].splitlines()[2:]
    assert rows[0].startswith("| 50000 | 8-d core (fallback) | 8 (2.00) | 0.770 |")
    assert rows[1].startswith("| 400 | 8-d core | 12 (4.32) | 0.944 |")
    assert readout_lines("## x", ("step",), [((400,), primary)])[2] == \
        f"{READOUT_NOTE} {SLOW_NOTE}"
