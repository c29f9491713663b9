"""Pairing kinds beyond the English cabinet model: a council's governance model decides its
kinds; each kind is named from one vocabulary on the report page, in the PDF and in the
plan export; the migration brings older databases over without losing anything."""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO

import pytest
import streamlit as st
from alembic import command
from openpyxl import load_workbook
from shown import headings, shown
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from core.db import alembic_config, make_engine, session_scope, upgrade
from core.errors import Invalid
from core.roles import SYSTEM
from core.vocabulary import PAIRING_KINDS, TOP_KINDS, PairingKind, is_top_pairing, kinds_for
from feedback.collection.responses import items_for_invitation, save_answers, submit_response
from feedback.models import Invitation
from feedback.results.publication import read_pairing_report
from feedback.results.report_pdf import pairing_report_pdf
from feedback.setup.cycles import add_pairing_to_cycle, create_cycle, set_cycle_status
from feedback.setup.people import (
    add_person,
    create_council,
    create_pairing,
    list_pairings,
    set_governance,
)
from planning.excel import export_plans
from planning.plans import create_plan

# kind: (council governance, nation, councillor, officer, label, councillor's role, officer's)
CASES = {
    "leader–chief executive": ("leader and cabinet", "England", "Cllr Lena Lord",
                               "Carl Chief", "Leader and chief executive", "leader",
                               "chief executive"),
    "cabinet–director": ("leader and cabinet", "England", "Cllr Cara Cabinet", "Dora Director",
                         "Cabinet member and director", "cabinet member", "director"),
    "mayor–chief executive": ("mayor and cabinet", "England", "Mayor Tess Marlow",
                              "Hal Payne", "Elected mayor and chief executive",
                              "elected mayor", "chief executive"),
    "convener–chief executive": ("committee system", "Scotland", "Cllr Morag Convener",
                                 "Ewan Chief", "Convener and chief executive", "convener",
                                 "chief executive"),
    "committee chair–director": ("committee system", "Scotland", "Cllr Iain Chair",
                                 "Fiona Director", "Committee chair and director",
                                 "committee chair", "director"),
}  # fmt: skip
COUNCILS = {
    "leader and cabinet": "Riverside Borough Council",
    "mayor and cabinet": "Marlow Mayoral Borough Council",
    "committee system": "Glenrothay Council",
}
TODAY = date(2027, 3, 1)


def build_closed_cycles(url: str) -> dict[str, tuple[int, int]]:
    """One council per governance model, its kinds of pairing in a cycle in which both
    principals answered; closed, with an empty plan per pairing. Returns {kind: (cycle,
    pairing)}."""
    engine = make_engine(url)
    found: dict[str, tuple[int, int]] = {}
    with session_scope(engine) as s:
        for governance, council_name in COUNCILS.items():
            nation = next(c[1] for c in CASES.values() if c[0] == governance)
            council = create_council(s, SYSTEM, council_name, nation, governance=governance)
            cycle = create_cycle(
                s, SYSTEM, council.id, "Review 2027", date(2027, 1, 4), date(2027, 2, 1)
            )
            for kind, (gov, _, member, officer, *_) in CASES.items():
                if gov != governance:
                    continue
                m = add_person(s, SYSTEM, council.id, member, f"{kind[:5]}.m@x.example.org",
                               "member")  # fmt: skip
                o = add_person(s, SYSTEM, council.id, officer, f"{kind[:5]}.o@x.example.org",
                               "officer")  # fmt: skip
                pairing = create_pairing(s, SYSTEM, council.id, kind, m.id, o.id)
                add_pairing_to_cycle(s, SYSTEM, cycle.id, pairing.id)
                found[kind] = (cycle.id, pairing.id)
            set_cycle_status(s, SYSTEM, cycle.id, "open")
            for inv in s.exec(select(Invitation).where(Invitation.cycle_id == cycle.id)).all():
                save_answers(s, inv.id, {i.id: 4 for i in items_for_invitation(s, inv)})
                submit_response(s, inv.id)
            set_cycle_status(s, SYSTEM, cycle.id, "closed")
            for cid, pid in found.values():
                if cid == cycle.id:
                    create_plan(s, SYSTEM, pid, cid)
    engine.dispose()
    return found


