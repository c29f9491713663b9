"""What the pairings, governance models and special roles are called: the one table of
words the pages, reports, PDF, plans, exports and command line use.

A council is run by a leader and cabinet, a directly elected mayor and cabinet, or a
committee system (most Scottish and all Northern Irish councils). Each pairing kind belongs
to the models that have it: a committee-system council has no cabinet, so its second-tier
pairings are committee chair – director; a mayoral council's top pairing is the mayor and
the chief executive (the head of paid service). The *top* pairing of a council — leader,
mayor or convener with the chief executive — is the one the national Solace figures
describe (chief executives about their leaders), so `is_top_pairing` is what that
comparison filters on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PersonKind(StrEnum):
    member = "member"  # elected councillor
    officer = "officer"  # paid staff
    external = "external"  # external partner (police, health, voluntary sector...)


class PairingKind(StrEnum):
    """Stored values; what each is called on screen is in core.vocabulary. The values
    sort (descending) with the top pairings first, which the lists rely on: see
    vocabulary.TOP_KINDS and its test."""

    leader_chief_executive = "leader–chief executive"
    mayor_chief_executive = "mayor–chief executive"  # directly elected mayor
    convener_chief_executive = "convener–chief executive"  # Scottish usage
    cabinet_director = "cabinet–director"
    committee_chair_director = "committee chair–director"  # committee-system councils


class GovernanceModel(StrEnum):
    """How a council takes decisions (Local Government Act 2000 and the Localism Act 2011 in
    England; Scottish and Northern Irish councils work through committees)."""

    leader_cabinet = "leader and cabinet"
    mayor_cabinet = "mayor and cabinet"
    committee_system = "committee system"


class PoliticalSide(StrEnum):
    """A councillor's group in relation to the council's ruling group or coalition."""

    administration = "administration"
    opposition = "opposition"


class SpecialRole(StrEnum):
    """Statutory or special roles that matter for who should rate the top pairing."""

    monitoring_officer = "monitoring officer"
    chief_finance_officer = "chief finance officer"  # s151 (s95 in Scotland)
    head_of_paid_service = "head of paid service"
    scrutiny_chair = "scrutiny chair"


class CycleStatus(StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"
    published = "published"


class Language(StrEnum):
    """The language(s) a cycle runs in for its raters (Welsh Language Standards: Welsh on
    equal terms). A response stores the one its rater answered in (`en` / `cy`)."""

    en = "en"
    cy = "cy"
    both = "both"


LANGUAGE_LABELS: dict[str, str] = {
    Language.en: "English",
    Language.cy: "Welsh (Cymraeg)",
    Language.both: "Welsh and English (the rater chooses)",
}
# A comment's language as a report names it (only where the rule allows: engine.py).
COMMENT_LANGUAGE_LABELS: dict[str, str] = {Language.en: "English", Language.cy: "Cymraeg"}


class CycleKind(StrEnum):
    """A full cycle asks the whole framework; a 90-day pulse follows a published full cycle
    and asks only the pairing's plan focus dimensions and the mirror (partnership) items."""

    full = "full"
    pulse = "pulse"


CYCLE_KIND_LABELS: dict[str, str] = {
    CycleKind.full: "Full cycle",
    CycleKind.pulse: "90-day pulse",
}

# Why a 90-day pulse's figure (and its change since the full cycle) is left out: the people
# behind it and behind the full cycle's figure differ, but by too few (publication.py).
PULSE_WITHHELD = (
    "Not shown: fewer than {threshold} people differ between those who answered the full "
    "review and this pulse, so a figure could reveal one person's answers."
)
# The same, said in a full cycle republished after its pulse.
FULL_WITHHELD = (
    "Not shown: fewer than {threshold} people differ between those who answered this "
    "review and its 90-day pulse, so a figure could reveal one person's answers."
)


class Target(StrEnum):
    member = "member"
    officer = "officer"
    partnership = "partnership"


class RaterGroup(StrEnum):
    """How a rater stands to a pairing. The two principals share `principal`: for an item
    about the member, the member's own answer is *self* and the officer's is *partner*
    (and the other way round), so self/partner are worked out per target."""

    principal = "principal"
    members = "members"
    officers = "officers"
    partners = "partners"


class InvitationStatus(StrEnum):
    not_started = "not started"
    in_progress = "in progress"
    submitted = "submitted"
    revoked = "revoked"


class ResponseStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"


@dataclass(frozen=True)
class KindWords:
    label: str  # the kind as a heading: "Elected mayor and chief executive"
    member_role: str  # what the councillor of the pair is: "elected mayor"
    officer_role: str  # what the officer of the pair is: "chief executive"
    top: bool  # the council's leading pairing (what Solace compares)
    models: tuple[GovernanceModel, ...]  # the governance models that have this pairing


_LC, _MC, _CS = (
    GovernanceModel.leader_cabinet,
    GovernanceModel.mayor_cabinet,
    GovernanceModel.committee_system,
)

