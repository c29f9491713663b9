"""One rule for the text people type into Tandem, wherever they type it.

The pages, the plan workbook import, the people import and the command line all store text
through these two functions, so a goal, a name or a comment is kept the same way whichever
way it came in, and SQLite and PostgreSQL accept exactly the same text.

Single-line fields (`one_line`): names of councils, cycles and people, titles, portfolios,
organisations, goal titles, email subject lines.
- White space around the text (spaces, tabs, line breaks) is removed.
- A line break or a tab inside it is refused: these are labels, shown in lists, sheet names
  and email headers.

Multi-line fields (`paragraphs`): a goal's "why it matters", an action, its success
measure, a check-in note, a rater's comment, email wording.
- Every kind of line break becomes a plain line break: Windows and old-Mac endings, Word's
  manual line break (Shift+Enter pastes as a vertical tab), form feed, and Unicode's line
  and paragraph separators (U+2028, U+2029, which come with text pasted from Word or a PDF).
- Blank lines before and after the text, and spaces at the end of each line, are removed;
  indentation (leading spaces or tabs) is kept as typed.

Both kinds
- An invisible control character (NUL, bell, escape, …; `_x0007_` in a workbook cell is
  one) or a non-character (U+FFFE, U+FFFF, a lone surrogate) is refused with a sentence
  naming the field and where it is: they cannot be seen, PostgreSQL refuses NUL, and a
  spreadsheet cannot hold them.
- Each field has a length limit: its database column's length where it has one (read from
  the model, so the two cannot drift apart), otherwise `MAX_TEXT` characters.
- Everything else is kept exactly as typed: accents, right-to-left scripts, emoji, text
  starting with = or + (the exports make sure no spreadsheet runs it as a formula).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from core.errors import Invalid

MAX_TEXT = 10_000  # multi-line text; well inside a spreadsheet cell's 32,767 characters

# Word's Shift+Enter (vertical tab), form feed, NEL and Unicode's separators mean "new line".
_LINE_BREAKS = re.compile("\r\n|[\r\n\v\f\x85\u2028\u2029]")
_NON_CHARACTERS = {"\ufffe", "\uffff"}


def column_limit(model: Any, name: str) -> int | None:
    """The length of a model's text column (None for unbounded text): the one source of the
    limits, so what Tandem checks is what PostgreSQL enforces."""
    return getattr(model.__table__.c[name].type, "length", None)


def _sentence(field: str, rest: str) -> str:
    return field[:1].upper() + field[1:] + " " + rest


def _refuse_invisible(text: str, field: str) -> None:
    for i, ch in enumerate(text):
        category = unicodedata.category(ch)
        if ch in "\t\n" or category not in ("Cc", "Cs") and ch not in _NON_CHARACTERS:
            continue
        before = text[max(0, i - 20) : i].split("\n")[-1].strip()
        where = f"after “{before}”" if before else "at the start"
        kind = (
            "an invisible control character" if category == "Cc" else "a character that is not text"
        )
        raise Invalid(
            _sentence(
                field,
                f"holds {kind} (U+{ord(ch):04X}) {where}, often left by text pasted from "
                "another program. Delete it (retype that part) and try again.",
            )
        )


def _check_length(text: str, field: str, limit: int | None) -> None:
    limit = MAX_TEXT if limit is None else limit
    if len(text) > limit:
        raise Invalid(
            _sentence(field, f"can be at most {limit:,} characters; this one has {len(text):,}.")
        )


def one_line(
    value: object, field: str, *, limit: int | None = None, required: str | None = None
) -> str:
    """A single-line field as stored: surrounding white space removed; a line break, tab or
    control character refused. `field` names it in the sentence ("the council's name");
    `required`, if given, is the sentence for an empty value."""
    text = "" if value is None else str(value)
    _refuse_invisible(_LINE_BREAKS.sub("\n", text), field)
    text = text.strip()
    if not text and required:
        raise Invalid(required)
    if _LINE_BREAKS.search(text):
        raise Invalid(_sentence(field, "must be on one line: it holds a line break."))
    if "\t" in text:
        raise Invalid(_sentence(field, "holds a tab; use a space instead."))
    _check_length(text, field, limit)
    return text


def paragraphs(
    value: object, field: str, *, limit: int | None = None, required: str | None = None
) -> str:
    """A multi-line field as stored: line breaks made plain, blank lines around the text and
    spaces at line ends removed, indentation kept; a control character refused."""
    text = _LINE_BREAKS.sub("\n", "" if value is None else str(value))
    _refuse_invisible(text, field)
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    text = "\n".join(lines)
    if not text and required:
        raise Invalid(required)
    _check_length(text, field, limit)
    return text


def file_stem(*parts: object) -> str:
    """A downloaded file's name from the things it is about: lower-case letters and digits
    joined by hyphens, the same on the pages and the command line."""
    text = "-".join(str(p) for p in parts if p not in (None, ""))
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "chart"