@pytest.fixture(scope="module")
def kinds_db(tmp_path_factory: pytest.TempPathFactory, sqlite_template) -> tuple[str, dict]:
    import shutil

    path = tmp_path_factory.mktemp("kinds") / "kinds.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    return url, build_closed_cycles(url)


# --- the vocabulary and the rules -------------------------------------------------------------


def test_every_kind_has_its_words_and_the_top_pairings_are_the_chief_executives() -> None:
    assert set(PAIRING_KINDS) == {k.value for k in PairingKind} == set(CASES)
    assert set(TOP_KINDS) == {
        "leader–chief executive",
        "mayor–chief executive",
        "convener–chief executive",
    }
    assert not is_top_pairing("cabinet–director") and not is_top_pairing("no such kind")
    assert kinds_for("mayor and cabinet") == ["mayor–chief executive", "cabinet–director"]
    assert kinds_for("committee system") == [
        "leader–chief executive",
        "convener–chief executive",
        "committee chair–director",
    ]


def test_a_pairing_must_be_of_a_kind_the_councils_governance_has(session: Session) -> None:
    council = create_council(session, SYSTEM, "Loch Ardan Council", "Scotland")
    assert council.governance == "committee system"  # the usual model for the nation
    m = add_person(session, SYSTEM, council.id, "Cllr A", "a@x.example.org", "member")
    o = add_person(session, SYSTEM, council.id, "B Officer", "b@x.example.org", "officer")
    with pytest.raises(Invalid) as refused:
        create_pairing(session, SYSTEM, council.id, "cabinet–director", m.id, o.id)
    assert str(refused.value) == (
        "Loch Ardan Council is recorded as run by committee system, which has no cabinet "
        "member and director pairing. Its pairings are: leader and chief executive; convener "
        "and chief executive; committee chair and director. If the council has changed how "
        "it is run, change its governance model first."
    )
    with pytest.raises(Invalid, match="governance model must be one of"):
        create_council(session, SYSTEM, "Odd Council", governance="dictatorship")
    with pytest.raises(Invalid, match="kind must be one of"):
        create_pairing(session, SYSTEM, council.id, "provost–chief executive", m.id, o.id)
    # The database itself refuses a kind it does not know.
    with pytest.raises(IntegrityError):
        session.execute(
            text("UPDATE council SET governance = 'anarchy' WHERE id = :c"), {"c": council.id}
        )
        session.flush()
    session.rollback()


def test_lists_put_the_top_pairing_first_whatever_its_kind(session: Session) -> None:
    """Lists order pairings by kind, descending: every top kind must sort above every
    second-tier kind on both databases, which this checks with all five kinds."""
    council = create_council(session, SYSTEM, "Every Kind Council")
    made = []
    for n, (kind, (governance, *_)) in enumerate(reversed(list(CASES.items()))):
        set_governance(session, SYSTEM, council.id, governance)
        m = add_person(session, SYSTEM, council.id, f"Cllr {n}", f"m{n}@x.example.org", "member")
        o = add_person(session, SYSTEM, council.id, f"Off {n}", f"o{n}@x.example.org", "officer")
        # The second and third top pairings are named exceptions (one top pairing a council).
        reason = "Listed for the order" if is_top_pairing(kind) else ""
        made.append(
            create_pairing(session, SYSTEM, council.id, kind, m.id, o.id, top_exception=reason).kind
        )
    listed = [p.kind for p in list_pairings(session, council.id)]
    assert sorted(listed) == sorted(made)
    assert set(listed[:3]) == set(TOP_KINDS), listed