PAIRING_KINDS: dict[str, KindWords] = {
    PairingKind.leader_chief_executive: KindWords(
        "Leader and chief executive", "leader", "chief executive", True, (_LC, _CS)
    ),
    PairingKind.mayor_chief_executive: KindWords(
        "Elected mayor and chief executive", "elected mayor", "chief executive", True, (_MC,)
    ),
    PairingKind.convener_chief_executive: KindWords(
        "Convener and chief executive", "convener", "chief executive", True, (_CS,)
    ),
    PairingKind.cabinet_director: KindWords(
        "Cabinet member and director", "cabinet member", "director", False, (_LC, _MC)
    ),
    PairingKind.committee_chair_director: KindWords(
        "Committee chair and director", "committee chair", "director", False, (_CS,)
    ),
}

# The rater groups as headings, tables, charts and messages name them: the one table.
# The two principals are one group ("principal"); the anonymous groups are "other"
# councillors and officers because the pair's own two are counted apart from them.
GROUP_LABELS: dict[str, str] = {
    RaterGroup.principal: "The pair (self and partner)",
    RaterGroup.members: "Other councillors",
    RaterGroup.officers: "Other officers",
    RaterGroup.partners: "External partners",
}

# A kind this version does not know (a newer database read by an older report): plain words.
_UNKNOWN = KindWords("Leadership pairing", "councillor", "officer", False, ())

TOP_KINDS: tuple[str, ...] = tuple(k for k, w in PAIRING_KINDS.items() if w.top)

GOVERNANCE_LABELS: dict[str, str] = {
    GovernanceModel.leader_cabinet: "Leader and cabinet",
    GovernanceModel.mayor_cabinet: "Directly elected mayor and cabinet",
    GovernanceModel.committee_system: "Committee system",
}

SIDE_LABELS: dict[str, str] = {
    "": "Not recorded",
    PoliticalSide.administration: "Administration",
    PoliticalSide.opposition: "Opposition",
}

SPECIAL_ROLE_LABELS: dict[str, str] = {
    "": "None",
    SpecialRole.monitoring_officer: "Monitoring officer",
    SpecialRole.chief_finance_officer: "Chief finance officer (section 151)",
    SpecialRole.head_of_paid_service: "Head of paid service",
    SpecialRole.scrutiny_chair: "Chair of scrutiny (overview and scrutiny)",
}

# Which kind of person can hold each special role.
SPECIAL_ROLE_HOLDER: dict[str, str] = {
    SpecialRole.monitoring_officer: "officer",
    SpecialRole.chief_finance_officer: "officer",
    SpecialRole.head_of_paid_service: "officer",
    SpecialRole.scrutiny_chair: "member",
}


def kind_words(kind: str) -> KindWords:
    return PAIRING_KINDS.get(kind, _UNKNOWN)


def kind_label(kind: str) -> str:
    """The kind as headings and tables name it, e.g. "Elected mayor and chief executive"."""
    return kind_words(kind).label


def is_top_pairing(kind: str) -> bool:
    """The council's leading pairing: leader, elected mayor or convener with the chief
    executive — the pairing the Solace figures (chief executives about their leaders)
    describe, and the one whose raters should include the statutory officers."""
    return kind_words(kind).top


def role_words(kind: str) -> dict[str, str]:
    """How to name each target of a report for this kind: {"member": "leader", ...}."""
    words = kind_words(kind)
    return {
        "member": words.member_role,
        "officer": words.officer_role,
        "partnership": "the partnership",
    }


def kinds_for(governance: str) -> list[str]:
    """The pairing kinds a council run this way has, top pairing first."""
    return [k for k, w in PAIRING_KINDS.items() if governance in w.models]


def default_governance(nation: str) -> str:
    """Scottish and Northern Irish councils work through committees; English and Welsh
    councils mostly have a leader and cabinet."""
    if nation in ("Scotland", "Northern Ireland"):
        return GovernanceModel.committee_system.value
    return GovernanceModel.leader_cabinet.value


def pairing_label(member_name: str, officer_name: str, portfolio: str | None = "") -> str:
    """A pairing as it is named everywhere: "Member & Officer", and " (Portfolio)" when the
    pairing has one."""
    return f"{member_name} & {officer_name}" + (f" ({portfolio})" if portfolio else "")


class TrackingStage(StrEnum):
    """How far a rater has got, as the Tracking tab names it: the furthest stage reached.
    Derived from stored times and statuses (never from answers)."""

    not_contacted = "not contacted yet"
    exported = "exported for mail merge (not sent by Tandem)"
    emailed = "emailed"
    opened = "opened the link"
    started = "started (draft saved)"
    submitted = "submitted"


# How a message reached (or did not reach) a rater, as the Tracking tab words it.
MESSAGE_CHANNELS = {"email": "by email", "mail-merge": "in a mail-merge file"}


class CouncilDateKind(StrEnum):
    """The key dates of a council's year that a development plan works around. An
    election's pre-election period is part of its record (computed from polling day unless
    set), not a date of its own."""

    budget_council = "budget council"  # the full council meeting that sets the budget
    annual_council = "annual council"  # the annual meeting: leader, cabinet and chairs
    election = "election"  # polling day


COUNCIL_DATE_WORDS = {
    CouncilDateKind.budget_council.value: "Budget council",
    CouncilDateKind.annual_council.value: "Annual council",
    CouncilDateKind.election.value: "Polling day",
}
PRE_ELECTION_PERIOD = "pre-election period"  # what councils call "purdah" in guidance


def council_date_label(kind: str) -> str:
    """A council date's kind as people read it ("Budget council", "Polling day")."""
    return COUNCIL_DATE_WORDS.get(kind, kind)
