"""Bulk import of people: all or nothing, every problem listed with its row number."""

from __future__ import annotations

import io

import pytest
import streamlit as st
from openpyxl import Workbook, load_workbook
from shown import alerts
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from core.db import session_scope
from core.errors import Invalid
from core.roles import SYSTEM
from feedback.models import Person
from feedback.setup.people import add_person, create_council
from feedback.setup.people_import import import_people, template_csv, template_xlsx

HEADER = "full_name,email,kind,title,portfolio,organisation\n"
READY = "Ready to add 1 person; nothing is saved yet."


@pytest.fixture
def council_id(engine) -> int:
    with session_scope(engine) as s:
        council = create_council(s, SYSTEM, "Cyngor Sir Llanfair", "Wales")
        add_person(s, SYSTEM, council.id, "Existing Person", "taken@llanfair.example", "officer")
        return council.id


def _people(engine, council_id: int) -> list[Person]:
    with Session(engine) as s:
        return list(s.exec(select(Person).where(Person.council_id == council_id)))


def _import(engine, council_id: int, name: str, data: bytes):
    with session_scope(engine) as s:
        return import_people(s, SYSTEM, council_id, name, data)


def test_welsh_names_are_kept_exactly_and_empty_rows_skipped(engine, council_id) -> None:
    data = (
        HEADER
        + "Cllr Siân Llewelyn,SIAN@Llanfair.example,councillor,Cabinet Member,Gofal,\n"
        + ",,,,,\n"
        + "Rhodri ap Dafydd,rhodri@llanfair.example,officer,Cyfarwyddwr,,\n"
        + "Dr Gwenllïan Ŵyn,gwen@iechyd.example,partner,,,Bwrdd Iechyd\n"
    ).encode("utf-8")
    result = _import(engine, council_id, "people.csv", data)
    assert len(result.added) == 3 and result.empty_rows_skipped == 1
    names = {p.full_name: p for p in _people(engine, council_id)}
    assert "Cllr Siân Llewelyn" in names and "Dr Gwenllïan Ŵyn" in names
    assert names["Cllr Siân Llewelyn"].email == "sian@llanfair.example"
    assert names["Dr Gwenllïan Ŵyn"].kind == "external"


def test_every_problem_is_listed_with_its_row_and_nothing_is_saved(engine, council_id) -> None:
    data = (
        HEADER
        + "Good Person,good@llanfair.example,member,,,\n"
        + "No Email,,member,,,\n"
        + "Bad Email,not-an-email,officer,,,\n"
        + "Wrong Kind,wk@llanfair.example,mayor,,,\n"
        + "Twice,good@llanfair.example,member,,,\n"
        + 'Formula,=HYPERLINK("x"),member,,,\n'
        + "Nul\x00Byte,nul@llanfair.example,member,,,\n"
        + '"Two\nLines",two@llanfair.example,member,,,\n'
        + "Pasted\u2028From Word,word@llanfair.example,member,,,\n"
    ).encode("utf-8")
    with pytest.raises(Invalid) as err:
        _import(engine, council_id, "people.csv", data)
    problems = "\n".join(err.value.problems)
    for row in (3, 4, 5, 6, 7, 8, 9, 10):
        assert f"Row {row}:" in problems, problems
    assert "also on row 2" in problems and "mayor" in problems
    assert "Row 8: The name holds an invisible control character (U+0000) after “Nul”" in problems
    # Unicode's line separator (U+2028) comes with text pasted from Word: refused too.
    assert "Row 10: The name must be on one line: it holds a line break." in problems
    assert len(_people(engine, council_id)) == 1  # only the one already there


def test_duplicates_against_the_database_are_caught(engine, council_id) -> None:
    data = (HEADER + "Someone,Taken@Llanfair.example,officer,,,\n").encode()
    with pytest.raises(Invalid) as err:
        _import(engine, council_id, "people.csv", data)
    assert "Row 2: taken@llanfair.example already belongs to Existing Person." in err.value.problems


