"""socialview.agents: independently trained self-supervised agents, one per camera.

Public API
----------
Agent, Batch
    The protocol every agent follows and the transition batch it trains on.
register_agent, make_agent, list_agents, resolve_agent
    The registry (plus the ``socialview.agents`` entry-point group and
    ``"package.module:attr"`` strings).
train_agent, TrainResult, embed, load_agent
    The trainer shared by all agents, latents for a camera's frames, and a
    run folder turned back into an agent.
open_camera_stream
    Reader of one camera's stream in a recorded dataset.

Built-in agents: ``jepa``, ``autoencoder``, ``random``, ``pca``.

Examples
--------
>>> from socialview.agents import make_agent, train_agent, embed   # doctest: +SKIP
>>> agent = make_agent("jepa", seed=0)                               # doctest: +SKIP
>>> result = train_agent(agent, "data/ds", "cam0", steps=600, out_dir="runs/a")  # doctest: +SKIP
>>> latents = embed(agent, "data/ds", "cam0")                        # doctest: +SKIP
"""

from socialview.agents.autoencoder import AutoencoderAgent, AutoencoderConfig
from socialview.agents.base import Agent, Batch
from socialview.agents.controls import PCAAgent, PCAConfig, RandomAgent, RandomConfig
from socialview.agents.data import CameraStream, DatasetError, open_camera_stream
from socialview.agents.jepa import JEPAAgent, JEPAConfig
from socialview.agents.registry import (
    ENTRY_POINT_GROUP,
    AgentConfigError,
    UnknownAgentError,
    clear_entry_point_cache,
    encodes_untrained,
    is_reference_agent,
    list_agents,
    make_agent,
    register_agent,
    resolve_agent,
    unregister_agent,
)
from socialview.agents.state import WorldState, world_state
from socialview.agents.supervised import SupervisedAgent, SupervisedConfig
from socialview.agents.torch_agent import AgentStateError, TorchAgent
from socialview.agents.trainer import (
    QUICK_BATCH_SIZE,
    QUICK_STEPS,
    NonFiniteLossError,
    RunFolderError,
    TrainResult,
    embed,
    load_agent,
    train_agent,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "QUICK_BATCH_SIZE",
    "QUICK_STEPS",
    "Agent",
    "AgentConfigError",
    "AgentStateError",
    "AutoencoderAgent",
    "AutoencoderConfig",
    "Batch",
    "CameraStream",
    "DatasetError",
    "JEPAAgent",
    "JEPAConfig",
    "NonFiniteLossError",
    "PCAAgent",
    "PCAConfig",
    "RandomAgent",
    "RandomConfig",
    "RunFolderError",
    "SupervisedAgent",
    "SupervisedConfig",
    "TorchAgent",
    "TrainResult",
    "UnknownAgentError",
    "WorldState",
    "clear_entry_point_cache",
    "embed",
    "encodes_untrained",
    "is_reference_agent",
    "list_agents",
    "load_agent",
    "make_agent",
    "open_camera_stream",
    "register_agent",
    "resolve_agent",
    "train_agent",
    "unregister_agent",
    "world_state",
]
