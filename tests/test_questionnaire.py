"""The rater's questionnaire through AppTest: save as you go, resume, submit once,
read-only afterwards, dead links, several invitations; and nomination on the cycle page."""

from __future__ import annotations

import pytest
import streamlit as st
from cycle_builder import build_cycle
from shown import alerts, headings, html_texts, shown
from sqlmodel import Session, select
from stepping import every_step, next_step, rating_keys, step_of, to_first_step, to_last_step
from streamlit.testing.v1 import AppTest

from core.db import session_scope
from core.roles import SYSTEM
from feedback.collection.invitations import issue_token, revoke_invitation
from feedback.models import Comment, DimensionPick, Invitation, OpenAnswer, Rating, Response
from feedback.setup.cycles import set_cycle_status
from feedback.setup.framework import load_framework_file

APP = "../app.py"


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def built(sqlite_engine, sqlite_url, monkeypatch):
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    return build_cycle(sqlite_engine)


def _token(engine, built, key: str, pairing: int = 0) -> tuple[int, str]:
    with session_scope(engine) as s:
        inv = s.exec(
            select(Invitation).where(
                Invitation.rater_id == built.people[key],
                Invitation.pairing_id == built.pairing_ids[pairing],
            )
        ).one()
        return inv.id, issue_token(s, SYSTEM, inv.id)


def _open(token: str, browser: AppTest | None = None) -> AppTest:
    """A tab on the link; with `browser`, a tab of that tab's browser, which holds the same
    resume key (AppTest sends no cookies, so it goes in the address, as the page keeps it)."""
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["t"] = token
    if browser is not None:
        at.query_params["k"] = browser.query_params["k"]
    return at.run()


def _ratings(engine, inv_id: int) -> dict[int, int | None]:
    with Session(engine) as s:
        response = s.exec(select(Response).where(Response.invitation_id == inv_id)).first()
        if response is None:
            return {}
        return dict(
            s.exec(
                select(Rating.item_id, Rating.value).where(Rating.response_id == response.id)
            ).all()
        )


def _asked(group: str) -> int:
    """How many rated items framework 2026.2 (new cycles' framework) asks of `group`."""
    return sum(1 for d in load_framework_file().dimensions for i in d.items if i.asks(group))


def test_answers_save_as_you_go_and_the_link_resumes(sqlite_engine, built) -> None:
    inv_id, token = _token(sqlite_engine, built, "m1")
    at = _open(token)
    assert not at.exception
    assert headings(at, 3)[0] == "Cllr Siân Llewelyn & Rhodri ap Dafydd"
    text = shown(at)
    assert "Leader of the Council" in text and "Chief Executive" in text
    assert "anonymous" in text and "at least 3 councillors" in text
    asked = _asked("members")  # framework 2026.2: only the items councillors can observe
    # One step per dimension: the first step shows the first dimension's questions only.
    assert step_of(at)[:2] == (1, 10)  # 9 dimensions and the step that submits
    radios = at.radio
    assert 0 < len(radios) < asked < 52
    assert "Can't say" in radios[0].options
    first, second = radios[0], radios[1]
    first_item = int(first.key.rsplit("_", 1)[1])
    second_item = int(second.key.rsplit("_", 1)[1])
    first.set_value(4).run()
    at.radio(key=second.key).set_value(0).run()  # can't say
    at.text_area[0].set_value("Clear about who decides what.").run()
    assert not at.exception
    assert _ratings(sqlite_engine, inv_id) == {first_item: 4, second_item: None}
    assert f"2 of {asked} questions answered" in at.get("progress")[0].text

    again = _open(token, at)  # closing the tab and coming back
    assert again.radio(key=first.key).value == 4
    assert again.radio(key=second.key).value == 0
    assert again.text_area[0].value == "Clear about who decides what."
    with Session(sqlite_engine) as s:
        assert s.exec(select(Comment.text)).all() == ["Clear about who decides what."]


