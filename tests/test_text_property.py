"""Property test (issue 13): generated text — control characters, Word's line breaks,
U+2028/2029, NUL, non-characters, formulas, web addresses, right-to-left scripts, emoji,
`_xHHHH_` codes — through every text field and entry point (the domain functions the pages
call, the plan workbook import, the `tandem` commands) and out through every export (plan
workbook, links .xlsx/.csv, subject access .xlsx/.json, report JSON and PDF). Each field
either stores the text by the one documented rule (core.text) or refuses it with a
plain sentence and stores nothing; each export opens, holds no formula and gives back
exactly what was stored. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import itertools
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from analysis_builder import add_rater, small_cycle
from cycle_builder import build_cycle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader
from quick import examples
from sqlalchemy import Engine
from sqlmodel import Session, func, select
from typer.testing import CliRunner

import cli.common
from cli.main import app
from core.cells import read_text
from core.db import session_scope
from core.errors import Conflict, Invalid
from core.models import Council
from core.roles import SYSTEM
from core.text import MAX_TEXT
from feedback.collection.responses import MAX_COMMENT_CHARS, save_answers, submit_response
from feedback.models import Comment, Cycle, Invitation, Pairing, Person, Response
from feedback.setup.cycles import set_cycle_status, update_cycle
from feedback.setup.people import add_person, create_council, create_pairing, pairing_label
from planning.excel import export_plans
from planning.excel_import import import_plans
from planning.models import CheckIn, PlanAction, PlanGoal
from planning.plans import (
    add_action,
    add_check_in,
    add_goal,
    create_plan,
    update_action,
    update_goal,
)

FRAGMENTS = [
    "=1+1",
    "+SUM(A1:A2)",
    "-2+3",
    "@SUM(A1)",
    '=HYPERLINK("https://evil.example/sso","Sign in")',
    "=cmd|' /C calc'!A0",
    "https://evil.example/sso",
    "www.evil.example",
    "it@evil.example",
    "<script>alert(1)</script>",
    "**bold** [x](https://evil.example)",
    "שלום עולם",
    "مرحبا بالعالم",
    "\u202eevil\u202c",
    "😀",
    "👩‍👩‍👧",
    "Siân Wiśniewski",
    "\x00",
    "\x07",
    "\x0b",
    "\x0c",
    "\x1b",
    "\x1f",
    "\x7f",
    "\x85",
    "\u2028",
    "\u2029",
    "\r\n",
    "\r",
    "\n",
    "\t",
    " ",
    "\u00a0",
    "_x0007_",
    "_x005F_x0041_",
    "\ufffe",
    "\ud800",
]
hostile = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=6).map(
    "".join
)

SETTINGS = settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Each example of the export test builds a council and runs eight commands, one drawing a
# PDF with its charts (seconds each): fewer of them.
EXPORT_SETTINGS = settings(SETTINGS, max_examples=examples(8))

# --- the documented rule, written out again independently as the oracle -------------------

_BREAK = re.compile("\r\n|[\r\n\v\f\x85\u2028\u2029]")


def _unacceptable(ch: str) -> bool:
    category = unicodedata.category(ch)
    if ch in "\t\n\r\v\f\x85":
        return False
    return category in ("Cc", "Cs") or ch in "\ufffe\uffff"


def expected(text: str, multi: bool, limit: int, required: bool) -> str | None:
    """What the README's rule stores for `text`, or None where it is refused."""
    if any(_unacceptable(ch) for ch in text):
        return None
    if multi:
        lines = [line.rstrip() for line in _BREAK.split(text)]
        while lines and not lines[0]:
            lines.pop(0)
        while lines and not lines[-1]:
            lines.pop()
        value = "\n".join(lines)
    else:
        value = text.strip()
        if _BREAK.search(value) or "\t" in value:
            return None
    if len(value) > limit or (required and not value):
        return None
    return value


def assert_plain_sentence(message: str) -> None:
    assert message and message[0].isupper() and message.rstrip().endswith((".", "”")), message
    for leak in ("Traceback", "psycopg", "sqlalchemy", "DataError", "Error:", "NUL"):
        assert leak not in message, message


