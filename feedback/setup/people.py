"""Councils, the people in them and the pairings they form."""

from __future__ import annotations

from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core import audit, vocabulary
from core.errors import Conflict, Invalid, NotFound
from core.models import Council
from core.roles import Actor, is_admin, require_admin, require_council_manager
from core.text import column_limit, one_line
from core.vocabulary import (
    GOVERNANCE_LABELS,
    SPECIAL_ROLE_HOLDER,
    SPECIAL_ROLE_LABELS,
    TOP_KINDS,
    GovernanceModel,
    PairingKind,
    PersonKind,
    PoliticalSide,
    SpecialRole,
    default_governance,
    is_top_pairing,
    kind_label,
    kind_words,
    kinds_for,
)
from feedback.models import Pairing, Person

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


def get_person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"There is no person with id {person_id}.")
    return person


def find_council(session: Session, name: str) -> Council | None:
    return session.exec(select(Council).where(Council.name == name)).first()


def _check_governance(governance: str) -> str:
    if governance not in {g.value for g in GovernanceModel}:
        raise Invalid(
            "The governance model must be one of: "
            + ", ".join(f"{g} ({GOVERNANCE_LABELS[g]})" for g in GovernanceModel)
            + "."
        )
    return governance


def create_council(
    session: Session,
    actor: Actor,
    name: str,
    nation: str = "England",
    retention_months: int = 36,
    governance: str | None = None,
) -> Council:
    """A council; its governance model defaults to what is usual for its nation."""
    require_admin(actor)
    name = one_line(
        name,
        "the council's name",
        limit=column_limit(Council, "name"),
        required="A council needs a name.",
    )
    if nation not in NATIONS:
        raise Invalid(f"Nation must be one of {', '.join(NATIONS)}.")
    governance = _check_governance(governance or default_governance(nation))
    if find_council(session, name) is not None:
        raise Conflict(f"A council called '{name}' already exists.")
    council = Council(
        name=name, nation=nation, retention_months=retention_months, governance=governance
    )
    session.add(council)
    session.flush()
    audit.record(session, actor, "create council", "council", council.id, council.id, name=name)
    return council


def set_governance(session: Session, actor: Actor, council_id: int, governance: str) -> Council:
    """Record how the council is now run. Pairings already formed keep their kind (past
    cycles stay named as they ran); new pairings take the kinds of the new model."""
    require_council_manager(actor, council_id)
    council = get_council(session, council_id)
    council.governance = _check_governance(governance)
    session.add(council)
    session.flush()
    audit.record(
        session, actor, "set governance", "council", council.id, council.id, governance=governance
    )
    return council


def list_councils(session: Session, actor: Actor) -> list[Council]:
    query = select(Council).order_by(Council.name)
    if not is_admin(actor):
        query = query.where(col(Council.id).in_(actor.council_ids or {-1}))
    return list(session.exec(query))


def find_person(session: Session, council_id: int, email: str) -> Person | None:
    return session.exec(
        select(Person).where(Person.council_id == council_id, Person.email == email.lower())
    ).first()


# What each of a person's details is called in a sentence about it.
PERSON_FIELDS = {
    "full_name": "the name",
    "title": "the title",
    "portfolio": "the portfolio",
    "organisation": "the organisation",
}


def person_field(name: str, value: object) -> str:
    """One of a person's details as stored (core.text.one_line): on one line, within
    its column's length. The page, the people import and the command line all use it."""
    return one_line(
        value,
        PERSON_FIELDS[name],
        limit=column_limit(Person, name),
        required="A person needs a name." if name == "full_name" else None,
    )


def clean_person(
    full_name: str, title: str = "", portfolio: str = "", organisation: str = ""
) -> dict[str, str]:
    """A person's details as stored, or Invalid naming the first one that cannot be."""
    values = {
        "full_name": full_name,
        "title": title,
        "portfolio": portfolio,
        "organisation": organisation,
    }
    return {name: person_field(name, value) for name, value in values.items()}


SIDE_WORDS = {
    "administration": PoliticalSide.administration,
    "admin": PoliticalSide.administration,
    "ruling": PoliticalSide.administration,
    "opposition": PoliticalSide.opposition,
    "not recorded": "",
    "none": "",
}


