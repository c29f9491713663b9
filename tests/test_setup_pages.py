"""The set-up undo on the pages (issue 17), through AppTest from app.py: the People list is
fresh after an import; the pairing form chooses nobody for you; a second top pairing is
refused in words and accepted with its reason, shown in the list; removals ask once and a
refusal is shown in words, on the People, Pairings and Cycles pages."""

from __future__ import annotations

import pytest
import streamlit as st
from cycle_builder import build_cycle
from shown import alerts
from sqlmodel import Session, func, select
from streamlit.testing.v1 import AppTest

from core.db import session_scope
from core.roles import SYSTEM
from feedback.collection.responses import items_for_invitation, save_answers
from feedback.models import CyclePairing, Invitation, Pairing, Person, Rating
from feedback.setup.people import add_person, create_council

HEADER = "full_name,email,kind,title,portfolio,organisation\n"


@pytest.fixture
def _fresh_cache():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def app(sqlite_url, monkeypatch, _fresh_cache):
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)

    def open_page(page: str) -> AppTest:
        at = AppTest.from_file("../app.py", default_timeout=30).run()
        at.switch_page(page).run()
        assert not at.exception
        return at

    return open_page


def count(engine, model, *where) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_the_people_list_is_fresh_after_an_import(sqlite_engine, app) -> None:
    with session_scope(sqlite_engine) as s:
        council = create_council(s, SYSTEM, "Cyngor Bro Morgannwg", "Wales")
        add_person(s, SYSTEM, council.id, "Ann Lee", "ann@x.example", "member")
        add_person(s, SYSTEM, council.id, "Bob Ray", "bob@x.example", "officer")
    at = app("pages/people.py")
    assert len(at.dataframe[0].value) == 2 and at.caption[0].value == "2 people."
    rows = "".join(f"Person {i},p{i}@x.example,member,,,\n" for i in range(11))
    at.file_uploader(key="people_upload").upload("people.csv", (HEADER + rows).encode()).run()
    at.button(key="do_import").click().run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 13 and at.caption[0].value == "13 people."
    # Adding one person by the form: the list shows them at once too.
    form = at.tabs[1]
    form.text_input[0].input("Cllr Cara New")
    form.text_input[1].input("cara@x.example")
    form.button[0].click().run()
    assert len(at.dataframe[0].value) == 14 and at.caption[0].value == "14 people."


def test_the_pairing_form_chooses_nobody_and_lists_those_unpaired_first(sqlite_engine, app) -> None:
    engine = sqlite_engine
    built = build_cycle(engine, open_it=False)
    at = app("pages/pairings.py")
    councillor = next(s for s in at.selectbox if s.label == "Councillor" and s.value is None)
    officer = next(s for s in at.selectbox if s.label == "Officer" and s.value is None)
    # The council has its leader and chief executive: a new pairing is offered as a
    # cabinet pairing first.
    assert next(s for s in at.selectbox if s.key is None and s.label == "Kind").value == (
        "cabinet–director"
    )
    assert councillor.placeholder == "Choose the councillor…"
    assert officer.placeholder == "Choose the officer…"
    # Councillors in no pairing first, by name; those already paired last, and marked.
    assert councillor.options[:3] == ["Cllr Member 0", "Cllr Member 1", "Cllr Member 2"]
    assert councillor.options[-2:] == [
        "Cllr Gwilym Ŵyn — Cabinet Member · already in a pairing",
        "Cllr Siân Llewelyn — Leader of the Council · already in a pairing",
    ]
    button(at, "Add pairing").click().run()
    assert alerts(at, "error") == ["Choose the councillor and the officer of the pairing."]
    assert count(engine, Pairing) == 2

    # A second leader and chief executive: refused in words, then accepted with a reason.
    councillor = next(s for s in at.selectbox if s.label == "Councillor" and s.value is None)
    officer = next(s for s in at.selectbox if s.label == "Officer" and s.value is None)
    next(s for s in at.selectbox if s.label == "Kind").set_value("leader–chief executive")
    councillor.select_index(0)
    officer.select_index(0)
    button(at, "Add pairing").click().run()
    [refusal] = alerts(at, "error")
    assert refusal.startswith("Llanfair County Council already has a top pairing")
    assert count(engine, Pairing) == 2
    # The refused form keeps what was chosen: only the reason is added.
    assert next(s for s in at.selectbox if s.label == "Councillor").value == built.people["m0"]
    reason = next(t for t in at.text_input if t.label.startswith("If the council already has"))
    reason.input("Joint chief executive shared with Powys")
    button(at, "Add pairing").click().run()
    assert not alerts(at, "error") and "Pairing added." in alerts(at, "success")
    listed = at.dataframe[0].value
    assert "Joint chief executive shared with Powys" in list(listed["Second top pairing because"])
    assert count(engine, Pairing) == 3
    # The next pairing starts from an empty form again.
    assert next(s for s in at.selectbox if s.label == "Councillor").value is None


