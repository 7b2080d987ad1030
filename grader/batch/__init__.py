"""Batch grading for instructors: discovery, resumable store, executors, outputs, progress."""
