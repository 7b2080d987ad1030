"""Gradescope autograder bundles: ``grader gradescope build`` writes the zip, ``grader gradescope run``
is what its ``run_autograder`` calls for each submission.

The zip holds, at its root (Gradescope's autograder specification):

- ``setup.sh``: installs the grader's dependencies at the exact versions this grader runs with
  (``requirements.txt``); the grader itself is shipped as source in ``lib/`` (no index needed for it);
- ``run_autograder``: grades ``/autograder/submission`` against ``exercises/`` and writes
  ``/autograder/results/results.json``; ``GRADER_AUTOGRADER_ROOT`` moves ``/autograder`` (tests) and
  ``GRADER_PYTHON`` chooses the interpreter and ``GRADER_LANG`` the feedback's language (``en`` or
  ``zh``; ``grader gradescope build --lang zh`` makes zh the bundle's default, else the locale decides);
- ``exercises/``: the catalog, copied at build time, so what is graded is what was built.
"""

from __future__ import annotations

import json
import re
import stat
import zipfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import grader
from grader.i18n import LANGUAGES, N_, translator
from grader.report.gradescope import LABELS, GradescopeOptions, error_document, gradescope_document

DEFAULT_ROOT = Path("/autograder")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image: the grader's dependencies, pinned to
# the versions of the grader that built this bundle (autograd-grader {version}).
set -euo pipefail
cd "$(dirname "$0")"
python3 -m pip install --no-cache-dir -r requirements.txt
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. GRADER_AUTOGRADER_ROOT replaces /autograder (for tests),
# GRADER_PYTHON the interpreter, GRADER_LANG the feedback's language (en or zh). The grader always writes
# results/results.json, even for a submission it cannot read (score 0 and the reason), so the student sees why.
set -uo pipefail
ROOT="${GRADER_AUTOGRADER_ROOT:-/autograder}"
export PYTHONPATH="$ROOT/source/lib${PYTHONPATH:+:$PYTHONPATH}"
exec "${GRADER_PYTHON:-python3}" -m grader gradescope run --root "$ROOT"
"""


class BundleError(Exception):
    """The bundle cannot be built (no catalog, unwritable output): a usage error."""

if TYPE_CHECKING:
    from grader.results import SubmissionResult


def pinned_requirements() -> list[str]:
    """The grader's runtime requirements, each pinned to the installed version (markers kept)."""
    lines = []
    for requirement in metadata.requires("autograd-grader") or []:
        spec, _, marker = requirement.partition(";")
        if "extra" in marker:
            continue  # test and cluster extras are not needed to grade
        name = re.match(r"[A-Za-z0-9._-]+", spec.strip())
        if name is None:
            continue
        try:
            version = metadata.version(name.group(0)).split("+", 1)[0]  # "2.13.0+cpu" is not on the index
            pinned = f"{name.group(0)}=={version}"
        except metadata.PackageNotFoundError:  # e.g. tomli, needed only below Python 3.11
            pinned = spec.strip()
        lines.append(pinned + (f"; {marker.strip()}" if marker else ""))
    return lines


def run_autograder_script(lang: str | None = None) -> str:
    """``run_autograder``; with ``lang``, the feedback's language unless Gradescope sets GRADER_LANG."""
    if lang is None:
        return RUN_AUTOGRADER
    if lang not in LANGUAGES:
        raise BundleError(f"unknown language {lang!r}: one of {', '.join(LANGUAGES)}")
    return RUN_AUTOGRADER.replace('ROOT="', f'export GRADER_LANG="${{GRADER_LANG:-{lang}}}"\nROOT="', 1)


def build_bundle(exercises: Path, out: Path, hidden: Path | None = None, lang: str | None = None) -> Path:
    """Write the autograder zip for the catalog at ``exercises`` (and hidden checks at ``hidden``); ``lang``
    is the feedback's default language (else the container's locale decides)."""
    from grader.spec import SpecError, load_catalog
    from grader.spec.hidden import load_hidden

    try:
        catalog = load_catalog(exercises)
        if not catalog:
            raise BundleError(f"no exercises in {exercises}")
        if hidden is not None:
            load_hidden(hidden, catalog)  # a broken hidden file fails the build, not every student's run
    except SpecError as exc:
        raise BundleError(str(exc)) from None
    package = Path(grader.__file__).resolve().parent
    files: dict[str, tuple[bytes, bool]] = {  # name in the zip: (content, executable)
        "setup.sh": (SETUP_SH.format(version=grader.__version__).encode(), True),
        "run_autograder": (run_autograder_script(lang).encode(), True),
        "requirements.txt": ("\n".join(pinned_requirements()).encode() + b"\n", False),
    }
    folders = [(package, "lib/grader", "_catalog"), (exercises, "exercises", None)]
    if hidden is not None:
        folders.append((hidden, "hidden", None))
    for folder, prefix, skip in folders:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if path.is_file() and "__pycache__" not in relative.parts and relative.parts[0] != skip:
                files[f"{prefix}/{relative.as_posix()}"] = (path.read_bytes(), False)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
            for name, (content, executable) in files.items():
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # same catalog, same zip
                info.external_attr = (0o755 if executable else 0o644) << 16 | stat.S_IFREG << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                bundle.writestr(info, content)
    except OSError as exc:
        raise BundleError(f"cannot write {out}: {exc.strerror or exc}") from None
    return out


def run_autograder(root: Path, sandbox: object, options: GradescopeOptions = GradescopeOptions(),
                   lang: str = "en") -> tuple[dict, str]:
    """Grade ``root/submission`` and write ``root/results/results.json`` in ``lang``; returns it and a text
    report."""
    from grader.report.text import render_text
    from grader.session import CheckError, check_submission

    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    try:
        if (root / "source" / "hidden").is_dir():
            result = _grade_with_hidden(root, sandbox, lang)
        else:
            result = check_submission(root / "submission", sandbox, exercises_dir=root / "source" / "exercises",
                                      lang=lang)
        result.submission = _student_name(root / "submission", result.submission)
        document, report = gradescope_document(result, options), render_text(result, color=False, width=100)
    except CheckError as exc:
        message = translator(lang)(LABELS["could_not_grade"], error=exc)
        document, report = error_document(message, options), str(exc)
    (results / "results.json").write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    return document, report


def _grade_with_hidden(root: Path, sandbox: object, lang: str = "en") -> SubmissionResult:
    """The submission folder as one hand-in, graded as ``grader grade --hidden`` would grade it."""
    from grader.batch.grade import HandIn, grade_hand_in
    from grader.grading import Grader
    from grader.session import CheckError
    from grader.spec import SpecError, load_catalog
    from grader.spec.hidden import load_hidden

    try:
        catalog = load_catalog(root / "source" / "exercises")
        hidden = load_hidden(root / "source" / "hidden", catalog)
    except SpecError as exc:
        raise CheckError(str(exc)) from None
    folder = root / "submission"
    files = tuple((p.name, p.read_bytes()) for p in sorted(folder.rglob("*"))
                  if p.is_file() and p.suffix in (".py", ".ipynb")) if folder.is_dir() else ()
    if not files:
        raise CheckError(translator(lang)(N_("no .py or .ipynb file was submitted")))
    return grade_hand_in(Grader(sandbox, lang=lang), HandIn(folder.name, files), catalog, catalog, hidden)  # type: ignore[arg-type]


def _student_name(folder: Path, given: str) -> str:
    """The submitted file's name, not the path inside Gradescope's container."""
    files = [p.name for p in folder.iterdir() if p.suffix in (".py", ".ipynb")] if folder.is_dir() else []
    return files[0] if len(files) == 1 else Path(given).name

