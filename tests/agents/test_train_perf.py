"""The trainer benchmark's probe and bare loop (the benchmark itself is not a timed test)."""

from __future__ import annotations

import pytest
import torch

from socialview.benchmarks.train_perf import bare_loop_samples_per_s, main


def test_bare_loop_runs_the_jepa_networks(synthetic_dataset):
    sps = bare_loop_samples_per_s(synthetic_dataset, "cam0", {"width": 8, "keypoints": 8},
                                  steps=2, batch_size=4)
    assert sps > 0


def test_a_gpu_this_machine_lacks_is_refused_before_recording(capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["--quick", "--device", "cuda"]) == 2
    assert "device 'cuda' needs CUDA, but torch" in capsys.readouterr().err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_bare_loop_runs_on_the_gpu(synthetic_dataset):
    sps = bare_loop_samples_per_s(synthetic_dataset, "cam0", {"width": 8, "keypoints": 8},
                                  steps=2, batch_size=4, device="cuda")
    assert sps > 0
