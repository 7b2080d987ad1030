"""Languages of student-facing text: gettext catalogs, chosen per run and passed along explicitly.

Every message a student reads is an English ``str.format`` template in the code, marked for extraction
(``tr("...")`` where it is used, ``N_("...")`` in tables translated later); ``grader/locale/<lang>/
LC_MESSAGES/grader.po`` holds its translation and the compiled ``grader.mo`` beside it is what runs
(``scripts/update-translations`` extracts, merges and compiles with Babel). English needs no catalog: the
msgids are the English text, so ``--lang en`` output is the code's strings unchanged.

The language is not global state: a ``Translator`` is made from ``--lang`` (or the locale) and handed
to the grader, which writes results in that language and records it in ``SubmissionResult.lang``; the
renderers translate their labels with the result's language. Text worded before a translator exists (a
submission's notes and ``SubmissionError``, a broken result channel, a batch row's reason) is a ``Message``:
English as a ``str``, translated by whoever writes it into a result.

Adding a language (say ``ja``): add it to ``LANGUAGES`` (and to ``lang`` in grader/results.schema.json);
``scripts/update-translations --init ja`` creates grader/locale/ja/LC_MESSAGES/grader.po; translate every
msgstr and run ``scripts/update-translations`` to compile it. For the specs' own texts add
``title_ja``/``prompt_ja``/``hints_ja`` (and the mistakes' ``message_ja``/``hint_ja``) to
grader/spec/model.py, loader.py and exercise.schema.json. tests/test_i18n.py then holds the new catalog
to the same checks as Chinese.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DOMAIN = "grader"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES: tuple[str, ...] = ("en", "zh")  # every language but English has a catalog in LOCALE_DIR
DEFAULT_LANGUAGE = "en"
# gettext's own order: the first of these that is set names the user's language.
LOCALE_VARIABLES: tuple[str, ...] = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def N_(message: str) -> str:
    """Mark a msgid for extraction where it is defined; it is translated where it is used."""
    return message


@dataclass(frozen=True)
class Translator:
    """One language's messages: ``tr(msgid, **fields)`` is the translated template, formatted."""

    lang: str
    catalog: gettext.NullTranslations

    def __call__(self, message: str, /, **fields: object) -> str:
        # Templates are always formatted, so a literal brace in a msgid is written {{ or }}.
        return self.catalog.gettext(message).format(**fields)

    def gettext(self, message: str) -> str:
        """The translated template itself (jinja2's i18n extension formats it)."""
        return self.catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.catalog.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        """A word whose translation depends on its sense ("error": a status, or a numerical error)."""
        return self.catalog.pgettext(context, message)


@lru_cache(maxsize=None)
def translator(lang: str = DEFAULT_LANGUAGE) -> Translator:
    """The translator of a language of ``LANGUAGES``; a missing catalog is an error, never silent English."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: one of {', '.join(LANGUAGES)}")
    if lang == DEFAULT_LANGUAGE:
        return Translator(lang, gettext.NullTranslations())
    return Translator(lang, gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang]))


ENGLISH = translator(DEFAULT_LANGUAGE)  # the default of library calls made without a language


class Message(str):
    """A message worded before anyone knows the language: its English text, able to say itself in any.

    A submission is read, a sandbox's result parsed and a hand-in discovered before (or without) the
    grader's ``Translator``, so such text keeps its msgid and fields; ``text(tr)`` translates it (and any
    field that is itself a Message) where the result is written. As a ``str`` it is the English text.
    """

    template: str  # a msgid: an English str.format template
    fields: dict[str, object]

    def __new__(cls, template: str, fields: Mapping[str, object] | None = None) -> Message:
        fields = dict(fields or {})
        message = super().__new__(cls, ENGLISH(template, **fields))
        message.template, message.fields = template, fields
        return message

    def __reduce__(self) -> tuple[type[Message], tuple[str, dict[str, object]]]:
        return type(self), (self.template, self.fields)

    def text(self, tr: Translator = ENGLISH) -> str:
        return tr(self.template, **{k: v.text(tr) if isinstance(v, Message) else v for k, v in self.fields.items()})


def localized(text: str, tr: Translator) -> str:
    """``text`` in ``tr``'s language when it is a Message; any other str is already worded (or is the
    student's own), so it is kept as it is."""
    return text.text(tr) if isinstance(text, Message) else text


def locale_language(environ: Mapping[str, str] | None = None) -> str:
    """The language the locale asks for: zh for any Chinese locale (zh_CN.UTF-8, zh_TW, zh), else English.

    As gettext does, the first of LANGUAGE, LC_ALL, LC_MESSAGES, LANG that is set decides; LANGUAGE may be
    a list ("zh_CN:en"), whose first entry we support wins.
    """
    environ = os.environ if environ is None else environ
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable, "")
        if not value:
            continue
        for entry in value.split(":") if variable == "LANGUAGE" else [value]:
            code = entry.split(".")[0].split("@")[0].split("_")[0].split("-")[0].lower()
            if code in LANGUAGES:
                return code
        return DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def resolve_language(lang: str | None, environ: Mapping[str, str] | None = None) -> str:
    """``--lang`` when given, else the locale's language."""
    return lang if lang is not None else locale_language(environ)


# Names of the checks (CheckResult.name stays the stable English key; reports show these words).
CHECK_LABELS: dict[str, str] = {
    "reference": N_("reference"),
    "finite_differences": N_("finite_differences"),
    "autograd": N_("autograd"),
    "shape": N_("shape"),
    "forbidden": N_("forbidden"),
    "run": N_("run"),
}


def check_label(name: str, tr: Translator) -> str:
    """A check's name as a student reads it (unchanged in English)."""
    return tr(CHECK_LABELS[name]) if name in CHECK_LABELS else name
