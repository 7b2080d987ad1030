"""The syntax tree of a submission's source, parsed once however many checks read it.

Judging one submission asks several static questions of the same source (review flags, the facts of
each exercise's function for diagnoses, where a forbidden name appears): parsing for each cost a tenth
of the grader's time per hand-in. Callers must not modify the tree they get.
"""

from __future__ import annotations

import ast
from functools import lru_cache


@lru_cache(maxsize=32)
def syntax_tree(source: str) -> ast.Module | None:
    """``ast.parse(source)``, or None for code that does not parse (its run reports the error)."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None
