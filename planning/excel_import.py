"""Progress coming back from an exported plans workbook (see `planning.excel`).

Every row of every sheet is read and checked first; if anything is wrong, the result lists
each problem with its sheet and row and nothing is saved. Only real changes are applied:
a row that says what Tandem already holds changes nothing. A row edited in a sheet whose
plan was changed in Tandem after the export is refused with an explanation, so an old file
never overwrites newer work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from core.cells import read_text
from core.errors import Invalid, PermissionDenied
from core.models import stored_id
from core.roles import Actor
from core.uploads import MAX_COLUMNS, MAX_UPLOAD_BYTES, open_workbook, read_sheet
from feedback.access import require_plan_editor
from feedback.models import Cycle
from planning.excel import (
    CITATION_HEADERS,
    CITATIONS_SHEET,
    COLUMNS,
    FORMAT,
    HEADERS,
    LISTS_SHEET,
    META_SHEET,
    OVERVIEW_SHEET,
    owner_role,
)
from planning.models import CheckIn, DevelopmentPlan, PlanRevision
from planning.plans import (
    OWNERS,
    STATUSES,
    add_action,
    add_check_in,
    clean_description,
    clean_measure,
    clean_note,
    clean_recommendation,
    clean_reference,
    plan_snapshot,
    set_action_status,
    update_action,
    update_goal,
    when_label,
)

MAX_BYTES = MAX_UPLOAD_BYTES  # the server's own cap (.streamlit/config.toml)
MAX_SHEET_ROWS = 5000  # rows holding something, per sheet; a plan has a few dozen
NOT_A_WORKBOOK = (
    "This file is not an Excel workbook (.xlsx) that Tandem can read. Export the plans from "
    "Tandem, edit that file in Excel or LibreOffice, save it as .xlsx and import it."
)
EDITABLE = ("Action", "Owner", "Due date", "Success measure", "Status", "New check-in note")
FIELD = {
    "Action": "description",
    "Owner": "owner",
    "Due date": "due_on",
    "Success measure": "success_measure",
}


@dataclass
class Change:
    sheet: str
    row: int
    what: str

    def __str__(self) -> str:
        return f"Sheet '{self.sheet}', row {self.row}: {self.what}"


@dataclass
class ImportResult:
    changes: list[Change] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            n = len(self.errors)
            return (
                f"Nothing was saved: the workbook has {n} problem{'s' * (n != 1)} to put right "
                "first."
            )
        if not self.changes:
            return "The workbook matches the plans in Tandem: there is nothing to change."
        n = len(self.changes)
        verb = "Saved" if self.applied else "Ready to save"
        return f"{verb}: {n} change{'s' * (n != 1)}."


# A goal or an action as the plan's stored snapshot holds it (planning.plans.plan_snapshot).
Stored = dict[str, Any]


@dataclass
class _Row:
    sheet: str
    row: int
    plan: DevelopmentPlan
    goal_id: int | None
    action_id: int | None
    values: dict[str, Any]  # description, owner, due_on, success_measure, status, note
    new: bool


def _fmt(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, date):
        return f"{value.day} {value:%b %Y}"
    return f"'{value}'"


class _Reader:
    def __init__(self, session: Session, actor: Actor, today: date) -> None:
        self.session, self.actor, self.today = session, actor, today
        self.result = ImportResult()
        self.rows: list[_Row] = []
        self.citations: list[tuple[int, str, str]] = []  # (goal id, reference, words)

    def error(self, sheet: str | None, row: int | None, message: str) -> None:
        place = ""
        if sheet is not None:
            place = f"Sheet '{sheet}', row {row}: " if row is not None else f"Sheet '{sheet}': "
        self.result.errors.append(place + message)

    # --- the workbook as a whole ----------------------------------------------------

    def read(self, data: bytes) -> None:
        if len(data) > MAX_BYTES:
            self.error(
                None,
                None,
                f"The file is {len(data) / 1024 / 1024:.1f} MB; a plans workbook can be at most "
                f"{MAX_BYTES // 1024 // 1024} MB.",
            )
            return
        # Opened and read the bounded way (core.uploads): a small file cannot claim a
        # huge sheet or unpack to gigabytes.
        try:
            wb = open_workbook(data, NOT_A_WORKBOOK)
        except Invalid as exc:
            self.error(None, None, str(exc))
            return
        try:
            self.read_workbook(wb)
        except Invalid as exc:
            self.error(None, None, str(exc))
        finally:
            wb.close()

    def read_workbook(self, wb: Any) -> None:
        if META_SHEET not in wb.sheetnames:
            self.error(
                None,
                None,
                "This workbook was not exported by Tandem: it has no hidden 'Tandem' sheet "
                "saying which plans it holds. Export the plans from Tandem, edit that file, "
                "and import it.",
            )
            return
        meta = dict(read_sheet(wb[META_SHEET], 4, max_rows=MAX_SHEET_ROWS, what="plans").rows)
        info = {str(cells[0].value): cells[1].value for r, cells in meta.items() if r <= 5}
        if info.get("format") != FORMAT:
            self.error(
                None,
                None,
                "This workbook was made by a different version of Tandem's export; export "
                "the plans again and edit the new file.",
            )
            return
        cycle = self.session.get(Cycle, _int(info.get("cycle_id")))
        if cycle is None:
            self.error(None, None, "The cycle this workbook was exported from no longer exists.")
            return
        listed: list[tuple[str, int, int, int]] = []
        for r, cells in meta.items():
            title = cells[0].value
            if r < 8 or not title:
                continue
            ids = [_int(cells[c].value) for c in (1, 2, 3)]
            if None in ids:
                self.error(None, None, "The hidden 'Tandem' sheet has been edited; export again.")
                return
            listed.append((read_text(str(title)), *ids))  # type: ignore[arg-type]
        known = {t for t, *_ in listed} | {META_SHEET, LISTS_SHEET, OVERVIEW_SHEET}
        known.add(CITATIONS_SHEET)
        unknown = [s for s in wb.sheetnames if s not in known]
        for title, plan_id, pairing_id, revision in listed:
            if title not in wb.sheetnames:
                hint = (
                    f" The workbook has a sheet '{unknown[0]}' Tandem did not export: if that is "
                    "it renamed, give it its old name back."
                    if unknown
                    else ""
                )
                self.error(
                    title,
                    None,
                    "this sheet is missing. Sheets must keep the names they were exported with."
                    + hint,
                )
                continue
            self.read_sheet(wb[title], cycle, plan_id, pairing_id, revision)
        for name in unknown:
            self.result.notes.append(f"Sheet '{name}' is not one Tandem exported; it was ignored.")
        if CITATIONS_SHEET in wb.sheetnames:  # absent from workbooks exported before it
            self.read_citations(wb[CITATIONS_SHEET], {p for _t, p, _pa, _r in listed})

    # --- the peer challenge sheet: one row per goal -----------------------------------

    def read_citations(self, ws: Any, plan_ids: set[int]) -> None:
        title = ws.title
        table = read_sheet(ws, len(CITATION_HEADERS), max_rows=MAX_SHEET_ROWS, what="plans")
        header = next(
            (
                r
                for r, cells in table.rows
                if r <= 10 and [_text(c.value).strip() for c in cells] == CITATION_HEADERS
            ),
            None,
        )
        if header is None:
            self.error(title, None, "its heading row was changed; keep the columns as exported.")
            return
        snapshots: dict[int, tuple[DevelopmentPlan, Stored]] = {}
        for r, cells in table.rows:
            if r <= header:
                continue
            plan_id, revision, goal_id = (_int(cells[c].value) for c in (5, 6, 7))
            ref_cell, text_cell = cells[3], cells[4]
            if plan_id is None or revision is None or goal_id is None:
                if not (_blank(ref_cell.value) and _blank(text_cell.value)):
                    self.error(
                        title,
                        r,
                        "goals are added in Tandem, not here: this row has no goal behind it.",
                    )
                continue
            if plan_id not in plan_ids:
                self.error(title, r, "this row's plan is not one this workbook holds.")
                continue
            if ref_cell.data_type == "f" or text_cell.data_type == "f":
                self.error(title, r, "the recommendation holds a formula; type the words.")
                continue
            try:
                ref = clean_reference(_text(ref_cell.value))
                words = clean_recommendation(_text(text_cell.value))
            except Invalid as exc:
                self.error(title, r, str(exc))
                continue
            if words and not ref:
                self.error(
                    title, r, "give the recommendation's reference too (e.g. CPC 2025 rec. 3)."
                )
                continue
            if plan_id not in snapshots:
                plan = self.session.get(DevelopmentPlan, plan_id)
                if plan is None:
                    continue  # said on the plan's own sheet
                try:
                    require_plan_editor(self.session, self.actor, plan.pairing_id)
                except PermissionDenied:
                    continue  # said on the plan's own sheet
                snapshots[plan_id] = (plan, plan_snapshot(self.session, plan))
            plan, now = snapshots[plan_id]
            goal = next((g for g in now["goals"] if g["id"] == goal_id), None)
            if goal is None:
                self.error(title, r, f"goal {goal_id} is no longer in this plan.")
                continue
            current = (goal.get("peer_challenge_ref", ""), goal.get("peer_challenge_text", ""))
            if (ref, words) == current:
                continue
            if plan.revision != revision:
                old = self.session.exec(
                    select(PlanRevision).where(
                        PlanRevision.plan_id == plan.id, PlanRevision.revision == revision
                    )
                ).first()
                then: Stored = next(
                    (g for g in (old.snapshot if old else {"goals": []})["goals"]
                     if g["id"] == goal_id),
                    {},
                )  # fmt: skip
                exported = (then.get("peer_challenge_ref", ""), then.get("peer_challenge_text", ""))
                if (ref, words) == exported:
                    continue  # not edited since the export: newer work in Tandem stands
                self.error(
                    title,
                    r,
                    "this plan was changed in Tandem after the workbook was exported, so this "
                    "citation was not applied. Export the plans again and make it there.",
                )
                continue
            what = f"cites {_fmt(ref)}" if ref else "no longer cites a recommendation"
            self.result.changes.append(Change(title, r, f"goal {_fmt(goal['title'])} {what}"))
            self.citations.append((goal_id, ref, words))

    # --- one pairing's sheet --------------------------------------------------------

    def read_sheet(
        self, ws: Any, cycle: Cycle, plan_id: int, pairing_id: int, revision: int
    ) -> None:
        title = ws.title
        plan = self.session.get(DevelopmentPlan, plan_id)
        if plan is None or plan.pairing_id != pairing_id or plan.cycle_id != cycle.id:
            self.error(title, None, "the plan this sheet came from no longer exists in Tandem.")
            return
        try:
            require_plan_editor(self.session, self.actor, plan.pairing_id)
        except PermissionDenied as exc:
            self.error(title, None, str(exc))
            return
        table = read_sheet(ws, MAX_COLUMNS, max_rows=MAX_SHEET_ROWS, what="a plan")
        if note := table.note(title):
            self.result.notes.append(note)
        header_row, cols = _find_header(table.rows)
        if header_row is None:
            self.error(
                title,
                None,
                "the table's heading row (Goal, Action, Status, …) was not found. Keep the "
                "columns as they were exported.",
            )
            return
        missing = [h for h in HEADERS if h not in cols]
        for name in missing:
            hidden = dict((c[0], c[2]) for c in COLUMNS)[name]
            why = (
                " It is a hidden column holding the references Tandem needs to match each row; "
                "export again and keep it."
                if hidden
                else " Put the column back with its heading."
            )
            self.error(title, header_row, f"the column '{name}' is missing.{why}")
        if missing:
            return
        stale = plan.revision != revision
        current = plan_snapshot(self.session, plan)
        exported = current
        exported_at: datetime | None = None
        if stale:
            old = self.session.exec(
                select(PlanRevision).where(
                    PlanRevision.plan_id == plan.id, PlanRevision.revision == revision
                )
            ).first()
            exported = old.snapshot if old else {"goals": []}
            exported_at = old.changed_at if old else None
        goals_now = {g["id"]: g for g in current["goals"]}
        actions_now = {a["id"]: a for g in current["goals"] for a in g["actions"]}
        actions_then = {a["id"]: a for g in exported["goals"] for a in g["actions"]}
        # What was added in Tandem after the export (by an earlier import of this very
        # workbook, typically): only that can make a row of it "already in Tandem".
        notes_since: set[tuple[int | None, str]] = set()
        if stale and exported_at is not None:
            notes_since = {
                (action_id, note.strip())
                for action_id, note in self.session.exec(
                    select(CheckIn.action_id, CheckIn.note).where(
                        CheckIn.plan_id == plan.id, CheckIn.created_at > exported_at
                    )
                )
            }
        added_since = set(actions_now) - set(actions_then) if exported_at is not None else set()
        already: list[int] = []
        seen: set[int] = set()
        for r, row_cells in table.rows:
            if r <= header_row:
                continue
            cells = {name: row_cells[cols[name] - 1] for name in HEADERS}
            if all(_blank(c.value) for c in cells.values()):
                continue
            if all(_blank(cells[n].value) for n in EDITABLE) and _blank(cells["Goal"].value):
                continue  # only the hidden references left, e.g. the empty starter row
            row = self.read_row(title, r, cells, plan, goals_now, actions_now, seen)
            if row is None:
                continue
            if stale:
                before = actions_then.get(row.action_id) if row.action_id else None
                if _differs(row, before):
                    if _already_in(row, goals_now, actions_now, added_since, notes_since):
                        # The same change is in Tandem already: typically this very workbook
                        # was imported before. Nothing to do, and nothing to complain about.
                        already.append(r)
                        continue
                    who = plan.updated_by or "Someone"
                    self.error(
                        title,
                        r,
                        f"this plan was changed in Tandem after the workbook was exported "
                        f"({who}, {when_label(plan.updated_at)}), so this row's change was not "
                        "applied. Export the plans again and make the change in the new file.",
                    )
                    continue
                continue  # not edited since the export: newer work in Tandem stands
            self.compare(row, actions_now.get(row.action_id) if row.action_id else None)
        if already:
            rows = ", ".join(str(r) for r in already)
            self.result.notes.append(
                f"Sheet '{title}', row{'s' * (len(already) > 1)} {rows}: already in Tandem "
                "exactly as in this workbook (it was probably imported before), so there is "
                "nothing to save for " + ("them." if len(already) > 1 else "it.")
            )

    def read_row(
        self,
        title: str,
        r: int,
        cells: dict[str, Any],
        plan: DevelopmentPlan,
        goals: dict[int, Stored],
        actions: dict[int, Stored],
        seen: set[int],
    ) -> _Row | None:
        problems = len(self.result.errors)
        for name in EDITABLE + ("Goal",):
            if cells[name].data_type == "f":
                self.error(
                    title,
                    r,
                    f"{name} holds a formula ({cells[name].value}); type the value itself.",
                )
        if len(self.result.errors) > problems:
            return None
        row_plan = _int(cells["Plan ID"].value)
        if cells["Plan ID"].value not in (None, "") and row_plan != plan.id:
            self.error(
                title, r, "this row belongs to another pairing's plan; rows cannot move sheets."
            )
            return None
        action_id = _int(cells["Action ID"].value)
        goal_id = _int(cells["Goal ID"].value)
        if cells["Action ID"].value not in (None, "") and action_id is None:
            self.error(title, r, "the hidden Action ID has been changed; export again.")
            return None
        if action_id is not None:
            if action_id not in actions:
                self.error(
                    title,
                    r,
                    f"action {action_id} is no longer in this plan (it may have been removed "
                    "in Tandem).",
                )
                return None
            if action_id in seen:
                self.error(title, r, "this action appears twice; keep one row for it.")
                return None
            seen.add(action_id)
            goal_id = next(g for g, v in goals.items() if action_id in _ids(v))
        elif goal_id is None or goal_id not in goals:
            goal_title = _text(cells["Goal"].value).strip().lower()
            match = [g for g, v in goals.items() if v["title"].strip().lower() == goal_title]
            if not match:
                self.error(
                    title,
                    r,
                    f"goal {_fmt(_text(cells['Goal'].value))} is not in this plan. New rows add "
                    "actions to an existing goal: copy its name exactly, or add new goals in "
                    "Tandem.",
                )
                return None
            goal_id = match[0]
        values: dict[str, Any] = {}
        # The one rule for text (core.text), as on the plan page, so a row that says
        # what Tandem holds compares equal and a control character is refused here.
        for key, header, rule in (
            ("description", "Action", lambda text: clean_description(text, required=False)),
            ("success_measure", "Success measure", clean_measure),
            ("note", "New check-in note", clean_note),
        ):
            raw = _text(cells[header].value)
            try:
                values[key] = rule(raw)
            except Invalid as exc:
                self.error(title, r, str(exc))
                values[key] = raw
        owner = owner_role(_text(cells["Owner"].value))
        status = _text(cells["Status"].value).strip().lower()
        new = action_id is None
        if new and not values["description"] and not values["note"]:
            return None  # a goal row without actions, left as it was
        if not values["description"]:
            self.error(title, r, "Action is empty; say what will be done.")
        if owner not in OWNERS:
            shown = _text(cells["Owner"].value)
            what = f"owner '{shown}' is not" if shown.strip() else "owner is empty; it must be"
            self.error(title, r, f"{what} one of: {', '.join(OWNERS)}")
        if new and not status:
            status = "not started"
        if status not in STATUSES:
            shown = _text(cells["Status"].value)
            what = f"status '{shown}' is not" if shown.strip() else "status is empty; it must be"
            self.error(title, r, f"{what} one of: {', '.join(STATUSES)}")
        due = cells["Due date"].value
        if isinstance(due, datetime):
            due = due.date()
        elif isinstance(due, str) and not due.strip():
            due = None
        elif due is not None and not isinstance(due, date):
            kind = "text" if isinstance(due, str) else "a number"
            self.error(
                title,
                r,
                f"due date '{due}' is {kind}, not a date. Enter it as a date (for example "
                "31/03/2027) in a cell formatted as a date.",
            )
        if len(self.result.errors) > problems:
            return None
        values.update(owner=owner, status=status, due_on=due)
        if not new:
            goal = goals[goal_id]
            if _text(cells["Goal"].value).strip() != goal["title"].strip():
                self.result.notes.append(
                    f"Sheet '{title}', row {r}: goals are renamed in Tandem, not in the "
                    "workbook; the new goal name was ignored."
                )
        return _Row(title, r, plan, goal_id, action_id, values, new)

    def compare(self, row: _Row, now: Stored | None) -> None:
        v = row.values
        if row.new:
            self.result.changes.append(
                Change(row.sheet, row.row, f"new action {_fmt(v['description'])} ({v['owner']})")
            )
            self.rows.append(row)
            if v["note"]:
                self.result.changes.append(
                    Change(row.sheet, row.row, f"check-in note {_fmt(v['note'])}")
                )
            return
        if now is None:  # read_row found the action: it is in the plan
            return
        changed = False
        for header, key in FIELD.items():
            old = date.fromisoformat(now[key]) if key == "due_on" and now[key] else now[key]
            if v[key] != old:
                self.result.changes.append(
                    Change(row.sheet, row.row, f"{header.lower()} {_fmt(old)} → {_fmt(v[key])}")
                )
                changed = True
        if v["status"] != now["status"]:
            self.result.changes.append(
                Change(row.sheet, row.row, f"status {now['status']} → {v['status']}")
            )
            changed = True
        if v["note"]:
            self.result.changes.append(
                Change(row.sheet, row.row, f"check-in note {_fmt(v['note'])}")
            )
            changed = True
        if changed:
            v["before"] = now
            self.rows.append(row)

    # --- saving ---------------------------------------------------------------------

    def apply(self) -> None:
        s, actor, today = self.session, self.actor, self.today
        for row in self.rows:
            v = row.values
            if row.new:
                action = add_action(
                    s,
                    actor,
                    stored_id(row.goal_id),
                    v["description"],
                    v["owner"],
                    due_on=v["due_on"],
                    success_measure=v["success_measure"],
                    status=v["status"],
                )
                if v["note"]:
                    add_check_in(s, actor, stored_id(row.plan.id), today, v["note"], action.id)
                continue
            before = v["before"]
            edits = {}
            for key in FIELD.values():
                old = before[key]
                if key == "due_on" and old:
                    old = date.fromisoformat(old)
                if v[key] != old:
                    edits[key] = v[key]
            if edits:
                update_action(s, actor, stored_id(row.action_id), **edits)
            new_status = v["status"] if v["status"] != before["status"] else None
            if v["note"]:
                add_check_in(
                    s, actor, stored_id(row.plan.id), today, v["note"], row.action_id, new_status
                )
            elif new_status:
                set_action_status(s, actor, stored_id(row.action_id), new_status)
        for goal_id, ref, words in self.citations:
            update_goal(s, actor, goal_id, peer_challenge_ref=ref, peer_challenge_text=words)
        s.flush()


def _find_header(rows: list[tuple[int, tuple[Any, ...]]]) -> tuple[int | None, dict[str, int]]:
    """The heading row among the first 20 (its number) and each heading's column (from 1)."""
    for r, cells in rows:
        if r > 20:
            break
        names = {}
        for c, cell in enumerate(cells, start=1):
            value = cell.value
            if isinstance(value, str) and value.strip():
                names[value.strip()] = c
        if "Action" in names and "Status" in names:
            return r, names
    return None, {}