# --- named correctly wherever a pairing is shown ----------------------------------------------


@pytest.fixture
def _fresh_cache():
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.mark.usefixtures("_fresh_cache")
@pytest.mark.slow
def test_the_report_page_names_each_kind_and_its_principals(
    kinds_db: tuple[str, dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, found = kinds_db
    monkeypatch.setenv("TANDEM_DATABASE_URL", url)
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    at.switch_page("pages/report.py").run()
    assert not at.exception, at.exception
    for kind, (_, _, member, officer, label, member_role, officer_role) in CASES.items():
        cycle_id, pairing_id = found[kind]
        at.selectbox(key="report_cycle").set_value(cycle_id).run()
        at.selectbox(key="report_pairing").set_value(pairing_id).run()
        assert not at.exception, at.exception
        assert headings(at, 2)[0] == f"{member} and {officer}"
        caption = shown(at)
        assert label in caption, (kind, caption)
        others = {w.label for k, w in PAIRING_KINDS.items() if k != kind}
        assert not any(f"{o}" in caption for o in others), kind
        subheaders = headings(at, 3)
        assert f"{member} ({member_role})" in subheaders, (kind, subheaders)
        assert f"{officer} ({officer_role})" in subheaders, (kind, subheaders)
        assert not any("(councillor)" in h for h in subheaders)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages).split())


@pytest.mark.slow
def test_the_pdf_names_each_kind_and_its_principals(kinds_db: tuple[str, dict]) -> None:
    url, found = kinds_db
    engine = make_engine(url)
    for kind, (_, _, member, officer, label, member_role, officer_role) in CASES.items():
        with Session(engine) as s:
            report = read_pairing_report(s, SYSTEM, *found[kind])
        flat = _pdf_text(pairing_report_pdf(report))
        assert label in flat, kind
        assert f"{member} ({member_role})" in flat, kind
        assert f"{officer} ({officer_role})" in flat, kind
    engine.dispose()


def test_the_plan_export_names_each_kind(kinds_db: tuple[str, dict]) -> None:
    url, found = kinds_db
    engine = make_engine(url)
    for governance in COUNCILS:
        kinds = [k for k, c in CASES.items() if c[0] == governance]
        cycle_id = found[kinds[0]][0]
        with Session(engine) as s:
            wb = load_workbook(BytesIO(export_plans(s, SYSTEM, cycle_id, today=TODAY)))
        overview = wb["Overview"]
        header = [c.value for c in overview[3]]
        column = header.index("Kind") + 1
        by_pairing = {
            overview.cell(r, 1).value: overview.cell(r, column).value
            for r in range(4, 4 + len(kinds))
        }
        for kind in kinds:
            _, _, member, officer, label, *_ = CASES[kind]
            assert by_pairing[f"{member} & {officer}"] == label
            sheet = wb[overview.cell(list(by_pairing).index(f"{member} & {officer}") + 4, 2).value]
            assert sheet["A2"].value.startswith(f"{label}. Plan status: draft"), kind
    engine.dispose()


# --- the migration ------------------------------------------------------------------------


