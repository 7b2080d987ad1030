"""Trace mode: grade notebooks and scripts as learners write them (top-level cells, no named functions).

``task`` builds what the sandboxed child runs (``grader/sandbox/trace_harness.py``), ``evidence``
validates what it sent back, ``judge`` checks the trace against the exercise's expectations, ``mode``
decides between function and trace mode, and ``grade`` ties them together for ``grading.Grader``.
"""
