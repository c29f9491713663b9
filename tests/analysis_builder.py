"""Small cycles with chosen answers, inserted straight into the tables (fast enough for
property-based tests), for the analysis, publication and confidentiality tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select, update

from core.models import Council, utcnow
from feedback.models import (
    Comment,
    Cycle,
    CyclePairing,
    Dimension,
    DimensionPick,
    Invitation,
    Item,
    OpenAnswer,
    Pairing,
    Person,
    Rating,
    Response,
)
from feedback.setup.framework import FRAMEWORK_2026_1, ensure_framework_file

_names = itertools.count(1)
KIND = {"member": "member", "officer": "officer", "members": "member", "officers": "officer"}


@dataclass
class Small:
    council_id: int
    cycle_id: int
    pairing_id: int
    member_id: int
    officer_id: int
    items: dict[str, Item]  # by code
    dims: dict[str, int]  # dimension code -> id
    threshold: int
    raters: list[int] = field(default_factory=list)  # invitation ids in creation order


def small_cycle(
    session: Session,
    threshold: int = 3,
    status: str = "closed",
    opens_on: date = date(2027, 1, 4),
    council_id: int | None = None,
    member_id: int | None = None,
    officer_id: int | None = None,
    pairing_id: int | None = None,
    framework: Path | str = FRAMEWORK_2026_1,
) -> Small:
    """A council (or the one given), a pairing and a cycle with no answers yet, on framework
    2026.1 (the hand-computed analysis tests count its items; `framework` gives another)."""
    fv = ensure_framework_file(session, framework)
    n = next(_names)
    if council_id is None:
        council = Council(name=f"Testshire {n} {utcnow().timestamp()}")
        session.add(council)
        session.flush()
        council_id = council.id
    if pairing_id is None:
        member = Person(council_id=council_id, full_name=f"Cllr Lead {n}", email=f"l{n}@t.gov.uk",
                        kind="member", title="Leader")  # fmt: skip
        officer = Person(council_id=council_id, full_name=f"Chief {n}", email=f"c{n}@t.gov.uk",
                         kind="officer", title="Chief Executive")  # fmt: skip
        session.add_all([member, officer])
        session.flush()
        pairing = Pairing(council_id=council_id, kind="leader–chief executive",
                          member_id=member.id, officer_id=officer.id)  # fmt: skip
        session.add(pairing)
        session.flush()
        member_id, officer_id, pairing_id = member.id, officer.id, pairing.id
    cycle = Cycle(council_id=council_id, name=f"Cycle {n}", opens_on=opens_on,
                  closes_on=opens_on + timedelta(days=30), status=status,
                  framework_version_id=fv.id, anonymity_threshold=threshold)  # fmt: skip
    session.add(cycle)
    session.flush()
    session.add(CyclePairing(cycle_id=cycle.id, pairing_id=pairing_id))
    items = {
        i.code: i for i in session.exec(select(Item).where(Item.framework_version_id == fv.id))
    }
    dims = {
        d.code: d.id
        for d in session.exec(select(Dimension).where(Dimension.framework_version_id == fv.id))
    }
    session.flush()
    return Small(council_id, cycle.id, pairing_id, member_id, officer_id, items, dims, threshold)


def add_rater(
    session: Session,
    small: Small,
    who: str,
    values: dict[str, int | None] | int | None = 3,
    default: int | None = None,
    comments: dict[str, str] | None = None,
    submit: bool = True,
    submitted_at: datetime | None = None,
    open_answers: dict[str, str] | None = None,
    picks: list[str] | None = None,
    language: str = "en",
) -> int:
    """A rater: who = 'member' / 'officer' (the principals) or 'members' / 'officers' /
    'partners'. `values` maps item codes to answers (None = can't say); items not listed get
    `default` (None = no row). An int gives every item that value. Returns the invitation id."""
    if who in ("member", "officer"):
        person_id = small.member_id if who == "member" else small.officer_id
        group = "principal"
    else:
        n = next(_names)
        person = Person(council_id=small.council_id, full_name=f"Rater {n}",
                        email=f"r{n}@t.example.org", kind=KIND.get(who, "external"))  # fmt: skip
        session.add(person)
        session.flush()
        person_id, group = person.id, who
    status = "submitted" if submit else "in progress"
    inv = Invitation(cycle_id=small.cycle_id, pairing_id=small.pairing_id, rater_id=person_id,
                     rater_group=group, status=status)  # fmt: skip
    session.add(inv)
    session.flush()
    response = Response(invitation_id=inv.id, status="draft", language=language)
    session.add(response)
    session.flush()
    if isinstance(values, int) or values is None:
        default, values = values, {}
    for code, item in small.items.items():
        if item.audience != "everyone" and group != "principal":
            continue
        value = values.get(code, default) if code in values else default
        if code not in values and default is None:
            continue
        session.add(Rating(response_id=response.id, item_id=item.id, value=value))
    for code, text in (comments or {}).items():
        session.add(Comment(response_id=response.id, dimension_id=small.dims[code], text=text))
    for code, text in (open_answers or {}).items():
        session.add(OpenAnswer(response_id=response.id, question=code, text=text))
    for code in picks or []:
        session.add(DimensionPick(response_id=response.id, dimension_id=small.dims[code]))
    session.flush()
    if submit:
        at = submitted_at or utcnow()
        session.exec(
            update(Response)
            .where(Response.id == response.id)
            .values(status="submitted", submitted_at=at, updated_at=at)
        )
        session.flush()
    small.raters.append(inv.id)
    return inv.id


def codes(small: Small, dimension: str, target: str) -> list[str]:
    dim_id = small.dims[dimension]
    return sorted(
        (c for c, i in small.items.items() if i.dimension_id == dim_id and i.target == target),
        key=lambda c: small.items[c].position,
    )