# --- one world per test, many examples -----------------------------------------------------


@dataclass
class World:
    council_id: int
    cycle_id: int
    pairing_id: int
    plan_id: int
    goal_id: int
    action_id: int
    invitation_id: int
    dimension_id: int


@pytest.fixture
def world(engine: Engine) -> World:
    built = build_cycle(engine, raters_per_group=1, second_pairing=False)
    with session_scope(engine) as s:
        plan = create_plan(s, SYSTEM, built.pairing_ids[0], built.cycle_id)
        goal = add_goal(s, SYSTEM, plan.id, "advice", "Seek advice first")
        action = add_action(s, SYSTEM, goal.id, "Options note", "officer", date(2027, 3, 1))
        invitation = s.exec(
            select(Invitation).where(Invitation.rater_id == built.people["m0"])
        ).one()
        from feedback.collection.responses import dimensions_for_cycle

        dimension = dimensions_for_cycle(s, s.get(Cycle, built.cycle_id))[0]
        return World(
            built.council_id,
            built.cycle_id,
            built.pairing_ids[0],
            plan.id,
            goal.id,
            action.id,
            invitation.id,
            dimension.id,
        )


_n = itertools.count(1)


def _stored_state(s: Session, w: World) -> tuple:
    """Everything the entry points below could write."""
    counts = tuple(
        s.exec(select(func.count()).select_from(m)).one()
        for m in (Council, Person, Pairing, Cycle, PlanGoal, PlanAction, CheckIn, Comment)
    )
    goal, action = s.get(PlanGoal, w.goal_id), s.get(PlanAction, w.action_id)
    comments = tuple(
        s.exec(select(Comment.text).order_by(Comment.response_id, Comment.dimension_id))
    )
    return (
        counts,
        s.get(Cycle, w.cycle_id).name,
        goal.title,
        goal.description,
        action.description,
        action.success_measure,
        comments,
    )


@dataclass(frozen=True)
class Field:
    name: str
    multi: bool
    limit: int
    required: bool
    enter: Callable[[Session, World, str], Callable[[Session], str]]


def _council(s: Session, w: World, text: str) -> Callable[[Session], str]:
    council_id = create_council(s, SYSTEM, text).id
    return lambda s: s.get(Council, council_id).name


def _person(field: str) -> Callable:
    def enter(s: Session, w: World, text: str) -> Callable[[Session], str]:
        values = {"full_name": "Cllr Plain", "title": "", "portfolio": "", "organisation": ""}
        values[field] = text
        person_id = add_person(
            s,
            SYSTEM,
            w.council_id,
            values.pop("full_name"),
            f"p{next(_n)}@example.org",
            "member",
            **values,
        ).id
        return lambda s: getattr(s.get(Person, person_id), field)

    return enter


def _pairing(s: Session, w: World, text: str) -> Callable[[Session], str]:
    n = next(_n)
    member = add_person(s, SYSTEM, w.council_id, "M", f"m{n}@example.org", "member")
    officer = add_person(s, SYSTEM, w.council_id, "O", f"o{n}@example.org", "officer")
    pairing_id = create_pairing(
        s, SYSTEM, w.council_id, "cabinet–director", member.id, officer.id, text
    ).id
    return lambda s: s.get(Pairing, pairing_id).portfolio


def _cycle(s: Session, w: World, text: str) -> Callable[[Session], str]:
    cycle = s.get(Cycle, w.cycle_id)
    args = (cycle.opens_on, cycle.closes_on, cycle.anonymity_threshold)
    update_cycle(s, SYSTEM, w.cycle_id, text, *args)
    return lambda s: s.get(Cycle, w.cycle_id).name


def _goal_title(s: Session, w: World, text: str) -> Callable[[Session], str]:
    goal_id = add_goal(s, SYSTEM, w.plan_id, "advice", text).id
    return lambda s: s.get(PlanGoal, goal_id).title


