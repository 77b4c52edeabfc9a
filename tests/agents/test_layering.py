"""agents/ knows the dataset format only: no module imports socialview.envs."""

from __future__ import annotations

import ast
from importlib import resources


def test_agents_never_import_envs():
    offenders = []
    for entry in resources.files("socialview.agents").iterdir():
        if not entry.name.endswith(".py"):
            continue
        tree = ast.parse(entry.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{entry.name}: {n}" for n in names
                          if n.startswith(("socialview.envs", "envs"))]
    assert offenders == []
