"""Bringing people in from a spreadsheet (.xlsx or .csv), all or nothing, and editing them.

Every row is checked before anything is saved; each problem names its spreadsheet row (the
header is row 1). Names are kept exactly as typed — Siân, Rhys-Jones, Wiśniewski — only
surrounding spaces are trimmed.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from openpyxl import Workbook, load_workbook
from sqlmodel import Session, select

from feedback import audit
from feedback.access import Actor, require_council_manager
from feedback.errors import Conflict, Invalid, NotFound
from feedback.models import Person, PersonKind
from feedback.people import (
    add_person,
    check_standing,
    get_council,
    has_control_characters,
    normalise_email,
    refuse_control_characters,
)

MAX_BYTES = 5 * 1024 * 1024
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024  # an .xlsx is a zip: refuse one that explodes
MAX_ROWS = 5000
MAX_PROBLEMS_LISTED = 50

COLUMNS = ["full_name", "email", "kind", "title", "portfolio", "organisation"]
# Optional, for rater balance at nomination (see feedback.people.check_standing).
COLUMNS += ["political_group", "political_side", "special_role"]
REQUIRED = {"full_name", "email", "kind"}
# Headings people actually type, mapped to the column they mean.
ALIASES = {
    "name": "full_name",
    "full name": "full_name",
    "email address": "email",
    "e-mail": "email",
    "type": "kind",
    "role": "title",
    "job title": "title",
    "organization": "organisation",
    "party": "political_group",
    "side": "political_side",
}
KINDS = {
    "member": PersonKind.member,
    "councillor": PersonKind.member,
    "officer": PersonKind.officer,
    "external": PersonKind.external,
    "partner": PersonKind.external,
    "external partner": PersonKind.external,
}
LIMITS = {"full_name": 200, "title": 200, "portfolio": 200, "organisation": 200}

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

    def summary(self) -> str:
        text = f"{len(self.added)} people added."
        if self.empty_rows_skipped:
            text += f" {self.empty_rows_skipped} empty rows were skipped."
        return text


# --- templates ---------------------------------------------------------------------------


def template_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
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


def _heading(value: object) -> str:
    text = str(value or "").strip().lower().replace("_", " ")
    text = ALIASES.get(text, text)
    return text.replace(" ", "_")


def _columns(header: list[object]) -> dict[str, int]:
    """Where each known column is; wrong or missing columns are an error naming them."""
    positions: dict[str, int] = {}
    unknown, repeated = [], []
    for index, value in enumerate(header):
        name = _heading(value)
        if not name:
            continue
        if name not in COLUMNS:
            unknown.append(str(value).strip())
        elif name in positions:
            repeated.append(str(value).strip())
        else:
            positions[name] = index
    missing = [c for c in COLUMNS if c in REQUIRED and c not in positions]
    problems = []
    if missing:
        problems.append(f"Row 1: the column(s) {', '.join(missing)} are missing.")
    if unknown:
        problems.append(
            f"Row 1: the column(s) {', '.join(repr(u) for u in unknown)} are not recognised."
        )
    if repeated:
        problems.append(f"Row 1: the column(s) {', '.join(repeated)} appear twice.")
    if problems:
        raise Invalid(
            "The first row must hold the column headings "
            f"{', '.join(COLUMNS)} (download the template to see them).",
            problems,
        )
    return positions


def _read_xlsx(data: bytes) -> tuple[list[list[object]], list[str]]:
    """Cell values by row, plus problems that only a workbook can have (formulas, merged
    cells)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_UNZIPPED_BYTES:
                raise Invalid(
                    "This workbook is too large once unpacked. Split it into smaller files."
                )
        workbook = load_workbook(io.BytesIO(data), data_only=False)
    except Invalid:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise Invalid(
            "This file could not be read as an Excel workbook (.xlsx). Save it again from "
            "Excel or LibreOffice as .xlsx, or as CSV UTF-8."
        ) from exc
    sheet = workbook["People"] if "People" in workbook.sheetnames else workbook.worksheets[0]
    problems = []
    for merged in sheet.merged_cells.ranges:
        problems.append(
            f"Rows {merged.min_row}–{merged.max_row}: cells {merged.coord} are merged. "
            "Unmerge them and give every person their own row."
        )
    rows: list[list[object]] = []
    for r, row in enumerate(sheet.iter_rows(), start=1):
        if r > MAX_ROWS + 1:
            raise Invalid(f"The file has more than {MAX_ROWS} rows; split it into smaller files.")
        values = []
        for cell in row:
            if cell.data_type == "f":
                problems.append(
                    f"Row {r}: cell {cell.coordinate} holds a formula ({cell.value}). "
                    "Type the value itself instead."
                )
                values.append("")
            else:
                values.append(cell.value)
        rows.append(values)
    return rows, problems


