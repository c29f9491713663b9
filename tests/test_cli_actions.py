"""Every page action as a `tandem` command (docs/page-actions.md): each command run in this
process on a real SQLite file, checked by what it changed in the database and what it said;
refused actions say why in one line, exit non-zero and change nothing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from click.testing import Result
from mail_server import running_inbox
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select
from typer.testing import CliRunner

import cli.common
from cli.main import app
from core.db import make_engine
from core.models import AuditEvent, Council, FacilitatorCouncil, UserAccount
from feedback.models import Cycle, CyclePairing, Invitation, Pairing, Person, PublishedReport
from planning.models import CheckIn, DevelopmentPlan, PlanAction, PlanGoal, SignOff

Tandem = Callable[..., Result]
DOC = Path(__file__).resolve().parents[1] / "docs" / "page-actions.md"
COUNCIL = "Ashby Vale District Council"


def _runner(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Tandem, Engine]]:
    engine = make_engine(url)
    monkeypatch.setattr(cli.common, "_engine", engine)  # the commands' engine: this database

    def tandem(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(app, list(args), input=input)

    yield tandem, engine
    engine.dispose()


@pytest.fixture
def empty(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Tandem, Engine]]:
    yield from _runner(sqlite_url, monkeypatch)


@pytest.fixture
def demo(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Tandem, Engine]]:
    yield from _runner(demo_url, monkeypatch)


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def refused(result: Result, code: int = 1) -> str:
    """A refusal: the exit code, one message on standard error, never a traceback."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.stderr


def one(engine: Engine, model: Any, *where: Any) -> Any:
    with Session(engine) as s:
        return s.exec(select(model).where(*where)).one()


def count(engine: Engine, model: Any, *where: Any) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def _council_with_people(tandem: Tandem) -> None:
    ok(tandem("council", "add", COUNCIL))
    people = [
        ("Cllr Ann Lee", "ann@ashby.example.gov.uk", "member"),
        ("Bob Ray", "bob@ashby.example.gov.uk", "officer"),
        ("Cat Dunn", "cat@ashby.example.gov.uk", "officer"),
        ("Dev Shah", "dev@ashby.example.gov.uk", "officer"),
        ("Cllr Eve Ng", "eve@ashby.example.gov.uk", "member"),
    ]
    for name, email, kind in people:
        ok(tandem("person", "add", COUNCIL, name, email, kind))


# --- cycles, pairings and raters --------------------------------------------------------


