"""The largest modules and functions of a source tree: where a file or a function has grown
past what one reader holds in mind.

    python scripts/code_shape.py [ROOT] [--top N]

A module's size is its line count; a function's (methods and nested functions included) is
the lines from its ``def`` (decorators excluded) to its last line, docstring and comments
included, as ``ast`` reports them. ROOT defaults to ``src``.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path


def functions(tree: ast.AST) -> list[tuple[int, str, int]]:
    """(lines, qualified name, first line) of every function in ``tree``."""
    found: list[tuple[int, str, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                end = child.end_lineno or child.lineno
                found.append((end - child.lineno + 1, name, child.lineno))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="src", type=Path)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    modules: list[tuple[int, str]] = []
    defs: list[tuple[int, str]] = []
    for path in sorted(args.root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(args.root).as_posix()
        modules.append((len(text.splitlines()), relative))
        for lines, name, line in functions(ast.parse(text, filename=str(path))):
            defs.append((lines, f"{relative}:{line} {name}"))
    print(f"largest modules (lines) of {len(modules)}:")
    for lines, name in sorted(modules, reverse=True)[: args.top]:
        print(f"  {lines:6d}  {name}")
    print(f"largest functions (lines, def to last line) of {len(defs)}:")
    for lines, name in sorted(defs, reverse=True)[: args.top]:
        print(f"  {lines:6d}  {name}")


if __name__ == "__main__":
    main()
