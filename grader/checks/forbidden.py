"""Static scan for forbidden operations: where in the student's file a forbidden name appears.

The runtime trace (the harness's torch-function mode) is what scores; this scan gives a line to point
at when the code never got to run, and is also shown to instructors.
"""

from __future__ import annotations

import ast

from grader.syntax import syntax_tree


def static_uses(source: str, ops: list[str]) -> list[tuple[str, int]]:
    """(name, line) for every attribute or name in ``source`` matching a forbidden op (``cos``, ``cos_``)."""
    names = {op.split(".")[-1].rstrip("_") for op in ops}
    tree = syntax_tree(source)
    if tree is None:
        return []
    uses = []
    for node in ast.walk(tree):
        name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
        if name is not None and name.rstrip("_") in names:
            uses.append((name, node.lineno))
    return sorted(set(uses), key=lambda use: (use[1], use[0]))
