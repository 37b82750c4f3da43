"""Imports point one way. Floors, lowest first:

    base      vigil (settings, db, named queries, constants, results, the network guard, ...)
    services  ingest < aggregator < evaluator < notify
    api       api
    commands  vigil.commands (the `vigil` CLI, `vigil up`, the demo)

A module imports its own floor or lower ones, never a higher one; imports inside functions
count too, since a lazy import still runs back up when it runs."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOORS = {"vigil": 0, "ingest": 1, "aggregator": 2, "evaluator": 3, "notify": 4, "api": 5}
COMMANDS = 6


def floor(module: str) -> int | None:
    if module == "vigil.commands" or module.startswith("vigil.commands.") or module == "vigil.__main__":
        return COMMANDS
    return FLOORS.get(module.split(".")[0])


def modules() -> list[tuple[str, Path]]:
    out = []
    for package in FLOORS:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            out.append((name.removesuffix(".__init__"), path))
    return out


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def upward_imports() -> list[str]:
    found = []
    for module, path in modules():
        mine = floor(module)
        for name in sorted(imported(path)):
            theirs = floor(name)
            if theirs is not None and theirs > mine:
                found.append(f"{module} imports {name}")
    return found


def test_every_import_points_down_or_sideways():
    assert upward_imports() == []


def test_the_walk_sees_the_whole_tree_and_would_catch_an_upward_import(tmp_path, monkeypatch):
    names = {m for m, _ in modules()}
    assert {"vigil.settings", "ingest.worker", "aggregator.rollup", "evaluator.tick", "notify.outbox",
            "api.app", "vigil.commands.cli"} <= names
    bad = tmp_path / "vigil" / "bad.py"
    bad.parent.mkdir()
    bad.write_text("def f():\n    from api.app import create_app\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    with pytest.raises(AssertionError):
        test_every_import_points_down_or_sideways()