def _goal_description(s: Session, w: World, text: str) -> Callable[[Session], str]:
    update_goal(s, SYSTEM, w.goal_id, description=text)
    return lambda s: s.get(PlanGoal, w.goal_id).description


def _action(s: Session, w: World, text: str) -> Callable[[Session], str]:
    action_id = add_action(s, SYSTEM, w.goal_id, text, "joint").id
    return lambda s: s.get(PlanAction, action_id).description


def _measure(s: Session, w: World, text: str) -> Callable[[Session], str]:
    update_action(s, SYSTEM, w.action_id, success_measure=text)
    return lambda s: s.get(PlanAction, w.action_id).success_measure


def _note(s: Session, w: World, text: str) -> Callable[[Session], str]:
    check_in_id = add_check_in(s, SYSTEM, w.plan_id, date(2027, 1, 9), text).id
    return lambda s: s.get(CheckIn, check_in_id).note


def _comment(s: Session, w: World, text: str) -> Callable[[Session], str]:
    save_answers(s, w.invitation_id, comments={w.dimension_id: text})

    def read(s: Session) -> str:
        return (
            s.exec(
                select(Comment.text)
                .join(Response, Response.id == Comment.response_id)
                .where(
                    Response.invitation_id == w.invitation_id,
                    Comment.dimension_id == w.dimension_id,
                )
            ).first()
            or ""
        )

    return read


def _workbook(column: str, key: str) -> Callable:
    """The same field through the plan workbook: exported, edited, imported."""

    def enter(s: Session, w: World, text: str) -> Callable[[Session], str]:
        cycle_id = s.get(Cycle, w.cycle_id).id
        data = export_plans(s, SYSTEM, cycle_id, w.pairing_id, charts=False)
        wb = load_workbook(BytesIO(data))
        ws = wb[wb.sheetnames[1]]
        row = next(r for r in range(5, ws.max_row + 1) if ws[f"N{r}"].value == w.action_id)
        # as Excel saves what was typed: `_x` escaped, control characters as `_xHHHH_`
        value = text.replace("_x", "_x005F_x")
        value = re.sub(
            "[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]",
            lambda m: f"_x{ord(m.group(0)) if ord(m.group(0)) < 0xD800 else 0xFFFE:04X}_",
            value,
        )
        cell = ws[f"{column}{row}"]
        cell.value = value
        cell.data_type = "s"
        out = BytesIO()
        wb.save(out)
        result = import_plans(s, SYSTEM, out.getvalue(), apply=True)
        if not result.ok:
            raise Invalid(result.errors[0].split(": ", 1)[1])
        return lambda s: getattr(s.get(PlanAction, w.action_id), key)

    return enter


FIELDS = [
    Field("council name", False, 200, True, _council),
    Field("person name", False, 200, True, _person("full_name")),
    Field("person title", False, 200, False, _person("title")),
    Field("person portfolio", False, 200, False, _person("portfolio")),
    Field("person organisation", False, 200, False, _person("organisation")),
    Field("pairing portfolio", False, 200, False, _pairing),
    Field("cycle name", False, 120, True, _cycle),
    Field("goal title", False, 300, True, _goal_title),
    Field("goal description", True, MAX_TEXT, False, _goal_description),
    Field("action", True, MAX_TEXT, True, _action),
    Field("success measure", True, MAX_TEXT, False, _measure),
    Field("check-in note", True, MAX_TEXT, True, _note),
    Field("comment", True, MAX_COMMENT_CHARS, False, _comment),
    Field("action (workbook)", True, MAX_TEXT, True, _workbook("D", "description")),
    Field("success measure (workbook)", True, MAX_TEXT, False, _workbook("G", "success_measure")),
]


