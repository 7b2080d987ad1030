"""Function mode or trace mode: decided from what the submission defines, read (parsed), never run."""

from __future__ import annotations

from grader.i18n import ENGLISH, Translator
from grader.spec.model import Exercise
from grader.submission import Submission
from grader.trace.task import defined_names, trace_cells


def choose_mode(submission: Submission, catalog: list[Exercise], chosen: list[Exercise],
                tr: Translator = ENGLISH) -> tuple[list[Exercise], list[str]]:
    """The exercises to grade and notes saying which mode was used (and why).

    ``chosen`` are the function-mode exercises a whole-catalog run would grade. A submission that defines
    any function those exercises call (``grad_dot``, ...) is graded in function mode; one that defines
    none is a notebook or script as learners write them, graded by the catalog's trace exercises. Names
    the trace exercises use themselves (the book's ``f``) decide nothing.
    """
    traced = [e for e in catalog if e.mode == "trace"]
    if not traced:
        return chosen, []
    cells, skipped = trace_cells(submission)
    shared = {x.function for e in traced for x in e.expectations if x.function}
    wanted = sorted({name for e in chosen for name in e.function_names} - shared)
    defined = sorted(defined_names(cells) & set(wanted))
    if defined:
        return chosen, [tr("graded in function mode: the file defines {names}, so the grader called "
                           "the functions each exercise names", names=", ".join(defined))]
    shown = ", ".join(wanted[:4]) + (", ..." if len(wanted) > 4 else "")
    note = tr("graded in trace mode: the file defines none of the functions function mode calls ({names}), so its "
              "cells ran top to bottom in one namespace and every backward()/autograd.grad() call was traced",
              names=shown)
    return traced, [note, *(n.text(tr) for n in skipped if n not in submission.notes)]
