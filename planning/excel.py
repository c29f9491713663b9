"""Development plans as an Excel workbook, for one pairing or a whole council's cycle.

The workbook is meant to come back (see `planning.excel_import`): each pairing's sheet holds
its goals and actions as a real Excel table with hidden identifier columns, and a hidden
"Tandem" sheet records which plan and revision each sheet was exported from.

No cell a spreadsheet would execute: every piece of text written by a person (goal and
action wording, notes, names) is stored as a string exactly as written — never a formula,
even when it starts with =, +, -, @, a tab or a carriage return — and marked with Excel's
quote prefix so it stays text when edited.
"""

from __future__ import annotations

import hashlib
import math
import zipfile
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.formatting.rule import Rule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session, col, select

from core.cells import active_sheet, put_text, put_value, write_rows
from core.errors import NotFound, PermissionDenied
from core.models import stored_id, utcnow
from core.roles import Actor, is_principal
from core.vocabulary import kind_label, pairing_label
from feedback.access import require_cycle_manager, require_plan_reader
from feedback.models import Cycle, Pairing
from feedback.setup.cycles import pairings_in_cycle
from planning.calendar import calendar_of, flags_on
from planning.models import CHALLENGE_LABELS, CheckIn, DevelopmentPlan
from planning.plans import (
    OWNERS,
    STATUSES,
    ActionView,
    GoalView,
    agreement_words,
    agreements_of,
    dimension_names,
    goal_views_of,
    person_names,
)
from planning.suggestions import NOT_READABLE, readable_gaps

FORMAT = "tandem-plans/1"
META_SHEET = "Tandem"
LISTS_SHEET = "Lists"
OVERVIEW_SHEET = "Overview"
CITATIONS_SHEET = "Peer challenge"
# The peer challenge sheet: one row per goal (the contract with the import, like COLUMNS).
CITATION_COLUMNS: list[tuple[str, int, bool]] = [
    ("Plan", 28, False),
    ("Goal", 34, False),
    ("Dimension", 16, False),
    ("Recommendation reference", 16, False),
    ("Recommendation", 50, False),
    ("Plan ID", 9, True),
    ("Revision", 9, True),
    ("Goal ID", 9, True),
]
CITATION_HEADERS = [c[0] for c in CITATION_COLUMNS]
STATUS_LIST = "StatusList"
OWNER_LIST = "OwnerList"
HEADER_ROW = 4
SPARE_ROWS = 200  # dropdowns and highlighting reach this far below the table for new rows
DATE_FORMAT = "d mmm yyyy"
RESERVED = {
    META_SHEET.lower(),
    LISTS_SHEET.lower(),
    OVERVIEW_SHEET.lower(),
    CITATIONS_SHEET.lower(),
}
FLAG_FILL = PatternFill("solid", fgColor="FFE8A3")  # a publicity action in a pre-election period

# (header, width, hidden). The order is the contract with the import. The visible widths
# add up to what fits the width of a landscape A4 page at about 85% (9 pt text), so the
# printout stays readable; long text wraps and the row grows (see fit_row_height).
COLUMNS: list[tuple[str, int, bool]] = [
    ("Goal", 22, False),
    ("Dimension", 14, False),
    ("Challenge", 12, False),
    ("Action", 30, False),
    ("Owner", 18, False),
    ("Due date", 11, False),
    ("Success measure", 24, False),
    ("Status", 11, False),
    ("Last check-in", 18, False),
    ("New check-in note", 18, False),
    ("Plan ID", 9, True),
    ("Revision", 9, True),
    ("Goal ID", 9, True),
    ("Action ID", 9, True),
]
HEADERS = [c[0] for c in COLUMNS]
COL = {name: i + 1 for i, name in enumerate(HEADERS)}
ID_COLUMNS = ("Plan ID", "Revision", "Goal ID", "Action ID")

HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
OVERDUE_FILL = PatternFill("solid", fgColor="F8D7DA")
OVERDUE_FONT = Font(color="842029")
TITLE_FONT = Font(bold=True, size=14)
# Made once: openpyxl files each style by value, and building one per cell was a good part
# of a council's export.
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_ALIGN = Alignment(vertical="center", wrap_text=True)
NOTE_FONT = Font(italic=True, color="555555")
TOP = Alignment(vertical="top")
TOP_WRAP = Alignment(vertical="top", wrap_text=True)
LINE_HEIGHT = 15.0  # points per line of 11 pt Calibri, as Excel and LibreOffice lay it out
CHARS_PER_WIDTH = 1.15  # average characters of prose per unit of column width (a "0" wide)
PAGE_MARGIN = 0.4  # inches, left and right; top and bottom leave room for header and footer


# --- owners by name ---------------------------------------------------------------------


def owner_label(owner: str, member: str, officer: str) -> str:
    """An action's owner as people read it on paper: "Cllr Jane Smith (member)",
    "Tom Reed (officer)" or "Joint: Cllr Jane Smith and Tom Reed". The role word in brackets
    (or "Joint:") is what the import reads back (owner_role), so a name that changes
    between export and import changes nothing."""
    if owner == "member" and member:
        return f"{member} (member)"
    if owner == "officer" and officer:
        return f"{officer} (officer)"
    if owner == "joint" and member and officer:
        return f"Joint: {member} and {officer}"
    return owner


def owner_role(text: str) -> str:
    """The stored owner (member, officer, joint) a cell names: the label owner_label wrote,
    or the plain role word; anything else comes back as typed (lower case) for the import
    to refuse."""
    low = " ".join(text.split()).lower()
    if low in OWNERS:
        return low
    if low.startswith("joint:") or low.endswith("(joint)"):
        return "joint"
    for role in ("member", "officer"):
        if low.endswith(f"({role})"):
            return role
    return low


def fit_row_height(ws: Worksheet, row: int, widths: dict[int, float]) -> None:
    """Set the row's height to hold its wrapped text. Neither openpyxl nor LibreOffice's
    import sizes a row for wrapped text written by a program, and a row left at the
    default height prints its wrapped lines over the rows below."""
    lines = 1
    for column, width in widths.items():
        value = ws.cell(row, column).value
        if not isinstance(value, str) or not value:
            continue
        per_line = max(int(width * CHARS_PER_WIDTH) - 1, 1)
        count = sum(max(math.ceil(len(part) / per_line), 1) for part in value.split("\n"))
        lines = max(lines, count)
    ws.row_dimensions[row].height = min(LINE_HEIGHT * lines + 3, 409)  # Excel's maximum


# --- the data ---------------------------------------------------------------------------


@dataclass
class PairingPlan:
    pairing: Pairing
    label: str
    member: str
    officer: str
    plan: DevelopmentPlan | None
    goals: list[GoalView]  # empty without a plan
    agreed_by: list[str]  # each current agreement in words (planning.plans.agreement_words)
    last_check_in: dict[int, str]
    flags: dict[int, str] = field(default_factory=dict)  # action id → pre-election flag


def sheet_title(label: str, used: set[str]) -> str:
    """A valid, unique Excel sheet name (≤ 31 characters, none of []:*?/\\)."""
    clean = (
        "".join(" " if ch in "[]:*?/\\" or not ch.isprintable() else ch for ch in label)
        .strip()
        .strip("'")
    )
    clean = " ".join(clean.split())[:31] or "Plan"
    title, n = clean, 2
    while title.lower() in used or title.lower() in RESERVED:
        suffix = f" ({n})"
        title = clean[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title.lower())
    return title


def _short_label(pairing: Pairing, member: str, officer: str) -> str:
    if pairing.portfolio:
        return pairing.portfolio
    return f"{member.split()[-1]} & {officer.split()[-1]}"


