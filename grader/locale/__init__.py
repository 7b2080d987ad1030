"""Translations of student-facing text (gettext catalogs: see grader/i18n.py)."""