def test_submit_once_with_confirmation_then_read_only(sqlite_engine, built) -> None:
    inv_id, token = _token(sqlite_engine, built, "p0")
    at = _open(token)
    at.radio[0].set_value(5).run()
    to_last_step(at, inv_id).button(key=f"q_submit_{inv_id}").click().run()
    missing = _asked("partners") - 1
    warning = alerts(at, "warning")[0]
    assert "Submit now?" in warning and f"{missing} questions are still" in warning
    other_tab = _open(token, at)  # a second tab, still showing the form
    at.button(key=f"q_yes_{inv_id}").click().run()
    assert not at.exception
    assert any("submitted" in s for s in alerts(at, "success"))
    # Read-only means not shown at all: the answers never appear again (issue 12).
    assert not at.radio and not at.text_area
    assert not [b for b in at.button if b.key == f"q_submit_{inv_id}"]
    # The other tab tries to change an answer, then to submit: told, nothing changes.
    other_tab.radio[0].set_value(1).run()
    assert "already submitted" in alerts(other_tab, "error")[0]
    assert list(_ratings(sqlite_engine, inv_id).values()) == [5]
    with Session(sqlite_engine) as s:
        responses = s.exec(select(Response).where(Response.invitation_id == inv_id)).all()
        assert len(responses) == 1 and responses[0].status == "submitted"


def test_double_submit_is_told_it_is_already_done(sqlite_engine, built) -> None:
    inv_id, token = _token(sqlite_engine, built, "o2")
    first = _open(token)
    second = _open(token, first)
    first.radio[0].set_value(3).run()
    for at in (first, second):
        to_last_step(at, inv_id).button(key=f"q_submit_{inv_id}").click().run()
    first.button(key=f"q_yes_{inv_id}").click().run()
    second.button(key=f"q_yes_{inv_id}").click().run()
    assert not second.exception
    assert any("already submitted" in s for s in alerts(second, "success"))
    with Session(sqlite_engine) as s:
        assert len(s.exec(select(Response)).all()) == 1


@pytest.mark.parametrize("how", ["closed", "revoked", "mistyped", "missing"])
def test_dead_links_get_a_plain_page_with_no_data(sqlite_engine, built, how) -> None:
    inv_id, token = _token(sqlite_engine, built, "m2")
    with session_scope(sqlite_engine) as s:
        if how == "closed":
            set_cycle_status(s, SYSTEM, built.cycle_id, "closed")
        elif how == "revoked":
            revoke_invitation(s, SYSTEM, inv_id)
    if how == "mistyped":
        token = token[:-1]
    if how == "missing":
        token = ""
    at = _open(token)
    assert not at.exception
    assert len(at.info) == 1
    shown = " ".join(e.value for e in (*at.markdown, *at.info, *at.subheader, *at.caption))
    for secret in ("Siân", "Rhodri", "Llanfair", "Adolygiad"):
        assert secret not in shown
    assert not at.radio and not at.text_area and not at.button


def test_a_rater_with_two_invitations_sees_both_and_a_principal_uses_the_same_form(
    sqlite_engine, built
) -> None:
    _inv, token = _token(sqlite_engine, built, "o0", 1)
    at = _open(token)
    assert "2 pairings" in at.markdown[0].value
    choice = at.selectbox(key="q_choice")
    assert len(choice.options) == 2
    assert headings(at, 3)[0] == "Cllr Gwilym Ŵyn & Ffion Rhys-Jones"
    choice.select_index(1).run()
    assert headings(at, 3)[0] == "Cllr Siân Llewelyn & Rhodri ap Dafydd"

    _inv, token = _token(sqlite_engine, built, "ceo")
    principal = _open(token)
    text = shown(principal)
    assert "your own review" in text and "not anonymous" in text
    # Every item, with the two national comparison questions, one dimension a step.
    inv_ceo = int(principal.radio[0].key.split("_")[1])
    asked = sum(len(rating_keys(step, inv_ceo)) for step in every_step(principal, inv_ceo))
    assert asked == _asked("principal") + 2
    assert "About you" in text


