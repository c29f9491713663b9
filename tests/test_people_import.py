"""Bulk import of people: all or nothing, every problem listed with its row number."""

from __future__ import annotations

import io

import pytest
import streamlit as st
from openpyxl import Workbook, load_workbook
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from feedback.access import SYSTEM
from feedback.db import session_scope
from feedback.errors import Invalid
from feedback.models import Person
from feedback.people import add_person, create_council
from feedback.people_import import import_people, template_csv, template_xlsx

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


def _import(engine, council_id: int, name: str, data: bytes):  # noqa: ANN202
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
    assert "Row 8: full_name contains a line break or an invisible control" in problems
    # Unicode's line separator (U+2028) comes with text pasted from Word: refused too.
    assert "Row 10: full_name contains a line break or an invisible control" in problems
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


def _xlsx(rows, merge: str | None = None) -> bytes:  # noqa: ANN001
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
    assert "Nothing was imported" in at.error[0].value
    assert "Row 3:" in at.markdown[-1].value
    assert "do_import" not in [b.key for b in at.button]
    with Session(sqlite_engine) as s:
        assert s.exec(select(Person).where(Person.council_id == council.id)).all() == []
    good = (HEADER + "Siân Ŵyn,sian@x.example,member,,,\n").encode()
    at.file_uploader(key="people_upload").clear()
    at.file_uploader(key="people_upload").upload("people.csv", good).run()
    assert not at.exception and not at.error
    assert READY in [i.value for i in at.info]
    with Session(sqlite_engine) as s:
        assert s.exec(select(Person)).all() == []  # the check saved nothing
    at.button(key="do_import").click().run()
    assert not at.exception
    assert "1 people added." in at.success[0].value
    with Session(sqlite_engine) as s:
        assert [p.full_name for p in s.exec(select(Person))] == ["Siân Ŵyn"]
    at.run()  # a later rerun with the file still there says what happened, not a clash
    assert not at.error and "1 people added." in at.success[0].value


def test_the_import_page_checks_a_file_once_not_on_every_rerun(
    sqlite_engine, sqlite_url, monkeypatch, _fresh_cache
) -> None:
    """The dry run reads the whole file: a click elsewhere on the page must not repeat it."""
    import feedback.people_import as people_import

    with session_scope(sqlite_engine) as s:
        create_council(s, SYSTEM, "Cyngor Bro Morgannwg", "Wales")
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    dry_runs: list[bytes] = []
    real = people_import.import_people

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - a spy, calls the real one
        if kwargs.get("apply") is False:
            dry_runs.append(args[4])
        return real(*args, **kwargs)

    monkeypatch.setattr(people_import, "import_people", counting)
    at = AppTest.from_file("../app.py", default_timeout=30).run()
    at.switch_page("pages/people.py").run()
    first = (HEADER + "Siân Ŵyn,sian@x.example,member,,,\n").encode()
    at.file_uploader(key="people_upload").upload("people.csv", first).run()
    assert READY in [i.value for i in at.info]
    at.run()
    at.run()
    assert not at.exception
    assert READY in [i.value for i in at.info]
    assert dry_runs == [first]  # three runs of the page, one check
    second = (HEADER + "Rhodri ap Dafydd,rhodri@x.example,officer,,,\n").encode()
    at.file_uploader(key="people_upload").clear()
    at.file_uploader(key="people_upload").upload("people.csv", second).run()
    at.run()
    assert dry_runs == [first, second]  # a different file is checked, once
