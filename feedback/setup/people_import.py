"""Bringing people in from a spreadsheet (.xlsx or .csv), all or nothing, and editing them.

Every row is checked before anything is saved; each problem names its spreadsheet row (the
header is row 1). Names are kept exactly as typed — Siân, Rhys-Jones, Wiśniewski — only
surrounding spaces are trimmed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter, range_boundaries
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core import audit
from core.cells import active_sheet
from core.errors import Conflict, Invalid, NotFound
from core.models import stored_id, utcnow
from core.roles import Actor, require_council_manager
from core.uploads import (
    MAX_UPLOAD_BYTES,
    Formula,
    header_width,
    merged_ranges,
    open_workbook,
    read_csv,
    read_sheet,
    refuse_oversized,
    value_of,
)
from core.vocabulary import PersonKind
from feedback.models import Person
from feedback.setup.people import (
    PERSON_FIELDS,
    check_standing,
    clean_person,
    get_council,
    normalise_email,
    person_field,
)

MAX_BYTES = MAX_UPLOAD_BYTES
MAX_ROWS = 5000


def _key(text: object) -> str:
    """A heading or kind as compared: case, spaces and punctuation ignored, so "E-mail",
    "e mail" and "EMAIL" are one heading."""
    return "".join(ch for ch in str(text or "").casefold() if ch.isalnum())


MAX_PROBLEMS_LISTED = 50

COLUMNS = ["full_name", "email", "kind", "title", "portfolio", "organisation"]
# Optional, for rater balance at nomination (see feedback.setup.people.check_standing).
COLUMNS += ["political_group", "political_side", "special_role"]
REQUIRED = ("full_name", "email", "kind")
# Headings people actually type (English and Welsh), compared without case, spaces or
# punctuation, mapped to the column they mean. First name + Last name make the full name.
SYNONYMS = {
    "full_name": ["full name", "name", "names", "person", "enw", "enw llawn"],
    "first_name": ["first name", "forename", "forenames", "given name", "enw cyntaf"],
    "last_name": ["last name", "surname", "family name", "cyfenw"],
    "email": ["email", "e-mail", "email address", "e-mail address", "e-bost", "cyfeiriad e-bost"],
    "kind": ["kind", "type", "role", "member/officer", "member or officer", "category", "math"],
    "title": ["title", "job title", "position", "post", "job", "teitl", "swydd"],
    "portfolio": ["portfolio", "cabinet portfolio", "portffolio"],
    "organisation": ["organisation", "organization", "org", "employer", "sefydliad"],
    "political_group": ["political group", "group", "party", "political party", "plaid"],
    "political_side": ["political side", "side", "administration or opposition"],
    "special_role": ["special role", "statutory role", "statutory officer"],
}
HEADINGS = {_key(typed): name for name, typed_ in SYNONYMS.items() for typed in typed_}
LABELS = {
    "full_name": "name",
    "first_name": "first name",
    "last_name": "last name",
    "email": "email address",
    "kind": "kind (member, officer or external)",
    "title": "title",
    "portfolio": "portfolio",
    "organisation": "organisation",
    "political_group": "political group",
    "political_side": "political side",
    "special_role": "special role",
}
MISSING_HINT = {
    "full_name": "Name (or First name and Last name)",
    "email": "Email, E-mail or Email address",
    "kind": "Type, Role or Member/Officer",
}
KINDS = {  # keyed by _key(value)
    "member": PersonKind.member,
    "councillor": PersonKind.member,
    "cllr": PersonKind.member,
    "electedmember": PersonKind.member,
    "officer": PersonKind.officer,
    "external": PersonKind.external,
    "partner": PersonKind.external,
    "externalpartner": PersonKind.external,
}

EXAMPLE_ROWS = [
    ["Cllr Siân Llewelyn", "sian.llewelyn@example.gov.uk", "member", "Cabinet Member",
     "Adult Social Care", ""],
    ["Rhodri ap Dafydd", "rhodri.apdafydd@example.gov.uk", "officer", "Director of Place", "", ""],
    ["Dr Miriam Cole", "miriam.cole@example.org", "external", "Place Director", "",
     "Integrated Care Board"],
]  # fmt: skip


@dataclass
class PersonRow:
    row: int  # spreadsheet row number
    full_name: str
    email: str
    kind: str
    title: str = ""
    portfolio: str = ""
    organisation: str = ""
    political_group: str = ""
    political_side: str = ""
    special_role: str = ""


@dataclass
class ImportResult:
    added: list[Person]
    empty_rows_skipped: int
    rows: list[PersonRow] = field(default_factory=list)  # every person checked
    notes: list[str] = field(default_factory=list)
    applied: bool = True

    def summary(self) -> str:
        if self.applied:
            text = f"{len(self.added)} people added."
        else:
            n = len(self.rows)
            text = f"Ready to add {n} {'person' if n == 1 else 'people'}; nothing is saved yet."
        if self.empty_rows_skipped:
            text += f" {self.empty_rows_skipped} empty rows were skipped."
        return text


# --- templates ---------------------------------------------------------------------------


def template_xlsx() -> bytes:
    workbook = Workbook()
    sheet = active_sheet(workbook)
    sheet.title = "People"
    sheet.append(COLUMNS)
    for row in EXAMPLE_ROWS:
        sheet.append(row)
    for column, width in zip("ABCDEF", (30, 36, 12, 30, 30, 30), strict=True):
        sheet.column_dimensions[column].width = width
    notes = workbook.create_sheet("How to fill this in")
    for line in (
        ["Column", "What to put"],
        ["full_name", "Required. As it should appear, e.g. Cllr Siân Llewelyn."],
        ["email", "Required. One person per address; used to spot duplicates."],
        ["kind", "Required: member (a councillor), officer, or external (a partner)."],
        ["title", "Optional, e.g. Leader of the Council, Director of Place."],
        ["portfolio", "Optional, for cabinet members and directors."],
        ["organisation", "Optional, for external partners."],
        ["political_group", "Optional, councillors only: their group, e.g. Labour, Independent."],
        ["political_side", "Optional, councillors only: administration or opposition."],
        [
            "special_role",
            "Optional: monitoring officer, chief finance officer (s151), head of paid service "
            "(officers) or scrutiny chair (a councillor).",
        ],
        ["", "Replace the example rows. Only the People sheet is read."],
    ):
        notes.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(EXAMPLE_ROWS)
    return buffer.getvalue().encode("utf-8-sig")


# --- reading -----------------------------------------------------------------------------


def _column_letter(index: int) -> str:
    return get_column_letter(index + 1)


def _columns(header: list[object]) -> tuple[dict[str, int], list[str]]:
    """Where each known column is, and a problem for each heading that is not understood,
    repeated, or missing — naming the heading as typed and its column."""
    positions: dict[str, int] = {}
    typed: dict[str, str] = {}
    problems: list[str] = []
    for index, value in enumerate(header):
        if str(value or "").strip() == "":
            continue
        text, letter = str(value).strip(), _column_letter(index)
        if isinstance(value, Formula):
            problems.append(
                f"Row 1: the heading in column {letter} is a formula ({text}); type the "
                "heading itself."
            )
            continue
        name = HEADINGS.get(_key(value))
        if name is None:
            problems.append(
                f"Row 1: the heading '{text}' (column {letter}) is not one Tandem "
                f"understands. The template's headings are {', '.join(COLUMNS)}."
            )
        elif name in positions:
            first = typed[name]
            problems.append(
                f"Row 1: the headings {first} and '{text}' (column {letter}) both mean "
                f"{LABELS[name]}; keep one of them."
            )
        else:
            positions[name] = index
            typed[name] = f"'{text}' (column {letter})"
    parts = [n for n in ("first_name", "last_name") if n in positions]
    if "full_name" in positions and parts:
        problems.append(
            f"Row 1: the file has both {typed['full_name']} and {typed[parts[0]]}; keep "
            "either one name column or First name and Last name."
        )
    elif len(parts) == 1:
        other = "last_name" if parts[0] == "first_name" else "first_name"
        problems.append(
            f"Row 1: there is {typed[parts[0]]} but no {LABELS[other]} column; add one, or "
            "put the whole name in one column headed full_name."
        )
    for name in REQUIRED:
        if name in positions or (name == "full_name" and parts):
            continue
        problems.append(
            f"Row 1: no column holds the {LABELS[name]}. The template heads it {name}; "
            f"{MISSING_HINT[name]} also work."
        )
    return positions, problems


def _read_xlsx(data: bytes) -> tuple[list[Any], list[tuple[int, list[Any]]], list[str], list[str]]:
    """The heading row, the rows that hold something, the merged ranges and any note —
    read in openpyxl's read-only mode, only as wide as the headings and as far down as the
    people go (see core.uploads)."""
    workbook = open_workbook(
        data,
        "This file could not be read as an Excel workbook (.xlsx). Save it again from "
        "Excel or LibreOffice as .xlsx, or as CSV UTF-8.",
    )
    try:
        sheets = workbook.worksheets
        if not sheets:
            raise Invalid("This workbook has no sheet of people. Download the template.")
        sheet = workbook["People"] if "People" in workbook.sheetnames else sheets[0]
        header, width = header_width(sheet)
        table = read_sheet(sheet, width, first_row=2, max_rows=MAX_ROWS, what="people")
        merged = merged_ranges(sheet)
        note = table.note(sheet.title)
    finally:
        workbook.close()
    rows = [(r, [value_of(c) for c in cells]) for r, cells in table.rows]
    return header, rows, merged, [note] if note else []


def _merge_problems(merged: list[str], rows: list[int]) -> dict[int, str]:
    """A problem per merged range, at its first row; the other rows it covers (of those
    holding something) get no problem of their own. Many merged ranges are one problem."""
    if len(merged) > MAX_PROBLEMS_LISTED:
        raise Invalid(
            f"Nothing was imported: the sheet has {len(merged):,} merged ranges of cells. "
            "Unmerge them all (select the whole sheet, then turn off Merge) and give every "
            "person their own row."
        )
    found: dict[int, str] = {}
    for ref in merged:
        try:
            _, min_row, _, max_row = range_boundaries(ref)
        except ValueError:
            continue
        if min_row is None or max_row is None:  # a whole-column range: no row to name
            continue
        for r in rows:
            if min_row < r <= max_row:
                found.setdefault(r, "")
        found[min_row] = (
            f"Rows {min_row}–{max_row}: cells {ref} are merged. Unmerge them and give every "
            "person their own row."
            if max_row > min_row
            else f"Row {min_row}: cells {ref} are merged. Unmerge them."
        )
    return found


@dataclass
class CheckedFile:
    rows: list[PersonRow]
    empty_rows_skipped: int
    notes: list[str]


def read_people_file(filename: str, data: bytes) -> CheckedFile:
    """Parse and check a whole file. Returns the good rows, how many empty rows were
    skipped and any note; raises Invalid listing every problem once, in row order (the
    headings first), if anything is wrong."""
    refuse_oversized(data, "A list of people")
    suffix = PurePath(filename or "").suffix.lower()
    merged: list[str] = []
    notes: list[str] = []
    if suffix == ".xlsx":
        header, raw, merged, notes = _read_xlsx(data)
    elif suffix == ".csv":
        header, raw = read_csv(data, max_rows=MAX_ROWS, what="people")
    else:
        raise Invalid("Upload an Excel workbook (.xlsx) or a CSV file (.csv).")
    if all(str(v or "").strip() == "" for v in header):
        if not raw:
            raise Invalid("The file is empty. Download the template and fill it in.")
        # Not skipped: guessing where the headings are would shift every row number.
        raise Invalid("Row 1 must hold the column headings; the file starts with an empty row.")
    positions, problems = _columns(list(header))
    merges = _merge_problems(merged, [r for r, _ in raw])
    if merges.get(1):
        problems.append(merges[1])
    rows: list[PersonRow] = []
    seen: dict[str, int] = {}
    last = raw[-1][0] if raw else 1
    empty = last - 1 - len(raw)  # rows between the headings and the last person
    for r, values in raw:
        if r in merges:
            if merges[r]:
                problems.append(merges[r])
            continue
        row_problems, email = _check_row(r, values, positions, seen)
        if not row_problems and not problems:
            rows.append(_person_row(r, values, positions, email))
        problems.extend(row_problems)
    if not raw and not problems:
        raise Invalid("The file has headings but no people in it.")
    if problems:
        _raise(problems, headings=any(p.startswith("Row 1:") for p in problems))
    return CheckedFile(rows, empty, notes)


def _cells(values: list[Any], positions: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, i in positions.items():
        value = values[i] if i < len(values) and values[i] is not None else ""
        out[name] = value if isinstance(value, Formula) else _text(value).strip()
    return out


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_row(
    r: int, values: list[Any], positions: dict[str, int], seen: dict[str, int]
) -> tuple[list[str], str]:
    """Every problem of one row, each once (a cell holding a formula is named for what it
    is and not checked again as a name, address or kind), and its normalised email."""
    cells = _cells(values, positions)
    problems: list[str] = []
    for name, value in cells.items():
        if isinstance(value, Formula):
            cell = f"{_column_letter(positions[name])}{r}"
            problems.append(
                f"Row {r}: cell {cell} holds a formula ({value}). Type the value itself instead."
            )
    formulas = {n for n, v in cells.items() if isinstance(v, Formula)}
    if "full_name" in positions or "first_name" in positions or "last_name" in positions:
        name_cols = [n for n in ("full_name", "first_name", "last_name") if n in positions]
        if not formulas & set(name_cols) and not _full_name(cells):
            problems.append(f"Row {r}: the name is missing.")
    email = ""
    if "email" in positions and "email" not in formulas:
        try:
            email = normalise_email(cells["email"])
        except Invalid as exc:
            problems.append(f"Row {r}: {exc}")
    if "kind" in positions and "kind" not in formulas and _key(cells["kind"]) not in KINDS:
        problems.append(f"Row {r}: kind '{cells['kind']}' should be member, officer or external.")
    texts = {**cells, "full_name": _full_name(cells)}
    for name in PERSON_FIELDS:  # the one rule for text (core.text), as on the page
        if name in formulas or not str(texts.get(name, "")):
            continue
        try:
            person_field(name, texts[name])
        except Invalid as exc:
            problems.append(f"Row {r}: {exc}")
    kind = KINDS.get(_key(cells.get("kind", "")))
    if kind is not None and not formulas & {"political_group", "political_side", "special_role"}:
        try:
            _standing(kind, cells)
        except Invalid as exc:
            problems.append(f"Row {r}: {exc}")
    if email:
        if email in seen:
            problems.append(f"Row {r}: {email} is also on row {seen[email]}.")
        else:
            seen[email] = r
    return problems, email


def _full_name(cells: dict[str, Any]) -> str:
    if "full_name" in cells:
        return str(cells["full_name"])
    return " ".join(
        str(cells[n]) for n in ("first_name", "last_name") if str(cells.get(n, "")).strip()
    )


def _person_row(r: int, values: list[Any], positions: dict[str, int], email: str) -> PersonRow:
    cells = _cells(values, positions)
    text = {**cells, "full_name": _full_name(cells)}
    clean = {n: person_field(n, text[n]) if text.get(n) else "" for n in PERSON_FIELDS}
    standing = _standing(KINDS[_key(cells["kind"])], cells)
    return PersonRow(
        row=r,
        full_name=clean["full_name"],
        email=email,
        kind=KINDS[_key(cells["kind"])].value,
        title=clean["title"],
        portfolio=clean["portfolio"],
        organisation=clean["organisation"],
        political_group=standing[0],
        political_side=standing[1],
        special_role=standing[2],
    )


def _standing(kind: PersonKind, cells: dict[str, Any]) -> tuple[str, str, str]:
    return check_standing(
        kind,
        str(cells.get("political_group", "")),
        str(cells.get("political_side", "")),
        str(cells.get("special_role", "")),
    )


def _raise(problems: list[str], headings: bool = False) -> None:
    shown = problems[:MAX_PROBLEMS_LISTED]
    if len(problems) > len(shown):
        shown.append(f"…and {len(problems) - len(shown)} more.")
    message = (
        f"Nothing was imported: {len(problems)} problem{'s' if len(problems) != 1 else ''} "
        "to fix in the file first."
    )
    if headings:
        message += (
            f" The first row must hold the column headings ({', '.join(COLUMNS)}; "
            "download the template to see them)."
        )
    raise Invalid(message, shown)


def import_people(
    session: Session,
    actor: Actor,
    council_id: int,
    filename: str,
    data: bytes,
    *,
    apply: bool = True,
) -> ImportResult:
    """All or nothing: every row is checked (against the file and the people already
    recorded) before the first one is saved. With `apply=False` (a dry run) nothing is
    saved and the result says who would be added; any problem raises Invalid either way."""
    require_council_manager(actor, council_id)
    get_council(session, council_id)
    checked = read_people_file(filename, data)
    rows, empty = checked.rows, checked.empty_rows_skipped
    existing = {
        email: name
        for email, name in session.exec(
            select(Person.email, Person.full_name).where(
                col(Person.council_id) == council_id, col(Person.email).in_([r.email for r in rows])
            )
        )
    }
    clashes = [
        f"Row {r.row}: {r.email} already belongs to {existing[r.email]}."
        for r in rows
        if r.email in existing
    ]
    if clashes:
        _raise(clashes)
    if not apply:
        return ImportResult([], empty, rows, checked.notes, applied=False)
    # Every row is already checked and cleaned as add_person would (read_people_file, the
    # clash query above): all of them go in as one statement, not a query and a flush each.
    now = utcnow()
    try:
        added = list(
            session.scalars(
                insert(Person).returning(Person, sort_by_parameter_order=True),
                [
                    {"council_id": council_id, "full_name": r.full_name, "email": r.email,
                     "kind": r.kind, "title": r.title, "portfolio": r.portfolio,
                     "organisation": r.organisation, "political_group": r.political_group,
                     "political_side": r.political_side, "special_role": r.special_role,
                     "created_at": now}
                    for r in rows
                ],
            )
        )  # fmt: skip
    except IntegrityError as exc:  # someone added one of these addresses meanwhile
        raise Conflict(
            "Someone on this list was added to the council while the file was being "
            "imported; nothing was imported. Import the file again to see who."
        ) from exc
    audit.record_many(
        session, actor, "add person", "person", [stored_id(p.id) for p in added], council_id
    )
    audit.record(
        session, actor, "import people", "council", council_id, council_id, count=len(added)
    )
    return ImportResult(added, empty, rows, checked.notes)


def update_person(
    session: Session,
    actor: Actor,
    person_id: int,
    full_name: str,
    email: str,
    title: str = "",
    portfolio: str = "",
    organisation: str = "",
    political_group: str | None = None,
    political_side: str | None = None,
    special_role: str | None = None,
) -> Person:
    """Correct a person's details. Their kind stays fixed: it decides which pairings and
    rater groups they are in. A political group, side or special role left as None is
    kept as it was."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"There is no person with id {person_id}.")
    require_council_manager(actor, person.council_id)
    details = clean_person(full_name, title, portfolio, organisation)
    standing = check_standing(
        person.kind,
        person.political_group if political_group is None else political_group,
        person.political_side if political_side is None else political_side,
        person.special_role if special_role is None else special_role,
    )
    address = normalise_email(email)
    clash = session.exec(
        select(Person).where(
            Person.council_id == person.council_id,
            Person.email == address,
            Person.id != person_id,
        )
    ).first()
    if clash is not None:
        raise Conflict(f"{clash.full_name} already has the email address {address}.")
    person.email = address
    for name, value in details.items():
        setattr(person, name, value)
    person.political_group, person.political_side, person.special_role = standing
    session.add(person)
    session.flush()
    audit.record(session, actor, "edit person", "person", person.id, person.council_id)
    return person
