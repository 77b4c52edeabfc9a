"""Agent registry: built-ins by decorator, third parties by entry point or import string.

Three ways to name an agent, accepted everywhere an agent name is (CLI included):

* a registered name (``"jepa"``), added with :func:`register_agent`;
* the name of an entry point in the ``socialview.agents`` group, declared by an
  installed package (``[project.entry-points."socialview.agents"]``);
* an import string ``"package.module:attr"`` pointing at an agent class or factory.

The registry refuses duplicate names, like dm_control's tagged containers, so a
plug-in cannot silently replace a built-in.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import inspect
from collections.abc import Callable
from importlib import metadata
from typing import Any

from socialview.agents.base import Agent

__all__ = [
    "ENTRY_POINT_GROUP",
    "AgentConfigError",
    "UnknownAgentError",
    "clear_entry_point_cache",
    "encodes_untrained",
    "is_reference_agent",
    "list_agents",
    "make_agent",
    "register_agent",
    "resolve_agent",
    "unregister_agent",
]

#: Entry-point group scanned for third-party agents.
ENTRY_POINT_GROUP = "socialview.agents"

AgentFactory = Callable[..., Agent]

_REGISTRY: dict[str, AgentFactory] = {}
_ENTRY_POINTS: dict[str, metadata.EntryPoint] | None = None


class UnknownAgentError(KeyError, ValueError):
    """Raised for an agent name that is neither registered, an entry point, nor importable."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class AgentConfigError(TypeError, ValueError):
    """Raised for a config key an agent does not take."""


def register_agent(name: str) -> Callable[[AgentFactory], AgentFactory]:
    """Class decorator that registers an agent factory under ``name``.

    Parameters
    ----------
    name : str
        Registry key. Must not contain ``":"`` (reserved for import strings) and
        must not be registered already.

    Raises
    ------
    ValueError
        If ``name`` is already registered or malformed.

    Examples
    --------
    >>> @register_agent("my-agent")           # doctest: +SKIP
    ... class MyAgent: ...
    """
    if not isinstance(name, str) or not name or ":" in name:
        raise ValueError(f"agent name must be a non-empty string without ':', got {name!r}")

    def decorator(factory: AgentFactory) -> AgentFactory:
        if name in _REGISTRY:
            raise ValueError(
                f"agent name {name!r} is already registered (by {_describe(_REGISTRY[name])}); "
                "pick another name or unregister_agent() the old one first"
            )
        _REGISTRY[name] = factory
        return factory

    return decorator


def unregister_agent(name: str) -> None:
    """Remove ``name`` from the registry (for tests and interactive sessions)."""
    if name not in _REGISTRY:
        raise UnknownAgentError(f"agent {name!r} is not registered")
    del _REGISTRY[name]


def clear_entry_point_cache() -> None:
    """Forget the scanned entry points so the next lookup rescans installed packages."""
    global _ENTRY_POINTS
    _ENTRY_POINTS = None
    importlib.invalidate_caches()


def _entry_points() -> dict[str, metadata.EntryPoint]:
    global _ENTRY_POINTS
    if _ENTRY_POINTS is None:
        found = {}
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            found.setdefault(ep.name, ep)  # first distribution on sys.path wins
        _ENTRY_POINTS = found
    return _ENTRY_POINTS


def list_agents() -> list[str]:
    """Return the sorted names of registered and entry-point agents.

    Import strings (``"pkg.mod:attr"``) are accepted too but cannot be listed.
    """
    _ensure_builtins()
    return sorted(set(_REGISTRY) | set(_entry_points()))


def _ensure_builtins() -> None:
    # The built-in modules register themselves on import; importing the package
    # does that, but a caller may import this module alone.
    importlib.import_module("socialview.agents")


