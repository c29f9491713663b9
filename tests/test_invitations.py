"""Personal links: unguessable, stored only as a hash, revocable, valid while the cycle is
open; the mail-merge export read back cell by cell; the `tandem links` command."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cycle_builder import build_cycle
from openpyxl import load_workbook
from sqlalchemy import text
from sqlmodel import Session, select

from core.db import session_scope
from core.errors import Conflict, Invalid, PermissionDenied
from core.roles import SYSTEM, Actor
from feedback.collection.invitations import (
    LinkOutcome,
    issue_links,
    issue_token,
    link_for,
    mail_merge_csv,
    mail_merge_rows,
    mail_merge_xlsx,
    resolve_token,
    revoke_invitation,
    update_wording,
)
from feedback.models import Invitation
from feedback.setup.cycles import nominate_rater, set_cycle_status
from feedback.setup.people import add_person

TANDEM = str(Path(sys.executable).with_name("tandem"))


def _invitation(session: Session, built, key: str, pairing: int = 0) -> Invitation:
    return session.exec(
        select(Invitation).where(
            Invitation.rater_id == built.people[key],
            Invitation.pairing_id == built.pairing_ids[pairing],
        )
    ).one()


def test_a_token_is_long_random_and_only_its_hash_is_stored(engine) -> None:
    built = build_cycle(engine)
    with session_scope(engine) as s:
        inv = _invitation(s, built, "m0")
        token = issue_token(s, SYSTEM, inv.id)
        other = issue_token(s, SYSTEM, _invitation(s, built, "m1").id)
    assert len(token) >= 43 and token != other  # 32 bytes in base64url = 256 bits
    with session_scope(engine) as s:
        stored = s.get(Invitation, inv.id)
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        # The token itself appears nowhere in the invitation table.
        dump = s.execute(text("SELECT * FROM invitation")).all()
        assert token not in repr(dump)
        assert resolve_token(s, token).invitation_id == inv.id
        assert link_for(token).endswith(f"/?t={token}")


def test_links_fail_plainly_when_mistyped_replaced_revoked_or_the_cycle_is_not_open(
    engine,
) -> None:
    built = build_cycle(engine, open_it=False)
    with session_scope(engine) as s:
        inv_id = _invitation(s, built, "m0").id
        token = issue_token(s, SYSTEM, inv_id)
        assert resolve_token(s, token).outcome == LinkOutcome.not_open_yet
        set_cycle_status(s, SYSTEM, built.cycle_id, "open")
        assert resolve_token(s, token).ok
        assert resolve_token(s, token[:-1]).outcome == LinkOutcome.unknown
        assert resolve_token(s, "").outcome == LinkOutcome.unknown
        assert resolve_token(s, "x' OR 1=1 --").outcome == LinkOutcome.unknown
        newer = issue_token(s, SYSTEM, inv_id)
        assert resolve_token(s, token).outcome == LinkOutcome.unknown  # replaced
        assert resolve_token(s, newer).ok
        set_cycle_status(s, SYSTEM, built.cycle_id, "closed")
        closed = resolve_token(s, newer)
        assert closed.outcome == LinkOutcome.closed and closed.invitation_ids == []
        assert "closed" in closed.message
        set_cycle_status(s, SYSTEM, built.cycle_id, "open")
        revoke_invitation(s, SYSTEM, inv_id)
        withdrawn = resolve_token(s, newer)
        assert withdrawn.outcome == LinkOutcome.revoked and withdrawn.invitation_ids == []
        assert "withdrawn" in withdrawn.message
        with pytest.raises(Invalid):
            issue_token(s, SYSTEM, inv_id)


def test_a_withdrawn_rater_can_be_nominated_again_with_a_new_link(engine) -> None:
    built = build_cycle(engine)
    with session_scope(engine) as s:
        invitation = _invitation(s, built, "m0")
        inv_id, group = invitation.id, invitation.rater_group
        old = issue_token(s, SYSTEM, inv_id)
        revoke_invitation(s, SYSTEM, inv_id)
        again = nominate_rater(
            s, SYSTEM, built.cycle_id, built.pairing_ids[0], built.people["m0"], group
        )
        assert again.id == inv_id and again.status == "not started"
        assert resolve_token(s, old).outcome == LinkOutcome.unknown  # the old link stays dead
        fresh = issue_token(s, SYSTEM, inv_id)
        assert resolve_token(s, fresh).invitation_ids[0] == inv_id
        with pytest.raises(Conflict):  # nominated twice while active: still refused
            nominate_rater(
                s, SYSTEM, built.cycle_id, built.pairing_ids[0], built.people["m0"], group
            )


def test_a_rater_with_two_invitations_sees_both_and_nobody_elses(engine) -> None:
    built = build_cycle(engine)
    with session_scope(engine) as s:
        first = _invitation(s, built, "o0", 0)
        second = _invitation(s, built, "o0", 1)
        token = issue_token(s, SYSTEM, second.id)
        link = resolve_token(s, token)
        assert link.invitation_ids == [second.id, first.id]
        everyone_else = s.exec(
            select(Invitation.id).where(Invitation.rater_id != built.people["o0"])
        ).all()
        assert not set(everyone_else) & set(link.invitation_ids)


def test_setting_up_needs_access_to_the_council(engine) -> None:
    built = build_cycle(engine)
    stranger = Actor("facilitator of another council", "facilitator", council_ids=frozenset({999}))
    with session_scope(engine) as s:
        inv_id = _invitation(s, built, "m0").id
        for action in (
            lambda: issue_token(s, stranger, inv_id),
            lambda: revoke_invitation(s, stranger, inv_id),
            lambda: issue_links(s, stranger, built.cycle_id),
            lambda: update_wording(s, stranger, built.cycle_id, "a", "{link}", "b", "{link}"),
        ):
            with pytest.raises(PermissionDenied):
                action()


def test_wording_must_keep_the_link_and_known_placeholders(engine) -> None:
    built = build_cycle(engine, second_pairing=False)
    with session_scope(engine) as s, pytest.raises(Invalid) as err:
        update_wording(s, SYSTEM, built.cycle_id, "Hi {nme}", "No link here", "R", "{link}")
    problems = " ".join(err.value.problems)
    assert "{nme}" in problems and "{link}" in problems
    with session_scope(engine) as s:
        update_wording(
            s, SYSTEM, built.cycle_id, "Barn {name}", "Dolen: {link}", "Atgoffa", "{link}"
        )


def test_mail_merge_cells_are_text_never_formulas(engine) -> None:
    built = build_cycle(engine, second_pairing=False)
    evil = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)"]
    with session_scope(engine) as s:
        from feedback.setup.cycles import nominate_rater

        for i, name in enumerate(evil):
            p = add_person(s, SYSTEM, built.council_id, name, f"evil{i}@x.example.org", "external")
            nominate_rater(s, SYSTEM, built.cycle_id, built.pairing_ids[0], p.id, "partners")
        fresh, skipped = issue_links(s, SYSTEM, built.cycle_id)
        rows = mail_merge_rows(s, built.cycle_id, fresh)
    assert skipped == [] and len(rows) == 2 + 9 + len(evil)
    workbook = load_workbook(io.BytesIO(mail_merge_xlsx(rows)))
    sheet = workbook.active
    assert [c.value for c in sheet[1]] == [
        "name", "email", "pairing", "rater_group", "link", "subject", "message"
    ]  # fmt: skip
    names = {}
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type == "s", (cell.coordinate, cell.value)
        names[row[0].value] = row
    for name in evil:
        assert names[name][0].quotePrefix  # Excel shows it as typed text
    links = [row[4].value for row in sheet.iter_rows(min_row=2)]
    assert all(link.startswith("http://localhost:8501/?t=") for link in links)
    assert len(set(links)) == len(links)
    parsed = list(csv.reader(io.StringIO(mail_merge_csv(rows).decode("utf-8-sig"))))
    assert parsed[0][0] == "name"
    for row in parsed[1:]:
        for value in row:
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    assert {r[0] for r in parsed[1:]} >= {"'" + n for n in evil}
    assert "Cllr Siân Llewelyn" in {r[0] for r in parsed[1:]}
    # Names are trimmed when stored; a tab or CR at the start of any other cell is quoted.
    tab_rows = [["\tname", "\remail", "p", "g", "l", "s", "m"]]
    tab_text = mail_merge_csv(tab_rows).decode("utf-8-sig")
    parsed_tab = list(csv.reader(io.StringIO(tab_text, newline="")))[1]
    assert parsed_tab[:2] == ["'\tname", "'\remail"]
    sheet = load_workbook(io.BytesIO(mail_merge_xlsx(tab_rows))).active
    assert sheet["A2"].data_type == "s" and sheet["A2"].quotePrefix
    with session_scope(engine) as s:
        for link in links:
            assert resolve_token(s, link.split("?t=")[1]).ok
        # A second export only covers raters without a live link; --reissue replaces all.
        assert issue_links(s, SYSTEM, built.cycle_id)[0] == []
        again, _ = issue_links(s, SYSTEM, built.cycle_id, reissue=True)
        assert len(again) == len(links)
        assert not resolve_token(s, links[0].split("?t=")[1]).ok


def _cli(*args: str, url: str, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "TANDEM_DATABASE_URL": url, **env}
    return subprocess.run([TANDEM, *args], capture_output=True, text=True, env=full, timeout=120)


@pytest.mark.slow
def test_tandem_links_prints_new_links_and_says_why_it_cannot_repeat_them(
    sqlite_engine, sqlite_url, tmp_path
) -> None:
    built = build_cycle(sqlite_engine, second_pairing=False)
    out = _cli("links", "Adolygiad 2027", url=sqlite_url, TANDEM_BASE_URL="https://t.example/")
    assert out.returncode == 0, out.stderr
    links = [ln for ln in out.stdout.splitlines() if "https://t.example/?t=" in ln]
    assert len(links) == 11 and "Cllr Siân Llewelyn" in out.stdout
    out = _cli("links", str(built.cycle_id), url=sqlite_url)
    assert "0 new links" in out.stdout and "--reissue" in out.stdout
    target = tmp_path / "links.xlsx"
    out = _cli("links", str(built.cycle_id), "--reissue", "-o", str(target), url=sqlite_url)
    assert out.returncode == 0 and target.exists()
    assert load_workbook(target).active.max_row == 12
    out = _cli("links", "No such cycle", url=sqlite_url)
    assert out.returncode == 1 and "Traceback" not in out.stderr
