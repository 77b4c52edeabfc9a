"""The trainer benchmark's probe and bare loop (the benchmark itself is not a timed test)."""

from __future__ import annotations

from socialview.benchmarks.train_perf import bare_loop_samples_per_s


def test_bare_loop_runs_the_jepa_networks(synthetic_dataset):
    sps = bare_loop_samples_per_s(synthetic_dataset, "cam0", {"width": 8, "keypoints": 8},
                                  steps=2, batch_size=4)
    assert sps > 0
