"""Rater balance at nomination: warnings (never refusals) when the other councillors are all
from one side, or when the statutory officers or a scrutiny chair are missing from the top
pairing's raters; a person's group, side and special role checked against their kind."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from shown import alerts
from sqlalchemy import Engine
from sqlmodel import Session, select

from core.errors import Invalid
from core.roles import SYSTEM
from feedback.collection.invitations import revoke_invitation
from feedback.setup.cycles import (
    add_pairing_to_cycle,
    balance_warnings,
    create_cycle,
    nominate_raters,
    nomination_warnings,
)
from feedback.setup.people import add_person, create_council, create_pairing
from feedback.setup.people_import import import_people, update_person

TANDEM = str(Path(sys.executable).with_name("tandem"))


@pytest.fixture
def s(sqlite_engine: Engine):
    with Session(sqlite_engine, expire_on_commit=False) as session:
        yield session


def council_with(s: Session, kind: str = "leader–chief executive", governance: str | None = None):
    """A council with its top pairing (or the kind given) in a draft cycle, and people to
    nominate: councillors of both sides, one with no side, the statutory officers."""
    council = create_council(s, SYSTEM, "Ashby Vale District Council", governance=governance)

    def person(name: str, kind_: str, **kw: str) -> int:
        email = name.lower().replace(" ", ".") + "@ashby.example.gov.uk"
        return add_person(s, SYSTEM, council.id, name, email, kind_, **kw).id

    people = {
        "leader": person("Cllr Lead", "member", political_group="Labour", political_side="admin"),
        "ceo": person("Chief Exec", "officer", special_role="head of paid service"),
        "lab1": person("Cllr Lab One", "member", political_group="Labour",
                       political_side="administration"),
        "lab2": person("Cllr Lab Two", "member", political_group="Labour",
                       political_side="administration"),
        "ind": person("Cllr Ind", "member", political_group="Independent",
                      political_side="opposition"),
        "unknown": person("Cllr Unrecorded", "member"),
        "scrutiny": person("Cllr Scrutiny", "member", political_group="Green",
                           political_side="opposition", special_role="scrutiny chair"),
        "mo": person("Molly Monitor", "officer", special_role="monitoring officer"),
        "s151": person("Sam Section", "officer", special_role="s151"),
        "officer": person("Olive Officer", "officer"),
    }  # fmt: skip
    pairing = create_pairing(s, SYSTEM, council.id, kind, people["leader"], people["ceo"])
    cycle = create_cycle(s, SYSTEM, council.id, "Round 1", date(2027, 1, 4), date(2027, 2, 1))
    add_pairing_to_cycle(s, SYSTEM, cycle.id, pairing.id)
    return council, cycle, pairing, people


def nominate(s: Session, cycle, pairing, people, keys: list[str], group: str) -> list:
    return nominate_raters(s, SYSTEM, cycle.id, pairing.id, [people[k] for k in keys], group)


def about(warnings: list[str], words: str) -> list[str]:
    return [w for w in warnings if words in w]


def test_councillors_all_from_the_administration_are_warned_about(s: Session) -> None:
    _, cycle, pairing, people = council_with(s)
    nominate(s, cycle, pairing, people, ["lab1", "lab2"], "members")
    [warning] = about(balance_warnings(s, cycle.id, pairing.id), "one side")
    assert warning == (
        "Cllr Lead & Chief Exec: the 2 other councillors nominated are all from the "
        "administration. Nominate councillors from the opposition too, so the report does "
        "not rest on one side's view."
    )
    # The same sentence is among the cycle's nomination warnings the page shows.
    assert warning in nomination_warnings(s, cycle.id)

    # One opposition councillor balances it: no warning.
    nominate(s, cycle, pairing, people, ["ind"], "members")
    assert about(balance_warnings(s, cycle.id, pairing.id), "one side") == []


def test_all_from_the_opposition_counts_unrecorded_sides_apart(s: Session) -> None:
    _, cycle, pairing, people = council_with(s)
    [ind, _] = nominate(s, cycle, pairing, people, ["ind", "unknown"], "members")
    [warning] = about(balance_warnings(s, cycle.id, pairing.id), "one side")
    assert "the 1 other councillor nominated whose side is recorded (1 more has none " in warning
    assert "is from the opposition. Nominate councillors from the administration too" in warning

    # A withdrawn nomination no longer counts: only the unrecorded councillor is left, so
    # nothing can be said about sides.
    revoke_invitation(s, SYSTEM, ind.id)
    assert about(balance_warnings(s, cycle.id, pairing.id), "one side") == []


def test_statutory_officers_and_a_scrutiny_chair_missing_from_the_top_pairing(
    s: Session,
) -> None:
    _, cycle, pairing, people = council_with(s)
    warnings = balance_warnings(s, cycle.id, pairing.id)
    assert warnings == [
        "Cllr Lead & Chief Exec: the monitoring officer (Molly Monitor) is not among the "
        "raters. The monitoring officer sees how the pair handle propriety, standards and "
        "formal advice; nominate them.",
        "Cllr Lead & Chief Exec: the chief finance officer (Sam Section) is not among the "
        "raters. The chief finance officer sees whether financial advice is sought and "
        "heeded; nominate them.",
        "Cllr Lead & Chief Exec: the scrutiny chair (Cllr Scrutiny) is not among the raters. "
        "The scrutiny chair sees how the pair take challenge from councillors outside the "
        "executive; nominate them.",
    ]
    nominate(s, cycle, pairing, people, ["mo", "s151"], "officers")
    [left] = balance_warnings(s, cycle.id, pairing.id)
    assert "scrutiny chair (Cllr Scrutiny)" in left
    nominate(s, cycle, pairing, people, ["scrutiny", "lab1"], "members")
    assert balance_warnings(s, cycle.id, pairing.id) == []  # both sides, every role


def test_a_role_nobody_holds_is_named_with_what_to_do(s: Session) -> None:
    council, cycle, pairing, people = council_with(s)
    update_person(s, SYSTEM, people["s151"], "Sam Section", "sam.section@ashby.example.gov.uk",
                  special_role="")  # fmt: skip
    [warning] = about(balance_warnings(s, cycle.id, pairing.id), "chief finance officer")
    assert warning == (
        "Cllr Lead & Chief Exec: no chief finance officer is among the raters, and nobody at "
        "the council is recorded as the chief finance officer. The chief finance officer sees "
        "whether financial advice is sought and heeded: record the role on the People page "
        "and nominate them."
    )


@pytest.mark.parametrize("kind", ["mayor–chief executive", "convener–chief executive"])
def test_every_top_pairing_kind_is_checked_for_statutory_raters(s: Session, kind: str) -> None:
    governance = "mayor and cabinet" if kind.startswith("mayor") else "committee system"
    _, cycle, pairing, _ = council_with(s, kind, governance)
    assert len(about(balance_warnings(s, cycle.id, pairing.id), "among the raters")) == 3


def test_a_second_tier_pairing_is_not_asked_for_the_statutory_officers(s: Session) -> None:
    _, cycle, pairing, people = council_with(s, "cabinet–director")
    assert balance_warnings(s, cycle.id, pairing.id) == []
    nominate(s, cycle, pairing, people, ["lab1"], "members")  # one side is still warned
    assert len(about(balance_warnings(s, cycle.id, pairing.id), "administration")) == 1


def test_warnings_never_refuse_a_nomination(s: Session) -> None:
    _, cycle, pairing, people = council_with(s)
    added = nominate(s, cycle, pairing, people, ["lab1", "lab2"], "members")
    assert len(added) == 2  # nominated, and warned about
    assert about(balance_warnings(s, cycle.id, pairing.id), "administration")


def test_a_persons_group_side_and_role_must_fit_their_kind(s: Session) -> None:
    council, *_ = council_with(s)
    cases = [
        ({"kind": "officer", "political_group": "Labour"}, "Only councillors have a political"),
        ({"kind": "external", "political_side": "opposition"}, "Only councillors"),
        ({"kind": "member", "political_side": "coalition"}, "should be administration or"),
        ({"kind": "member", "special_role": "monitoring officer"}, "monitoring officer is an off"),
        ({"kind": "officer", "special_role": "scrutiny chair"}, "is a councillor"),
        ({"kind": "officer", "special_role": "returning officer"}, "should be one of"),
    ]
    for n, (fields, words) in enumerate(cases):
        with pytest.raises(Invalid, match=words):
            add_person(s, SYSTEM, council.id, f"P {n}", f"p{n}@x.example.org", **fields)


def test_the_people_import_reads_the_new_columns_and_checks_them(s: Session) -> None:
    council = create_council(s, SYSTEM, "Import Test Council")
    good = (
        b"full_name,email,kind,political_group,political_side,special_role\n"
        b"Cllr A,a@x.example.org,member,Plaid Cymru,opposition,scrutiny chair\n"
        b"Ms B,b@x.example.org,officer,,,s151 officer\n"
    )
    result = import_people(s, SYSTEM, council.id, "people.csv", good)
    a, b = result.added
    assert (a.political_group, a.political_side, a.special_role) == (
        "Plaid Cymru",
        "opposition",
        "scrutiny chair",
    )
    assert (b.political_group, b.political_side, b.special_role) == (
        "",
        "",
        "chief finance officer",
    )
    bad = (
        b"full_name,email,kind,political_side\n"
        b"Ms C,c@x.example.org,officer,administration\n"
    )  # fmt: skip
    with pytest.raises(Invalid) as refused:
        import_people(s, SYSTEM, council.id, "people.csv", bad)
    assert refused.value.problems == [
        "Row 2: Only councillors have a political group or side: officers are politically "
        "neutral and external partners are outside the council."
    ]


@pytest.mark.slow
def test_tandem_nominate_nominates_and_prints_the_warnings(sqlite_url: str) -> None:
    from core.db import make_engine, session_scope

    engine = make_engine(sqlite_url)
    with session_scope(engine) as session:
        council, cycle, pairing, _ = council_with(session)
        cycle_id, pairing_id = cycle.id, pairing.id
    engine.dispose()
    env = {**os.environ, "TANDEM_DATABASE_URL": sqlite_url}
    done = subprocess.run(
        [TANDEM, "nominate", str(cycle_id), "--pairing", str(pairing_id), "--group", "members",
         "cllr.lab.one@ashby.example.gov.uk", "cllr.lab.two@ashby.example.gov.uk"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Nominated 2 other councillors for Cllr Lead & Chief Exec." in done.stdout
    assert "are all from the administration" in done.stdout
    assert "the monitoring officer (Molly Monitor) is not among the raters" in done.stdout

    unknown = subprocess.run(
        [TANDEM, "nominate", str(cycle_id), "--pairing", str(pairing_id), "--group", "members",
         "nobody@ashby.example.gov.uk"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
    assert "nobody@ashby.example.gov.uk is not recorded at Ashby Vale" in unknown.stderr


# --- the pages ------------------------------------------------------------------------------


@pytest.fixture
def app(sqlite_url: str, monkeypatch: pytest.MonkeyPatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)

    def open_page(page: str) -> AppTest:
        at = AppTest.from_file("../app.py", default_timeout=60).run()
        at.switch_page(page).run()
        assert not at.exception, at.exception
        return at

    yield open_page
    st.cache_resource.clear()


def in_form(widgets, form: str, label: str):
    return next(w for w in widgets if w.form_id == form and w.label == label)


def test_the_people_page_records_a_councillors_side_and_an_officers_role(
    sqlite_engine: Engine, app
) -> None:
    from core.db import session_scope
    from feedback.models import Person

    with session_scope(sqlite_engine) as session:
        create_council(session, SYSTEM, "Ashby Vale District Council")
    at = app("pages/people.py")
    in_form(at.text_input, "add_person", "Full name").input("Cllr Nia Jones")
    in_form(at.text_input, "add_person", "Email").input("nia@ashby.example.gov.uk")
    in_form(at.text_input, "add_person", "Political group (councillors)").input("Labour")
    in_form(at.selectbox, "add_person", "Administration or opposition (councillors)").set_value(
        "administration"
    )
    next(b for b in at.button if b.label == "Add person").click().run()
    assert not at.exception and not alerts(at, "error"), alerts(at, "error")
    # An officer with a political side is refused in words, and nothing is saved.
    in_form(at.text_input, "add_person", "Full name").input("Olu Officer")
    in_form(at.text_input, "add_person", "Email").input("olu@ashby.example.gov.uk")
    in_form(at.selectbox, "add_person", "Kind").set_value("officer")
    in_form(at.selectbox, "add_person", "Administration or opposition (councillors)").set_value(
        "opposition"
    )
    next(b for b in at.button if b.label == "Add person").click().run()
    assert "Only councillors have a political group or side" in alerts(at, "error")[0]
    # (the form starts afresh after each submission)
    in_form(at.text_input, "add_person", "Full name").input("Olu Officer")
    in_form(at.text_input, "add_person", "Email").input("olu@ashby.example.gov.uk")
    in_form(at.selectbox, "add_person", "Kind").set_value("officer")
    in_form(at.selectbox, "add_person", "Statutory or special role").set_value("monitoring officer")
    next(b for b in at.button if b.label == "Add person").click().run()
    assert not alerts(at, "error"), alerts(at, "error")
    with Session(sqlite_engine) as session:
        saved = {
            p.full_name: (p.political_group, p.political_side, p.special_role)
            for p in session.exec(select(Person))
        }
    assert saved == {
        "Cllr Nia Jones": ("Labour", "administration", ""),
        "Olu Officer": ("", "", "monitoring officer"),
    }
    table = at.run().dataframe[0].value
    assert list(table["Side"]) == ["Administration", ""]
    assert list(table["Special role"]) == ["", "Monitoring officer"]


def test_the_cycles_page_shows_the_balance_warnings(sqlite_engine: Engine, app) -> None:
    from core.db import session_scope

    with session_scope(sqlite_engine) as session:
        _, cycle, pairing, people = council_with(session)
        nominate(session, cycle, pairing, people, ["lab1", "lab2"], "members")
    at = app("pages/cycles.py")
    # One table, not a yellow box per warning.
    assert not [w for w in alerts(at, "warning") if "nominated" in w or "among" in w]
    table = next(d.value for d in at.dataframe if "note" in d.value.columns)
    shown = list(table["note"])
    assert any("are all from the administration" in w for w in shown), shown
    assert any("The monitoring officer (Molly Monitor) is not among" in w for w in shown)


def test_the_pairings_page_offers_the_kinds_of_the_councils_governance(
    sqlite_engine: Engine, app
) -> None:
    from core.db import session_scope

    with session_scope(sqlite_engine) as session:
        council_with(session, "mayor–chief executive", "mayor and cabinet")
    at = app("pages/pairings.py")
    kind = in_form(at.selectbox, "new_pairing", "Kind")
    assert kind.options == ["Elected mayor and chief executive", "Cabinet member and director"]
    assert list(at.dataframe[0].value["Kind"]) == ["Elected mayor and chief executive"]


@pytest.mark.slow
def test_tandem_person_and_governance_record_what_the_pages_record(sqlite_url: str) -> None:
    env = {**os.environ, "TANDEM_DATABASE_URL": sqlite_url}

    def tandem(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([TANDEM, *args], capture_output=True, text=True, timeout=120,
                              env=env)  # fmt: skip

    from core.db import make_engine, session_scope

    engine = make_engine(sqlite_url)
    with session_scope(engine) as session:
        create_council(session, SYSTEM, "Ashby Vale District Council")
    engine.dispose()
    council = "Ashby Vale District Council"
    added = tandem("person", "add", council, "Cllr Ed Green", "ed@ashby.example.gov.uk",
                   "member", "--group", "Green", "--side", "opposition")  # fmt: skip
    assert added.returncode == 0, added.stderr
    done = tandem("person", "set", council, "ed@ashby.example.gov.uk", "--role", "scrutiny chair")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "Cllr Ed Green: group Green, side opposition, special role chair of scrutiny "
        "(overview and scrutiny)."
    )
    refused = tandem("person", "set", council, "ed@ashby.example.gov.uk", "--role", "s151")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "The chief finance officer (section 151) is an officer." in refused.stderr
    shown = tandem("governance", council, "mayor and cabinet")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [
        "Ashby Vale District Council: directly elected mayor and cabinet.",
        "Its pairings: Elected mayor and chief executive; Cabinet member and director",
    ]