@pytest.mark.parametrize(
    ("name", "data", "needle"),
    [
        ("people.csv", b"name,mail,sort\nA,a@b.example,member\n", "'mail'"),
        ("people.csv", b"", "empty"),
        ("people.csv", "Siân\n".encode("cp1252"), "UTF-8"),
        ("people.txt", b"x", ".xlsx"),
        ("people.xlsx", b"not a zip", "could not be read"),
        ("people.csv", b"x" * (10 * 1024 * 1024), "limit is 5 MB"),
    ],
)
def test_broken_files_get_a_clear_message(engine, council_id, name, data, needle) -> None:
    with pytest.raises(Invalid) as err:
        _import(engine, council_id, name, data)
    assert needle in str(err.value) + " ".join(err.value.problems)
    assert len(_people(engine, council_id)) == 1


def _xlsx(rows, merge: str | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_workbooks_with_formulas_or_merged_cells_are_refused(engine, council_id) -> None:
    header = ["full_name", "email", "kind"]
    formula = _xlsx([header, ["A", "a@x.example", "member"], ["=A2", "b@x.example", "member"]])
    with pytest.raises(Invalid) as err:
        _import(engine, council_id, "p.xlsx", formula)
    assert any(p.startswith("Row 3: cell A3 holds a formula") for p in err.value.problems)
    merged = _xlsx(
        [header, ["A", "a@x.example", "member"], ["B", "b@x.example", "member"]], "A2:A3"
    )
    with pytest.raises(Invalid) as err:
        _import(engine, council_id, "p.xlsx", merged)
    assert any("merged" in p for p in err.value.problems)
    good = _xlsx([header, ["Ffion Rhys-Jones", "ffion@x.example", "officer"]])
    assert len(_import(engine, council_id, "p.xlsx", good).added) == 1


def test_the_templates_import_as_they_are(engine, council_id) -> None:
    assert len(_import(engine, council_id, "t.xlsx", template_xlsx()).added) == 3
    sheet = load_workbook(io.BytesIO(template_xlsx())).active
    assert [c.value for c in sheet[1]][:3] == ["full_name", "email", "kind"]
    with pytest.raises(Invalid, match="problem"):  # same people again: duplicates
        _import(engine, council_id, "t.csv", template_csv())


@pytest.fixture
def _fresh_cache():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_import_page_shows_row_errors_then_imports(
    sqlite_engine, sqlite_url, monkeypatch, _fresh_cache
) -> None:
    with session_scope(sqlite_engine) as s:
        council = create_council(s, SYSTEM, "Cyngor Bro Morgannwg", "Wales")
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    at = AppTest.from_file("../app.py", default_timeout=30).run()
    at.switch_page("pages/people.py").run()
    assert not at.exception
    bad = (HEADER + "Siân,sian@x.example,member,,,\nNo Email,,member,,,\n").encode()
    at.file_uploader(key="people_upload").upload("people.csv", bad).run()
    # Checked as soon as the file is chosen; nothing to import while anything is wrong.
    assert "Nothing was imported" in alerts(at, "error")[0]
    assert "Row 3:" in alerts(at, "error")[0]
    assert "do_import" not in [b.key for b in at.button]
    with Session(sqlite_engine) as s:
        assert s.exec(select(Person).where(Person.council_id == council.id)).all() == []
    good = (HEADER + "Siân Ŵyn,sian@x.example,member,,,\n").encode()
    at.file_uploader(key="people_upload").clear()
    at.file_uploader(key="people_upload").upload("people.csv", good).run()
    assert not at.exception and not alerts(at, "error")
    assert READY in alerts(at, "info")
    with Session(sqlite_engine) as s:
        assert s.exec(select(Person)).all() == []  # the check saved nothing
    at.button(key="do_import").click().run()
    assert not at.exception
    assert "1 people added." in alerts(at, "success")[0]
    with Session(sqlite_engine) as s:
        assert [p.full_name for p in s.exec(select(Person))] == ["Siân Ŵyn"]
    at.run()  # a later rerun with the file still there says what happened, not a clash
    assert not alerts(at, "error") and "1 people added." in alerts(at, "success")[0]


def test_the_import_page_checks_a_file_once_not_on_every_rerun(
    sqlite_engine, sqlite_url, monkeypatch, _fresh_cache
) -> None:
    """The dry run reads the whole file: a click elsewhere on the page must not repeat it."""
    import feedback.setup.people_import as people_import

    with session_scope(sqlite_engine) as s:
        create_council(s, SYSTEM, "Cyngor Bro Morgannwg", "Wales")
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    dry_runs: list[bytes] = []
    real = people_import.import_people

    def counting(*args, **kwargs):
        if kwargs.get("apply") is False:
            dry_runs.append(args[4])
        return real(*args, **kwargs)

    monkeypatch.setattr(people_import, "import_people", counting)
    at = AppTest.from_file("../app.py", default_timeout=30).run()
    at.switch_page("pages/people.py").run()
    first = (HEADER + "Siân Ŵyn,sian@x.example,member,,,\n").encode()
    at.file_uploader(key="people_upload").upload("people.csv", first).run()
    assert READY in alerts(at, "info")
    at.run()
    at.run()
    assert not at.exception
    assert READY in alerts(at, "info")
    assert dry_runs == [first]  # three runs of the page, one check
    second = (HEADER + "Rhodri ap Dafydd,rhodri@x.example,officer,,,\n").encode()
    at.file_uploader(key="people_upload").clear()
    at.file_uploader(key="people_upload").upload("people.csv", second).run()
    at.run()
    assert dry_runs == [first, second]  # a different file is checked, once


@pytest.mark.parametrize(
    "header",
    [
        "Name,E-mail,Role,Job title,Portfolio,Organization",
        "  FULL NAME ,Email Address,Type,Position,,",
        "First name,Last name,Email,Member/Officer,Title",
        "Enw,E-bost,Math,Swydd,Portffolio,Sefydliad",
    ],
)
def test_common_headings_are_understood(engine, council_id, header) -> None:
    """Case, spaces and punctuation do not matter; Role and Type mean kind; First name and
    Last name make the name."""
    split = header.startswith("First name")
    rows = (
        ["Siân,Llewelyn,sian@x.example,Councillor,Cabinet Member"]
        if split
        else ["Siân Llewelyn,sian@x.example,Councillor,Cabinet Member,,"]
    )
    rows.append(
        "Rhodri,ap Dafydd,rhodri@x.example,officer,Director"
        if split
        else "Rhodri ap Dafydd,rhodri@x.example,officer,Director,,"
    )
    data = "\n".join([header, *rows, ""]).encode()
    result = _import(engine, council_id, "people.csv", data)
    assert [(p.full_name, p.kind, p.title) for p in result.added] == [
        ("Siân Llewelyn", "member", "Cabinet Member"),
        ("Rhodri ap Dafydd", "officer", "Director"),
    ]


def test_a_heading_not_understood_is_named_and_the_rows_are_still_checked(
    engine, council_id
) -> None:
    data = b"Name,Email,Role,Dept\nA Person,not-an-email,member,Finance\nB,b@x.example,mayor,\n"
    with pytest.raises(Invalid) as err:
        _import(engine, council_id, "people.csv", data)
    assert "The first row must hold the column headings" in str(err.value)
    problems = err.value.problems
    assert problems[0] == (
        "Row 1: the heading 'Dept' (column D) is not one Tandem understands. The template's "
        "headings are full_name, email, kind, title, portfolio, organisation, "
        "political_group, political_side, special_role."
    )
    assert [p.split(":")[0] for p in problems] == ["Row 1", "Row 2", "Row 3"]
    assert problems[2] == "Row 3: kind 'mayor' should be member, officer or external."


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "Name,Email,Title,Role,Type",
            "Row 1: the headings 'Role' (column D) and 'Type' (column E) both mean kind "
            "(member, officer or external); keep one of them.",
        ),
        (
            "Name,Email,Title",
            "Row 1: no column holds the kind (member, officer or external). The template "
            "heads it kind; Type, Role or Member/Officer also work.",
        ),
        (
            "First name,Email,Kind",
            "Row 1: there is 'First name' (column A) but no last name column; add one, or "
            "put the whole name in one column headed full_name.",
        ),
    ],
)
def test_heading_problems_name_the_headings_as_typed(engine, council_id, header, expected) -> None:
    data = (header + "\nSiân,sian@x.example,member,x,member\n").encode()
    with pytest.raises(Invalid) as err:
        _import(engine, council_id, "people.csv", data)
    assert expected in err.value.problems, err.value.problems


