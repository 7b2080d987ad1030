"""Exercise specs: the frozen model and the YAML loader that builds it (see docs/spec-format.md)."""

from grader.spec.loader import (
    EXPRESSION_GLOBALS,
    Problem,
    SpecError,
    load_catalog,
    load_exercise,
    schema_path,
)
from grader.spec.model import (
    CheckConfig,
    Exercise,
    Function,
    InputSpec,
    Limits,
    Target,
    Tolerance,
    Trials,
)

__all__ = [
    "EXPRESSION_GLOBALS",
    "CheckConfig",
    "Exercise",
    "Function",
    "InputSpec",
    "Limits",
    "Problem",
    "SpecError",
    "Target",
    "Tolerance",
    "Trials",
    "load_catalog",
    "load_exercise",
    "schema_path",
]
