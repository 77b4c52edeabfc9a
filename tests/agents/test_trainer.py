"""Trainer: determinism, resume, checkpoints, NaN handling, FLOPs, bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from socialview.agents import (
    AgentConfigError,
    AgentStateError,
    DatasetError,
    NonFiniteLossError,
    RunFolderError,
    UnknownAgentError,
    embed,
    load_agent,
    make_agent,
    open_camera_stream,
    train_agent,
)
from socialview.agents.trainer import load_checkpoint

SMALL = {"width": 8, "keypoints": 8, "latent_dim": 8, "predictor_hidden": 16}


def _params(agent):
    return [p.detach().clone() for p in agent.parameters()]


def _train(dataset, out=None, steps=6, seed=0, **kw):
    agent = make_agent("jepa", seed=seed, **SMALL)
    result = train_agent(agent, dataset, "cam0", steps=steps, out_dir=out, batch_size=8,
                         progress=False, device="cpu", **kw)
    return agent, result


def test_deterministic_for_a_seed(synthetic_dataset):
    a, ra = _train(synthetic_dataset, seed=1)
    b, rb = _train(synthetic_dataset, seed=1)
    c, _ = _train(synthetic_dataset, seed=2)
    for pa, pb in zip(_params(a), _params(b), strict=True):
        assert torch.equal(pa, pb)
    assert ra.final_metrics == rb.final_metrics
    assert any(not torch.equal(pa, pc) for pa, pc in zip(_params(a), _params(c), strict=True))


def test_run_folder_contents(synthetic_dataset, tmp_path):
    _, result = _train(synthetic_dataset, tmp_path / "run", steps=5, checkpoint_every=2)
    run = tmp_path / "run"
    assert result.run_dir == run and result.steps == 5 and result.resumed_from == 0
    config = json.loads((run / "config.json").read_text())
    assert config["agent"] == "jepa" and config["camera"] == "cam0"
    assert config["agent_config"]["width"] == 8
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [1, 2, 3, 4, 5]
    assert all(x["flops"] == result.flops_per_step > 0 for x in lines)
    assert lines[-1]["total_flops"] == pytest.approx(result.total_flops)
    assert result.total_flops == pytest.approx(5 * result.flops_per_step)
    ckpt = load_checkpoint(run / "checkpoint.pt")
    assert ckpt["step"] == 5 and ckpt["agent"] == "jepa"
    assert json.loads((run / "result.json").read_text())["steps"] == 5
    assert not list(run.glob(".*tmp*"))  # no temporary files left behind


def test_flops_match_an_independent_count(synthetic_dataset):
    _, result = _train(synthetic_dataset, steps=2)
    fresh = make_agent("jepa", seed=0, **SMALL)
    batch = open_camera_stream(synthetic_dataset, "cam0").sample(8, torch.Generator(),
                                                                 fresh.horizon)
    with FlopCounterMode(display=False) as counter:
        fresh.train_step(batch)
    assert result.flops_per_step == counter.get_total_flops()
    # the target frames' forward (and backward) are part of it: more than fwd+bwd of obs
    with FlopCounterMode(display=False) as enc:
        fresh.encoder(batch.obs)
    assert result.flops_per_step > 3 * enc.get_total_flops()


def test_resume_equals_uninterrupted(synthetic_dataset, tmp_path):
    full, _ = _train(synthetic_dataset, tmp_path / "full", steps=8, checkpoint_every=3)
    _train(synthetic_dataset, tmp_path / "split", steps=5, checkpoint_every=3)
    resumed, result = _train(synthetic_dataset, tmp_path / "split", steps=8,
                             checkpoint_every=3)
    assert result.resumed_from == 5 and result.steps == 8
    for pa, pb in zip(_params(full), _params(resumed), strict=True):
        assert torch.equal(pa, pb)
    assert load_checkpoint(tmp_path / "split" / "checkpoint.pt")["agent_state"]["step"] == 8
    steps = [json.loads(x)["step"] for x in
             (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 9))
    full_lines = (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()
    split_lines = (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["loss"] for x in full_lines] == \
        [json.loads(x)["loss"] for x in split_lines]


def test_resume_from_a_mid_run_checkpoint(synthetic_dataset, tmp_path):
    """A crash after step 6 leaves checkpoint 4 and metric lines 5-6: resume drops them."""
    full, _ = _train(synthetic_dataset, tmp_path / "full", steps=7, checkpoint_every=4)
    run = tmp_path / "crash"
    _train(synthetic_dataset, run, steps=4, checkpoint_every=4)
    with open(run / "metrics.jsonl", "a") as fh:  # what a crashed run would have logged
        fh.write(json.dumps({"step": 5, "loss": 1.0}) + "\n" + '{"step": 6, "lo')
    resumed, _ = _train(synthetic_dataset, run, steps=7, checkpoint_every=4)
    for pa, pb in zip(_params(full), _params(resumed), strict=True):
        assert torch.equal(pa, pb)
    assert [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()] \
        == [1, 2, 3, 4, 5, 6, 7]


def test_finished_run_is_reused(synthetic_dataset, tmp_path):
    _train(synthetic_dataset, tmp_path / "r", steps=3)
    before = (tmp_path / "r" / "checkpoint.pt").read_bytes()
    _, result = _train(synthetic_dataset, tmp_path / "r", steps=3)
    assert result.resumed_from == 3 and result.final_metrics == {}
    assert (tmp_path / "r" / "checkpoint.pt").read_bytes() == before
    with pytest.raises(RunFolderError, match="already at step 3"):
        _train(synthetic_dataset, tmp_path / "r", steps=2)


class NaNAfter:
    """An agent whose loss turns NaN at a given step (stands in for a diverging run)."""

    def __init__(self, seed: int = 0, latent_dim: int = 2, nan_at: int = 4) -> None:
        self.latent_dim, self.nan_at, self.step = latent_dim, nan_at, 0
        self.w = torch.zeros(latent_dim)

    def encode(self, frames):
        return self.w.expand(len(frames), -1).clone()

    def train_step(self, batch):
        self.step += 1
        self.w += 1
        return {"loss": math.nan if self.step >= self.nan_at else 1.0 / self.step}

    def state_dict(self):
        return {"step": self.step, "w": self.w.clone()}

    def load_state_dict(self, state):
        self.step, self.w = int(state["step"]), state["w"].clone()


def test_nan_stops_with_a_clear_message(synthetic_dataset, tmp_path, register_temp_agent):
    register_temp_agent("nan-after", NaNAfter)
    agent = make_agent("nan-after", nan_at=5)
    with pytest.raises(NonFiniteLossError, match=r"step 5.*loss=nan.*checkpoint \(step 4\)"):
        train_agent(agent, synthetic_dataset, "cam0", steps=10, out_dir=tmp_path / "r",
                    batch_size=4, checkpoint_every=2, progress=False)
    ckpt = load_checkpoint(tmp_path / "r" / "checkpoint.pt")
    assert ckpt["step"] == 4  # the last good one, not overwritten by the NaN state
    assert torch.equal(ckpt["agent_state"]["w"], torch.full((2,), 4.0))


def test_bad_dataset_and_camera(synthetic_dataset, tmp_path):
    agent = make_agent("jepa", **SMALL)
    with pytest.raises(DatasetError, match=r"has no camera .cam9.*cam0, cam1"):
        train_agent(agent, synthetic_dataset, "cam9", steps=1, out_dir=tmp_path / "r")
    with pytest.raises(DatasetError, match="does not exist"):
        train_agent(agent, tmp_path / "nowhere", "cam0", steps=1, out_dir=tmp_path / "r")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("gpu", r"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got 'gpu'"),
        pytest.param(
            "cuda", r"device 'cuda' needs CUDA, but torch .* sees no CUDA device",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA"),
        ),
        pytest.param(
            f"cuda:{max(torch.cuda.device_count(), 1)}", r"the index must be in \[0, ",
            marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
        ),
    ],
)
def test_a_device_this_machine_lacks_is_refused_before_anything_is_written(
    synthetic_dataset, tmp_path, device, message
):
    agent = make_agent("jepa", **SMALL)
    with pytest.raises(ValueError, match=message):
        train_agent(agent, synthetic_dataset, "cam0", steps=1, out_dir=tmp_path / "r",
                    device=device, progress=False)
    assert not (tmp_path / "r").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_training_on_the_gpu_gives_what_the_cpu_does_up_to_rounding(synthetic_dataset):
    from socialview.agents.torch_agent import spectral_gap

    _, on_cpu = _train(synthetic_dataset, steps=6)
    gpu = make_agent("jepa", seed=0, **SMALL)
    result = train_agent(gpu, synthetic_dataset, "cam0", steps=6, batch_size=8,
                         progress=False, device="cuda")
    assert result.device.startswith("cuda")
    # same seed, same batches: the losses differ by rounding only, TF32 convolutions
    # (cuDNN's default) included; the whitened latents themselves may turn within a
    # near-degenerate eigenspace, so they are not compared entry by entry
    assert result.final_metrics["loss"] == pytest.approx(on_cpu.final_metrics["loss"], rel=5e-2)
    z = embed(gpu, synthetic_dataset, "cam0")
    assert z.shape == (len(open_camera_stream(synthetic_dataset, "cam0")), SMALL["latent_dim"])
    assert np.isfinite(z).all()
    gap = spectral_gap(gpu)
    assert gap is None or all(v is None or math.isfinite(v) for v in gap.values()
                              if not isinstance(v, bool))


def test_other_agent_kind_in_run_folder_is_refused(synthetic_dataset, tmp_path):
    _train(synthetic_dataset, tmp_path / "r", steps=2)
    before = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}
    ae = make_agent("autoencoder", width=8, keypoints=8, latent_dim=8)
    with pytest.raises(AgentStateError, match="written by agent 'jepa'"):
        train_agent(ae, synthetic_dataset, "cam0", steps=4, out_dir=tmp_path / "r",
                    progress=False)
    other = make_agent("jepa", seed=0, width=16, keypoints=8, latent_dim=8)
    with pytest.raises(RunFolderError, match="different agent config"):
        train_agent(other, synthetic_dataset, "cam0", steps=4, out_dir=tmp_path / "r",
                    progress=False)
    same = make_agent("jepa", seed=0, **SMALL)
    with pytest.raises(RunFolderError, match="different camera"):
        train_agent(same, synthetic_dataset, "cam1", steps=4, out_dir=tmp_path / "r",
                    batch_size=8, progress=False)
    with pytest.raises(RunFolderError, match="already holds a run"):
        train_agent(same, synthetic_dataset, "cam0", steps=4, out_dir=tmp_path / "r",
                    batch_size=8, progress=False, resume=False)
    after = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}
    assert after == before


def test_a_run_written_before_an_option_existed_resumes_at_its_default(synthetic_dataset,
                                                                        tmp_path):
    """A later release adds a setting of training (say ``latent_penalty``): a run folder
    written before it lacks the key, behaved as its default does, and resumes; asked for
    another value of that setting, it is refused as any other config change is."""
    _train(synthetic_dataset, tmp_path / "r", steps=2)
    config_path = tmp_path / "r" / "config.json"
    written = json.loads(config_path.read_text())
    assert written["agent_config"].pop("latent_penalty") == 0.0
    config_path.write_text(json.dumps(written))  # as an older release wrote it
    _, result = _train(synthetic_dataset, tmp_path / "r", steps=4)
    assert result.steps == 4
    config_path.write_text(json.dumps(written))
    other = make_agent("jepa", seed=0, latent_penalty=0.5, **SMALL)
    with pytest.raises(RunFolderError, match="different agent config"):
        train_agent(other, synthetic_dataset, "cam0", steps=6, out_dir=tmp_path / "r",
                    batch_size=8, progress=False)


def test_make_agent_errors_are_distinct():
    with pytest.raises(UnknownAgentError):
        make_agent("nope")
    with pytest.raises(AgentConfigError):
        make_agent("pca", width=3)


@pytest.mark.parametrize("kind", ["jepa", "autoencoder", "random", "pca"])
def test_load_agent_and_embed(kind, synthetic_dataset, tmp_path):
    config = {} if kind == "pca" else {"width": 8, "keypoints": 8}
    agent = make_agent(kind, seed=4, latent_dim=8, **config)
    train_agent(agent, synthetic_dataset, "cam0", steps=3, out_dir=tmp_path / "r",
                batch_size=8, progress=False)
    loaded = load_agent(tmp_path / "r")
    assert type(loaded) is type(agent)
    z = embed(loaded, synthetic_dataset, "cam0", batch_size=7)
    assert z.dtype == np.float32 and z.shape == (120, 8)
    np.testing.assert_array_equal(z, embed(agent, synthetic_dataset, "cam0", batch_size=7))
    # other chunkings agree up to float rounding (BLAS blocking depends on batch size)
    np.testing.assert_allclose(embed(agent, synthetic_dataset, "cam0"), z, rtol=1e-5,
                               atol=1e-6)
    idx = np.array([5, 0, 119])
    np.testing.assert_allclose(embed(loaded, synthetic_dataset, "cam0", indices=idx), z[idx],
                               rtol=1e-5, atol=1e-6)


def test_load_agent_refuses_non_runs(tmp_path):
    with pytest.raises(RunFolderError, match="not a run folder"):
        load_agent(tmp_path)


def test_batches_respect_episode_boundaries(synthetic_dataset):
    stream = open_camera_stream(synthetic_dataset, "cam0")
    starts = stream.valid_starts(3)
    assert np.all(stream.episode[starts] == stream.episode[starts + 3])
    assert len(starts) == 120 - 3 * 3  # 3 episodes of 40 frames
    batch = stream.batch(starts[[0, 10, 5]], horizon=3)
    np.testing.assert_array_equal(batch.obs.numpy(), stream.frames[starts[[0, 10, 5]]])
    np.testing.assert_array_equal(batch.next_obs[:, 2].numpy(),
                                  stream.frames[starts[[0, 10, 5]] + 3])
    np.testing.assert_array_equal(batch.action[1].numpy(),
                                  stream.actions[starts[10]:starts[10] + 3])


def test_switching_anti_collapse_off_shows_in_the_metrics(synthetic_dataset):
    stds = {}
    for on in (True, False):
        # the classic set-up (EMA targets, no batch-norm on the latent) collapses freely
        agent = make_agent("jepa", seed=0, anti_collapse=on, regularizer="vicreg",
                           target="ema", output_norm=False, horizon=1)
        result = train_agent(agent, synthetic_dataset, "cam0", steps=40, batch_size=16,
                             progress=False)
        stds[on] = result.final_metrics["emb_std"]
    assert stds[False] < 0.7 * stds[True]