def test_every_row_problem_is_listed_once_in_row_order(engine, council_id) -> None:
    rows = [
        ["full_name", "email", "kind"],
        ["Good Person", "good@x.example", "member"],
        ["Bad Email", "nope", "member"],
        ["=A2", "f@x.example", "member"],
        ["Wrong Kind", "k@x.example", "mayor"],
        ["Twice", "good@x.example", "officer"],
        ["Formula Email", '=CONCAT("a","@x.example")', "=C2"],
        ["Merged", "m1@x.example", "member"],
        ["", "m2@x.example", "member"],
    ]
    with pytest.raises(Invalid) as err:
        _import(engine, council_id, "p.xlsx", _xlsx(rows, "A8:A9"))
    problems = err.value.problems
    assert problems[0].startswith("Row 3: ") and "nope" in problems[0]
    assert problems[1:] == [
        "Row 4: cell A4 holds a formula (=A2). Type the value itself instead.",
        "Row 5: kind 'mayor' should be member, officer or external.",
        "Row 6: good@x.example is also on row 2.",
        'Row 7: cell B7 holds a formula (=CONCAT("a","@x.example")). Type the value '
        "itself instead.",
        "Row 7: cell C7 holds a formula (=C2). Type the value itself instead.",
        "Rows 8–9: cells A8:A9 are merged. Unmerge them and give every person their own row.",
    ]
    assert "Nothing was imported: 7 problems" in str(err.value)