def test_a_cycle_from_nothing_to_published_and_back(empty: tuple[Tandem, Engine]) -> None:
    tandem, engine = empty
    _council_with_people(tandem)
    out = ok(
        tandem(
            "pairing", "create", COUNCIL, "leader-chief executive",
            "ann@ashby.example.gov.uk", "bob@ashby.example.gov.uk",
            "--portfolio", "Leadership", "--since", "2024-05-01",
        )
    )  # fmt: skip
    pairing = one(engine, Pairing)
    assert pairing.kind == "leader–chief executive" and str(pairing.started_on) == "2024-05-01"
    assert f"Created pairing {pairing.id}: Cllr Ann Lee & Bob Ray (Leadership)" in out
    assert "Cllr Ann Lee & Bob Ray" in ok(tandem("pairing", "list", COUNCIL))

    out = ok(
        tandem(
            "cycle", "create", COUNCIL, "Spring 2027", "--opens", "2027-03-01", "--threshold", "2"
        )
    )
    cycle = one(engine, Cycle)
    assert (cycle.name, cycle.status, str(cycle.closes_on), cycle.anonymity_threshold) == (
        "Spring 2027", "draft", "2027-03-22", 2,
    )  # fmt: skip
    assert f"Created cycle {cycle.id} 'Spring 2027'" in out

    out = ok(tandem("pairing", "add", "Spring 2027", str(pairing.id)))
    assert "both principals of each are invited" in out
    assert count(engine, CyclePairing) == 1
    assert count(engine, Invitation, Invitation.rater_group == "principal") == 2
    assert "Cllr Ann Lee & Bob Ray" in ok(tandem("pairing", "list", "--cycle", "Spring 2027"))

    ok(tandem("nominate", "Spring 2027", "--pairing", str(pairing.id), "--group", "officers",
              "cat@ashby.example.gov.uk", "dev@ashby.example.gov.uk"))  # fmt: skip
    shown = ok(tandem("cycle", "show", "Spring 2027"))
    assert "draft" in shown and "Cat Dunn" in shown and "not started" in shown
    assert "0% (0 of 4) of those invited have submitted" in shown

    assert "now open: opened for responses" in ok(tandem("cycle", "open", "Spring 2027"))
    assert one(engine, Cycle).status == "open"

    out = ok(
        tandem("withdraw", "Spring 2027", "cat@ashby.example.gov.uk", "--pairing", str(pairing.id))
    )
    assert out.strip() == f"Cat Dunn withdrawn from rating pairing {pairing.id}."
    cat = one(engine, Person, Person.email == "cat@ashby.example.gov.uk")
    assert one(engine, Invitation, Invitation.rater_id == cat.id).status == "revoked"

    assert "closed to responses" in ok(tandem("cycle", "close", "Spring 2027"))
    assert "reopened for late responses" in ok(tandem("cycle", "reopen", "Spring 2027"))
    assert one(engine, Cycle).status == "open"
    ok(tandem("cycle", "close", "Spring 2027"))

    # publishing cannot be undone (an edition is kept): without --yes nothing happens
    message = refused(tandem("cycle", "publish", "Spring 2027"))
    assert "--yes" in message and "nothing was changed" in message
    assert one(engine, Cycle).status == "closed" and count(engine, PublishedReport) == 0
    assert "results published" in ok(tandem("cycle", "publish", "Spring 2027", "--yes"))
    assert one(engine, Cycle).status == "published" and count(engine, PublishedReport) == 1
    # closing a published cycle would withdraw the publication: that is `unpublish`
    assert "only an open cycle can be closed" in refused(tandem("cycle", "close", "Spring 2027"))
    assert one(engine, Cycle).status == "published"
    assert "publication withdrawn" in ok(tandem("cycle", "unpublish", "Spring 2027", "--yes"))
    assert one(engine, Cycle).status == "closed"

    with Session(engine) as s:
        actions = s.exec(
            select(AuditEvent.action).where(col(AuditEvent.actor).startswith("system"))
        ).all()
    expected = ["create pairing", "create cycle", "add pairing to cycle", "nominate rater",
                "cycle open", "revoke invitation", "cycle closed", "cycle published"]  # fmt: skip
    assert set(expected) <= set(actions)


def test_wrong_status_and_principal_actions_are_refused_and_change_nothing(
    empty: tuple[Tandem, Engine],
) -> None:
    tandem, engine = empty
    _council_with_people(tandem)
    ok(tandem("pairing", "create", COUNCIL, "leader_chief_executive",
              "ann@ashby.example.gov.uk", "bob@ashby.example.gov.uk"))  # fmt: skip
    pairing = one(engine, Pairing)
    ok(tandem("cycle", "create", COUNCIL, "Spring 2027"))
    ok(tandem("pairing", "add", "Spring 2027", str(pairing.id)))
    before = count(engine, AuditEvent)

    assert "only a closed cycle can be reopened" in refused(
        tandem("cycle", "reopen", "Spring 2027")
    )
    assert "'Spring 2027' is draft; only an open cycle can be closed. Nothing was changed." in (
        refused(tandem("cycle", "close", "Spring 2027"))
    )
    assert "only a published cycle can be unpublished" in refused(
        tandem("cycle", "unpublish", "Spring 2027", "--yes")
    )
    assert "The two principals of a pairing cannot be withdrawn" in refused(
        tandem("withdraw", "Spring 2027", "bob@ashby.example.gov.uk", "--pairing", str(pairing.id))
    )
    assert "dev@ashby.example.gov.uk is not invited to rate pairing" in refused(
        tandem("withdraw", "Spring 2027", "dev@ashby.example.gov.uk", "--pairing", str(pairing.id))
    )
    assert "cannot close before it opens" in refused(
        tandem("cycle", "set", "Spring 2027", "--closes", "2000-01-01")
    )
    assert "is not a date" in refused(tandem("cycle", "set", "Spring 2027", "--closes", "soon"), 2)
    assert "There is no cycle called 'Autumn'" in refused(tandem("cycle", "open", "Autumn"))
    assert "no council called" in refused(tandem("pairing", "list", "Nowhere"))
    assert one(engine, Cycle).status == "draft"
    assert {i.status for i in _all(engine, Invitation)} == {"not started"}
    assert count(engine, AuditEvent) == before

    ok(tandem("cycle", "open", "Spring 2027"))
    ok(tandem("cycle", "close", "Spring 2027"))
    assert "pairings can no longer be added" in refused(
        tandem("pairing", "add", "Spring 2027", str(pairing.id))
    )
    assert "cannot be lowered now" in refused(
        tandem("cycle", "set", "Spring 2027", "--threshold", "2")
    )
    assert one(engine, Cycle).anonymity_threshold == 3