def test_nomination_on_the_cycle_page_warns_below_the_threshold(sqlite_engine, built) -> None:
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("pages/cycles.py").run()
    assert not at.exception

    # Only Officer 0 rates the second pairing; the first has three of each group. One table
    # says so, a row per pairing and group under the threshold.
    def under(at: AppTest) -> list[tuple[str, str, str]]:
        table = next(d.value for d in at.dataframe if "note" in d.value.columns)
        rows = table[table["group"] != ""]
        return list(zip(rows["pairing"], rows["group"], rows["nominated"], strict=True))

    rows = under(at)
    [officers] = [r for r in rows if r[1] == "Other officers"]
    assert "Place" in officers[0] and officers[2] == "1 of 3"
    # a group with nobody nominated is named too: it would be missing from the report
    assert any(r[1] == "Other councillors" and r[2] == "0 of 3" for r in rows)
    second = built.pairing_ids[1]
    at.selectbox(key="cycle_pairing").select(second).run()
    picker = at.multiselect(key=f"nominate_{second}_members")
    picker.set_value([built.people["m0"]])
    form = f"nominate_{second}_members_form"
    next(b for b in at.button if b.form_id == form and b.label == "Nominate").click().run()
    assert not at.exception
    assert any(r[1] == "Other councillors" and r[2] == "1 of 3" for r in under(at))
    # Nominating the same person again is refused and stores nothing twice.
    from core.errors import Invalid
    from feedback.setup.cycles import nominate_raters

    with session_scope(sqlite_engine) as s, pytest.raises(Invalid):
        nominate_raters(s, SYSTEM, built.cycle_id, second, [built.people["m1"]] * 2, "members")
    with Session(sqlite_engine) as s:
        rows = s.exec(
            select(Invitation).where(
                Invitation.pairing_id == second, Invitation.rater_group == "members"
            )
        ).all()
        assert [r.rater_id for r in rows] == [built.people["m0"]]


def test_a_stale_second_tab_never_writes_over_newer_answers(sqlite_engine, built) -> None:
    """Two tabs on one link: each saves only what was changed in it. Tab A, still showing
    its old answer to question 1, answers question 2 — question 1 keeps tab B's newer
    answer. The same for comments."""
    inv_id, token = _token(sqlite_engine, built, "o0")
    tab_a = _open(token)
    keys = [r.key for r in tab_a.radio if r.key and r.key.startswith(f"q_{inv_id}_")]
    first, second = keys[0], keys[1]
    first_item, second_item = int(first.rsplit("_", 1)[1]), int(second.rsplit("_", 1)[1])
    comment = tab_a.text_area[0].key

    tab_a.radio(key=first).set_value(2).run()
    tab_a.text_area(key=comment).input("From tab A").run()
    tab_b = _open(token, tab_a)
    tab_b.radio(key=first).set_value(5).run()
    tab_b.text_area(key=comment).input("From tab B, later").run()
    assert _ratings(sqlite_engine, inv_id)[first_item] == 5

    tab_a.radio(key=second).set_value(4).run()  # tab A still shows 2 for question 1
    assert not tab_a.exception
    stored = _ratings(sqlite_engine, inv_id)
    assert stored[first_item] == 5 and stored[second_item] == 4
    with Session(sqlite_engine) as s:
        texts = s.exec(select(Comment.text)).all()
    assert texts == ["From tab B, later"]


def test_answers_clicked_in_quick_succession_are_all_saved(sqlite_engine, built) -> None:
    """Several answers changed before the page runs again (a fast rater, an interrupted
    run): every one is saved on the next run, not only the last widget's."""
    inv_id, token = _token(sqlite_engine, built, "o1")
    at = _open(token)
    radios = [r for r in at.radio if r.key and r.key.startswith(f"q_{inv_id}_")][:6]
    for n, radio in enumerate(radios):
        radio.set_value(1 + n % 5)  # no run in between
    at.run()
    stored = _ratings(sqlite_engine, inv_id)
    assert {int(r.key.rsplit("_", 1)[1]): 1 + n % 5 for n, r in enumerate(radios)}.items() <= (
        stored.items()
    )


def test_the_cycle_page_prepares_a_mail_merge_of_working_links(sqlite_engine, built) -> None:
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("pages/cycles.py").run()
    at.button(key="mail_merge_prepare").click().run()
    assert not at.exception and not at.error
    made = [s.value for s in at.success if "links made" in s.value]
    assert made and int(made[0].split()[0]) > 10
    # the mail-merge file's two (the Tracking tab has its own, of the raters' stages)
    downloads = [b for b in at.get("download_button") if "raters" not in b.label]
    assert len(downloads) == 2
    # the links in the file open the questionnaire: the first one resolves
    from feedback.collection.invitations import resolve_token

    rows, _skipped, _files = at.session_state[f"mail_merge_{built.cycle_id}"]
    link = rows[0][4]  # name, email, pairing, group, link, subject, message
    with Session(sqlite_engine) as s:
        assert resolve_token(s, link.split("t=")[1]).ok