def _pairings(
    session: Session, actor: Actor, cycle: Cycle, pairing_id: int | None
) -> list[Pairing]:
    in_cycle = pairings_in_cycle(session, stored_id(cycle.id))
    if pairing_id is not None:
        chosen = [p for p in in_cycle if p.id == pairing_id]
        if not chosen:
            raise NotFound("That pairing did not take part in this cycle.")
        require_plan_reader(session, actor, pairing_id)
        return chosen
    if is_principal(actor):
        own = []
        for p in in_cycle:
            try:
                require_plan_reader(session, actor, stored_id(p.id))
            except PermissionDenied:
                continue
            own.append(p)
        if not own:
            raise PermissionDenied("You are not one of the pairings in this cycle.")
        return own
    require_cycle_manager(session, actor, stored_id(cycle.id))
    return in_cycle


def _collect(session: Session, cycle: Cycle, pairings: list[Pairing]) -> list[PairingPlan]:
    plans = {
        p.pairing_id: p
        for p in session.exec(select(DevelopmentPlan).where(DevelopmentPlan.cycle_id == cycle.id))
    }
    # Each action's latest check-in, for every plan of the cycle in one query (the last
    # one written, in date order, wins).
    last_check_ins: dict[int, dict[int, str]] = {}
    for c in session.exec(
        select(CheckIn)
        .where(
            col(CheckIn.plan_id).in_([p.id for p in plans.values()]),
            col(CheckIn.action_id).is_not(None),
        )
        .order_by(col(CheckIn.held_on), col(CheckIn.id))
    ):
        text = c.note or (f"{c.status_from} → {c.status_to}" if c.status_to else "")
        if c.action_id is not None:
            last_check_ins.setdefault(c.plan_id, {})[c.action_id] = f"{c.held_on:%d %b %Y}: {text}"
    ids = {p.member_id for p in pairings} | {p.officer_id for p in pairings}
    names = person_names(session, ids)
    # Every plan's goals, agreements and the councils' calendars read once for the whole
    # export (a query each per pairing had made PostgreSQL's round trips the larger cost).
    goals_of = goal_views_of(session, [stored_id(p.id) for p in plans.values()])
    agreed_of = agreements_of(
        session,
        [(plans[stored_id(p.id)], p) for p in pairings if stored_id(p.id) in plans],
        names,
    )
    calendars = {cid: calendar_of(session, cid) for cid in {p.council_id for p in pairings}}
    out = []
    for pairing in pairings:
        member = names.get(pairing.member_id, "")  # as person_name: empty if the record is gone
        officer = names.get(pairing.officer_id, "")
        plan = plans.get(stored_id(pairing.id))
        goals = goals_of[stored_id(plan.id)] if plan else []
        flags = flags_on(calendars[pairing.council_id], goals)
        # Each current agreement in words: one staff recorded says so ("recorded by … on
        # behalf of …", with its note), never reading like the principal's own.
        agreed = (
            [agreement_words(a) for a in agreed_of[stored_id(plan.id)] if a.current] if plan else []
        )
        last = last_check_ins.get(stored_id(plan.id), {}) if plan else {}
        out.append(
            PairingPlan(
                pairing,
                _short_label(pairing, member, officer),
                member,
                officer,
                plan,
                goals,
                agreed,
                last,
                flags,
            )
        )
    return out


@dataclass(frozen=True)
class Progress:
    """Counts for the overview: goals, live actions (not dropped), done and overdue."""

    goals: int
    actions: int
    done: int
    share_done: float
    overdue: int


def progress(goals: list[GoalView], today: date) -> Progress:
    """Counts for the overview. Plain Python: an action without a due date is simply not
    overdue (a column of only empty dates once made pandas compare datetimes with a date
    and fail the whole export)."""
    live = [a for g in goals for a in g.actions if a.status != "dropped"]
    overdue = sum(
        1 for a in live if a.status != "done" and a.due_on is not None and a.due_on < today
    )
    done = sum(1 for a in live if a.status == "done")
    return Progress(
        goals=len(goals),
        actions=len(live),
        done=done,
        share_done=done / len(live) if live else 0.0,
        overdue=overdue,
    )


# --- the chart --------------------------------------------------------------------------


