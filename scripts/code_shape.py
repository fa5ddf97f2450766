"""The largest modules and functions of a source tree: where a file or a function has grown
past what one reader holds in mind; and the states and kinds still compared as literal
strings.

    python scripts/code_shape.py [ROOT] [--top N]

A module's size is its line count; a function's (methods and nested functions included) is
the lines from its ``def`` (decorators excluded) to its last line, docstring and comments
included, as ``ast`` reports them. ROOT defaults to ``src``.

A literal state or kind comparison is an ``==`` or ``!=`` between a string literal and a
name, attribute, ``[key]`` or ``.get(key)`` whose name ends in ``state`` or ``kind``
(``loan.state == "current"``, ``kind != "bank"``), or such a name ``in`` (``not in``) a
tuple, list or set of string literals. States and kinds are ``StrEnum`` members, so the
count should be 0; every one found is listed, with its place, so the figure can be checked.
Alembic migrations are left out (they keep the literals of their time).
"""

from __future__ import annotations

import argparse
import ast
import re
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


STATE_OR_KIND = re.compile(r"(state|kind)s?$", re.IGNORECASE)


def _compared_name(node: ast.AST) -> str | None:
    """The name a comparison reads: of a variable, an attribute, ``x["key"]``, ``x.get("key")``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return str(node.slice.value)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ):
        return str(node.args[0].value)
    return None


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def literal_comparisons(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, source) of every comparison of a state or kind with a string literal."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, sides[:-1], sides[1:], strict=True):
            if isinstance(op, (ast.Eq, ast.NotEq)):
                pairs = [(left, right), (right, left)]
            elif isinstance(op, (ast.In, ast.NotIn)) and isinstance(
                right, (ast.Tuple, ast.List, ast.Set)
            ):
                pairs = [(left, right)] if right.elts and all(map(_is_text, right.elts)) else []
            else:
                pairs = []
            for named, literal in pairs:
                name = _compared_name(named)
                if (
                    name
                    and STATE_OR_KIND.search(name)
                    and (_is_text(literal) or isinstance(literal, (ast.Tuple, ast.List, ast.Set)))
                ):
                    found.append((node.lineno, ast.unparse(node)))
                    break
    return sorted(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="src", type=Path)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    modules: list[tuple[int, str]] = []
    defs: list[tuple[int, str]] = []
    literals: list[str] = []
    for path in sorted(args.root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(args.root).as_posix()
        modules.append((len(text.splitlines()), relative))
        tree = ast.parse(text, filename=str(path))
        for lines, name, line in functions(tree):
            defs.append((lines, f"{relative}:{line} {name}"))
        if "/migrations/" not in f"/{relative}":
            literals += [
                f"{relative}:{line} {source}" for line, source in literal_comparisons(tree)
            ]
    print(f"largest modules (lines) of {len(modules)}:")
    for lines, name in sorted(modules, reverse=True)[: args.top]:
        print(f"  {lines:6d}  {name}")
    print(f"largest functions (lines, def to last line) of {len(defs)}:")
    for lines, name in sorted(defs, reverse=True)[: args.top]:
        print(f"  {lines:6d}  {name}")
    print(f"literal state or kind comparisons: {len(literals)}")
    for each in literals:
        print(f"  {each}")


if __name__ == "__main__":
    main()
