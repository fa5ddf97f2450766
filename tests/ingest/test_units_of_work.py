"""Ingest commits in one place: ``units.read_file`` (a file read a chunk to a unit of work)
and the request's edge; no module of ingest imports its own task module, which imports
them."""

from __future__ import annotations

import ast
from pathlib import Path

import xinyidai.ingest

INGEST = Path(xinyidai.ingest.__file__).parent
# Where ingest may commit: the one helper that reads a file in units of work, and the
# route that answers with a queued batch as it stands.
COMMITTERS = {"units.py", "api.py"}


def _modules() -> dict[str, ast.Module]:
    return {
        path.relative_to(INGEST).as_posix(): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(INGEST.rglob("*.py"))
    }


def test_only_the_unit_of_work_helper_and_the_edge_commit() -> None:
    committing = {
        name
        for name, tree in _modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Attribute) and node.func.attr == "commit")
            or (isinstance(node.func, ast.Name) and node.func.id == "commit")
        )
    }
    assert committing
    assert committing <= COMMITTERS


def test_no_module_imports_the_task_module() -> None:
    importing = set()
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (
                node.module == "xinyidai.ingest.jobs"
                or (node.module == "xinyidai.ingest" and any(a.name == "jobs" for a in node.names))
            ):
                importing.add(name)
            if isinstance(node, ast.Import) and any(
                a.name == "xinyidai.ingest.jobs" for a in node.names
            ):
                importing.add(name)
    assert importing == set()