def key_gaps(gaps: pd.DataFrame, goal_dimensions: set[str], limit: int = 8) -> pd.DataFrame:
    """The rows worth a picture: flagged gaps and the plan's own dimensions, largest first."""
    if gaps is None or gaps.empty:
        return pd.DataFrame()
    g = gaps[gaps["gap"].notna()].copy()
    keep = (g["flag"].fillna("") != "") | g["dimension_code"].isin(list(goal_dimensions))
    g = g[keep]
    return g.reindex(g["gap"].abs().sort_values(ascending=False).index).head(limit)


_PNG_CACHE: dict[str, bytes] = {}
_PNG_CACHE_SIZE = 256


def gap_chart_png(gaps: pd.DataFrame) -> bytes | None:
    """A PNG of the pairing's key gaps, from feedback.results.charts.gap_bars. Cached by the figures
    it shows: the same figures give the same picture, so exporting again (or a page rerun)
    does not build and render the chart again."""
    if gaps is None or gaps.empty:
        return None
    key = hashlib.sha256(gaps.to_json(orient="split", double_precision=6).encode()).hexdigest()
    png = _PNG_CACHE.get(key)
    if png is None:
        from feedback.results.charts import gap_bars, to_png

        png = to_png(gap_bars(gaps), scale=1.5)
        if len(_PNG_CACHE) >= _PNG_CACHE_SIZE:
            _PNG_CACHE.pop(next(iter(_PNG_CACHE)))
        _PNG_CACHE[key] = png
    return png


def chart_gaps(
    session: Session, actor: Actor, cycle: Cycle, pairing_id: int, goal_dimensions: set[str]
) -> pd.DataFrame | None:
    """The figures a pairing's gap chart shows to this actor: its key gaps from the results
    the actor may read (`feedback.results.publication.read_pairing_report`: the published edition,
    or for staff the live engine with the republication hold-back once the cycle is closed).
    None where the results are not readable for the actor yet (an open cycle, or not yet
    published for a principal): nothing is computed from unpublished answers."""
    gaps = readable_gaps(session, actor, stored_id(cycle.id), pairing_id)
    return None if gaps is None else key_gaps(gaps, goal_dimensions)


def _council_gaps(session: Session, actor: Actor, cycle: Cycle) -> dict[int, pd.DataFrame] | None:
    """Every pairing's gaps in one pass, for staff exporting a council (one engine pass
    instead of one per pairing), read through the same gate as chart_gaps. None for a
    principal (who reads only their own pairing); {} where results are not readable yet."""
    if is_principal(actor):
        return None
    from feedback.results.publication import read_all_pairing_reports

    try:
        reports = read_all_pairing_reports(session, actor, stored_id(cycle.id))
    except NOT_READABLE:
        return {}
    return {pid: report.gaps for pid, report in reports.items()}


def no_chart_note(cycle: Cycle, readable: bool) -> str:
    if not readable:
        return f"No gap chart: results for {cycle.name} are not published yet."
    return "No gap chart: no gaps to show for this pairing."


# --- the workbook -----------------------------------------------------------------------


def owner_list_name(n: int) -> str:
    """The named list of the owners of the n-th pairing's sheet (their names)."""
    return f"{OWNER_LIST}{n}"


def _lists_sheet(wb: Workbook, owners: list[list[str]]) -> None:
    """The dropdowns' choices: the statuses, and for each pairing's sheet its three owners
    by name (column B for the first sheet, C for the second, …)."""
    ws = wb.create_sheet(LISTS_SHEET)
    put_text(ws.cell(1, 1), "Status")
    for i, status in enumerate(STATUSES, start=2):
        put_text(ws.cell(i, 1), status)
    ref = LISTS_SHEET  # a plain name: no quotes needed
    wb.defined_names[STATUS_LIST] = DefinedName(
        STATUS_LIST, attr_text=f"{ref}!$A$2:$A${len(STATUSES) + 1}"
    )
    for n, labels in enumerate(owners, start=1):
        column = get_column_letter(n + 1)
        put_text(ws.cell(1, n + 1), f"Owner {n}")
        for i, label in enumerate(labels, start=2):
            put_text(ws.cell(i, n + 1), label)
        name = owner_list_name(n)
        wb.defined_names[name] = DefinedName(
            name, attr_text=f"{ref}!${column}$2:${column}${len(labels) + 1}"
        )
    ws.sheet_state = "hidden"


