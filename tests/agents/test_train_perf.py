"""The trainer benchmark's probe and bare loop (the benchmark itself is not a timed test)."""

from __future__ import annotations

import numpy as np

from socialview.benchmarks.train_perf import bare_loop_samples_per_s, probe_r2


def test_probe_recovers_a_linear_map_on_held_out_episodes():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(500, 8))
    y = z @ rng.normal(size=(8, 3)) + 0.01 * rng.normal(size=(500, 3))
    episode = np.repeat(np.arange(50), 10)
    out = probe_r2(z, y, episode, alpha=1e-3)
    assert out["mean"] > 0.99 and out["test_frames"] == 100
    noise = probe_r2(rng.normal(size=(500, 8)), y, episode)
    assert noise["mean"] < 0.1


def test_bare_loop_runs_the_jepa_networks(synthetic_dataset):
    sps = bare_loop_samples_per_s(synthetic_dataset, "cam0", {"width": 8, "keypoints": 8},
                                  steps=2, batch_size=4)
    assert sps > 0