def _questions(at: AppTest) -> list[str]:
    """The questions as the page shows them, on every step: each as text above its
    (unnamed) radio."""
    inv_id = int(at.radio[0].key.split("_")[1])
    return [
        t.rsplit(" About ", 1)[0]
        for step in every_step(at, inv_id)
        for t in html_texts(step)
        if " About " in t
    ]


def test_each_group_is_asked_only_what_it_can_see_and_the_pair_read_you(
    sqlite_engine, built
) -> None:
    """Framework 2026.2 (issue 14 point 5): per-item audiences, self-ratings in the second
    person, the Solace questions worded for the person answering."""
    _inv, token = _token(sqlite_engine, built, "p0")
    partner = _open(token)
    labels = _questions(partner)
    assert len(labels) == _asked("partners") == 11
    assert not any("briefing papers" in t or "replies to messages" in t for t in labels)
    assert "Cllr Siân Llewelyn does not criticise officers in public meetings" in " ".join(labels)

    _inv, token = _token(sqlite_engine, built, "ceo")
    officer = _open(token)
    labels = _questions(officer)
    assert "You turn the direction Cllr Siân Llewelyn sets into practical plans for delivery." in (
        labels
    )
    assert "Cllr Siân Llewelyn asks for professional advice before making key decisions." in labels
    assert "You and Cllr Siân Llewelyn keep to an agreed division of who decides what." in labels
    assert "How often does Cllr Siân Llewelyn ask for your advice?" in labels
    assert "How would you describe your working relationship with Cllr Siân Llewelyn?" in labels
    assert not any(t.startswith("Rhodri ap Dafydd ") for t in labels)  # never "you" by name

    _inv, token = _token(sqlite_engine, built, "leader")
    member = _open(token)
    labels = _questions(member)
    assert "You ask for professional advice before making key decisions." in labels
    assert (
        "Rhodri ap Dafydd sets out genuine options, including ones they would not recommend."
        in (labels)
    )
    assert "How often do you ask Rhodri ap Dafydd for advice?" in labels
    assert "You and Rhodri ap Dafydd keep to an agreed division of who decides what." in labels
    assert "What should you keep doing?" in html_texts(member)  # on the last step


def _extras(engine, inv_id: int) -> tuple[dict[str, str], list[int]]:
    with Session(engine) as s:
        response = s.exec(select(Response).where(Response.invitation_id == inv_id)).one()
        answers = s.exec(select(OpenAnswer).where(OpenAnswer.response_id == response.id)).all()
        picks = s.exec(select(DimensionPick).where(DimensionPick.response_id == response.id))
        return {a.question: a.text for a in answers}, sorted(p.dimension_id for p in picks)


def test_open_answers_and_what_matters_most_save_resume_and_are_final(sqlite_engine, built) -> None:
    from core.errors import Conflict, Invalid
    from feedback.collection.responses import save_answers

    inv_id, token = _token(sqlite_engine, built, "o1")
    at = to_last_step(_open(token), inv_id)  # after the dimensions
    picker = at.multiselect(key=f"m_{inv_id}")
    assert picker.max_selections == 3 and len(picker.options) == 9
    picker.set_value([picker.options[1], picker.options[6]]).run()
    chosen = at.multiselect(key=f"m_{inv_id}").value  # dimension ids
    at.text_area(key=f"o_{inv_id}_open.officer.keep").set_value("Early, candid advice.").run()
    assert not at.exception
    answers, picks = _extras(sqlite_engine, inv_id)
    assert answers == {"open.officer.keep": "Early, candid advice."}
    assert len(picks) == 2

    # The same browser comes back: the draft opens as it was, on the first step (no rating yet)
    again = _open(token, at)
    assert step_of(again)[0] == 1
    to_last_step(again, inv_id)
    assert sorted(again.multiselect(key=f"m_{inv_id}").value) == sorted(chosen)
    assert again.text_area(key=f"o_{inv_id}_open.officer.keep").value == "Early, candid advice."
    again.text_area(key=f"o_{inv_id}_open.officer.keep").set_value("").run()
    assert _extras(sqlite_engine, inv_id)[0] == {}  # emptied: deleted

    key = at.query_params["k"]
    with session_scope(sqlite_engine) as s:
        dims = [d for d, _name in _view_dims(s, inv_id, key)]
        with pytest.raises(Invalid) as err:
            save_answers(s, inv_id, resume_key=key, picks=dims[:4])
        assert "at most 3" in " ".join(err.value.problems)
        with pytest.raises(Invalid):
            save_answers(s, inv_id, resume_key=key, open_answers={"open.mayor.keep": "x"})
    assert len(_extras(sqlite_engine, inv_id)[1]) == 2  # nothing half-written

    to_first_step(at, inv_id).radio[0].set_value(4).run()
    to_last_step(at, inv_id).button(key=f"q_submit_{inv_id}").click().run()
    at.button(key=f"q_yes_{inv_id}").click().run()
    assert any("submitted" in s.value for s in at.success)
    with session_scope(sqlite_engine) as s, pytest.raises(Conflict):
        save_answers(s, inv_id, resume_key=key, picks=dims[:1])
    # The database itself keeps them final (the triggers of migration 0006).
    with Session(sqlite_engine) as s:
        response = s.exec(select(Response).where(Response.invitation_id == inv_id)).one()
        s.add(OpenAnswer(response_id=response.id, question="open.partnership", text="late"))
        with pytest.raises(Exception, match="submitted"):
            s.commit()


