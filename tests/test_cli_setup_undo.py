"""`tandem pairing edit|end|remove`, `tandem cycle remove-pairing`, `tandem people
remove|set-kind` and `tandem pairing create --exception`: the set-up undo of the Pairings,
People and Cycles pages on the command line — asking before removal, refusing in words with
exit code 1 and nothing changed."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from click.testing import Result
from cycle_builder import Built, build_cycle
from sqlalchemy import Engine
from sqlmodel import Session, func, select
from typer.testing import CliRunner

import cli.common
from cli.main import app
from core.db import make_engine
from feedback.models import CyclePairing, Invitation, Pairing, Person

Tandem = Callable[..., Result]


@pytest.fixture
def setup(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Tandem, Engine, Built]]:
    engine = make_engine(sqlite_url)
    monkeypatch.setattr(cli.common, "_engine", engine)
    built = build_cycle(engine, open_it=False)

    def tandem(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(app, list(args), input=input)

    yield tandem, engine, built
    engine.dispose()


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def refused(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.stderr


def count(engine: Engine, model, *where) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


EMAIL = "{}@llanfair.example.gov.uk"


def test_pairing_remove_asks_and_refuses_in_words_until_taken_out_of_its_cycle(setup) -> None:
    tandem, engine, built = setup
    cabinet = str(built.pairing_ids[1])
    said = refused(tandem("pairing", "remove", cabinet, "--yes"))
    assert "is in 'Adolygiad 2027' (draft), which holds no answers for it yet" in said
    assert "tandem cycle remove-pairing" in said
    # Without --yes and without a terminal: nothing is changed, and it says to add --yes.
    said = refused(tandem("cycle", "remove-pairing", "Adolygiad 2027", cabinet))
    assert "Run again with --yes" in said
    assert count(engine, CyclePairing) == 2
    said = refused(tandem("cycle", "remove-pairing", "Adolygiad 2027", cabinet, input="n\n"))
    assert count(engine, CyclePairing) == 2
    out = ok(tandem("cycle", "remove-pairing", "Adolygiad 2027", cabinet, "--yes"))
    assert out == (
        f"Pairing {cabinet} (Cllr Gwilym Ŵyn & Ffion Rhys-Jones (Place)) is no longer in "
        "'Adolygiad 2027'.\n"
    )
    assert count(engine, Invitation, Invitation.pairing_id == int(cabinet)) == 0
    ok(tandem("pairing", "remove", cabinet, "--yes"))
    assert count(engine, Pairing) == 1


def test_pairing_create_needs_an_exception_for_a_second_top_pairing_and_list_shows_it(
    setup,
) -> None:
    tandem, engine, built = setup
    args = ["pairing", "create", str(built.council_id), "leader-chief executive"]
    people = [EMAIL.format("m0"), EMAIL.format("ceo")]
    said = refused(tandem(*args, *people))
    assert said.startswith("Llanfair County Council already has a top pairing")
    assert count(engine, Pairing) == 2
    out = ok(tandem(*args, *people, "--exception", "Joint chief executive shared with Powys"))
    assert "A second top pairing at this council: Joint chief executive shared with Powys." in out
    listed = ok(tandem("pairing", "list", str(built.council_id)))
    assert "exception: Joint chief executive shared with Powys" in listed


def test_pairing_edit_end_and_resume(setup) -> None:
    tandem, engine, built = setup
    cabinet = built.pairing_ids[1]
    out = ok(
        tandem(
            "pairing", "edit", str(cabinet), "--member", EMAIL.format("m1"),
            "--portfolio", "Place and Climate", "--since", "2025-05-01",
        )
    )  # fmt: skip
    assert out == (
        f"Pairing {cabinet}: Cllr Member 1 & Ffion Rhys-Jones (Place and Climate), "
        "since 1 May 2025.\n"
    )
    said = refused(tandem("pairing", "edit", str(cabinet), "--kind", "leader-chief executive"))
    assert "already has a top pairing" in said
    assert ok(tandem("pairing", "end", str(cabinet))).endswith("is ended.\n")
    assert "(ended)" in ok(tandem("pairing", "list", str(built.council_id)))
    assert ok(tandem("pairing", "end", str(cabinet), "--resume")).endswith("is taken up again.\n")
    with Session(engine) as s:
        assert s.get(Pairing, cabinet).active is True


def test_people_remove_and_set_kind(setup) -> None:
    tandem, engine, built = setup
    council = str(built.council_id)
    ok(
        tandem(
            "person", "add", council, "Spare", "spare@x.example.org", "member", "--group", "Green"
        )
    )
    said = refused(tandem("people", "remove", council, EMAIL.format("leader"), "--yes"))
    assert said.startswith("Cllr Siân Llewelyn cannot be removed: they hold the pairing")
    said = refused(tandem("people", "set-kind", council, EMAIL.format("ceo"), "member"))
    assert said.startswith("Rhodri ap Dafydd stays an officer: they hold the pairing")
    out = ok(tandem("people", "set-kind", council, "spare@x.example.org", "officer"))
    assert out == (
        "Spare is now recorded as officer.\n"
        "Cleared, as it does not fit the new kind: their political group and side.\n"
    )
    refused(tandem("people", "remove", council, "spare@x.example.org"))  # no --yes, no terminal
    assert count(engine, Person, Person.email == "spare@x.example.org") == 1
    assert (
        ok(tandem("people", "remove", council, "spare@x.example.org", "--yes"))
        == "Removed Spare.\n"
    )
    assert count(engine, Person, Person.email == "spare@x.example.org") == 0
    said = refused(tandem("people", "remove", council, "nobody@x.example.org", "--yes"))
    assert "Nobody with the email address nobody@x.example.org" in said