@pytest.mark.slow
def test_the_command_line_checks_then_imports_people(db_url, tmp_path) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    from core.db import make_engine

    engine = make_engine(db_url)
    with session_scope(engine) as s:
        llanfair = create_council(s, SYSTEM, "Cyngor Sir Llanfair", "Wales").id
        create_council(s, SYSTEM, "Kingsmere Borough Council", "England")
    tandem = str(Path(sys.executable).with_name("tandem"))
    env = {**os.environ, "TANDEM_DATABASE_URL": db_url}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([tandem, *args], capture_output=True, text=True, env=env, timeout=300)

    people = tmp_path / "people.csv"
    people.write_text("Name,Email,Role\nSiân Ŵyn,sian@x.example,member\n", encoding="utf-8")
    out = cli("people", "import", str(people))
    assert out.returncode == 1 and "Say which council with --council" in out.stderr
    out = cli("people", "import", str(people), "--council", "Cyngor Sir Llanfair")
    assert out.returncode == 0, out.stderr
    assert "row 2: Siân Ŵyn <sian@x.example>, member" in out.stdout
    assert "This was a dry run: nobody was added." in out.stdout
    assert _people(engine, llanfair) == []
    out = cli("people", "import", str(people), "--council", "Cyngor Sir Llanfair", "--apply")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("1 people added.")
    assert [p.full_name for p in _people(engine, llanfair)] == ["Siân Ŵyn"]
    out = cli("people", "import", str(people), "--council", "Cyngor Sir Llanfair")
    assert out.returncode == 1
    assert "Row 2: sian@x.example already belongs to Siân Ŵyn." in out.stderr
    engine.dispose()
