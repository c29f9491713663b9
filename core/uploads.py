"""Opening uploaded spreadsheets without letting a small file take a large machine.

One place for both imports (people in `feedback.setup.people_import`, plans in
`planning.excel_import`). An .xlsx is a zip of XML: a few kilobytes can declare a sheet
reaching column XFD or row 1,048,576, or unpack to a gigabyte. So, before openpyxl sees a
file, the zip's own directory is checked (declared sizes and compression ratio; Python's
zipfile never unpacks more than a member declares), then the workbook is opened in
openpyxl's read-only (streaming) mode, and rows are read only as far as the table goes:
as wide as its heading row, stopping after a long run of empty rows or at a row cap.

The limits are set from measurements on a 2-core machine so that any upload the server
accepts (5 MB) is checked within about 2 s and 200 MB: openpyxl parses roughly 3–4 MB of
sheet XML a second, and a shared-strings table at under 2 MB a second. Real files sit far
below them: an export of every plan of a council unpacks to about 250 KB, 5,000 people to
about 2 MB.
"""

from __future__ import annotations

import csv
import hashlib
import io
import posixpath
import zipfile
from dataclasses import dataclass, field
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from core.errors import Invalid

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # the server's own cap (.streamlit/config.toml)
MAX_MEMBERS = 500  # files inside the zip; Excel writes a dozen or two
MAX_UNPACKED_BYTES = 10 * 1024 * 1024  # every member together, as declared
MAX_XML_BYTES = 3 * 1024 * 1024  # the parts openpyxl parses: sheets, strings, styles, …
MAX_SHARED_STRINGS_BYTES = 1536 * 1024  # parsed whole, and slowly, when the file opens
MAX_RATIO = 100  # a member over RATIO_FROM bytes packed tighter than this is not a table
RATIO_FROM = 1024 * 1024
MAX_COLUMNS = 100  # a heading further right than this is not part of a table
EMPTY_RUN = 1000  # this many empty rows in a row end the table

ADVICE = (
    "Copy just the table into a new workbook (or the template) and save that as .xlsx; "
    "formatting applied to whole rows or columns is the usual cause."
)


def fingerprint(data: bytes) -> str:
    """What identifies an upload, so a page checks each file once, not on every rerun."""
    return hashlib.sha256(data).hexdigest()


def refuse_oversized(data: bytes, what: str) -> None:
    """The upload itself: at most the server's cap, whatever called us."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise Invalid(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_UPLOAD_BYTES // 1024 // 1024} MB. {what} is far smaller — check it is the "
            "right file, or split it."
        )


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:,.1f} MB"


def _check_archive(data: bytes, not_a_workbook: str) -> None:
    """Refuse, from the zip's directory alone, a workbook that would unpack too far."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise Invalid(not_a_workbook) from exc
    if len(members) > MAX_MEMBERS:
        raise Invalid(
            f"This workbook is made of {len(members):,} parts; a spreadsheet of people or "
            f"plans has a few dozen at most, so Tandem does not open it. {ADVICE}"
        )
    total = sum(m.file_size for m in members)
    if total > MAX_UNPACKED_BYTES:
        raise Invalid(
            f"This {_mb(len(data))} workbook unpacks to {_mb(total)}; Tandem opens workbooks "
            f"that unpack to at most {_mb(MAX_UNPACKED_BYTES)}. {ADVICE}"
        )
    for m in members:
        if m.file_size > RATIO_FROM and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise Invalid(
                f"Part of this workbook ({m.filename}) unpacks to "
                f"{m.file_size // max(m.compress_size, 1):,} times its packed size, which a "
                f"table of real data never does, so Tandem does not open it. {ADVICE}"
            )
    xml = sum(m.file_size for m in members if m.filename.endswith((".xml", ".rels")))
    if xml > MAX_XML_BYTES:
        raise Invalid(
            f"This workbook holds {_mb(xml)} of spreadsheet data once unpacked; Tandem reads "
            f"at most {_mb(MAX_XML_BYTES)} (over 5,000 people, or every plan of a council). "
            + ADVICE
        )
    strings = sum(
        m.file_size for m in members if posixpath.basename(m.filename) == "sharedStrings.xml"
    )
    if strings > MAX_SHARED_STRINGS_BYTES:
        raise Invalid(
            f"This workbook's table of text is {_mb(strings)}; Tandem reads at most "
            f"{_mb(MAX_SHARED_STRINGS_BYTES)}. Split the file, or {ADVICE[0].lower()}{ADVICE[1:]}"
        )


def open_workbook(data: bytes, not_a_workbook: str) -> Any:
    """The workbook in openpyxl's read-only mode, after the zip checks. Formulas are kept as
    formulas (data_only=False) so the imports can refuse them. Close it when done
    (`workbook.close()`): read-only mode keeps the zip open."""
    _check_archive(data, not_a_workbook)
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=False, rich_text=False)
    except Exception as exc:
        raise Invalid(not_a_workbook) from exc


class Formula(str):
    """A cell holding a formula (its text), so an import can name it instead of reading
    it as a value."""


