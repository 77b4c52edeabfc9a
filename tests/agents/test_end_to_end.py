"""Train and embed on a real SocialView recording, through the API and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from socialview.agents import embed, load_agent, make_agent, train_agent
from socialview.benchmarks.cli import main

TINY = ["--set", "width=8", "--set", "keypoints=8", "--set", "latent_dim=16"]


def test_train_and_embed_api(recorded_dataset, tmp_path):
    agent = make_agent("jepa", seed=0, width=8, keypoints=8, latent_dim=16)
    result = train_agent(agent, recorded_dataset, "cam1", steps=12, out_dir=tmp_path / "run",
                         batch_size=16, checkpoint_every=5, progress=False)
    assert result.steps == 12 and np.isfinite(result.final_metrics["loss"])
    assert result.total_flops == pytest.approx(12 * result.flops_per_step)
    z = embed(load_agent(tmp_path / "run"), recorded_dataset, "cam1")
    assert z.shape == (200, 16) and z.dtype == np.float32 and np.isfinite(z).all()
    assert z.std(axis=0).mean() > 0  # frames map to different latents


def test_cli_train_then_embed(recorded_dataset, tmp_path, capsys):
    run, out = tmp_path / "run", tmp_path / "z" / "latents.npy"
    rc = main(["train", "--data", str(recorded_dataset), "--camera", "cam0", "--agent", "jepa",
               "--steps", "6", "--out", str(run), "--batch-size", "8", "--no-progress", *TINY])
    assert rc == 0
    assert "to step 6" in capsys.readouterr().out
    config = json.loads((run / "config.json").read_text())
    assert config["agent_config"]["latent_dim"] == 16 and config["camera"] == "cam0"
    rc = main(["embed", "--run", str(run), "--data", str(recorded_dataset), "--out", str(out)])
    assert rc == 0
    z = np.load(out)
    assert z.shape == (200, 16) and z.dtype == np.float32
    np.testing.assert_allclose(z, embed(load_agent(run), recorded_dataset, "cam0"),
                               rtol=1e-5, atol=1e-6)


def test_cli_accepts_import_strings(recorded_dataset, tmp_path):
    rc = main(["train", "--data", str(recorded_dataset), "--camera", "cam0", "--agent",
               "socialview.agents.controls:RandomAgent", "--steps", "2", "--out",
               str(tmp_path / "r"), "--no-progress", *TINY])
    assert rc == 0
    assert type(load_agent(tmp_path / "r")).__name__ == "RandomAgent"


@pytest.mark.parametrize("args, message", [
    (["--agent", "jepaa"], "unknown agent 'jepaa'. Known agents: autoencoder, jepa, pca, random"),
    (["--camera", "cam7"], "has no camera 'cam7'; its cameras are: cam0, cam1"),
    (["--set", "colour=1"], "does not take config key(s) 'colour'"),
    (["--agent", "nowhere.mod:Agent"], "cannot import module 'nowhere.mod'"),
])
def test_cli_bad_input_is_one_clear_line(recorded_dataset, tmp_path, capsys, args, message):
    base = {"--data": str(recorded_dataset), "--camera": "cam0", "--agent": "jepa",
            "--steps": "2", "--out": str(tmp_path / "r")}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    if args[0] == "--set":
        base.pop("--set")
    argv = ["train", "--no-progress", *(x for kv in base.items() for x in kv)]
    if args[0] == "--set":
        argv += args
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("socialview train: error: ") and message in err
    assert "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_cli_refuses_a_run_of_another_agent(recorded_dataset, tmp_path, capsys):
    run = tmp_path / "r"
    common = ["train", "--data", str(recorded_dataset), "--camera", "cam0", "--steps", "2",
              "--out", str(run), "--no-progress", *TINY]
    assert main([*common, "--agent", "random"]) == 0
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    assert main([*common, "--agent", "autoencoder"]) == 2
    assert "written by agent 'random'" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_cli_embed_bad_run(recorded_dataset, tmp_path, capsys):
    rc = main(["embed", "--run", str(tmp_path / "none"), "--data", str(recorded_dataset),
               "--camera", "cam0", "--out", str(tmp_path / "z.npy")])
    assert rc == 2 and "not a run folder" in capsys.readouterr().err
    assert not (tmp_path / "z.npy").exists()