def _all(engine: Engine, model: Any) -> list[Any]:
    with Session(engine) as s:
        return list(s.exec(select(model)).all())


def test_cycle_settings_and_wording(empty: tuple[Tandem, Engine], tmp_path: Path) -> None:
    tandem, engine = empty
    _council_with_people(tandem)
    ok(tandem("cycle", "create", COUNCIL, "Spring 2027", "--opens", "2027-03-01"))
    out = ok(tandem("cycle", "set", "Spring 2027", "--name", "Spring review 2027",
                    "--closes", "2027-04-30", "--threshold", "4"))  # fmt: skip
    assert "'Spring review 2027': 1 March 2027 to 30 April 2027, anonymity threshold 4" in out
    cycle = one(engine, Cycle)
    assert (cycle.name, str(cycle.closes_on), cycle.anonymity_threshold) == (
        "Spring review 2027", "2027-04-30", 4,
    )  # fmt: skip

    shown = ok(tandem("cycle", "wording", "Spring review 2027"))
    assert "{link}" in shown and "Invitation subject:" in shown
    body = tmp_path / "invite.txt"
    body.write_text("Dear {name}, please rate us: {link}\n", encoding="utf-8")
    out = ok(tandem("cycle", "wording", "Spring review 2027", "--invitation-subject",
                    "Your view, please", "--invitation-body", str(body)))  # fmt: skip
    assert "Wording saved." in out and "Your view, please" in out
    cycle = one(engine, Cycle)
    assert cycle.invitation_subject == "Your view, please"
    assert cycle.invitation_body.startswith("Dear {name}")

    body.write_text("No way in here.", encoding="utf-8")
    message = refused(
        tandem("cycle", "wording", "Spring review 2027", "--reminder-body", str(body))
    )
    assert "The wording was not saved." in message and "must contain {link}" in message
    assert one(engine, Cycle).reminder_body != "No way in here."