# Words people type for a special role (import and command line), mapped to the role.
ROLE_WORDS = {
    "none": "",
    "mo": SpecialRole.monitoring_officer,
    "s151": SpecialRole.chief_finance_officer,
    "s151 officer": SpecialRole.chief_finance_officer,
    "section 151 officer": SpecialRole.chief_finance_officer,
    "s95 officer": SpecialRole.chief_finance_officer,
    "section 95 officer": SpecialRole.chief_finance_officer,
    "cfo": SpecialRole.chief_finance_officer,
    "hops": SpecialRole.head_of_paid_service,
    "chair of scrutiny": SpecialRole.scrutiny_chair,
    "overview and scrutiny chair": SpecialRole.scrutiny_chair,
    **{label.lower(): role for role, label in SPECIAL_ROLE_LABELS.items() if role},
}


def check_standing(
    kind: str, political_group: str = "", political_side: str = "", special_role: str = ""
) -> tuple[str, str, str]:
    """A person's political group, side and special role, checked against their kind:
    officers are politically neutral, so only councillors have a group or side; the
    monitoring officer, chief finance officer and head of paid service are officers and a
    scrutiny chair is a councillor. Returns the cleaned values; raises Invalid saying what
    is wrong."""
    group = one_line(
        political_group, "the political group", limit=column_limit(Person, "political_group")
    )
    side_text = (political_side or "").strip().lower()
    role_text = (special_role or "").strip().lower()
    side = SIDE_WORDS.get(side_text, side_text)
    if side and side not in {s.value for s in PoliticalSide}:
        raise Invalid(
            f"The political side '{political_side}' should be administration or opposition "
            "(or left empty if not known)."
        )
    role = ROLE_WORDS.get(role_text, role_text)
    if role and role not in SPECIAL_ROLE_HOLDER:
        raise Invalid(
            f"The special role '{special_role}' should be one of: "
            + ", ".join(SPECIAL_ROLE_HOLDER)
            + " (or left empty)."
        )
    if (group or side) and kind != PersonKind.member:
        raise Invalid(
            "Only councillors have a political group or side: officers are politically "
            "neutral and external partners are outside the council."
        )
    if role and SPECIAL_ROLE_HOLDER[role] != kind:
        holder = "an officer" if SPECIAL_ROLE_HOLDER[role] == "officer" else "a councillor"
        raise Invalid(f"The {SPECIAL_ROLE_LABELS[role].lower()} is {holder}.")
    return group, str(side), str(role)


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
    political_group: str = "",
    political_side: str = "",
    special_role: str = "",
) -> Person:
    require_council_manager(actor, council_id)
    details = clean_person(full_name, title, portfolio, organisation)
    if kind not in {k.value for k in PersonKind}:
        raise Invalid("Kind must be member (councillor), officer or external (partner).")
    political_group, political_side, special_role = check_standing(
        kind, political_group, political_side, special_role
    )
    address = normalise_email(email)
    existing = find_person(session, council_id, address)
    if existing is not None:
        raise Conflict(f"{existing.full_name} already has the email address {address}.")
    person = Person(
        council_id=council_id,
        email=address,
        kind=kind,
        full_name=details["full_name"],
        title=details["title"],
        portfolio=details["portfolio"],
        organisation=details["organisation"],
        political_group=political_group,
        political_side=political_side,
        special_role=special_role,
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
    top_exception: str = "",
) -> Pairing:
    """A new pairing. `started_on`: when the two began working together (optional; a
    pairing under 12 months old is reported apart in the national comparison).
    `top_exception`: why this is a second top pairing at the council (check_top_pairing)."""
    require_council_manager(actor, council_id)
    council = get_council(session, council_id)
    check_pairing_kind(council, kind)
    portfolio = one_line(
        portfolio, "the pairing's portfolio", limit=column_limit(Pairing, "portfolio")
    )
    member, officer = check_pairing_people(session, council_id, member_id, officer_id)
    exception = check_top_pairing(session, council, kind, top_exception)
    pairing = Pairing(
        council_id=council_id,
        kind=kind,
        member_id=member_id,
        officer_id=officer_id,
        portfolio=portfolio,
        started_on=start_date(started_on),
        top_exception=exception,
    )
    session.add(pairing)
    session.flush()
    audit.record(
        session,
        actor,
        "create pairing",
        "pairing",
        pairing.id,
        council_id,
        top_exception=exception or None,
    )
    return pairing