def value_of(cell: Any) -> Any:
    """A read-only cell's value; a formula comes back as a `Formula`."""
    if getattr(cell, "data_type", None) == "f":
        return Formula(str(cell.value))
    return cell.value


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass
class Table:
    """The rows of one sheet that hold data: (row number, cells), each as wide as asked.
    Cells are openpyxl's read-only cells (`.value`, `.data_type`, `.coordinate`)."""

    rows: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)
    # Set when reading stopped at a long run of empty rows while the sheet says it goes
    # further: the last row read that held something.
    stopped_after: int | None = None

    def note(self, sheet: str) -> str | None:
        if self.stopped_after is None:
            return None
        return (
            f"Sheet '{sheet}': reading stopped after row {self.stopped_after}, as "
            f"{EMPTY_RUN:,} empty rows followed it; anything further down was not read."
        )


def read_sheet(ws: Any, width: int, *, first_row: int = 1, max_rows: int, what: str) -> Table:
    """Rows `first_row`… of the first `width` columns, empty rows left out. Stops after
    EMPTY_RUN empty rows in a row (noting it if the sheet claims more) and refuses a sheet
    with more than `max_rows` rows holding something, naming `what` it expected."""
    claimed = ws.max_row  # from the sheet's own <dimension>, which may be far too large
    # Read the rows the XML holds, not the range it claims (which may also be too small).
    ws.reset_dimensions()
    table = Table()
    empty = 0
    last = first_row - 1
    for number, cells in enumerate(
        ws.iter_rows(min_row=first_row, max_col=max(width, 1)), start=first_row
    ):
        if all(blank(c.value) for c in cells):
            empty += 1
            if empty >= EMPTY_RUN:
                if (claimed or 0) > number:
                    table.stopped_after = last
                break
            continue
        empty = 0
        last = number
        if len(table.rows) >= max_rows:
            raise Invalid(
                f"Sheet '{ws.title}' has more than {max_rows:,} rows of {what}; Tandem reads "
                "at most that many at once. Split it into smaller files."
            )
        table.rows.append((number, cells))
    return table


def header_width(ws: Any, row: int = 1) -> tuple[list[Any], int]:
    """One row's values as far as its last non-empty cell, and that width. Something
    further right than MAX_COLUMNS is refused: it would make every row that wide."""
    values: list[Any] = []
    for cells in ws.iter_rows(min_row=row, max_row=row, max_col=16384):
        values = [value_of(c) for c in cells]
    filled = [i for i, v in enumerate(values) if not blank(v)]
    width = filled[-1] + 1 if filled else 0
    if width > MAX_COLUMNS:
        raise Invalid(
            f"Sheet '{ws.title}', row {row}: there is something in column "
            f"{get_column_letter(width)} ({str(values[width - 1])[:40]!r}), far to the right "
            f"of the table; Tandem reads at most {MAX_COLUMNS} columns. Delete it, or "
            f"{ADVICE[0].lower()}{ADVICE[1:]}"
        )
    return values[:width], width


def merged_ranges(ws: Any) -> list[str]:
    """The merged ranges of a read-only sheet (read-only mode does not collect them),
    found by streaming its XML once; the sheet's size was bounded by the zip checks."""
    from xml.etree.ElementTree import iterparse

    # Most sheets have none: a byte search (at C speed) settles that without parsing.
    with ws._get_source() as source:  # openpyxl's own way to stream a read-only sheet
        tail = b""
        while chunk := source.read(1024 * 1024):
            if b"mergeCell" in tail + chunk:
                break
            tail = chunk[-16:]
        else:
            return []
    found: list[str] = []
    with ws._get_source() as source:
        for _event, element in iterparse(source):
            tag = element.tag.rsplit("}", 1)[-1]
            ref = element.get("ref") if tag == "mergeCell" else None
            if ref:
                found.append(ref)
            if tag in ("row", "mergeCell", "c"):
                element.clear()
    return found


def read_csv(
    data: bytes, *, max_rows: int, what: str
) -> tuple[list[Any], list[tuple[int, list[Any]]]]:
    """A CSV upload read the same bounded way: the heading row, then each row cut to its
    width, empty rows left out, stopping after EMPTY_RUN empty rows or at `max_rows`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(
            "This CSV file is not UTF-8 text, so names with accents (Siân, Wiśniewski) "
            "would be garbled. In Excel choose Save As › 'CSV UTF-8', then upload again."
        ) from exc
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header: list[Any] = []
        rows: list[tuple[int, list[Any]]] = []
        empty = 0
        for number, row in enumerate(reader, start=1):
            if number == 1:
                header = list(row)
                while header and blank(header[-1]):
                    header.pop()
                if len(header) > MAX_COLUMNS:
                    raise Invalid(
                        f"Row 1 has {len(header):,} headings; Tandem reads at most "
                        f"{MAX_COLUMNS} columns. Keep only the table's own columns."
                    )
                continue
            values: list[Any] = [
                Formula(v) if v.startswith("=") else v for v in row[: max(len(header), 1)]
            ]
            # (joined, not looped over: a row may hold millions of empty fields)
            if all(blank(v) for v in values) and not "".join(row).strip():
                empty += 1
                if empty >= EMPTY_RUN:
                    break
                continue
            empty = 0
            if len(rows) >= max_rows:
                raise Invalid(
                    f"The file has more than {max_rows:,} rows of {what}; Tandem reads at "
                    "most that many at once. Split it into smaller files."
                )
            rows.append((number, values))
    except csv.Error as exc:  # a field over csv's own 128 KB limit, a stray NUL, …
        raise Invalid(
            f"This CSV file could not be read: {exc}. Save it again as 'CSV UTF-8'."
        ) from exc
    return header, rows
