"""A run trained under one readout is read under another by calibrating it, not retraining.

The core readout's damping and slowness rules never change training (weights, running
statistics, latch), so a finished run folder resumed under an agent that differs from it
in those settings only is recalibrated and its checkpoint written again; a setting that
does change training is still refused.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from socialview.agents import embed, load_agent, make_agent, train_agent
from socialview.agents.nets import READOUT_SETTINGS, training_settings
from socialview.agents.trainer import RunFolderError, trains_alike

SMALL = {"width": 8, "keypoints": 8, "latent_dim": 8, "predictor_hidden": 16}


def _train(dataset, out, steps=4, **config):
    agent = make_agent("jepa", seed=0, **SMALL, **config)
    result = train_agent(agent, dataset, "cam0", steps=steps, out_dir=out, batch_size=8,
                         seed=0, progress=False, device="cpu")
    return agent, result


def test_training_settings_drop_the_readout_and_keep_what_the_latch_reads():
    config = {"readout": "core", "core_gap": 3.0, "core_rest": 0.2, "core_slow_step": 1.4,
              "core_slow_fallback": 0.6}
    settings = training_settings(config)
    assert not set(READOUT_SETTINGS) & set(settings)
    assert settings == {"readout": "core", "core_gap": 3.0, "latch_reads_slowness": False}
    # the bare slowness guard leaves the latch nothing: that reaches training
    assert training_settings({**config, "core_slow_fallback": 0.0})["latch_reads_slowness"]
    # a run recorded before the slowness rules existed had none
    assert not training_settings({"readout": "core"})["latch_reads_slowness"]
    # another readout has no latch: its core settings are read by nothing
    assert training_settings({"readout": "latent", "core_rest": 0.5}) == {"readout": "latent"}


def test_trains_alike_reads_the_agent_not_its_readout():
    default = make_agent("jepa", seed=0, **SMALL)
    recorded = json.loads(json.dumps(default.config.__dict__))
    assert trains_alike(default, recorded)
    assert trains_alike(default, {**recorded, "core_slow_step": 0.0, "core_rest": 0.3})
    assert not trains_alike(default, {**recorded, "core_gap": 2.5})
    assert not trains_alike(default, {**recorded, "core_slow_fallback": 0.0})  # the latch
    pca = make_agent("pca", latent_dim=4)  # no training_settings split: every setting counts
    assert trains_alike(pca, json.loads(json.dumps(pca.config.__dict__)))


def test_a_finished_run_is_read_under_a_new_readout_as_if_trained_with_it(
        synthetic_dataset, tmp_path):
    # trained with every slowness rule off, then asked for jepa's default (the fallback)
    _train(synthetic_dataset, tmp_path / "old", core_slow_step=0)
    assert load_agent(tmp_path / "old").encoder.readout.slowness() is None
    reread, result = _train(synthetic_dataset, tmp_path / "old")
    assert result.resumed_from == result.steps == 4  # read, not trained
    fresh, _ = _train(synthetic_dataset, tmp_path / "fresh")
    recorded = json.loads((tmp_path / "old" / "config.json").read_text())["agent_config"]
    assert recorded["core_slow_step"] == 1.4 and recorded["core_slow_fallback"] == 0.6
    # the checkpoint was written again with the calibration the new readout reads
    loaded = load_agent(tmp_path / "old")
    assert loaded.encoder.readout.slowness() is not None
    for agent in (reread, loaded):
        np.testing.assert_array_equal(embed(agent, synthetic_dataset, "cam0"),
                                      embed(fresh, synthetic_dataset, "cam0"))


@pytest.mark.parametrize(("setting", "named"), [
    ({"core_gap": 2.5}, "core_gap: 3.0 -> 2.5"),
    ({"core_slow_fallback": 0.0}, "latch_reads_slowness: False -> True"),
])
def test_a_setting_that_changes_training_is_still_refused(synthetic_dataset, tmp_path,
                                                          setting, named):
    _train(synthetic_dataset, tmp_path / "r")
    before = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}
    with pytest.raises(RunFolderError, match="different agent config") as refused:
        _train(synthetic_dataset, tmp_path / "r", **setting)
    assert named in str(refused.value) and "core_slow_step" not in str(refused.value)
    assert {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()} == before


def test_a_run_resumed_under_a_new_readout_trains_on_as_an_unbroken_one(
        synthetic_dataset, tmp_path):
    _train(synthetic_dataset, tmp_path / "r", steps=2, core_rest=0.5)
    resumed, result = _train(synthetic_dataset, tmp_path / "r", steps=4)
    assert result.resumed_from == 2
    unbroken, _ = _train(synthetic_dataset, tmp_path / "u", steps=4)
    np.testing.assert_array_equal(embed(resumed, synthetic_dataset, "cam0"),
                                  embed(unbroken, synthetic_dataset, "cam0"))
