"""Cymraeg (issue 18, point 5): the Welsh catalogue and the framework's Welsh are complete,
a Welsh or bilingual cycle's questionnaire speaks Welsh and switches, its emails arrive in
Welsh through a real SMTP server, and a report names a comment's language only when that
cannot point at anyone."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from analysis_builder import add_rater, small_cycle
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from cycle_builder import build_cycle
from mail_server import body, running_inbox
from shown import headings, shown
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from core.db import session_scope
from core.errors import Invalid
from core.i18n import UNCHECKED, catalogue_path, translator
from core.roles import SYSTEM
from feedback.collection.invitations import issue_token, message_preview, send_invitations
from feedback.models import Invitation, Response
from feedback.results.engine import comment_languages
from feedback.results.publication import read_pairing_report
from feedback.setup.cycles import language_notices, set_cycle_language
from feedback.setup.framework import (
    DEFAULT_FRAMEWORK_FILE,
    PLACEHOLDER,
    load_framework_file,
    missing_welsh,
    welsh_notice,
)

ROOT = Path(__file__).resolve().parents[1]
APP = "../app.py"
LINK = re.compile(r"https?://\S+/\?t=([A-Za-z0-9_\-]+)")


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


# --- the catalogue ---------------------------------------------------------------------------


def _catalogue():
    with catalogue_path("cy").open("rb") as handle:
        return read_po(handle, locale="cy", domain="tandem")


def test_every_message_the_code_marks_is_translated_into_welsh() -> None:
    """What `pybabel extract` finds in the code (babel.cfg) is exactly what the Welsh
    catalogue translates: no rater-facing string left in English, none left over."""
    method_map = [
        ("pages/questionnaire.py", "python"),
        ("core/**.py", "python"),
        ("feedback/**.py", "python"),
        ("ui/**.py", "python"),
    ]
    in_code = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(ROOT, method_map):
        in_code.add(message if isinstance(message, str) else message[0])
    catalogue = _catalogue()
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalogue if m.id}
    assert in_code, "nothing extracted: the extraction itself is broken"
    assert in_code - set(translated) == set(), "marked in the code, missing from the .po"
    assert set(translated) - in_code == set(), "in the .po, no longer in the code"
    for msgid, entry in translated.items():
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert all(strings), f"no Welsh for {msgid!r}"
        assert "fuzzy" not in entry.flags, f"fuzzy (left out when compiled): {msgid!r}"
        for welsh in strings:  # the same placeholders, or .format() fails or drops a name
            assert set(PLACEHOLDER.findall(welsh)) == set(PLACEHOLDER.findall(msgid)), msgid
        # Machine-drafted text says so until a Welsh speaker has checked it.
        assert UNCHECKED in entry.user_comments


def test_the_catalogue_is_used_at_runtime() -> None:
    _ = translator("cy")
    assert _("Next") == "Nesaf"
    assert _("Submit my answers") == "Cyflwyno fy atebion"
    assert translator("en")("Next") == "Next"


# --- the framework's Welsh -----------------------------------------------------------------


def test_the_framework_has_welsh_for_every_wording_with_the_same_names() -> None:
    spec = load_framework_file(DEFAULT_FRAMEWORK_FILE)
    assert missing_welsh(spec) == []
    for dim in spec.dimensions:
        for item in dim.items:
            assert item.cy is not None
            for english, welsh in ((item.text, item.cy.text), (item.self_text, item.cy.self_text)):
                assert welsh and set(PLACEHOLDER.findall(welsh)) == set(
                    PLACEHOLDER.findall(english or "")
                ), item.code
    for scale in spec.scales.values():
        assert scale.cy is not None and all(p.cy for p in scale.points)
    # Machine-drafted and unchecked: the file says so, and staff are told.
    assert spec.welsh is not None and spec.welsh.drafted_by == "machine"
    assert not spec.welsh.checked
    assert "not been checked by a Welsh speaker" in (welsh_notice(spec) or "")


def test_a_framework_without_welsh_is_named_and_the_checksum_ignores_the_welsh() -> None:
    text = DEFAULT_FRAMEWORK_FILE.read_text(encoding="utf-8")
    without = re.sub(r"(?m)^(\s*)cy:\n(\1  .*\n)+", "", text)
    without = re.sub(r", cy: \"[^\"]*\"", "", without)
    without = re.sub(r"(?m)^\s*cy: \{label: .*\}\n", "", without)
    without = re.sub(r"(?ms)^welsh:\n(  .*?\n)+", "", without)
    from feedback.setup.framework import parse_framework

    bare = parse_framework(without)
    full = load_framework_file(DEFAULT_FRAMEWORK_FILE)
    assert bare.checksum() == full.checksum()  # a corrected translation needs no new version
    assert len(missing_welsh(bare)) > 40
    assert "has no Welsh" in (welsh_notice(bare) or "")


# --- the questionnaire in Welsh and switching (AppTest) ------------------------------------------


@pytest.fixture
def built(sqlite_engine, sqlite_url, monkeypatch):
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    return build_cycle(sqlite_engine, second_pairing=False)


def _link(engine, built, key: str) -> tuple[int, str]:
    with session_scope(engine) as s:
        inv = s.exec(select(Invitation).where(Invitation.rater_id == built.people[key])).one()
        return inv.id, issue_token(s, SYSTEM, inv.id)


def _language(engine, inv_id: int) -> str | None:
    with Session(engine) as s:
        response = s.exec(select(Response).where(Response.invitation_id == inv_id)).first()
        return response.language if response is not None else None


def test_a_welsh_cycle_shows_the_questionnaire_in_welsh_without_a_switch(
    sqlite_engine, built
) -> None:
    with session_scope(sqlite_engine) as s:
        set_cycle_language(s, SYSTEM, built.cycle_id, "cy")
    inv_id, token = _link(sqlite_engine, built, "m1")
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["t"] = token
    at.run()
    assert not at.exception
    assert headings(at, 1)[0] == "Adborth Tandem"
    assert not at.segmented_control  # Welsh only: nothing to switch to
    text = shown(at)
    assert at.expander[0].label == "Pwy fydd yn gweld eich atebion"
    assert "Mae eich atebion yn ddienw" in text and "o leiaf 3 cynghorwyr" in text
    radio = at.radio[0]
    assert radio.options[-1] == "Methu dweud" and radio.options[0] == "Anghytuno'n gryf"
    assert any(q.startswith("Mae Cllr Siân Llewelyn yn ") for q in re.split(r"\n+", text))
    radio.set_value(4).run()
    assert _language(sqlite_engine, inv_id) == "cy"


def test_a_bilingual_cycle_opens_in_welsh_and_the_rater_switches_to_english(
    sqlite_engine, built
) -> None:
    with session_scope(sqlite_engine) as s:
        set_cycle_language(s, SYSTEM, built.cycle_id, "both")
    inv_id, token = _link(sqlite_engine, built, "o1")
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["t"] = token
    at.run()
    assert not at.exception
    assert headings(at, 1)[0] == "Adborth Tandem"  # Welsh first (Welsh Language Standards)
    switch = at.segmented_control(key="q_lang_switch")
    assert switch.options == ["Cymraeg", "English"] or set(switch.options) >= {"cy", "en"}
    at.radio[0].set_value(2).run()
    assert _language(sqlite_engine, inv_id) == "cy"
    switch.set_value("en").run()
    assert not at.exception
    assert headings(at, 1)[0] == "Tandem feedback"
    assert at.radio[0].options[-1] == "Can't say"
    assert at.radio[0].value == 2  # the answer given in Welsh is still there
    assert at.query_params["lang"] == ["en"] or at.query_params["lang"] == "en"
    at.radio[1].set_value(5).run()
    assert _language(sqlite_engine, inv_id) == "en"  # the language of the latest save
    assert headings(at, 1)[0] == "Tandem feedback"  # remembered over reruns


def test_a_dead_link_of_a_welsh_cycle_says_so_in_welsh(sqlite_engine, built) -> None:
    from feedback.setup.cycles import set_cycle_status

    with session_scope(sqlite_engine) as s:
        set_cycle_language(s, SYSTEM, built.cycle_id, "cy")
    _inv, token = _link(sqlite_engine, built, "m2")
    with session_scope(sqlite_engine) as s:
        set_cycle_status(s, SYSTEM, built.cycle_id, "closed")
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["t"] = token
    at.run()
    assert "Mae'r rownd adborth hon wedi cau" in at.info[0].value
    assert not at.radio


def test_the_language_can_only_be_one_of_three_and_not_after_closing(sqlite_engine, built) -> None:
    with session_scope(sqlite_engine) as s, pytest.raises(Invalid, match="not a language"):
        set_cycle_language(s, SYSTEM, built.cycle_id, "fr")
    with session_scope(sqlite_engine) as s:
        cycle = set_cycle_language(s, SYSTEM, built.cycle_id, "both")
        notices = language_notices(s, cycle)
    assert any("machine-drafted" in n or "not been checked" in n for n in notices)


# --- the rater's email in Welsh, through a real SMTP server --------------------------------------


def test_welsh_and_bilingual_invitations_arrive_and_open_the_welsh_form(
    sqlite_engine, built, monkeypatch
) -> None:
    with running_inbox(monkeypatch) as inbox:
        with session_scope(sqlite_engine) as s:
            set_cycle_language(s, SYSTEM, built.cycle_id, "cy")
            report = send_invitations(s, SYSTEM, built.cycle_id)
        assert report.sent == len(inbox.messages) > 0 and not report.failed
        message = inbox.to("m0@llanfair.example.gov.uk")[0]
        text = body(message)
        assert message["Subject"].startswith("Eich adborth ar gyfer ")
        assert text.startswith("Annwyl Cllr Member 0,")
        assert "Mae'r rownd yn cau ar " in text and "Dear" not in text
        month = re.search(r"yn cau ar \d+ (\w+) \d{4}", text).group(1)
        assert month in {"Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin",
                         "Gorffennaf", "Awst", "Medi", "Hydref", "Tachwedd", "Rhagfyr"}  # fmt: skip
        token = LINK.search(text).group(1)
        at = AppTest.from_file(APP, default_timeout=30)
        at.query_params["t"] = token
        at.run()
        assert headings(at, 1)[0] == "Adborth Tandem"

        inbox.messages.clear()
        with session_scope(sqlite_engine) as s:
            set_cycle_language(s, SYSTEM, built.cycle_id, "both")
            send_invitations(s, SYSTEM, built.cycle_id, resend=True)
        both = body(inbox.to("m0@llanfair.example.gov.uk")[0])
        assert both.index("Annwyl") < both.index("Dear")  # the Welsh first, then the English
        assert len(LINK.findall(both)) == 2 and len(set(LINK.findall(both))) == 1


def test_the_preview_staff_see_is_the_welsh_email(sqlite_engine, built) -> None:
    with session_scope(sqlite_engine) as s:
        set_cycle_language(s, SYSTEM, built.cycle_id, "cy")
        preview = message_preview(s, SYSTEM, built.cycle_id, "reminder")
    assert preview.subject.startswith("Nodyn atgoffa: ")
    assert preview.body.startswith("Annwyl ")


# --- which language a comment was written in: only where it identifies nobody --------------


def _shown(rows: list[tuple[str, int, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"rater_group": g, "response_id": r, "language": lang, "text": f"c{i}"}
            for i, (g, r, lang) in enumerate(rows)
        ]
    )


def test_the_rule_labels_all_or_nothing() -> None:
    lone = _shown([("members", 1, "en"), ("members", 2, "en"), ("members", 3, "cy")])
    assert (comment_languages(lone, 3) == "").all()
    enough = _shown(
        [("members", r, "en") for r in (1, 2, 3)] + [("officers", r, "cy") for r in (4, 5, 6)]
    )
    assert list(comment_languages(enough, 3)) == ["en"] * 3 + ["cy"] * 3
    # One writer's three Welsh comments are still one writer.
    one_writer = _shown([("members", r, "en") for r in (1, 2, 3)] + [("officers", 4, "cy")] * 3)
    assert (comment_languages(one_writer, 3) == "").all()
    # The pair's own comments are never counted towards the threshold.
    with_pair = _shown(
        [("members", r, "en") for r in (1, 2, 3)]
        + [("principal", 8, "cy"), ("principal", 9, "cy"), ("officers", 4, "cy")]
    )
    assert (comment_languages(with_pair, 3) == "").all()
    # One language only: nothing to say.
    assert (comment_languages(_shown([("members", r, "cy") for r in (1, 2, 3)]), 3) == "").all()


def test_attacker_a_lone_welsh_comment_in_a_shown_group_is_not_labelled(session) -> None:
    """Three councillors answer (the group is shown); one writes in Welsh. The report shows
    all three comments but says nothing of their language, on any reader's copy."""
    s = small_cycle(session, threshold=3)
    add_rater(session, s, "members", 4, comments={"advice": "Listens well"})
    add_rater(session, s, "members", 4, comments={"advice": "Clear about priorities"})
    add_rater(session, s, "members", 4, comments={"advice": "Gwrando'n dda"}, language="cy")
    session.commit()
    report = read_pairing_report(session, SYSTEM, s.cycle_id, s.pairing_id)
    assert sorted(t for ts in report.comments.values() for t in ts) == [
        "Clear about priorities",
        "Gwrando'n dda",
        "Listens well",
    ]
    assert report.comment_languages == {}
    served = report.to_dict()
    assert served["comment_languages"] == {}
    assert "Cymraeg" not in str(served) and "'cy'" not in str(served)
    # Four Welsh writers but two English ones: labelling still points at the English two.
    for text in ("Da iawn", "Cadarn", "Teg"):
        add_rater(session, s, "members", 4, comments={"advice": text}, language="cy")
    session.commit()
    report = read_pairing_report(session, SYSTEM, s.cycle_id, s.pairing_id)
    assert len(report.comments["advice"]) == 6 and report.comment_languages == {}
    # Three or more of each: each comment says its language.
    for text in ("Prepared", "Fair", "Calm"):
        add_rater(session, s, "members", 4, comments={"advice": text})
    session.commit()
    report = read_pairing_report(session, SYSTEM, s.cycle_id, s.pairing_id)
    labelled = dict(report.comment_sections_with_languages()[0][1])
    assert labelled["Listens well"] == "English" and labelled["Teg"] == "Cymraeg"
