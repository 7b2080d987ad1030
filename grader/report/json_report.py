"""The machine-readable report: ``SubmissionResult.to_json()`` as one strict JSON document.

JSON has no NaN or infinity, yet a student's NaN gradient is exactly what a mismatch must report.
Non-finite floats are therefore written as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``
(they keep the distinction, and Python's ``float()`` parses each of them); ``parse_json`` turns them
back into floats. The format is documented in ``docs/results.md`` and ``grader/results.schema.json``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from grader.results import SubmissionResult, submission_from_json

NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def render_json(result: SubmissionResult, *, indent: int | None = 2) -> str:
    """One JSON document, no trailing newline; ``indent=None`` gives one line (for ``results.jsonl``)."""
    return json.dumps(
        _finite(result.to_json()), indent=indent, ensure_ascii=False, allow_nan=False
    )


def parse_json(text: str) -> SubmissionResult:
    """Inverse of ``render_json``, non-finite floats included."""
    return submission_from_json(_restore(json.loads(text)))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def _restore(value: Any) -> Any:
    """Turn spelled-out non-finite floats back into floats, in float fields only."""
    if isinstance(value, dict):
        return {key: _restore_field(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_restore(item) for item in value]
    return value


# The fields that hold floats: a message that happens to read "NaN" must stay text.
_FLOAT_FIELDS = frozenset(
    {"score", "max_score", "duration", "weight", "max_abs_error", "max_rel_error", "got", "expected"}
)


def _restore_field(key: str, value: Any) -> Any:
    if key in _FLOAT_FIELDS:
        if isinstance(value, str) and value in NON_FINITE:
            return NON_FINITE[value]
        if isinstance(value, list):  # Values.got / Values.expected: lists of floats
            return [NON_FINITE.get(item, item) if isinstance(item, str) else item for item in value]
    return _restore(value)