def test_invite_emails_the_raters_of_an_open_cycle(
    empty: tuple[Tandem, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    tandem, engine = empty
    _council_with_people(tandem)
    ok(tandem("pairing", "create", COUNCIL, "leader–chief executive",
              "ann@ashby.example.gov.uk", "bob@ashby.example.gov.uk"))  # fmt: skip
    ok(tandem("cycle", "create", COUNCIL, "Spring 2027"))
    ok(tandem("pairing", "add", "Spring 2027", str(one(engine, Pairing).id)))
    monkeypatch.delenv("TANDEM_SMTP_HOST", raising=False)
    assert "Open it before sending invitations" in refused(tandem("invite", "Spring 2027"))
    ok(tandem("cycle", "open", "Spring 2027"))
    assert "No email server is configured" in refused(tandem("invite", "Spring 2027"))
    assert count(engine, Invitation, col(Invitation.sent_at).is_not(None)) == 0
    with running_inbox(monkeypatch) as inbox:
        out = ok(tandem("invite", "Spring 2027"))
    assert len(inbox.messages) == 2 and "2" in out
    assert count(engine, Invitation, col(Invitation.sent_at).is_not(None)) == 2
    tracked = ok(tandem("tracking", "Spring 2027", "--waiting", "--sent"))
    assert "Emailed: 100% (2 of 2)" in tracked and "Submitted: 0% (0 of 2)" in tracked
    assert "Not yet responded (2):" in tracked and "Bob Ray <bob@ashby.example.gov.uk>" in tracked
    assert "Invitations and reminders sent (2):" in tracked


# --- councils, people, retention, audit ------------------------------------------------


def test_council_people_retention_and_audit(empty: tuple[Tandem, Engine], tmp_path: Path) -> None:
    tandem, engine = empty
    out = ok(tandem("council", "add", "Glenmoor Council", "--nation", "Scotland"))
    assert "'Glenmoor Council' (Scotland, committee system)" in out
    assert one(engine, Council).governance == "committee system"
    assert "already exists" in refused(tandem("council", "add", "Glenmoor Council"))

    ok(tandem("person", "add", "Glenmoor Council", "Cllr Iona Bell", "iona@glen.example", "member"))
    out = ok(tandem("person", "set", "Glenmoor Council", "iona@glen.example",
                    "--title", "Convener", "--email", "i.bell@glen.example"))  # fmt: skip
    assert "Saved Cllr Iona Bell <i.bell@glen.example>, Convener." in out
    person = one(engine, Person)
    assert (person.email, person.title, person.kind) == (
        "i.bell@glen.example",
        "Convener",
        "member",
    )
    assert "Cllr Iona Bell <i.bell@glen.example>, member; Convener" in ok(
        tandem("people", "list", "Glenmoor Council")
    )
    assert "Wrote the people template" in ok(
        tandem("people", "template", "-o", str(tmp_path / "people.xlsx"))
    )
    assert (tmp_path / "people.xlsx").read_bytes()[:2] == b"PK"

    assert "keeps each cycle's data for 36 months" in ok(tandem("retention", "Glenmoor Council"))
    assert "for 24 months" in ok(tandem("retention", "Glenmoor Council", "24"))
    assert one(engine, Council).retention_months == 24
    assert "between 1 and" in refused(tandem("retention", "Glenmoor Council", "0"))
    assert one(engine, Council).retention_months == 24

    log = ok(tandem("audit", "--council", "Glenmoor Council"))
    assert "system (command line): set retention council" in log
    assert "before: 36; after: 24" in log and "create council" in log
    only = ok(tandem("audit", "--action", "set retention"))
    assert only.count("set retention") == 1 and "create council" not in only


def test_user_accounts(empty: tuple[Tandem, Engine]) -> None:
    tandem, engine = empty
    ok(tandem("council", "add", COUNCIL))
    ok(tandem("person", "add", COUNCIL, "Cllr Ann Lee", "ann@ashby.example.gov.uk", "member"))
    ok(tandem("user", "add", "admin@x.org", "--role", "admin", "--password-stdin",
              input="correct horse battery\n"))  # fmt: skip
    ok(tandem("user", "add", "fac@x.org", "--role", "facilitator", "--council", COUNCIL,
              "--password-stdin", input="correct horse battery 2\n"))  # fmt: skip
    ok(tandem("person", "add", COUNCIL, "Cllr Eve Ng", "eve@ashby.example.gov.uk", "member"))
    ok(tandem("user", "add", "ann@x.org", "--role", "principal", "--no-password",
              "--person-email", "eve@ashby.example.gov.uk"))  # fmt: skip

    message = refused(tandem("user", "set", "admin@x.org", "--off"))
    assert "This is the only active administrator" in message
    assert one(engine, UserAccount, UserAccount.username == "admin@x.org").active

    assert "can no longer sign in" in ok(tandem("user", "set", "fac@x.org", "--off"))
    assert not one(engine, UserAccount, UserAccount.username == "fac@x.org").active
    assert "can sign in again" in ok(tandem("user", "set", "fac@x.org", "--on"))
    assert "A facilitator needs at least one council" in refused(
        tandem("user", "set", "fac@x.org", "--no-councils")
    )
    assert count(engine, FacilitatorCouncil) == 1

    with Session(engine) as s:
        user = s.exec(select(UserAccount).where(UserAccount.username == "fac@x.org")).one()
        user.failed_attempts = 9
        s.add(user)
        s.commit()
    assert "is unlocked" in ok(tandem("user", "set", "fac@x.org", "--unlock"))
    assert one(engine, UserAccount, UserAccount.username == "fac@x.org").failed_attempts == 0

    old = one(engine, UserAccount, UserAccount.username == "fac@x.org").password_hash
    ok(tandem("user", "password", "fac@x.org", "--password-stdin", input="a new long password\n"))
    assert one(engine, UserAccount, UserAccount.username == "fac@x.org").password_hash != old
    assert "The password was not changed." in refused(
        tandem("user", "password", "fac@x.org", "--password-stdin", input="short\n")
    )

    assert "is linked to ann@ashby.example.gov.uk" in ok(
        tandem("user", "link", "ann@x.org", "ann@ashby.example.gov.uk")
    )
    ann = one(engine, Person, Person.email == "ann@ashby.example.gov.uk")
    assert one(engine, UserAccount, UserAccount.username == "ann@x.org").person_id == ann.id
    assert "There is no account 'nobody@x.org'" in refused(
        tandem("user", "set", "nobody@x.org", "--on")
    )
    assert "Say what to change" in refused(tandem("user", "set", "fac@x.org"))


# --- development plans (the demo council) ----------------------------------------------


def test_a_plan_from_the_command_line(demo: tuple[Tandem, Engine]) -> None:
    tandem, engine = demo
    with Session(engine) as s:
        cycle = s.exec(select(Cycle).where(Cycle.name == "Annual review 2026")).one()
        member = s.exec(select(Person).where(Person.full_name == "Cllr Owen Fletcher")).one()
        pairing = s.exec(select(Pairing).where(Pairing.member_id == member.id)).one()
    c, p = str(cycle.id), str(pairing.id)
    assert "has no plan for 'Annual review 2026' yet" in refused(
        tandem("plan", "show", c, "--pairing", p)
    )
    assert f"started for pairing {p}" in ok(tandem("plan", "start", c, "--pairing", p))
    plan = one(engine, DevelopmentPlan, DevelopmentPlan.pairing_id == pairing.id,
               DevelopmentPlan.cycle_id == cycle.id)  # fmt: skip
    assert "already has a plan" in refused(tandem("plan", "start", c, "--pairing", p))

    suggestions = ok(tandem("plan", "suggestions", c, "--pairing", p))
    code = suggestions.split(":", 1)[0]
    out = ok(tandem("plan", "accept", c, code, "--pairing", p))
    goal = one(engine, PlanGoal, PlanGoal.plan_id == plan.id)
    assert out.strip() == f"Added goal {goal.id}: {goal.title}." and goal.source == "suggested"
    second = ok(tandem("plan", "suggestions", c, "--pairing", p)).split(":", 1)[0]
    ok(tandem("plan", "dismiss", c, second, "--pairing", p))
    assert not ok(tandem("plan", "suggestions", c, "--pairing", p)).startswith(f"{second}:")

    out = ok(tandem("plan", "goal", "add", c, "Meet every month", "--pairing", p,
                    "--dimension", code, "--challenge", "strategy"))  # fmt: skip
    own = one(engine, PlanGoal, PlanGoal.title == "Meet every month")
    assert own.challenge == "strategy" and own.source == "written"
    ok(tandem("plan", "goal", "set", str(own.id), "--title", "Meet every fortnight"))
    assert one(engine, PlanGoal, PlanGoal.id == own.id).title == "Meet every fortnight"
    out = ok(tandem("plan", "action", "add", str(own.id), "Book the dates", "--owner", "officer",
                    "--due", "2027-02-01", "--measure", "Dates in both diaries"))  # fmt: skip
    action = one(engine, PlanAction, PlanAction.goal_id == own.id)
    assert out.strip() == f"Added action {action.id}."
    assert (action.owner, str(action.due_on)) == ("officer", "2027-02-01")
    ok(tandem("plan", "action", "set", str(action.id), "--status", "in progress", "--due", ""))
    action = one(engine, PlanAction, PlanAction.id == action.id)
    assert (action.status, action.due_on) == ("in progress", None)
    assert "not one of" in refused(
        tandem("plan", "action", "set", str(action.id), "--status", "half")
    )

    ok(tandem("plan", "check-in", c, "--pairing", p, "--note", "First meeting held",
              "--action", str(action.id), "--status", "done", "--on", "2027-01-10"))  # fmt: skip
    check_in = one(engine, CheckIn, CheckIn.plan_id == plan.id)
    assert (check_in.status_from, check_in.status_to, str(check_in.held_on)) == (
        "in progress", "done", "2027-01-10",
    )  # fmt: skip

    # agreement recorded by staff, to the revision they read; a stale one is refused
    revision = one(engine, DevelopmentPlan, DevelopmentPlan.id == plan.id).revision
    assert "your agreement was not recorded" in refused(
        tandem(
            "plan",
            "agree",
            c,
            "councillor",
            "--pairing",
            p,
            "--revision",
            str(revision - 1),
            "--note",
            "agreed by email 3 Dec",
        )  # fmt: skip
    )
    # ... and one without a note of how it was given
    assert "a note is required" in refused(
        tandem(
            "plan",
            "agree",
            c,
            "councillor",
            "--pairing",
            p,
            "--revision",
            str(revision),
            "--note",
            " ",
        )  # fmt: skip
    )
    assert count(engine, SignOff, SignOff.plan_id == plan.id) == 0
    shown = ok(tandem("plan", "show", c, "--pairing", p))
    assert (
        f"Revision {revision}, draft" in shown and f"Goal {own.id}: Meet every fortnight" in shown
    )
    ok(tandem("plan", "agree", c, "councillor", "--pairing", p, "--revision", str(revision),
              "--note", "agreed by email 3 Dec"))  # fmt: skip
    out = ok(tandem("plan", "agree", c, "officer", "--pairing", p, "--revision", str(revision),
                    "--note", "signed at the meeting"))  # fmt: skip
    assert "the plan is agreed" in out
    assert "recorded by system (command line) on behalf of" in out
    shown = ok(tandem("plan", "show", c, "--pairing", p))
    assert "recorded by system (command line) on behalf of" in shown
    assert "with the note “agreed by email 3 Dec”" in shown
    assert one(engine, DevelopmentPlan, DevelopmentPlan.id == plan.id).status == "agreed"

    assert "--yes" in refused(tandem("plan", "action", "remove", str(action.id)))
    ok(tandem("plan", "action", "remove", str(action.id), "--yes"))
    assert count(engine, PlanAction, PlanAction.goal_id == own.id) == 0
    ok(tandem("plan", "goal", "remove", str(own.id), "--yes"))
    assert count(engine, PlanGoal, PlanGoal.id == own.id) == 0
    assert one(engine, DevelopmentPlan, DevelopmentPlan.id == plan.id).status == (
        "changed since agreed"
    )
    history = ok(tandem("plan", "history", c, "--pairing", p))
    assert "Goal removed: Meet every fortnight" in history and "Plan started" in history
    # when each change was made reads as a UK date and local time, never ISO
    assert re.search(r"\b\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d\b", history)
    assert not re.search(r"\d{4}-\d\d-\d\d", history)


# --- the table of page actions ----------------------------------------------------------


def _commands() -> set[str]:
    """Every command that does something (not a group), by its path, e.g. 'cycle publish',
    'plan goal add'."""

    def walk(group: Any, prefix: str) -> Iterator[str]:
        for name, command in group.commands.items():
            path = f"{prefix}{name}"
            if hasattr(command, "commands"):
                yield from walk(command, f"{path} ")
            else:
                yield path

    return set(walk(typer.main.get_command(app), ""))


def test_every_command_named_in_the_page_actions_table_exists() -> None:
    commands = _commands()
    named = re.findall(r"`tandem ([a-z][a-z\- ]*[a-z])", DOC.read_text(encoding="utf-8"))
    assert len(named) > 40
    for text in named:
        words = text.split()
        # the command is the first words (the rest are arguments), and a command, not a group
        assert any(" ".join(words[:n]) in commands for n in range(len(words), 0, -1)), text
    # and every command is in the table (or named there as having no page)
    assert {" ".join(t.split()[:n]) for t in named for n in (1, 2, 3)} >= commands


def test_council_charts_as_the_council_page_downloads_them(
    demo: tuple[Tandem, Engine], tmp_path: Path
) -> None:
    tandem, _engine = demo
    out = ok(tandem("charts", "Annual review 2026", "-o", str(tmp_path), "--svg"))
    assert "Wrote 3 chart(s)" in out
    stem = "kingsmere-borough-council-annual-review-2026"
    for name in ("heatmap", "distribution", "responses"):
        svg = (tmp_path / f"{stem}-{name}.svg").read_text(encoding="utf-8")
        assert svg.startswith("<svg")
        # titled with the council and the cycle (issue 18)
        assert "Kingsmere Borough Council · Annual review 2026" in svg
    assert "There is no folder" in refused(tandem("charts", "1", "-o", str(tmp_path / "no")))