def _differs(row: _Row, before: Stored | None) -> bool:
    if row.new or before is None or row.values["note"]:
        return True
    v = row.values
    due = date.fromisoformat(before["due_on"]) if before["due_on"] else None
    return bool(
        v["description"] != before["description"]
        or v["owner"] != before["owner"]
        or v["due_on"] != due
        or v["success_measure"] != before["success_measure"]
        or v["status"] != before["status"]
    )


def _same_values(v: dict[str, Any], action: Stored) -> bool:
    due = date.fromisoformat(action["due_on"]) if action["due_on"] else None
    return bool(
        v["description"] == action["description"]
        and v["owner"] == action["owner"]
        and v["due_on"] == due
        and v["success_measure"] == action["success_measure"]
        and v["status"] == action["status"]
    )


def _already_in(
    row: _Row,
    goals_now: dict[int, Stored],
    actions_now: dict[int, Stored],
    added_since: set[int],
    notes_since: set[tuple[int | None, str]],
) -> bool:
    """Whether everything this row asks for is in Tandem already: the action with exactly
    these values (a new row: an action of the same goal with them, added after the export)
    and, if the row has a check-in note, the same note recorded after the export. A note or
    an action that was there before the export does not count: writing "On track" again
    this month is a new check-in."""
    v = row.values
    if row.new:
        goal = goals_now.get(row.goal_id) if row.goal_id else None
        matches = [
            a
            for a in (goal or {}).get("actions", [])
            if a["id"] in added_since and _same_values(v, a)
        ]
    else:
        action = actions_now.get(row.action_id) if row.action_id else None
        matches = [action] if action is not None and _same_values(v, action) else []
    if not matches:
        return False
    note = (v["note"] or "").strip()
    return not note or any((a["id"], note) in notes_since for a in matches)


def _ids(goal: Stored) -> set[int]:
    return {a["id"] for a in goal["actions"]}


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return f"{value:%d/%m/%Y}"
    return read_text(str(value))  # Excel writes a carriage return as _x000D_


def import_plans(
    session: Session,
    actor: Actor,
    data: bytes,
    apply: bool = False,
    *,
    today: date | None = None,
) -> ImportResult:
    """Read an edited plans workbook. With `apply=False` (a dry run) nothing is saved and
    the result lists the changes it would make; with `apply=True` they are saved — but only
    if the whole workbook is valid: any error and nothing is saved."""
    reader = _Reader(session, actor, today or date.today())
    reader.read(data)
    result = reader.result
    if result.errors:
        return result
    if apply and (reader.rows or reader.citations):
        reader.apply()
        result.applied = True
    return result
