"""The schema on both databases: migrations from empty, constraints, triggers, cascades."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, select

from core.db import DatabaseConfigError, SchemaError, make_engine, schema_state, upgrade
from core.errors import Conflict, Invalid
from core.roles import SYSTEM
from feedback.collection.responses import items_for_invitation, save_answers, submit_response
from feedback.models import Invitation, Person, Rating, Response
from feedback.setup.cycles import (
    add_pairing_to_cycle,
    create_cycle,
    nominate_rater,
    set_cycle_status,
)
from feedback.setup.people import add_person, create_council, create_pairing, delete_council


@pytest.mark.parametrize("empty_db_url", ["sqlite", "postgresql"], indirect=True)
def test_migrations_build_the_schema_from_empty(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    assert schema_state(engine) == "empty"
    assert "empty" in upgrade(engine)
    assert schema_state(engine) == "current"
    tables = set(inspect(engine).get_table_names())
    assert {
        "council",
        "person",
        "pairing",
        "cycle",
        "invitation",
        "response",
        "rating",
        "comment",
        "developmentplan",
        "plangoal",
        "planaction",
        "checkin",
        "signoff",
        "auditevent",
        "useraccount",
    } <= tables
    assert upgrade(engine) == "The database is already up to date."
    engine.dispose()


def test_a_database_from_a_newer_tandem_is_refused_and_left_alone(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    assert schema_state(engine) == "newer"
    with pytest.raises(SchemaError, match="newer version of Tandem"):
        upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            "9999_future"
        )


@pytest.mark.parametrize(
    "url", ["mysql://x@y/z", "nonsense", "oracle+cx://a/b", "postgresql+nosuchdriver://a/b"]
)
def test_an_unknown_database_url_gets_a_clear_message(url: str) -> None:
    with pytest.raises(DatabaseConfigError, match="TANDEM_DATABASE_URL|supports SQLite"):
        make_engine(url)


def _council_with_pairing(session: Session):
    council = create_council(session, SYSTEM, "Testshire County Council")
    member = add_person(session, SYSTEM, council.id, "Cllr Gwenllian Ŵyn", "g@t.gov.uk", "member")
    officer = add_person(session, SYSTEM, council.id, "Ann Officer", "a@t.gov.uk", "officer")
    pairing = create_pairing(
        session, SYSTEM, council.id, "leader–chief executive", member.id, officer.id
    )
    cycle = create_cycle(session, SYSTEM, council.id, "Round 1", date(2026, 1, 1), date(2026, 2, 1))
    add_pairing_to_cycle(session, SYSTEM, cycle.id, pairing.id)
    return council, member, officer, pairing, cycle


def test_people_keep_non_ascii_names_and_duplicates_by_email_are_refused(session) -> None:
    council, member, *_ = _council_with_pairing(session)
    session.commit()
    again = session.exec(select(Person).where(Person.id == member.id)).one()
    assert again.full_name == "Cllr Gwenllian Ŵyn"
    with pytest.raises(Conflict, match="already has the email"):
        add_person(session, SYSTEM, council.id, "Someone Else", "G@T.gov.uk", "member")
    with pytest.raises(Invalid, match="not an email"):
        add_person(session, SYSTEM, council.id, "No Mail", "not-an-email", "member")


def test_the_database_itself_refuses_a_duplicate_invitation(session) -> None:
    _, member, _, pairing, cycle = _council_with_pairing(session)
    session.commit()
    session.add(
        Invitation(
            cycle_id=cycle.id, pairing_id=pairing.id, rater_id=member.id, rater_group="principal"
        )
    )
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_nominating_twice_says_so(session) -> None:
    council, _, _, pairing, cycle = _council_with_pairing(session)
    other = add_person(session, SYSTEM, council.id, "Cllr Other", "o@t.gov.uk", "member")
    nominate_rater(session, SYSTEM, cycle.id, pairing.id, other.id, "members")
    with pytest.raises(Conflict, match="already nominated"):
        nominate_rater(session, SYSTEM, cycle.id, pairing.id, other.id, "members")
    with pytest.raises(Invalid, match="recorded as officer"):
        third = add_person(session, SYSTEM, council.id, "Off Icer", "x@t.gov.uk", "officer")
        nominate_rater(session, SYSTEM, cycle.id, pairing.id, third.id, "members")


def test_foreign_keys_are_enforced(session) -> None:
    session.add(Person(council_id=424242, full_name="Nobody", email="n@x.org", kind="member"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_threshold_below_two_is_refused_by_the_database(session) -> None:
    council, *_ = _council_with_pairing(session)
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(text("UPDATE cycle SET anonymity_threshold = 1"))
        session.commit()
    session.rollback()


def test_a_submitted_response_cannot_be_overwritten(session) -> None:
    _, member, _, pairing, cycle = _council_with_pairing(session)
    set_cycle_status(session, SYSTEM, cycle.id, "open")
    invitation = session.exec(select(Invitation).where(Invitation.rater_id == member.id)).one()
    items = items_for_invitation(session, invitation)
    save_answers(session, invitation.id, {items[0].id: 4, items[1].id: None})
    submit_response(session, invitation.id)
    session.commit()
    with pytest.raises(Conflict, match="already submitted"):
        save_answers(session, invitation.id, {items[0].id: 1})
    with pytest.raises(Conflict, match="already submitted"):
        submit_response(session, invitation.id)
    session.rollback()
    # Even hand-written SQL cannot change it: the database's triggers refuse.
    response = session.exec(select(Response)).one()
    with pytest.raises(SQLAlchemyError, match="can no longer be changed"):
        session.execute(
            text("UPDATE rating SET value = 1 WHERE response_id = :r"), {"r": response.id}
        )
        session.commit()
    session.rollback()
    with pytest.raises(SQLAlchemyError, match="can no longer be changed"):
        session.execute(text("UPDATE response SET status = 'draft'"))
        session.commit()
    session.rollback()
    value = session.exec(select(Rating.value).where(Rating.item_id == items[0].id)).one()
    assert value == 4


def test_an_erased_replys_id_is_never_given_to_a_later_reply(session) -> None:
    """The hold-back tells replies apart by id: on SQLite an erased newest reply's id
    would otherwise come back for the next one, and look like no change at all."""
    _, member, officer, pairing, cycle = _council_with_pairing(session)
    set_cycle_status(session, SYSTEM, cycle.id, "open")
    first, second = (
        session.exec(select(Invitation).where(Invitation.rater_id == p.id)).one()
        for p in (member, officer)
    )
    items = items_for_invitation(session, first)
    save_answers(session, first.id, {items[0].id: 4})
    session.commit()
    erased = session.exec(select(Response).where(Response.invitation_id == first.id)).one()
    erased_id = erased.id
    session.delete(erased)
    session.commit()
    save_answers(session, second.id, {items_for_invitation(session, second)[0].id: 2})
    session.commit()
    later = session.exec(select(Response).where(Response.invitation_id == second.id)).one()
    assert later.id != erased_id and later.id > erased_id


def test_deleting_a_council_cascades_past_submitted_responses(session) -> None:
    council, member, _, _, cycle = _council_with_pairing(session)
    set_cycle_status(session, SYSTEM, cycle.id, "open")
    invitation = session.exec(select(Invitation).where(Invitation.rater_id == member.id)).one()
    items = items_for_invitation(session, invitation)
    save_answers(session, invitation.id, {items[0].id: 5})
    submit_response(session, invitation.id)
    session.commit()
    delete_council(session, SYSTEM, council.id)
    session.commit()
    for table in ("council", "person", "pairing", "cycle", "invitation", "response", "rating"):
        assert session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() == 0, table


@pytest.mark.parametrize("empty_db_url", ["sqlite", "postgresql"], indirect=True)
def test_the_migrations_build_exactly_the_tables_the_models_describe(empty_db_url: str) -> None:
    """Alembic owns the schema: after every migration the database has each model's tables,
    columns, indexes and constraints, and nothing the models do not know about."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import feedback.models  # noqa: F401 - registers the tables
    import planning.models  # noqa: F401

    engine = make_engine(empty_db_url)
    upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []
