"""What a trace-mode child is asked to do: the submission's cells, and the learner functions to call.

Cells come from ``grader.submission`` (notebook cells, ``# %%`` cells, or the whole file as one cell),
each with the lines it occupies in the submission's program, so every line the child reports is one
``Submission.locate`` can show the student. IPython-only lines are skipped by the same rules as for
notebooks (``.py`` files too here: scripts exported from Jupyter keep ``!pip`` and ``%matplotlib``).
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass

import torch

from grader.checks.reference import Reference
from grader.sandbox.channel import TensorWriter
from grader.spec.model import Exercise, Expectation
from grader.submission import Submission, _lines, _runnable_lines

CELL_TIME_SHARE = 0.5  # of the time limit: one hanging cell is interrupted and the next cells still run
# Set to "stand-in" (tests only) to give the child the pyplot stand-in even when matplotlib is installed,
# so the stand-in's path stays tested on machines that have matplotlib. Read in the grader, not the child.
MATPLOTLIB_ENV = "GRADER_TRACE_MATPLOTLIB"


@dataclass(frozen=True)
class TraceCell:
    index: int  # as the student counts cells (1-based, markdown cells included for notebooks)
    first_line: int  # line of the submission's program where the cell starts
    source: str  # runnable text: IPython-only lines replaced by `pass`, one line per line


def trace_cells(submission: Submission) -> tuple[list[TraceCell], list[str]]:
    """The cells to run in file order, and notes on lines skipped on the way."""
    program = submission.source.split("\n")  # as Python numbers lines
    notes: list[str] = []
    cells: list[TraceCell] = []
    for cell in submission.cells or ():
        if submission.kind == "ipynb":  # already made runnable by grader.submission
            lines = program[cell.first_line - 1: cell.first_line - 1 + cell.line_count]
        else:
            lines = _runnable_lines(_lines(cell.source.rstrip("\n")), cell.index, notes)
        text = "\n".join(lines) + "\n"
        if text.strip():
            cells.append(TraceCell(cell.index, cell.first_line, text))
    if not submission.cells and submission.source.strip():
        lines = _runnable_lines(_lines(submission.source.rstrip("\n")), 1, notes)
        cells.append(TraceCell(1, 1, "\n".join(lines) + "\n"))
    return cells, notes


def defined_names(cells: list[TraceCell]) -> set[str]:
    """Names of the functions the cells define (parsed, never run: the grader does not execute learner code)."""
    names: set[str] = set()
    for cell in cells:
        try:
            tree = ast.parse(cell.source)
        except (SyntaxError, ValueError):
            continue
        names.update(node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return names


def call_id(expectation: Expectation, index: int) -> str:
    return f"{expectation.id}:{index}"


def expectation_inputs(reference: Reference, expectation: Expectation) -> list[dict[str, torch.Tensor]]:
    """The grader's inputs for a ``function_value`` expectation (its own copies: the child gets bytes)."""
    return [{name: torch.as_tensor(reference.evaluate(expression, {})).detach() for name, expression in entry.items()}
            for entry in expectation.inputs]


def build_trace_task(exercises: list[tuple[Exercise, Reference]], submission: Submission, cells: list[TraceCell],
                     *, seed: int, time_limit: float) -> tuple[dict, bytes]:
    """The child's header and body: cells, the functions whose versions it keeps, their calls and inputs."""
    writer = TensorWriter()
    entries: list[dict] = []
    calls: list[dict] = []
    functions: list[str] = []
    for exercise, reference in exercises:
        for expectation in exercise.expectations:
            if expectation.kind != "function_value":
                continue
            functions.append(expectation.function)
            for index, inputs in enumerate(expectation_inputs(reference, expectation)):
                slots = []
                for tensor in inputs.values():
                    slots.append(len(entries))
                    entries.append(writer.add(tensor))
                calls.append({"id": call_id(expectation, index), "function": expectation.function, "args": slots})
    header = {
        "mode": "trace", "filename": str(submission.path), "seed": seed,
        "cell_time": round(time_limit * CELL_TIME_SHARE, 3),
        "cells": [{"index": c.index, "first_line": c.first_line, "source": c.source} for c in cells],
        "functions": sorted(set(functions)), "calls": calls, "inputs": entries,
    }
    if os.environ.get(MATPLOTLIB_ENV) == "stand-in":
        header["matplotlib"] = "stand-in"
    return header, writer.body()