def _header(ws: Worksheet, row: int, headers: list[str]) -> None:
    for i, name in enumerate(headers, start=1):
        cell = put_text(ws.cell(row, i), name)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = HEADER_ALIGN


def _overdue_rule(formula: str) -> Rule:
    """Conditional formatting in the overdue colours where `formula` holds (what openpyxl's
    FormulaRule builds)."""
    rule = Rule(type="expression", formula=[formula], stopIfTrue=False)
    rule.dxf = DifferentialStyle(font=OVERDUE_FONT, fill=OVERDUE_FILL)
    return rule


def _header_text(text: str) -> str:
    """Text for a printed header or footer: & starts a field code there, so it is doubled."""
    return text.replace("&", "&&")


def _print_setup(ws: Worksheet, header_row: int, council: str, cycle: Cycle) -> None:
    """Printed or saved as PDF: landscape A4, every column on one page's width (as many
    pages down as the plan needs, never squeezed onto one), the header row repeated on each
    page, the council and cycle in the page header and the page number in the footer —
    plans are taken to meetings on paper."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_margins.left = ws.page_margins.right = PAGE_MARGIN
    ws.page_margins.top = ws.page_margins.bottom = 0.7
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.print_options.horizontalCentered = True
    title = f"{council}: development plans, {cycle.name}" if council else cycle.name
    header, footer = ws.oddHeader, ws.oddFooter
    assert header is not None and footer is not None  # openpyxl makes both for a sheet
    header.center.text = _header_text(title)
    header.center.size = 10
    footer.left.text = _header_text(ws.title)
    footer.left.size = 9
    footer.right.text = "Page &P of &N"
    footer.right.size = 9


def _overview(
    wb: Workbook,
    cycle: Cycle,
    council: str,
    rows: list[PairingPlan],
    titles: dict[int, str],
    today: date,
) -> None:
    ws = active_sheet(wb)
    ws.title = OVERVIEW_SHEET
    put_text(ws.cell(1, 1), f"{council}: development plans, {cycle.name}").font = TITLE_FONT
    put_text(ws.cell(2, 1), f"Exported on {today:%d %B %Y}.")
    headers = ["Pairing", "Sheet", "Plan status", "Agreed by both", "Goals", "Actions"]
    headers += ["Done", "Done (%)", "Overdue", "Kind"]
    hr = 3
    _header(ws, hr, headers)
    for r, pp in enumerate(rows, start=hr + 1):
        p = progress(pp.goals, today)
        values = [
            pairing_label(pp.member, pp.officer, pp.pairing.portfolio),
            titles.get(stored_id(pp.pairing.id), ""),
            pp.plan.status if pp.plan else "no plan yet",
            "yes" if pp.plan and pp.plan.status == "agreed" else "no",
            p.goals,
            p.actions,
            p.done,
            p.share_done,
            p.overdue,
            kind_label(pp.pairing.kind),
        ]
        write_rows(ws, [values], first_row=r)
        ws.cell(r, 8).number_format = "0%"
    last = hr + max(len(rows), 1)
    ref = f"A{hr}:{get_column_letter(len(headers))}{last}"
    table = Table(displayName="Overview", ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    ws.freeze_panes = f"A{hr + 1}"
    _print_setup(ws, hr, council, cycle)
    widths = [40, 22, 14, 10, 7, 8, 7, 9, 9, 26]
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    wrap, top = TOP_WRAP, TOP
    for r in range(hr + 1, last + 1):
        for c in range(1, len(headers) + 1):
            ws.cell(r, c).alignment = wrap if c in (1, 2, 10) else top
        fit_row_height(ws, r, {1: widths[0], 2: widths[1], 10: widths[9]})
    fit_row_height(ws, hr, dict(enumerate(widths, start=1)))
    dxf_rule = _overdue_rule(f"$I{hr + 1}>0")
    ws.conditional_formatting.add(f"I{hr + 1}:I{last}", dxf_rule)


def _plan_sheet(
    wb: Workbook,
    title: str,
    n: int,
    pp: PairingPlan,
    cycle: Cycle,
    dims: dict[str, str],
    png: bytes | None,
    today: date,
    no_chart: str = "No gap chart in this export.",
    council: str = "",
) -> None:
    ws = wb.create_sheet(title)
    plan = pp.plan
    if plan is None:
        raise ValueError("A pairing's sheet is written only when it has a plan.")
    heading = pairing_label(pp.member, pp.officer, pp.pairing.portfolio)
    put_text(ws.cell(1, 1), f"{heading}: development plan, {cycle.name}").font = TITLE_FONT
    agreed = ("agreed by both" if plan.status == "agreed" else "not yet agreed by both") + (
        ": " + " ".join(pp.agreed_by) if pp.agreed_by else ""
    )
    flagged = len(pp.flags)
    put_text(
        ws.cell(2, 1),
        f"{kind_label(pp.pairing.kind)}. Plan status: {plan.status} ({agreed}) Revision "
        f"{plan.revision}, exported {today:%d %B %Y}."
        + (
            f" {flagged} publicity action{'s are' if flagged != 1 else ' is'} due in a "
            "pre-election period, when publicity about councillors is restricted (due date "
            "in amber): agree another date, or keep councillors out of it."
            if flagged
            else ""
        ),
    )
    put_text(
        ws.cell(3, 1),
        "Update Status, Due date or the action wording, write a New check-in note, or add a "
        "row for a new action under an existing goal; then import this file into Tandem. "
        "Keep sheet names and columns as they are.",
    ).font = NOTE_FONT
    _header(ws, HEADER_ROW, HEADERS)
    row = HEADER_ROW
    for g in pp.goals:
        actions: tuple[ActionView | None, ...] = g.actions or (None,)
        for a in actions:
            row += 1
            values: dict[str, Any] = {
                "Goal": g.title,
                "Dimension": dims.get(g.dimension, g.dimension),
                "Challenge": CHALLENGE_LABELS.get(g.challenge or "", ""),
                "Plan ID": plan.id,
                "Revision": plan.revision,
                "Goal ID": g.id,
            }
            if a is not None:
                values.update(
                    {
                        "Action": a.description,
                        "Owner": owner_label(a.owner, pp.member, pp.officer),
                        "Due date": a.due_on,
                        "Success measure": a.success_measure,
                        "Status": a.status,
                        "Last check-in": pp.last_check_in.get(a.id, ""),
                        "Action ID": a.id,
                    }
                )
            for name in HEADERS:
                cell = ws.cell(row, COL[name])
                value = values.get(name)
                if name == "Due date":
                    cell.value = value
                    cell.number_format = DATE_FORMAT
                    cell.alignment = TOP
                    if a is not None and a.id in pp.flags:
                        cell.fill = FLAG_FILL
                elif name in ID_COLUMNS:
                    cell.value = value
                else:
                    put_text(cell, value or "")
                    cell.alignment = TOP_WRAP
    last = max(row, HEADER_ROW + 1)
    if row == HEADER_ROW:  # a table needs a body row; leave an empty one for a first action
        for name in ("Plan ID", "Revision"):
            ws.cell(last, COL[name]).value = plan.id if name == "Plan ID" else plan.revision
    end_col = get_column_letter(len(HEADERS))
    table = Table(displayName=f"Plan{n}", ref=f"A{HEADER_ROW}:{end_col}{last}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    _print_setup(ws, HEADER_ROW, council, cycle)
    ws.print_area = f"A1:{end_col}{last}"  # the plan itself; the chart is for the screen
    for i, (_, width, hidden) in enumerate(COLUMNS, start=1):
        dim = ws.column_dimensions[get_column_letter(i)]
        dim.width = width
        dim.hidden = hidden
    visible = {i: float(w) for i, (_, w, hidden) in enumerate(COLUMNS, start=1) if not hidden}
    for r in range(HEADER_ROW, last + 1):
        fit_row_height(ws, r, visible)
    # the lines above the table run across the page: one line each, wrapped over the width
    for r in (2, 3):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(visible))
        ws.cell(r, 1).alignment = TOP_WRAP
        fit_row_height(ws, r, {1: sum(visible.values())})
    reach = last + SPARE_ROWS
    first = HEADER_ROW + 1
    status_col = get_column_letter(COL["Status"])
    owner_col = get_column_letter(COL["Owner"])
    due_col = get_column_letter(COL["Due date"])
    status_dv = DataValidation(
        type="list",
        formula1=STATUS_LIST,
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Status",
        error="Choose one of: " + ", ".join(STATUSES) + ".",
    )
    status_dv.add(f"{status_col}{first}:{status_col}{reach}")
    owner_dv = DataValidation(
        type="list",
        formula1=owner_list_name(n),
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Owner",
        error="Choose one of the names in the list: the member, the officer, or both (joint).",
    )
    owner_dv.add(f"{owner_col}{first}:{owner_col}{reach}")
    ws.add_data_validation(status_dv)
    ws.add_data_validation(owner_dv)
    # (no styled empty cells below the table: Excel and LibreOffice turn a date typed into
    # a new row into a real date themselves, and 200 styled cells per sheet cost a third of
    # the export's time)
    overdue = _overdue_rule(
        f"AND(ISNUMBER(${due_col}{first}),${due_col}{first}<TODAY(),"
        f'${status_col}{first}<>"done",${status_col}{first}<>"dropped")'
    )
    ws.conditional_formatting.add(
        f"A{first}:{get_column_letter(COL['New check-in note'])}{reach}", overdue
    )
    anchor = f"{get_column_letter(len(HEADERS) + 2)}{HEADER_ROW}"
    if png:
        image = Image(BytesIO(png))
        image.width, image.height = round(image.width * 2 / 3), round(image.height * 2 / 3)
        ws.add_image(image, anchor)
    else:
        put_text(ws[anchor], no_chart)


def _citations_sheet(
    wb: Workbook,
    sheets: list[tuple[str, PairingPlan]],
    dims: dict[str, str],
    council: str,
    cycle: Cycle,
) -> None:
    """One row per goal: the peer challenge recommendation it cites, editable (read back by
    planning.excel_import)."""
    ws = wb.create_sheet(CITATIONS_SHEET)
    put_text(
        ws.cell(1, 1),
        "The corporate peer challenge recommendation each goal answers: write its reference "
        "(e.g. CPC 2025 rec. 3) and its words, or clear both; then import this file.",
    ).font = NOTE_FONT
    _header(ws, 2, CITATION_HEADERS)
    row = 2
    for title, pp in sheets:
        plan = pp.plan
        assert plan is not None  # only sheets with a plan are listed
        for g in pp.goals:
            row += 1
            values = [title, g.title, dims.get(g.dimension, g.dimension)]
            values += [g.peer_challenge_ref, g.peer_challenge_text]
            for c, value in enumerate(values, start=1):
                put_text(ws.cell(row, c), value)
                ws.cell(row, c).alignment = TOP_WRAP
            for c, ident in enumerate((plan.id, plan.revision, g.id), start=6):
                ws.cell(row, c).value = ident
    widths: dict[int, float] = {}
    for i, (_, width, hidden) in enumerate(CITATION_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
        ws.column_dimensions[get_column_letter(i)].hidden = hidden
        if not hidden:
            widths[i] = float(width)
    for r in range(2, row + 1):
        fit_row_height(ws, r, widths)
    _print_setup(ws, 2, council, cycle)
    ws.print_area = f"A1:E{max(row, 2)}"


def _meta_sheet(
    wb: Workbook, actor: Actor, cycle: Cycle, sheets: list[tuple[str, PairingPlan]]
) -> None:
    ws = wb.create_sheet(META_SHEET)
    pairs = [
        ("format", FORMAT),
        ("cycle_id", cycle.id),
        ("cycle", cycle.name),
        ("exported_at", utcnow().isoformat(timespec="seconds")),
        ("exported_by", actor.label),
    ]
    for r, (key, value) in enumerate(pairs, start=1):
        put_text(ws.cell(r, 1), key)
        put_value(ws.cell(r, 2), value)
    header = ["sheet", "plan_id", "pairing_id", "revision"]
    for c, name in enumerate(header, start=1):
        put_text(ws.cell(7, c), name)
    for r, (title, pp) in enumerate(sheets, start=8):
        put_text(ws.cell(r, 1), title)
        ws.cell(r, 2).value = pp.plan.id if pp.plan else None
        ws.cell(r, 3).value = pp.pairing.id
        ws.cell(r, 4).value = pp.plan.revision if pp.plan else None
    ws.sheet_state = "hidden"


def export_plans(
    session: Session,
    actor: Actor,
    cycle_id: int,
    pairing_id: int | None = None,
    *,
    today: date | None = None,
    charts: bool = True,
) -> bytes:
    """The cycle's development plans as an .xlsx workbook: an overview and one sheet per
    pairing with a plan. Staff export the whole council (or one pairing); a principal only
    their own pairing."""
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound("That feedback cycle does not exist (it may have been deleted).")
    today = today or date.today()
    from core.models import Council

    council = session.get(Council, cycle.council_id)
    rows = _collect(session, cycle, _pairings(session, actor, cycle, pairing_id))
    dims = dimension_names(session, cycle_id)
    used: set[str] = set()
    titles = {stored_id(pp.pairing.id): sheet_title(pp.label, used) for pp in rows if pp.plan}
    council_name = council.name if council else ""
    wb = Workbook()
    _overview(wb, cycle, council_name, rows, titles, today)
    sheets = []
    with_plans = [pp for pp in rows if pp.plan]
    council_gaps = _council_gaps(session, actor, cycle) if charts and len(with_plans) > 1 else None
    for n, pp in enumerate(with_plans, start=1):
        png, note = None, "No gap chart in this export."
        if charts:
            goal_dims = {g.dimension for g in pp.goals}
            if council_gaps is None:
                gaps = chart_gaps(session, actor, cycle, stored_id(pp.pairing.id), goal_dims)
            else:
                found = council_gaps.get(stored_id(pp.pairing.id))
                gaps = None if found is None else key_gaps(found, goal_dims)
            png = None if gaps is None else gap_chart_png(gaps)
            note = no_chart_note(cycle, gaps is not None)
        title = titles[stored_id(pp.pairing.id)]
        _plan_sheet(wb, title, n, pp, cycle, dims, png, today, note, council_name)
        sheets.append((title, pp))
    _citations_sheet(wb, sheets, dims, council_name, cycle)
    _lists_sheet(wb, [[owner_label(o, pp.member, pp.officer) for o in OWNERS] for pp in with_plans])
    _meta_sheet(wb, actor, cycle, sheets)
    out = BytesIO()
    wb.save(out)
    return keep_carriage_returns(out.getvalue())


def keep_carriage_returns(data: bytes) -> bytes:
    """openpyxl writes a carriage return into the XML as it is, and every XML reader turns
    it into a line feed; written as the character reference &#13; it survives, so text that
    starts with (or holds) a carriage return reads back exactly as written."""
    with zipfile.ZipFile(BytesIO(data)) as src:
        infos = src.infolist()
        # Only the XML can hold one (the images need not be unpacked to find out).
        if not any(b"\r" in src.read(i) for i in infos if i.filename.endswith(".xml")):
            return data
        parts = [(info, src.read(info)) for info in infos]
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, body in parts:
            if info.filename.endswith(".xml"):
                body = body.replace(b"\r", b"&#13;")
            dst.writestr(info, body)
    return out.getvalue()


def export_filename(session: Session, cycle_id: int, pairing_id: int | None = None) -> str:
    cycle = session.get(Cycle, cycle_id)
    base = f"development-plans-{cycle.name if cycle else cycle_id}"
    if pairing_id is not None:
        base += f"-pairing-{pairing_id}"
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in base).lower() + ".xlsx"
