"""Packaging: setup.cfg lists every package, and a built wheel works outside the repo."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP_LEVEL = ("envs", "agents", "alignment", "benchmarks")


def _setup_cfg() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    return parser


def _listed_packages() -> set[str]:
    return set(_setup_cfg()["options"]["packages"].split())


def _package_dir() -> dict[str, str]:
    lines = _setup_cfg()["options"]["package_dir"].strip().splitlines()
    return {k.strip(): v.strip() for k, v in (line.split("=") for line in lines)}


def test_every_package_folder_is_listed_in_setup_cfg():
    found = set()
    for top in TOP_LEVEL:
        for init in (ROOT / top).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / top).parts
            found.add(".".join(("socialview", top, *relative)))
    assert found == _listed_packages()


def test_package_dir_maps_each_top_level_folder():
    assert _package_dir() == {f"socialview.{top}": top for top in TOP_LEVEL}


@pytest.mark.slow
def test_wheel_installs_and_imports_outside_the_repo(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", tmp_path, ROOT],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("socialview-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python = venv / "bin" / "python"
    # Reuse this interpreter's dependencies (torch, mujoco, ...) without its editable install:
    # a .pth line only adds the folder; the __editable__ hooks in it are not executed.
    site = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel],
        check=True,
    )
    script = textwrap.dedent(
        """
        import socialview.envs, gymnasium as gym
        assert "site-packages" in socialview.envs.__file__, socialview.envs.__file__
        env = gym.make("SocialView-v1", image_size=16)
        obs, info = env.reset(seed=0)
        env.close()
        import socialview.agents, socialview.alignment, socialview.benchmarks
        print("ok", sorted(obs))
        """
    )
    env = {**os.environ, "MUJOCO_GL": "egl"}
    result = subprocess.run(
        [python, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "ok ['cam0', 'cam1']" in result.stdout