@pytest.mark.parametrize("empty_db_url", ["sqlite", "postgresql"], indirect=True)
def test_an_older_database_is_upgraded_without_losing_anything(empty_db_url: str) -> None:
    """A database at revision 0004 with a council in each nation, people, a pairing, a cycle,
    invitations and an account: upgraded, everything is still there (on SQLite the pairing,
    person and council tables are rebuilt, which with foreign keys on would have cascaded
    into the invitations), Scottish and Northern Irish councils are committee-system ones,
    the new kinds are accepted, and the old constraints still hold."""
    engine = make_engine(empty_db_url)
    command.upgrade(alembic_config(engine), "0004")
    now = datetime(2026, 1, 1, 9, 0)
    with engine.begin() as c:

        def insert(table: str, **values: object) -> int:
            names = ", ".join(values)
            marks = ", ".join(f":{k}" for k in values)
            return c.execute(
                text(f"INSERT INTO {table} ({names}) VALUES ({marks}) RETURNING id"), values
            ).scalar_one()

        councils = {
            nation: insert("council", name=f"{nation} Council", nation=nation,
                           retention_months=36, created_at=now)
            for nation in ("England", "Scotland", "Wales", "Northern Ireland")
        }  # fmt: skip
        council = councils["England"]
        people = [
            insert("person", council_id=council, full_name=name, email=f"{n}@x.example.org",
                   kind=kind, title="", portfolio="", organisation="", created_at=now)
            for n, (name, kind) in enumerate(
                [("Cllr L", "member"), ("C Exec", "officer"), ("Cllr R", "member")]
            )
        ]  # fmt: skip
        pairing = insert("pairing", council_id=council, kind="leader–chief executive",
                         member_id=people[0], officer_id=people[1], portfolio="", active=True,
                         created_at=now)  # fmt: skip
        fv = insert("frameworkversion", key="k", version="1", title="t", checksum="c",
                    definition="{}", loaded_at=now)  # fmt: skip
        cycle = insert("cycle", council_id=council, name="R1", opens_on=date(2026, 1, 1),
                       closes_on=date(2026, 2, 1), status="open", framework_version_id=fv,
                       anonymity_threshold=3, invitation_subject="", invitation_body="",
                       reminder_subject="", reminder_body="", created_at=now)  # fmt: skip
        c.execute(text("INSERT INTO cyclepairing (cycle_id, pairing_id) VALUES (:c, :p)"),
                  {"c": cycle, "p": pairing})  # fmt: skip
        for person, group in zip(people, ["principal", "principal", "members"], strict=True):
            insert("invitation", cycle_id=cycle, pairing_id=pairing, rater_id=person,
                   rater_group=group, status="not started", reminder_count=0,
                   created_at=now)  # fmt: skip
        insert("useraccount", username="lead", display_name="", email="", role="principal",
               person_id=people[0], active=True, failed_attempts=0, created_at=now)  # fmt: skip

    assert "upgraded" in upgrade(engine)

    with engine.begin() as c:
        count = {
            t: c.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar()
            for t in ("council", "person", "pairing", "cycle", "cyclepairing", "invitation")
        }
        assert count == {"council": 4, "person": 3, "pairing": 1, "cycle": 1,
                         "cyclepairing": 1, "invitation": 3}  # fmt: skip
        assert c.execute(text("SELECT person_id FROM useraccount")).scalar() == people[0]
        governance = dict(c.execute(text("SELECT nation, governance FROM council")).all())
        assert governance == {
            "England": "leader and cabinet",
            "Wales": "leader and cabinet",
            "Scotland": "committee system",
            "Northern Ireland": "committee system",
        }
        assert (
            c.execute(
                text("SELECT political_group, political_side, special_role FROM person")
            ).all()
            == [("", "", "")] * 3
        )
        c.execute(
            text("UPDATE pairing SET kind = 'mayor–chief executive' WHERE id = :p"),
            {"p": pairing},
        )
    for sql in (
        "UPDATE pairing SET kind = 'provost–chief executive'",
        "UPDATE pairing SET officer_id = member_id",  # ck_pairing_two_people survived
        "UPDATE person SET kind = 'alien'",  # ck_person_kind survived the rebuild
        "UPDATE person SET political_side = 'coalition'",
        "UPDATE person SET special_role = 'returning officer'",
        "UPDATE council SET retention_months = 0",
        "DELETE FROM person",  # still protected by RESTRICT from the pairing
    ):
        with pytest.raises(IntegrityError), engine.begin() as c:
            c.execute(text(sql))
    if engine.dialect.name == "sqlite":
        with engine.connect() as c:  # the pooled connections have foreign keys on again
            assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
