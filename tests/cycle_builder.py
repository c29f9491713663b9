"""A small council with one or two pairings and an open cycle, built through the same
functions the app uses (shared by the invitation, questionnaire, email and concurrency
tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine

from core.db import session_scope
from core.roles import SYSTEM
from feedback.setup.cycles import (
    add_pairing_to_cycle,
    create_cycle,
    nominate_rater,
    set_cycle_status,
)
from feedback.setup.people import add_person, create_council, create_pairing


@dataclass
class Built:
    council_id: int
    cycle_id: int
    pairing_ids: list[int]
    people: dict[str, int] = field(default_factory=dict)


def build_cycle(
    engine: Engine, raters_per_group: int = 3, second_pairing: bool = True, open_it: bool = True
) -> Built:
    with session_scope(engine) as s:
        council = create_council(s, SYSTEM, "Llanfair County Council", "Wales")
        people: dict[str, int] = {}

        def person(key: str, name: str, kind: str, title: str = "") -> None:
            people[key] = add_person(
                s, SYSTEM, council.id, name, f"{key}@llanfair.example.gov.uk", kind, title
            ).id

        person("leader", "Cllr Siân Llewelyn", "member", "Leader of the Council")
        person("ceo", "Rhodri ap Dafydd", "officer", "Chief Executive")
        person("cab", "Cllr Gwilym Ŵyn", "member", "Cabinet Member")
        person("dir", "Ffion Rhys-Jones", "officer", "Director of Place")
        for i in range(raters_per_group):
            person(f"m{i}", f"Cllr Member {i}", "member")
            person(f"o{i}", f"Officer {i}", "officer")
            person(f"p{i}", f"Partner {i}", "external")
        pairing = create_pairing(
            s, SYSTEM, council.id, "leader–chief executive", people["leader"], people["ceo"]
        )
        pairings = [pairing.id]
        if second_pairing:
            pairings.append(
                create_pairing(
                    s, SYSTEM, council.id, "cabinet–director", people["cab"], people["dir"], "Place"
                ).id
            )
        cycle = create_cycle(
            s, SYSTEM, council.id, "Adolygiad 2027", date(2027, 1, 4), date(2027, 2, 1)
        )
        for pid in pairings:
            add_pairing_to_cycle(s, SYSTEM, cycle.id, pid)
        for i in range(raters_per_group):
            for prefix, group in (("m", "members"), ("o", "officers"), ("p", "partners")):
                nominate_rater(s, SYSTEM, cycle.id, pairing.id, people[f"{prefix}{i}"], group)
        if second_pairing:
            # Officer 0 rates both pairings: one rater, two invitations.
            nominate_rater(s, SYSTEM, cycle.id, pairings[1], people["o0"], "officers")
        if open_it:
            set_cycle_status(s, SYSTEM, cycle.id, "open")
        return Built(council.id, cycle.id, pairings, people)
