"""Text in a spreadsheet cell (the plan workbook, the mail-merge file, a subject access
export): always text, never a formula, and read back exactly as written.

- A cell starting with = + - @ (or a tab or carriage return) is what Excel and LibreOffice
  run as a formula when it is typed or opened from CSV. Workbook cells are written as typed
  strings with Excel's quote prefix (shown nowhere, keeps them text when edited); CSV cells
  get a leading apostrophe, which both spreadsheets hide.
- A workbook stores a character XML cannot hold (a control character) as `_xHHHH_`, and a
  literal `_xHHHH_` typed by someone as `_x005F_xHHHH_` (Excel's own escaping, which
  Excel and LibreOffice undo on opening). `read_text` undoes it for the plan import. New
  text never holds control characters (`core.text`), but older records might, and an
  export must never fail on them.
"""

from __future__ import annotations

import re

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_OOXML_ESCAPE = re.compile("_x[0-9A-Fa-f]{4}_")
_STARTS_CODE = re.compile("_(?=x[0-9A-Fa-f]{4}_)")
# Characters XML 1.0 cannot hold (tab, line feed and carriage return it can).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_START)


def escape_ooxml(text: str) -> str:
    """Text as a workbook's XML must hold it so that it opens and reads back as written."""
    if "_x" in text:  # every underscore that starts a code, even one inside another code
        text = _STARTS_CODE.sub("_x005F_", text)
    return _NOT_XML.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)


def read_text(text: str) -> str:
    """A workbook cell's text as the person sees it in Excel: `_xHHHH_` undone."""
    if "_x" not in text:
        return text
    return _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(0)[2:6], 16)), text)


def put_text(cell: Cell, value: object) -> Cell:
    """Store text as text in a workbook cell: never a formula, exactly as written."""
    text = "" if value is None else str(value)
    cell.value = escape_ooxml(text)
    cell.data_type = "s"
    if is_formula_like(text):
        cell.quotePrefix = True
    return cell


def active_sheet(workbook: Workbook) -> Worksheet:
    """A new workbook's first sheet (openpyxl's types allow a chartsheet or none)."""
    sheet = workbook.active
    if not isinstance(sheet, Worksheet):
        raise TypeError("The workbook has no worksheet to write to.")
    return sheet


def put_text_at(sheet: Worksheet, row: int, column: int, value: object) -> Cell:
    """`put_text` into the cell at (row, column) of a sheet with no merged cells."""
    cell = sheet.cell(row, column)
    if not isinstance(cell, Cell):
        raise TypeError(f"Cell {cell.coordinate} is part of a merged range.")
    return put_text(cell, value)


def csv_text(value: object) -> str:
    """Text for a CSV cell: a leading apostrophe where a spreadsheet would see a formula."""
    text = "" if value is None else str(value)
    return "'" + text if is_formula_like(text) else text
