"""Councils, the people in them and the pairings they form."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from feedback import audit
from feedback.access import Actor, require_admin, require_council_manager
from feedback.errors import Conflict, Invalid, NotFound
from feedback.models import Council, Pairing, PairingKind, Person, PersonKind

NATIONS = ("England", "Scotland", "Wales", "Northern Ireland")


def normalise_email(raw: str) -> str:
    """A checked, lower-cased address; raises Invalid with the reason in plain words."""
    raw = (raw or "").strip()
    if not raw:
        raise Invalid("An email address is needed.")
    try:
        checked = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid(f"'{raw}' is not an email address: {exc}") from exc
    return checked.normalized.lower()


def get_council(session: Session, council_id: int) -> Council:
    council = session.get(Council, council_id)
    if council is None:
        raise NotFound(f"There is no council with id {council_id}.")
    return council


def find_council(session: Session, name: str) -> Council | None:
    return session.exec(select(Council).where(Council.name == name)).first()


def create_council(
    session: Session, actor: Actor, name: str, nation: str = "England", retention_months: int = 36
) -> Council:
    require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise Invalid("A council needs a name.")
    if nation not in NATIONS:
        raise Invalid(f"Nation must be one of {', '.join(NATIONS)}.")
    if find_council(session, name) is not None:
        raise Conflict(f"A council called '{name}' already exists.")
    council = Council(name=name, nation=nation, retention_months=retention_months)
    session.add(council)
    session.flush()
    audit.record(session, actor, "create council", "council", council.id, council.id, name=name)
    return council


def list_councils(session: Session, actor: Actor) -> list[Council]:
    query = select(Council).order_by(Council.name)
    if actor.role not in ("admin", "system"):
        query = query.where(Council.id.in_(actor.council_ids or {-1}))
    return list(session.exec(query))


def find_person(session: Session, council_id: int, email: str) -> Person | None:
    return session.exec(
        select(Person).where(Person.council_id == council_id, Person.email == email.lower())
    ).first()


def has_control_characters(text: str) -> bool:
    """Line breaks (including Unicode's line and paragraph separators, which come with text
    pasted from Word or a PDF), NUL and other control characters: invisible in a list of
    people, refused in an email header, and PostgreSQL refuses NUL outright."""
    return any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in text)


def refuse_control_characters(*texts: str | None) -> None:
    """Refuse a person's details that hold a line break or control character."""
    if any(has_control_characters(t or "") for t in texts):
        raise Invalid(
            "Names, titles and portfolios must be on one line, without invisible control "
            "characters."
        )


def add_person(
    session: Session,
    actor: Actor,
    council_id: int,
    full_name: str,
    email: str,
    kind: str,
    title: str = "",
    portfolio: str = "",
    organisation: str = "",
) -> Person:
    require_council_manager(actor, council_id)
    full_name = (full_name or "").strip()
    if not full_name:
        raise Invalid("A person needs a name.")
    refuse_control_characters(full_name, title, portfolio, organisation)
    if kind not in {k.value for k in PersonKind}:
        raise Invalid("Kind must be member (councillor), officer or external (partner).")
    address = normalise_email(email)
    existing = find_person(session, council_id, address)
    if existing is not None:
        raise Conflict(f"{existing.full_name} already has the email address {address}.")
    person = Person(
        council_id=council_id,
        full_name=full_name,
        email=address,
        kind=kind,
        title=(title or "").strip(),
        portfolio=(portfolio or "").strip(),
        organisation=(organisation or "").strip(),
    )
    session.add(person)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent insert of the same address
        raise Conflict(f"Someone with the email address {address} already exists.") from exc
    audit.record(session, actor, "add person", "person", person.id, council_id)
    return person


def list_people(session: Session, council_id: int) -> list[Person]:
    return list(
        session.exec(
            select(Person).where(Person.council_id == council_id).order_by(Person.full_name)
        )
    )


def create_pairing(
    session: Session,
    actor: Actor,
    council_id: int,
    kind: str,
    member_id: int,
    officer_id: int,
    portfolio: str = "",
    started_on: date | None = None,
) -> Pairing:
    """A new pairing. `started_on`: when the two began working together (optional; a
    pairing under 12 months old is reported apart in the national comparison)."""
    require_council_manager(actor, council_id)
    if kind not in {k.value for k in PairingKind}:
        raise Invalid("A pairing is either leader–chief executive or cabinet–director.")
    member, officer = session.get(Person, member_id), session.get(Person, officer_id)
    if member is None or member.council_id != council_id or member.kind != PersonKind.member:
        raise Invalid("The first person of a pairing must be a councillor of this council.")
    if officer is None or officer.council_id != council_id or officer.kind != PersonKind.officer:
        raise Invalid("The second person of a pairing must be an officer of this council.")
    duplicate = session.exec(
        select(Pairing).where(
            Pairing.council_id == council_id,
            Pairing.member_id == member_id,
            Pairing.officer_id == officer_id,
        )
    ).first()
    if duplicate is not None:
        raise Conflict(f"{member.full_name} and {officer.full_name} are already a pairing.")
    pairing = Pairing(
        council_id=council_id,
        kind=kind,
        member_id=member_id,
        officer_id=officer_id,
        portfolio=(portfolio or "").strip(),
        started_on=_start_date(started_on),
    )
    session.add(pairing)
    session.flush()
    audit.record(session, actor, "create pairing", "pairing", pairing.id, council_id)
    return pairing


def _start_date(value: date | str | None) -> date | None:
    """A pairing's start date from a date or an ISO text (the demo file, an import)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise Invalid(
                f"'{value}' is not a date: give when the pairing started as YYYY-MM-DD."
            ) from None
    if isinstance(value, datetime):
        value = value.date()
    if value > date.today():
        raise Invalid(
            "A pairing's start date cannot be in the future: give the day the two began "
            "working together, or leave it empty."
        )
    return value


def list_pairings(session: Session, council_id: int) -> list[Pairing]:
    return list(
        session.exec(
            select(Pairing)
            .where(Pairing.council_id == council_id)
            .order_by(Pairing.kind.desc(), Pairing.id)  # leader–chief executive first
        )
    )


def pairing_label(session: Session, pairing: Pairing) -> str:
    member, officer = (
        session.get(Person, pairing.member_id),
        session.get(Person, pairing.officer_id),
    )
    portfolio = f" ({pairing.portfolio})" if pairing.portfolio else ""
    return f"{member.full_name} & {officer.full_name}{portfolio}"


def delete_council(session: Session, actor: Actor, council_id: int) -> None:
    """Remove a council and everything recorded for it (used by `tandem demo --reset` and
    the retention purge). Children go first because people are protected by RESTRICT."""
    from sqlalchemy import delete

    from feedback.models import Cycle

    require_admin(actor)
    council = get_council(session, council_id)
    session.exec(delete(Cycle).where(Cycle.council_id == council_id))
    session.exec(delete(Pairing).where(Pairing.council_id == council_id))
    session.exec(delete(Person).where(Person.council_id == council_id))
    session.exec(delete(Council).where(Council.id == council_id))
    session.flush()
    session.expunge_all()
    audit.record(session, actor, "delete council", "council", council_id, None, name=council.name)