def _describe(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def is_reference_agent(name: str) -> bool:
    """Whether agent kind ``name`` uses labels (its class sets ``reference = True``).

    Such agents (``supervised``) are upper bounds, never emergent results: reports
    and charts mark them as references.
    """
    return bool(getattr(resolve_agent(name), "reference", False))


def encodes_untrained(name: str) -> bool:
    """Whether agent kind ``name`` has a latent before its first training step (its
    class's ``encodes_untrained``, True unless it says otherwise). ``pca`` has none: its
    components are fitted on the frames it has seen, so a curve of it starts after its
    first step, not at 0."""
    return bool(getattr(resolve_agent(name), "encodes_untrained", True))


def resolve_agent(name: str) -> AgentFactory:
    """Return the class or factory that ``name`` designates.

    Registered names win over entry points; strings containing ``":"`` are
    imported. Raises :class:`UnknownAgentError` listing the known names.
    """
    if not isinstance(name, str) or not name:
        raise UnknownAgentError(f"agent name must be a non-empty string, got {name!r}")
    if ":" in name:
        return _import_string(name)
    _ensure_builtins()
    if name in _REGISTRY:
        return _REGISTRY[name]
    eps = _entry_points()
    if name in eps:
        try:
            return eps[name].load()
        except Exception as exc:
            raise UnknownAgentError(
                f"agent {name!r} is declared by entry point {eps[name].value!r} "
                f"but failed to load: {type(exc).__name__}: {exc}"
            ) from exc
    known = list_agents()
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UnknownAgentError(
        f"unknown agent {name!r}. Known agents: {', '.join(known)}.{hint} "
        "(An import string 'package.module:attr' also works.)"
    )


def _import_string(spec: str) -> AgentFactory:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise UnknownAgentError(f"agent import string must look like 'package.module:attr', "
                                f"got {spec!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnknownAgentError(f"cannot import module {module_name!r} for agent {spec!r}: "
                                f"{exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise UnknownAgentError(f"module {module_name!r} has no attribute {attr!r} "
                                    f"(agent {spec!r})") from exc
    if not callable(obj):
        raise UnknownAgentError(f"{spec!r} is not a class or factory")
    return obj


def config_keys(factory: AgentFactory) -> list[str] | None:
    """Return the config keys ``factory`` accepts, or ``None`` if it takes ``**kwargs``.

    Built-in agents expose a ``config_class`` dataclass whose fields are the
    keys; for other factories the keyword parameters of the signature are used.
    """
    config_class = getattr(factory, "config_class", None)
    if config_class is not None and dataclasses.is_dataclass(config_class):
        return [f.name for f in dataclasses.fields(config_class)]
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return None
    keys = []
    for param in sig.parameters.values():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            return None
        if param.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          inspect.Parameter.KEYWORD_ONLY):
            keys.append(param.name)
    return keys


def make_agent(name: str, **config: Any) -> Agent:
    """Build an agent from its name and config.

    Parameters
    ----------
    name : str
        Registered name, entry-point name or ``"package.module:attr"``.
    **config
        Constructor arguments. Every built-in takes ``seed`` and ``latent_dim``;
        see each agent's ``config_class`` for the rest.

    Returns
    -------
    Agent
        A fresh agent, owning its parameters and random stream. The name and the
        config are recorded on it as ``agent_spec`` so the trainer can write a run
        folder that :func:`socialview.agents.load_agent` rebuilds.

    Raises
    ------
    UnknownAgentError
        If ``name`` designates no agent (the message lists the known ones).
    AgentConfigError
        If ``config`` holds a key the agent does not take.
    """
    factory = resolve_agent(name)
    keys = config_keys(factory)
    if keys is not None:
        unknown = sorted(set(config) - set(keys))
        if unknown:
            raise AgentConfigError(
                f"agent {name!r} does not take config key(s) {', '.join(map(repr, unknown))}; "
                f"it takes: {', '.join(keys) or '(none)'}"
            )
    agent = factory(**config)
    try:
        agent.agent_spec = {"name": name, "config": dict(config)}
    except AttributeError:  # a slotted/frozen third-party agent: run folders still work
        pass
    return agent