@SETTINGS
@given(field=st.sampled_from(FIELDS), text=hostile)
def test_every_field_stores_by_the_rule_or_refuses_in_a_sentence(
    engine: Engine, world: World, field: Field, text: str
) -> None:
    want = expected(text, field.multi, field.limit, field.required)
    with Session(engine) as s:
        before = _stored_state(s, world)
    try:
        with session_scope(engine) as s:
            read = field.enter(s, world, text)
    except Invalid as exc:
        assert want is None, (field.name, text, str(exc))
        assert_plain_sentence(str(exc))
        with Session(engine) as s:
            assert _stored_state(s, world) == before, "a refused text left something behind"
        return
    except Conflict:  # the same council name generated twice
        assert field.name == "council name"
        with Session(engine) as s:
            assert s.exec(select(Council).where(Council.name == want)).first() is not None
        return
    assert want is not None, (field.name, text)
    with Session(engine) as s:
        assert read(s) == want, (field.name, text)


# --- every export, from the command line ---------------------------------------------------


def _cli(*args: str) -> str:
    """The `tandem` command, in this process (on the test's database: see the test)."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def _cells(data: bytes) -> dict[str, list[list[Any]]]:
    """Every sheet's values as a person sees them, after checking none is a formula and
    every text a spreadsheet would run is marked as text."""
    wb = load_workbook(BytesIO(data))
    sheets = {}
    for ws in wb.worksheets:
        rows = []
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@", "\t")):
                    assert c.quotePrefix, (ws.title, c.coordinate, c.value)
            rows.append([read_text(c.value) if isinstance(c.value, str) else c.value for c in row])
        sheets[ws.title] = rows
    return sheets


def _records(rows: list[list[Any]]) -> list[dict[str, Any]]:
    """Rows under a heading row; an empty cell reads back as None, held as ''."""
    return [{k: "" if v is None else v for k, v in zip(rows[0], r, strict=False)} for r in rows[1:]]


def _clean(text: str, multi: bool, limit: int, required: bool, fallback: str) -> str:
    value = expected(text, multi, limit, required)
    return fallback if value is None or value == "" and required else value


@EXPORT_SETTINGS
@given(texts=st.lists(hostile, min_size=10, max_size=10))
@pytest.mark.slow
def test_every_export_opens_holds_no_formula_and_gives_back_what_was_stored(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, texts: list[str]
) -> None:
    monkeypatch.setattr(cli.common, "_engine", engine)
    n = next(_n)
    t = {
        "council": _clean(texts[0], False, 200, True, f"Council {n}"),
        "name": _clean(texts[1], False, 200, True, "Cllr Plain"),
        "title": _clean(texts[2], False, 200, False, ""),
        "portfolio": _clean(texts[3], False, 200, False, ""),
        "cycle": _clean(texts[4], False, 120, True, "Cycle"),
        "goal": _clean(texts[5], False, 300, True, "Goal"),
        "why": _clean(texts[6], True, MAX_TEXT, False, ""),
        "action": _clean(texts[7], True, MAX_TEXT, True, "Action"),
        "measure": _clean(texts[8], True, MAX_TEXT, False, ""),
        "comment": _clean(texts[9], True, MAX_COMMENT_CHARS, True, "Comment"),
    }
    with session_scope(engine) as s:
        if s.exec(select(Council).where(Council.name == t["council"])).first():
            t["council"] = f"Council {n}"
        council = create_council(s, SYSTEM, t["council"])
        leader = add_person(
            s, SYSTEM, council.id, t["name"], "leader@example.org", "member", t["title"],
            t["portfolio"],
        )  # fmt: skip
        chief = add_person(s, SYSTEM, council.id, "Chief", "chief@example.org", "officer")
        pairing = create_pairing(
            s, SYSTEM, council.id, "leader–chief executive", leader.id, chief.id, t["portfolio"]
        )
        small = small_cycle(
            s, status="open", council_id=council.id, member_id=leader.id,
            officer_id=chief.id, pairing_id=pairing.id,
        )  # fmt: skip
        cycle = s.get(Cycle, small.cycle_id)
        update_cycle(s, SYSTEM, cycle.id, t["cycle"], cycle.opens_on, cycle.closes_on, 3)
        raters = [add_rater(s, small, "members", 3, submit=False) for _ in range(3)]
        dimension_id = small.dims["advice"]
        for invitation_id in raters:  # the questionnaire's own function
            save_answers(s, invitation_id, comments={dimension_id: t["comment"]})
        plan = create_plan(s, SYSTEM, pairing.id, cycle.id)
        goal = add_goal(s, SYSTEM, plan.id, "advice", t["goal"], description=t["why"])
        action = add_action(s, SYSTEM, goal.id, t["action"], "joint", None, t["measure"])
        add_check_in(s, SYSTEM, plan.id, date(2027, 1, 9), t["action"], action.id)
        label = pairing_label(s, pairing)
        ids = cycle.id, pairing.id
    cycle_id, pairing_id = (str(i) for i in ids)

    # links, while the cycle is open (.xlsx and .csv)
    _cli("links", cycle_id, "--reissue", "-o", str(tmp_path / "l.xlsx"))
    links = _records(_cells((tmp_path / "l.xlsx").read_bytes())["Mail merge"])
    assert len(links) == 3 and {r["pairing"] for r in links} == {label}
    _cli("links", cycle_id, "--reissue", "-o", str(tmp_path / "l.csv"))
    with open(tmp_path / "l.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    unquote = {label, "'" + label}
    assert len(rows) == 3 and all(r["pairing"] in unquote for r in rows)
    assert all(r["pairing"] == "'" + label for r in rows) == label.startswith(("=", "+", "-", "@"))

    # the plan workbook, and it comes back as no change at all
    _cli("export-plans", cycle_id, "-o", str(tmp_path / "p.xlsx"))
    data = (tmp_path / "p.xlsx").read_bytes()
    sheets = _cells(data)
    assert sheets["Overview"][3][0] == label
    assert sheets["Tandem"][2][1] == t["cycle"]
    plan_rows = _records(sheets[[n for n in sheets if n not in ("Overview",)][0]][3:])
    [row] = [r for r in plan_rows if r["Action ID"] == action.id]
    assert (row["Goal"], row["Action"], row["Success measure"]) == (
        t["goal"], t["action"], t["measure"]
    )  # fmt: skip
    assert row["Last check-in"] == f"09 Jan 2027: {t['action']}"
    with session_scope(engine) as s:
        result = import_plans(s, SYSTEM, data, apply=True)
    assert result.ok and result.changes == [], (result.errors, result.changes)

    # subject access, .xlsx and .json
    for suffix in ("xlsx", "json"):
        out = tmp_path / f"sa.{suffix}"
        _cli("subject-access", "leader@example.org", "--council", str(council.id),
             "-o", str(out))  # fmt: skip
        if suffix == "xlsx":
            sheets = _cells(out.read_bytes())
            person = _records(sheets["person"])[0]
            goals = _records(sheets["plan_goals"])
            about = _records(sheets["about"])[0]
        else:
            held = json.loads(out.read_text(encoding="utf-8"))
            person, goals, about = held["person"], held["plan_goals"], held["about"]
        assert (person["name"], person["title"], person["portfolio"]) == (
            t["name"], t["title"], t["portfolio"]
        )  # fmt: skip
        assert (goals[0]["title"], goals[0]["description"]) == (t["goal"], t["why"])
        assert about["council"] == t["council"]

    # the report, once the raters have submitted and the cycle has closed
    with session_scope(engine) as s:
        for invitation_id in raters:
            submit_response(s, invitation_id)
        set_cycle_status(s, SYSTEM, ids[0], "closed")
    report = json.loads(_cli("report", cycle_id, "--pairing", pairing_id, "--json"))
    shown = report["pairings"][pairing_id]
    assert shown["comments"]["advice"] == [t["comment"]] * 3
    assert report["cycle_name"] == t["cycle"]
    _cli("report", cycle_id, "--pairing", pairing_id, "--pdf", str(tmp_path / "r.pdf"))
    pdf = PdfReader(tmp_path / "r.pdf")
    assert len(pdf.pages) >= 1 and "".join(p.extract_text() for p in pdf.pages)