def check_pairing_kind(council: Council, kind: str) -> None:
    """Invalid unless `kind` is a pairing kind the council's governance model has."""
    if kind not in {k.value for k in PairingKind}:
        raise Invalid(
            "A pairing's kind must be one of: " + ", ".join(k.value for k in PairingKind) + "."
        )
    if council.governance not in kind_words(kind).models:
        allowed = kinds_for(council.governance)
        raise Invalid(
            f"{council.name} is recorded as run by {GOVERNANCE_LABELS[council.governance].lower()}"
            f", which has no {kind_label(kind).lower()} pairing. Its pairings are: "
            + "; ".join(kind_label(k).lower() for k in allowed)
            + ". If the council has changed how it is run, change its governance model first."
        )


def check_pairing_people(
    session: Session,
    council_id: int,
    member_id: int,
    officer_id: int,
    pairing_id: int | None = None,
) -> tuple[Person, Person]:
    """The councillor and the officer of a pairing (`pairing_id`: the pairing being
    changed, which may keep its own two), or Invalid / Conflict saying what is wrong."""
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
            col(Pairing.id) != (pairing_id or -1),
        )
    ).first()
    if duplicate is not None:
        raise Conflict(f"{member.full_name} and {officer.full_name} are already a pairing.")
    return member, officer


def top_exception_text(value: str | None) -> str:
    """The reason a second top pairing is allowed, as stored (one line, within its column)."""
    return one_line(
        value, "the reason for a second top pairing", limit=column_limit(Pairing, "top_exception")
    )


def check_top_pairing(
    session: Session,
    council: Council,
    kind: str,
    top_exception: str | None,
    pairing_id: int | None = None,
) -> str:
    """One rule in one place: a council has one top pairing (leader, elected mayor or
    convener with the chief executive, `vocabulary.is_top_pairing`) that is still running —
    the pairing the national comparison describes. A second is refused in words unless a
    reason is given for the exception (a joint chief executive shared with another council,
    say), which is stored with it and shown on the Pairings page. Ended pairings do not
    count. Returns the reason to store ("" for a pairing that needs none)."""
    reason = top_exception_text(top_exception)
    if not is_top_pairing(kind):
        return ""  # only a top pairing carries an exception
    others = session.exec(
        select(Pairing).where(
            Pairing.council_id == council.id,
            col(Pairing.kind).in_(TOP_KINDS),
            col(Pairing.active).is_(True),
            col(Pairing.id) != (pairing_id or -1),
        )
    ).all()
    if others and not reason:
        names = "; ".join(pairing_label(session, p) for p in others)
        raise Conflict(
            f"{council.name} already has a top pairing ({names}). A council has one leader, "
            "mayor or convener with the chief executive. If that pairing has ended (a new "
            "leader or chief executive), end it first; if this is a true exception, give the "
            "reason (for example, a joint chief executive shared with another council), which "
            "is kept with the pairing and shown with it."
        )
    return reason if others else ""


def start_date(value: date | str | None) -> date | None:
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
            .order_by(col(Pairing.kind).desc(), col(Pairing.id))  # top pairing first (vocabulary)
        )
    )


def pairing_label(session: Session, pairing: Pairing) -> str:
    member, officer = (
        get_person(session, pairing.member_id),
        get_person(session, pairing.officer_id),
    )
    return vocabulary.pairing_label(member.full_name, officer.full_name, pairing.portfolio)


def delete_council(session: Session, actor: Actor, council_id: int) -> None:
    """Remove a council and everything recorded for it (used by `tandem demo --reset` and
    the retention purge). Children go first because people are protected by RESTRICT."""
    from sqlalchemy import delete

    from feedback.models import Cycle

    require_admin(actor)
    council = get_council(session, council_id)
    session.exec(delete(Cycle).where(col(Cycle.council_id) == council_id))
    session.exec(delete(Pairing).where(col(Pairing.council_id) == council_id))
    session.exec(delete(Person).where(col(Person.council_id) == council_id))
    session.exec(delete(Council).where(col(Council.id) == council_id))
    session.flush()
    session.expunge_all()
    audit.record(session, actor, "delete council", "council", council_id, None, name=council.name)


