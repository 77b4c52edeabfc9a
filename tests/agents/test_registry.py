"""Registry: duplicate names, unknown names, config keys, import strings."""

from __future__ import annotations

import pytest
import torch

from socialview.agents import (
    AgentConfigError,
    JEPAAgent,
    UnknownAgentError,
    list_agents,
    make_agent,
    register_agent,
    resolve_agent,
)


class TinyAgent:
    """A minimal protocol implementation used by the registry tests."""

    def __init__(self, seed: int = 0, latent_dim: int = 4) -> None:
        self.latent_dim = latent_dim
        self.seed = seed

    def encode(self, frames):
        return torch.zeros(len(frames), self.latent_dim)

    def train_step(self, batch):
        return {"loss": 0.0}

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


def test_register_and_make(register_temp_agent):
    register_temp_agent("tiny-test", TinyAgent)
    assert "tiny-test" in list_agents()
    agent = make_agent("tiny-test", seed=3, latent_dim=7)
    assert isinstance(agent, TinyAgent) and agent.latent_dim == 7
    assert agent.agent_spec == {"name": "tiny-test", "config": {"seed": 3, "latent_dim": 7}}


def test_duplicate_name_is_an_error(register_temp_agent):
    register_temp_agent("tiny-dup", TinyAgent)
    with pytest.raises(ValueError, match="already registered"):
        register_agent("tiny-dup")(TinyAgent)
    with pytest.raises(ValueError, match="already registered"):
        register_agent("jepa")(TinyAgent)
    assert resolve_agent("jepa") is JEPAAgent


@pytest.mark.parametrize("bad", ["", "a:b"])
def test_malformed_names_are_refused(bad):
    with pytest.raises(ValueError):
        register_agent(bad)


def test_unknown_agent_lists_known_ones():
    with pytest.raises(UnknownAgentError) as info:
        make_agent("jepaa")
    msg = str(info.value)
    for name in ("jepa", "autoencoder", "random", "pca"):
        assert name in msg
    assert "Did you mean 'jepa'" in msg


def test_unknown_config_key_lists_valid_ones():
    with pytest.raises(AgentConfigError) as info:
        make_agent("jepa", seed=0, widht=64)
    assert "'widht'" in str(info.value) and "width" in str(info.value)
    with pytest.raises(AgentConfigError, match="'nope'"):
        make_agent(f"{__name__}:TinyAgent", nope=1)


def test_import_string():
    agent = make_agent("socialview.agents.jepa:JEPAAgent", seed=1, latent_dim=8)
    assert isinstance(agent, JEPAAgent) and agent.latent_dim == 8
    assert isinstance(make_agent(f"{__name__}:TinyAgent"), TinyAgent)


@pytest.mark.parametrize("spec, match", [
    ("no_such_module_xyz:Agent", "cannot import"),
    ("socialview.agents.jepa:NoSuchAgent", "no attribute"),
    ("socialview.agents.jepa:", "package.module:attr"),
    ("socialview.agents.jepa:__doc__", "not a class or factory"),
])
def test_bad_import_strings(spec, match):
    with pytest.raises(UnknownAgentError, match=match):
        make_agent(spec)


def test_every_builtin_takes_seed_and_latent_dim():
    for name in ("jepa", "autoencoder", "random", "pca"):
        assert make_agent(name, seed=1, latent_dim=12).latent_dim == 12