def _read_csv(data: bytes) -> tuple[list[list[object]], list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(
            "This CSV file is not UTF-8 text, so names with accents (Siân, Wiśniewski) "
            "would be garbled. In Excel choose Save As › 'CSV UTF-8', then upload again."
        ) from exc
    try:
        rows: list[list[object]] = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise Invalid(f"This CSV file could not be read: {exc}.") from exc
    if len(rows) > MAX_ROWS + 1:
        raise Invalid(f"The file has more than {MAX_ROWS} rows; split it into smaller files.")
    problems = []
    for r, row in enumerate(rows[1:], start=2):
        for value in row:
            if str(value).startswith("="):
                problems.append(
                    f"Row {r}: '{value}' is a spreadsheet formula, not a value. "
                    "Type the value itself instead."
                )
    return rows, problems


def read_people_file(filename: str, data: bytes) -> tuple[list[PersonRow], int]:
    """Parse and check a whole file. Returns the rows and how many empty rows were skipped;
    raises Invalid listing every problem (with row numbers) if anything is wrong."""
    if len(data) > MAX_BYTES:
        raise Invalid(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_BYTES // 1024 // 1024} MB. A list of people is far smaller — check it is "
            "the right file, or split it."
        )
    suffix = PurePath(filename or "").suffix.lower()
    if suffix == ".xlsx":
        raw, problems = _read_xlsx(data)
    elif suffix == ".csv":
        raw, problems = _read_csv(data)
    else:
        raise Invalid("Upload an Excel workbook (.xlsx) or a CSV file (.csv).")
    if not raw or all(all(str(v or "").strip() == "" for v in row) for row in raw):
        raise Invalid("The file is empty. Download the template and fill it in.")
    if all(str(v or "").strip() == "" for v in raw[0]):
        # Not skipped: guessing where the headings are would shift every row number.
        raise Invalid("Row 1 must hold the column headings; the file starts with an empty row.")
    if not raw:
        raise Invalid("The file is empty. Download the template and fill it in.")
    positions = _columns(list(raw[0]))
    rows: list[PersonRow] = []
    empty = 0
    seen: dict[str, int] = {}
    for r, values in enumerate(raw[1:], start=2):
        cells = {
            name: str(values[i] if i < len(values) and values[i] is not None else "").strip()
            for name, i in positions.items()
        }
        if not any(cells.values()) and all(str(v or "").strip() == "" for v in values):
            empty += 1
            continue
        row_problems = []
        if not cells.get("full_name"):
            row_problems.append(f"Row {r}: the name is missing.")
        email = ""
        try:
            email = normalise_email(cells.get("email", ""))
        except Invalid as exc:
            row_problems.append(f"Row {r}: {exc}")
        kind = KINDS.get(cells.get("kind", "").lower())
        if kind is None:
            row_problems.append(
                f"Row {r}: kind '{cells.get('kind', '')}' should be member, officer or external."
            )
        for name, value in cells.items():
            if has_control_characters(value):
                row_problems.append(
                    f"Row {r}: {name} contains a line break or an invisible control "
                    "character; type it on one line."
                )
        standing = ("", "", "")
        if kind is not None:
            try:
                standing = check_standing(
                    kind,
                    cells.get("political_group", ""),
                    cells.get("political_side", ""),
                    cells.get("special_role", ""),
                )
            except Invalid as exc:
                row_problems.append(f"Row {r}: {exc}")
        for name, limit in LIMITS.items():
            if len(cells.get(name, "")) > limit:
                row_problems.append(f"Row {r}: {name} is longer than {limit} characters.")
        if email:
            if email in seen:
                row_problems.append(f"Row {r}: {email} is also on row {seen[email]}.")
            else:
                seen[email] = r
        problems.extend(row_problems)
        if not row_problems:
            rows.append(
                PersonRow(
                    row=r,
                    full_name=cells["full_name"],
                    email=email,
                    kind=kind.value,
                    title=cells.get("title", ""),
                    portfolio=cells.get("portfolio", ""),
                    organisation=cells.get("organisation", ""),
                    political_group=standing[0],
                    political_side=standing[1],
                    special_role=standing[2],
                )
            )
    if not rows and not problems:
        raise Invalid("The file has headings but no people in it.")
    if problems:
        _raise(problems)
    return rows, empty


def _raise(problems: list[str]) -> None:
    shown = problems[:MAX_PROBLEMS_LISTED]
    if len(problems) > len(shown):
        shown.append(f"…and {len(problems) - len(shown)} more.")
    raise Invalid(
        f"Nothing was imported: {len(problems)} problem{'s' if len(problems) != 1 else ''} "
        "to fix in the file first.",
        shown,
    )


def import_people(
    session: Session, actor: Actor, council_id: int, filename: str, data: bytes
) -> ImportResult:
    """All or nothing: every row is checked (against the file and the people already
    recorded) before the first one is saved."""
    require_council_manager(actor, council_id)
    get_council(session, council_id)
    rows, empty = read_people_file(filename, data)
    existing = {
        email: name
        for email, name in session.exec(
            select(Person.email, Person.full_name).where(
                Person.council_id == council_id, Person.email.in_([r.email for r in rows])
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
    added = [
        add_person(
            session,
            actor,
            council_id,
            r.full_name,
            r.email,
            r.kind,
            title=r.title,
            portfolio=r.portfolio,
            organisation=r.organisation,
            political_group=r.political_group,
            political_side=r.political_side,
            special_role=r.special_role,
        )
        for r in rows
    ]
    audit.record(
        session, actor, "import people", "council", council_id, council_id, count=len(added)
    )
    return ImportResult(added, empty)


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
    full_name = (full_name or "").strip()
    if not full_name:
        raise Invalid("A person needs a name.")
    refuse_control_characters(full_name, title, portfolio, organisation)
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
    person.full_name = full_name
    person.email = address
    person.title = (title or "").strip()
    person.portfolio = (portfolio or "").strip()
    person.organisation = (organisation or "").strip()
    person.political_group, person.political_side, person.special_role = standing
    session.add(person)
    session.flush()
    audit.record(session, actor, "edit person", "person", person.id, person.council_id)
    return person
