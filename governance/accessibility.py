"""The accessibility statement (Public Sector Bodies Accessibility Regulations 2018): its
words live in data/accessibility_statement.yaml so a council can edit them; the
organisation and the contact address come from the settings (or the database's only
council, or the email sender). Read by pages/accessibility.py and `tandem accessibility`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml
from sqlmodel import Session, col, select

from core.errors import Invalid
from core.formats import uk_date
from core.models import Council
from core.settings import Settings, load_settings

STATEMENT_FILE = Path(__file__).resolve().parents[1] / "data" / "accessibility_statement.yaml"
NO_ORGANISATION = "the council"
NO_CONTACT = "the person who sent you your invitation or your account"


@dataclass(frozen=True)
class NotYet:
    rule: str  # the axe-core rule the browser test excuses for it
    page: str
    text: str


@dataclass(frozen=True)
class Section:
    heading: str
    # Markdown from the data file (trusted: the server's own file), its dates and the list
    # of what does not yet meet the standard filled in; "{organisation}" and "{contact}"
    # are left for the reader to fill as text (a council's name is typed by a person).
    body: str


@dataclass(frozen=True)
class Statement:
    title: str
    tested_on: date
    not_yet: tuple[NotYet, ...]
    sections: tuple[Section, ...]
    organisation: str
    contact: str

    def markdown(self) -> str:
        """The whole statement as one Markdown document (for a council's own website)."""
        parts = [f"# {self.title}"]
        parts += [f"## {s.heading}\n\n{s.body.strip()}" for s in self.sections]
        text = "\n\n".join(parts) + "\n"
        return text.replace("{organisation}", self.organisation).replace("{contact}", self.contact)


def _organisation(session: Session | None, settings: Settings) -> str:
    if settings.organisation:
        return settings.organisation
    if session is not None:
        names = session.exec(select(Council.name).order_by(col(Council.id)).limit(2)).all()
        if len(names) == 1:
            return names[0]
    return NO_ORGANISATION


def accessibility_statement(
    session: Session | None = None,
    settings: Settings | None = None,
    path: Path = STATEMENT_FILE,
) -> Statement:
    """The statement as this server publishes it. Public: it names no person and needs no
    account (a rater reads it before answering)."""
    settings = settings or load_settings()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        not_yet = tuple(
            NotYet(str(n["rule"]), str(n["page"]), str(n["text"])) for n in raw["not_yet"]
        )
        tested_on = raw["tested_on"]
        prepared_on = raw["prepared_on"]
        contact = settings.accessibility_contact or settings.smtp.sender or NO_CONTACT
        values = {
            "organisation": "{organisation}",
            "contact": "{contact}",
            "tested_on": uk_date(tested_on),
            "prepared_on": uk_date(prepared_on),
            "not_yet": "\n".join(f"- **{n.page.capitalize()}**: {n.text}" for n in not_yet),
        }
        sections = tuple(
            Section(str(s["heading"]), str(s["body"]).format(**values)) for s in raw["sections"]
        )
        title = str(raw["title"])
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise Invalid(
            f"The accessibility statement in {path.name} could not be read ({exc}). "
            "Check its headings and the names in braces."
        ) from exc
    if not isinstance(tested_on, date):
        raise Invalid(f"The accessibility statement's tested_on is not a date: {tested_on!r}.")
    return Statement(title, tested_on, not_yet, sections, _organisation(session, settings), contact)