def test_a_pairing_with_answers_is_refused_removal_in_words_and_ended_instead(
    sqlite_engine, app
) -> None:
    engine = sqlite_engine
    built = build_cycle(engine, open_it=True)
    leader_ceo = built.pairing_ids[0]
    with session_scope(engine) as s:
        inv = s.exec(
            select(Invitation).where(
                Invitation.pairing_id == leader_ceo, Invitation.rater_id == built.people["m0"]
            )
        ).one()
        save_answers(s, inv.id, {i.id: 4 for i in items_for_invitation(s, inv)})
    answers = count(engine, Rating)
    at = app("pages/pairings.py")
    picker = next(s for s in at.selectbox if s.key == "pairing_to_change")
    assert picker.value == leader_ceo
    button(at, "Remove this pairing…").click().run()
    assert "Remove the pairing Cllr Siân Llewelyn & Rhodri ap Dafydd?" in alerts(at, "warning")[0]
    button(at, "Remove this pairing").click().run()
    [refusal] = alerts(at, "error")
    assert refusal.startswith(
        "Cllr Siân Llewelyn & Rhodri ap Dafydd cannot be removed: 'Adolygiad 2027' (open) "
        "holds 1 answer"
    )
    assert "End it instead" in refusal
    assert count(engine, Pairing) == 2 and count(engine, Rating) == answers
    button(at, "End this pairing").click().run()
    assert "Cllr Siân Llewelyn & Rhodri ap Dafydd has ended." in alerts(at, "success")
    assert list(at.dataframe[0].value["Ended"]) == ["Ended", ""]
    with Session(engine) as s:
        assert s.get(Pairing, leader_ceo).active is False

    # On the Cycles page, the pairing with answers stays in its cycle, said in words.
    at = app("pages/cycles.py")
    button(at, "Remove from this cycle…").click().run()
    button(at, "Remove from this cycle").click().run()
    [refusal] = alerts(at, "error")
    assert refusal.startswith(
        "Cllr Siân Llewelyn & Rhodri ap Dafydd cannot be removed from 'Adolygiad 2027': the "
        "cycle holds 1 answer for it"
    )
    assert count(engine, CyclePairing) == 2


def test_a_pairing_without_answers_leaves_its_cycle_then_is_removed_on_the_pages(
    sqlite_engine, app
) -> None:
    engine = sqlite_engine
    built = build_cycle(engine, open_it=False)
    cabinet = built.pairing_ids[1]
    at = app("pages/cycles.py")
    next(s for s in at.selectbox if s.key == "cycle_pairing").select(cabinet).run()
    button(at, "Remove from this cycle…").click().run()
    button(at, "Remove from this cycle").click().run()
    assert not alerts(at, "error")
    assert count(engine, CyclePairing) == 1
    assert count(engine, Invitation, Invitation.pairing_id == cabinet) == 0

    at = app("pages/pairings.py")
    next(s for s in at.selectbox if s.key == "pairing_to_change").select(cabinet).run()
    button(at, "Remove this pairing…").click().run()
    button(at, "Cancel").click().run()
    assert count(engine, Pairing) == 2  # cancelled: nothing removed
    button(at, "Remove this pairing…").click().run()
    button(at, "Remove this pairing").click().run()
    assert not alerts(at, "error")
    assert count(engine, Pairing) == 1


def test_people_removal_and_kind_are_refused_in_words_while_held(sqlite_engine, app) -> None:
    engine = sqlite_engine
    built = build_cycle(engine, open_it=False)
    with session_scope(engine) as s:
        spare = add_person(s, SYSTEM, built.council_id, "Aaron Spare", "a@x.example", "member")
        spare_id = spare.id
    at = app("pages/people.py")
    edit = next(s for s in at.selectbox if s.key == "edit_person")
    edit.select(built.people["leader"]).run()
    button(at, "Remove this person…").click().run()
    button(at, "Remove this person").click().run()
    [refusal] = alerts(at, "error")
    assert refusal.startswith("Cllr Siân Llewelyn cannot be removed: they hold the pairing")
    next(s for s in at.selectbox if s.key == f"kind_{built.people['leader']}").select(
        "officer"
    ).run()
    button(at, "Change kind").click().run()
    assert alerts(at, "error")[0].startswith("Cllr Siân Llewelyn stays a councillor")
    with Session(engine) as s:
        assert s.get(Person, built.people["leader"]).kind == "member"

    next(s for s in at.selectbox if s.key == "edit_person").select(spare_id).run()
    next(s for s in at.selectbox if s.key == f"kind_{spare_id}").select("officer").run()
    button(at, "Change kind").click().run()
    assert "Aaron Spare is now recorded as officer." in alerts(at, "success")
    next(s for s in at.selectbox if s.key == "edit_person").select(spare_id).run()
    button(at, "Remove this person…").click().run()
    button(at, "Remove this person").click().run()
    assert "Removed Aaron Spare." in alerts(at, "success")
    with Session(engine) as s:
        assert s.get(Person, spare_id) is None