def person_holdings(session: Session, person_id: int) -> list[str]:
    """What holds a person on the council's list, in words (empty: nothing does): the
    pairings they are one of, the invitations to rate (or be rated) they hold, and the user
    account linked to them."""
    from core.models import UserAccount
    from feedback.models import Cycle, Invitation

    held = []
    pairings = session.exec(
        select(Pairing).where(
            (col(Pairing.member_id) == person_id) | (col(Pairing.officer_id) == person_id)
        )
    ).all()
    if pairings:
        held.append(
            "the pairing"
            + ("s " if len(pairings) != 1 else " ")
            + "; ".join(pairing_label(session, p) for p in pairings)
        )
    cycles = session.exec(
        select(Cycle.name)
        .join(Invitation, col(Invitation.cycle_id) == col(Cycle.id))
        .where(Invitation.rater_id == person_id)
        .distinct()
        .order_by(col(Cycle.name))
    ).all()
    if cycles:
        held.append("invitations in " + ", ".join(f"'{c}'" for c in cycles))
    accounts = session.exec(
        select(UserAccount.username).where(UserAccount.person_id == person_id)
    ).all()
    if accounts:
        held.append("the user account " + ", ".join(f"'{a}'" for a in accounts))
    return held


def remove_person(session: Session, actor: Actor, person_id: int) -> str:
    """Remove a person added by mistake. Refused in words while anything holds them (a
    pairing, an invitation, a linked user account), saying what. Returns their name."""
    person = get_person(session, person_id)
    require_council_manager(actor, person.council_id)
    held = person_holdings(session, person_id)
    if held:
        raise Conflict(
            f"{person.full_name} cannot be removed: they hold "
            + "; and ".join(held)
            + ". Remove the pairing (or end it, if anyone has answered), withdraw the "
            "invitations or unlink the account first; nothing said by or about anyone is "
            "ever deleted."
        )
    name, council_id = person.full_name, person.council_id
    session.delete(person)
    session.flush()
    audit.record(session, actor, "remove person", "person", person_id, council_id, name=name)
    return name


KIND_NAMES = {
    PersonKind.member: "a councillor",
    PersonKind.officer: "an officer",
    PersonKind.external: "an external partner",
}


def set_person_kind(session: Session, actor: Actor, person_id: int, kind: str) -> list[str]:
    """Record a person as a councillor, an officer or an external partner instead (a
    mistake at entry). Refused in words while a pairing or an invitation depends on their
    kind. What no longer fits the new kind is cleared (a political group and side belong to
    councillors only; a special role to its holder's kind), and returned in words."""
    person = get_person(session, person_id)
    require_council_manager(actor, person.council_id)
    if kind not in KIND_NAMES:
        raise Invalid("Kind must be member (councillor), officer or external (partner).")
    if kind == person.kind:
        return []
    held = [h for h in person_holdings(session, person_id) if not h.startswith("the user")]
    if held:
        raise Conflict(
            f"{person.full_name} stays {KIND_NAMES[PersonKind(person.kind)]}: they hold "
            + "; and ".join(held)
            + ", which depend on it. Add them again as "
            + KIND_NAMES[PersonKind(kind)]
            + " with another email address, or remove what holds them first."
        )
    cleared = []
    if kind != PersonKind.member and (person.political_group or person.political_side):
        cleared.append("their political group and side")
        person.political_group = person.political_side = ""
    if person.special_role and SPECIAL_ROLE_HOLDER[person.special_role] != kind:
        cleared.append(f"the special role ({SPECIAL_ROLE_LABELS[person.special_role].lower()})")
        person.special_role = ""
    before = person.kind
    person.kind = kind
    session.add(person)
    session.flush()
    audit.record(
        session,
        actor,
        "change person kind",
        "person",
        person_id,
        person.council_id,
        before=before,
        after=kind,
        cleared=", ".join(cleared) or None,
    )
    return cleared