def _view_dims(session, inv_id: int, key: str) -> list[tuple[int, str]]:
    from feedback.collection.responses import questionnaire_view

    return questionnaire_view(session, inv_id, key).matters_most.options


def test_one_step_per_dimension_with_next_back_and_progress(sqlite_engine, built) -> None:
    """Each step shows one dimension (its questions and comment box); Next and Back move
    between them; the progress counts every answer, wherever it was given."""
    from feedback.collection.responses import questionnaire_view

    inv_id, token = _token(sqlite_engine, built, "m1")
    at = _open(token)
    key = at.query_params["k"]
    with Session(sqlite_engine) as s:
        sections = questionnaire_view(s, inv_id, key).sections
    assert step_of(at) == (1, len(sections) + 1, sections[0].title)
    assert not [b for b in at.button if b.key == f"q_back_{inv_id}"]  # nothing before
    assert rating_keys(at, inv_id) == [f"q_{inv_id}_{q.item_id}" for q in sections[0].questions]
    assert len(at.text_area) == 1  # the dimension's comment box
    at.radio[0].set_value(4).run()
    next_step(at, inv_id)
    assert step_of(at)[0::2] == (2, sections[1].title)
    assert rating_keys(at, inv_id) == [f"q_{inv_id}_{q.item_id}" for q in sections[1].questions]
    at.radio[1].set_value(2).run()
    assert f"2 of {_asked('members')} questions answered" in at.get("progress")[0].text
    at.button(key=f"q_back_{inv_id}").click().run()
    assert step_of(at)[0] == 1 and at.radio[0].value == 4  # the answer given is still there
    to_last_step(at, inv_id)
    assert step_of(at)[2] == "Finish and submit" and not at.radio
    assert [b for b in at.button if b.key == f"q_submit_{inv_id}"]
    assert len(_ratings(sqlite_engine, inv_id)) == 2


def test_coming_back_lands_on_the_first_unanswered_question(sqlite_engine, built) -> None:
    """Resuming opens the step of the first question without an answer — past the
    dimensions already answered in full, even with later answers given — and, once every
    question has an answer, the step that submits."""
    from feedback.collection.responses import questionnaire_view, record_answers

    inv_id, token = _token(sqlite_engine, built, "o1")
    at = _open(token)
    key = at.query_params["k"]
    with Session(sqlite_engine) as s:
        sections = questionnaire_view(s, inv_id, key).sections
    first_two = {q.item_id: 3 for sec in sections[:2] for q in sec.questions}
    later = {sections[4].questions[0].item_id: 5}
    record_answers(sqlite_engine, inv_id, first_two | later, resume_key=key)
    again = _open(token, at)
    assert step_of(again)[0::2] == (3, sections[2].title)
    assert rating_keys(again, inv_id)[0] == f"q_{inv_id}_{sections[2].questions[0].item_id}"

    every = {q.item_id: 4 for sec in sections for q in sec.questions}
    record_answers(sqlite_engine, inv_id, every, resume_key=key)
    done = _open(token, at)
    assert step_of(done) == (len(sections) + 1, len(sections) + 1, "Finish and submit")
    total = len(every)
    assert f"{total} of {total} questions answered" in done.get("progress")[0].text
