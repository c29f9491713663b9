"""Translations for what raters read (Welsh Language Standards: Welsh on equal terms).

GNU gettext catalogues through Babel: the English text in the code is the message id,
marked `_()` where it is shown (or `N_()` where it is defined before anyone reads it), and
`data/locale/cy/LC_MESSAGES/tandem.po` holds the Welsh. The `.po` file is read when first
needed and compiled in memory (Babel's `read_po` / `write_mo`), so the repository holds no
built `.mo` and nothing needs compiling at install. The workflow (README, "Cymraeg"):

    pybabel extract -F babel.cfg -o data/locale/tandem.pot .
    pybabel update -i data/locale/tandem.pot -d data/locale -D tandem -l cy
    # translate the new or fuzzy entries in data/locale/cy/LC_MESSAGES/tandem.po

Only the rater-facing text is translated (the questionnaire, its link pages and
confidentiality statement, the invitation and reminder emails); staff pages stay English.
"""

from __future__ import annotations

import gettext
import io
import threading
from collections.abc import Callable
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from core.db import DATA_DIR

LOCALE_DIR = DATA_DIR / "locale"
DOMAIN = "tandem"
LANGUAGES = ("en", "cy")  # English is the source language: its "catalogue" is the code
DEFAULT_LANGUAGE = "en"

Translate = Callable[[str], str]

_LOADED: dict[str, gettext.NullTranslations] = {}
_LOCK = threading.Lock()


def N_(message: str) -> str:
    """Mark a message for the catalogue where it is defined; `_()` translates it when shown."""
    return message


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _load(language: str) -> gettext.NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    with catalogue_path(language).open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt leaves them out
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of `language` ("en" or "cy"), read once per process."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    found = _LOADED.get(language)
    if found is None:
        with _LOCK:
            found = _LOADED.get(language) or _load(language)
            _LOADED[language] = found
    return found


def translator(language: str) -> Translate:
    """`_` for one language: the English message id in, that language's text out (the
    English itself where a message has no translation yet)."""
    return translations(language).gettext


def plural(language: str) -> Callable[[str, str, int], str]:
    """`ngettext` for one language (Welsh has six plural forms; the catalogue says which)."""
    return translations(language).ngettext


UNCHECKED = "machine-drafted: needs a Welsh speaker's check"


def unchecked_messages(language: str) -> int:
    """How many of a catalogue's translations are still marked machine-drafted (the
    translator comment `UNCHECKED`, removed entry by entry as a fluent speaker checks it)."""
    if language == DEFAULT_LANGUAGE:
        return 0
    with catalogue_path(language).open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    return sum(1 for m in catalog if m.id and UNCHECKED in m.user_comments)
