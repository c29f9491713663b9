"""Cycles: one round of feedback for a council, the pairings in it and the raters nominated."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from core import audit
from core.errors import Conflict, Invalid, NotFound
from core.formats import uk_datetime
from core.i18n import unchecked_messages
from core.models import AuditEvent, stored_id, utcnow
from core.roles import Actor, require_council_manager
from core.text import column_limit, one_line
from core.vocabulary import (
    GROUP_LABELS,
    LANGUAGE_LABELS,
    CycleStatus,
    InvitationStatus,
    Language,
    PersonKind,
    PoliticalSide,
    RaterGroup,
    SpecialRole,
    is_top_pairing,
)
from feedback.models import Cycle, CyclePairing, FrameworkVersion, Invitation, Pairing, Person
from feedback.setup.framework import (
    ensure_default_framework,
    framework_spec,
    welsh_notice,
    with_file_welsh,
)

# draft → open → closed → published; a closed cycle may be reopened for late responses,
# and a published one may be republished (see the analysis engine's publication check).
TRANSITIONS: dict[str, set[str]] = {
    CycleStatus.draft: {CycleStatus.open},
    CycleStatus.open: {CycleStatus.closed},
    CycleStatus.closed: {CycleStatus.open, CycleStatus.published},
    CycleStatus.published: {CycleStatus.closed},
}

# Which kind of person can sit in which anonymous rater group.
GROUP_KIND: dict[str, str] = {
    RaterGroup.members: PersonKind.member,
    RaterGroup.officers: PersonKind.officer,
    RaterGroup.partners: PersonKind.external,
}


def get_cycle(session: Session, cycle_id: int) -> Cycle:
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound(f"There is no cycle with id {cycle_id}.")
    return cycle


def find_cycle(session: Session, ref: str) -> Cycle:
    """A cycle by id or by its name (the command line accepts either)."""
    if ref.isdigit():
        return get_cycle(session, int(ref))
    matches = list(session.exec(select(Cycle).where(Cycle.name == ref)))
    if not matches:
        raise NotFound(f"There is no cycle called '{ref}'. `tandem cycles` lists them.")
    if len(matches) > 1:
        ids = ", ".join(str(c.id) for c in matches)
        raise Invalid(f"Several councils have a cycle called '{ref}'; use its id ({ids}).")
    return matches[0]


def list_cycles(session: Session, council_id: int) -> list[Cycle]:
    return list(
        session.exec(
            select(Cycle)
            .where(col(Cycle.council_id) == council_id)
            .order_by(col(Cycle.opens_on).desc())
        )
    )


def create_cycle(
    session: Session,
    actor: Actor,
    council_id: int,
    name: str,
    opens_on: date,
    closes_on: date,
    anonymity_threshold: int = 3,
    framework_version_id: int | None = None,
    language: str = Language.en,
) -> Cycle:
    require_council_manager(actor, council_id)
    name = cycle_name(name)
    language = cycle_language(language)
    if closes_on < opens_on:
        raise Invalid("A cycle cannot close before it opens.")
    if anonymity_threshold < 2:
        raise Invalid(
            "The anonymity threshold cannot be below 2: with one rater, their answers "
            "would be shown as theirs."
        )
    if session.exec(
        select(Cycle).where(Cycle.council_id == council_id, Cycle.name == name)
    ).first():
        raise Conflict(f"This council already has a cycle called '{name}'.")
    if framework_version_id is None:
        framework_version_id = stored_id(ensure_default_framework(session).id)
    elif session.get(FrameworkVersion, framework_version_id) is None:
        raise NotFound("That framework version is not stored.")
    cycle = Cycle(
        council_id=council_id,
        name=name,
        opens_on=opens_on,
        closes_on=closes_on,
        anonymity_threshold=anonymity_threshold,
        framework_version_id=framework_version_id,
        language=language,
    )
    session.add(cycle)
    session.flush()
    audit.record(session, actor, "create cycle", "cycle", cycle.id, council_id, name=name)
    return cycle


def cycle_language(language: str) -> str:
    """A cycle's language as stored (en, cy or both), or a sentence saying what is allowed."""
    value = (language or "").strip().lower()
    if value not in set(Language):
        allowed = ", ".join(f"{code} ({label})" for code, label in LANGUAGE_LABELS.items())
        raise Invalid(f"'{language}' is not a language a cycle can run in: choose {allowed}.")
    return value


def language_notices(session: Session, cycle: Cycle) -> list[str]:
    """What staff must know before raters read a Welsh or bilingual cycle: Welsh that is
    missing (raters would read English) or machine-drafted and not yet checked by a Welsh
    speaker, in the framework or in Tandem's own words; and, in a bilingual cycle, that a
    facilitator's own email wording is sent as written (so it should be in both)."""
    if cycle.language == Language.en:
        return []
    notices: list[str] = []
    version = session.get(FrameworkVersion, cycle.framework_version_id)
    if version is not None:
        spec = with_file_welsh(framework_spec(version))
        if (notice := welsh_notice(spec)) is not None:
            notices.append(notice)
    if unchecked := unchecked_messages(Language.cy):
        notices.append(
            f"{unchecked} of Tandem's own Welsh wordings (the questionnaire's buttons and "
            "help, the confidentiality statement, the emails) were machine-drafted and are "
            "not yet checked by a Welsh speaker (data/locale/cy/LC_MESSAGES/tandem.po)."
        )
    if cycle.language == Language.both and (cycle.invitation_subject or cycle.reminder_subject):
        notices.append(
            "This cycle's emails use your own wording, which is sent as written: write it in "
            "Welsh and English (Welsh first), or clear it to send Tandem's bilingual wording."
        )
    return notices


def set_cycle_language(session: Session, actor: Actor, cycle_id: int, language: str) -> Cycle:
    """Run a cycle in English, Welsh or both: what its raters read (the questionnaire, the
    confidentiality statement, link pages) and are emailed. Changeable until the round
    closes; answers already given keep the language they were given in."""
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    value = cycle_language(language)
    if cycle.status in (CycleStatus.closed, CycleStatus.published):
        raise Invalid(
            f"The cycle is {cycle.status}: its raters have finished, so its language can no "
            "longer change."
        )
    if value != cycle.language:
        cycle.language = value
        session.add(cycle)
        session.flush()
        audit.record(
            session, actor, "set cycle language", "cycle", cycle.id, cycle.council_id, to=value
        )
    return cycle


def cycle_name(name: str | None) -> str:
    """A cycle's name as stored (core.text.one_line), or Invalid saying why not."""
    return one_line(
        name,
        "the cycle's name",
        limit=column_limit(Cycle, "name"),
        required="A cycle needs a name, for example 'Autumn 2026 review'.",
    )


SETTING_NAMES = {
    "name": "its name",
    "opens_on": "the opening date",
    "closes_on": "the closing date",
    "anonymity_threshold": "the anonymity threshold",
}


def cycle_settings(cycle: Cycle) -> dict[str, object]:
    """The settings a facilitator can edit, as the edit form shows them."""
    return {
        "name": cycle.name,
        "opens_on": cycle.opens_on,
        "closes_on": cycle.closes_on,
        "anonymity_threshold": cycle.anonymity_threshold,
    }


def update_cycle(
    session: Session,
    actor: Actor,
    cycle_id: int,
    name: str,
    opens_on: date,
    closes_on: date,
    anonymity_threshold: int,
    as_seen: dict[str, object] | None = None,
) -> Cycle:
    """Rename a cycle, move its dates or raise its anonymity threshold.

    `as_seen` is the cycle's settings as the editor's form showed them (`cycle_settings`):
    if someone else changed them meanwhile, nothing is saved and the editor is told what.

    Raters are told the threshold in their invitation and on the questionnaire, so it can be
    lowered only while the cycle is a draft (nobody has been told yet) and raised only until
    the results are published (an edition keeps the rules it was published with). The
    opening date is history once the cycle has opened; the closing date can move until the
    cycle is published — extending a round is the usual reason."""
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    if as_seen is not None:
        now = cycle_settings(cycle)
        moved = [k for k in now if k in as_seen and as_seen[k] != now[k]]
        if moved:
            raise Conflict(
                "Someone else changed this cycle while you were editing it ("
                + ", ".join(SETTING_NAMES[k] for k in moved)
                + "). Nothing was saved: look at the current settings and make your change again."
            )
    problems: list[str] = []
    try:
        name = cycle_name(name)
    except Invalid as exc:
        problems.append(str(exc))
        name = ""
    if (
        name
        and name != cycle.name
        and session.exec(
            select(Cycle.id).where(
                Cycle.council_id == cycle.council_id, Cycle.name == name, Cycle.id != cycle.id
            )
        ).first()
    ):
        problems.append(f"This council already has a cycle called '{name}'.")
    published = cycle.status == CycleStatus.published
    if opens_on != cycle.opens_on and cycle.status != CycleStatus.draft:
        problems.append(
            f"The opening date cannot change: the cycle opened on {cycle.opens_on:%-d %B %Y}."
        )
    if closes_on != cycle.closes_on and published:
        problems.append(
            "The closing date cannot change once results are published; withdraw the "
            "publication first if the round must reopen."
        )
    if closes_on < opens_on:
        problems.append("A cycle cannot close before it opens.")
    threshold = int(anonymity_threshold)
    if threshold != cycle.anonymity_threshold:
        if threshold < 2:
            problems.append(
                "The anonymity threshold cannot be below 2: with one rater, their answers "
                "would be shown as theirs."
            )
        elif threshold < cycle.anonymity_threshold and cycle.status != CycleStatus.draft:
            problems.append(
                f"The anonymity threshold cannot be lowered now: raters were told that groups "
                f"of fewer than {cycle.anonymity_threshold} are never shown. It can only be "
                "raised."
            )
        elif published:
            problems.append(
                "The anonymity threshold cannot change once results are published; withdraw "
                "the publication first."
            )
    if problems:
        raise Invalid("The cycle was not changed.", problems=problems)
    before = cycle_settings(cycle)
    cycle.name, cycle.opens_on, cycle.closes_on = name, opens_on, closes_on
    cycle.anonymity_threshold = threshold
    after = cycle_settings(cycle)
    changed = {
        k: {"from": str(before[k]), "to": str(after[k])} for k in after if before[k] != after[k]
    }
    if not changed:
        return cycle
    session.add(cycle)
    try:
        session.flush()
    except IntegrityError as exc:  # a rename racing another one
        raise Conflict(f"This council already has a cycle called '{name}'.") from exc
    audit.record(session, actor, "change cycle", "cycle", cycle.id, cycle.council_id, **changed)
    return cycle


# What each move does, in words: "X was {closed} by someone else".
STATUS_VERBS: dict[str, str] = {
    CycleStatus.draft: "made a draft",
    CycleStatus.open: "opened",
    CycleStatus.closed: "closed",
    CycleStatus.published: "published",
}


def last_status_change(session: Session, cycle: Cycle) -> tuple[str, datetime] | None:
    """Who moved the cycle to its present status, and when (from the audit log)."""
    event = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.entity == "cycle",
            AuditEvent.entity_id == cycle.id,
            AuditEvent.action == f"cycle {cycle.status}",
        )
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    ).first()
    return (event.actor, event.at) if event is not None else None


def require_status(session: Session, cycle: Cycle, expected_status: str | None) -> None:
    """Conflict, saying who changed it and when, unless the cycle is still in the status
    the user saw (`expected_status`; None: not checked, as the command line does)."""
    if expected_status is None or cycle.status == expected_status:
        return
    verb = STATUS_VERBS.get(cycle.status, cycle.status)
    change = last_status_change(session, cycle)
    by = f" by {change[0]} at {uk_datetime(change[1])}" if change else ""
    raise Conflict(
        f"'{cycle.name}' was {verb}{by}, after you looked at it (you saw it "
        f"{expected_status}); nothing was changed. Look at it as it is now before you act."
    )


def set_cycle_status(
    session: Session,
    actor: Actor,
    cycle_id: int,
    status: str,
    expected_status: str | None = None,
) -> Cycle:
    """Move a cycle to `status`. `expected_status` is the status the user saw: when the
    cycle has moved since (someone else acted), nothing changes and Conflict says who and
    when. A cycle opens only with someone to ask (see `opening_refusal`)."""
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    require_status(session, cycle, expected_status)
    if status not in TRANSITIONS.get(cycle.status, set()):
        allowed = ", ".join(sorted(TRANSITIONS.get(cycle.status, set()))) or "nothing"
        raise Invalid(f"A {cycle.status} cycle cannot become {status}; it can become {allowed}.")
    if status == CycleStatus.open and (refusal := opening_refusal(session, cycle)):
        raise Invalid(refusal)
    before = cycle.status
    cycle.status = status
    if status == CycleStatus.published:
        cycle.published_at = utcnow()
    session.add(cycle)
    session.flush()
    audit.record(
        session, actor, f"cycle {status}", "cycle", cycle.id, cycle.council_id, before=before
    )
    if status == CycleStatus.published:
        from feedback.results.publication import publish_cycle  # freezes a new edition

        publish_cycle(session, actor, stored_id(cycle.id))
    return cycle


def opening_refusal(session: Session, cycle: Cycle) -> str | None:
    """Why the cycle cannot open, or None: a cycle with nobody invited has no raters."""
    invited = session.exec(
        select(func.count())
        .select_from(Invitation)
        .where(Invitation.cycle_id == cycle.id, Invitation.status != InvitationStatus.revoked)
    ).one()
    if invited:
        return None
    return (
        f"'{cycle.name}' has no raters, so opening it would ask nobody for feedback. Add "
        "pairings to it (their two principals are invited) and nominate their raters, "
        "then open it."
    )


def add_pairing_to_cycle(session: Session, actor: Actor, cycle_id: int, pairing_id: int) -> None:
    """Put a pairing in a cycle; both principals are invited automatically."""
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    if cycle.status in (CycleStatus.closed, CycleStatus.published):
        raise Invalid(f"The cycle is {cycle.status}; pairings can no longer be added to it.")
    pairing = session.get(Pairing, pairing_id)
    if pairing is None or pairing.council_id != cycle.council_id:
        raise Invalid("That pairing does not belong to this cycle's council.")
    if not pairing.active and session.get(CyclePairing, (cycle_id, pairing_id)) is None:
        from feedback.setup.people import pairing_label

        raise Invalid(
            f"{pairing_label(session, pairing)} has ended, so it takes part in no new cycle. "
            "Take it up again on the Pairings page if it was ended by mistake."
        )
    if session.get(CyclePairing, (cycle_id, pairing_id)) is None:
        session.add(CyclePairing(cycle_id=cycle_id, pairing_id=pairing_id))
    for person_id in (pairing.member_id, pairing.officer_id):
        if not _invitation_for(session, cycle_id, pairing_id, person_id):
            session.add(
                Invitation(
                    cycle_id=cycle_id,
                    pairing_id=pairing_id,
                    rater_id=person_id,
                    rater_group=RaterGroup.principal,
                )
            )
    session.flush()
    audit.record(
        session,
        actor,
        "add pairing to cycle",
        "cycle",
        cycle_id,
        cycle.council_id,
        pairing_id=pairing_id,
    )


def pairings_in_cycle(session: Session, cycle_id: int) -> list[Pairing]:
    return list(
        session.exec(
            select(Pairing)
            .join(CyclePairing, col(CyclePairing.pairing_id) == col(Pairing.id))
            .where(CyclePairing.cycle_id == cycle_id)
            .order_by(col(Pairing.kind).desc(), col(Pairing.id))
        )
    )


def _invitation_for(
    session: Session, cycle_id: int, pairing_id: int, person_id: int
) -> Invitation | None:
    return session.exec(
        select(Invitation).where(
            Invitation.cycle_id == cycle_id,
            Invitation.pairing_id == pairing_id,
            Invitation.rater_id == person_id,
        )
    ).first()


def nominate_rater(
    session: Session, actor: Actor, cycle_id: int, pairing_id: int, person_id: int, group: str
) -> Invitation:
    """Nominate a councillor, officer or external partner to rate a pairing."""
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    if cycle.status in (CycleStatus.closed, CycleStatus.published):
        raise Invalid(f"The cycle is {cycle.status}; raters can no longer be added.")
    if session.get(CyclePairing, (cycle_id, pairing_id)) is None:
        raise Invalid("That pairing is not part of this cycle.")
    pairing = session.get(Pairing, pairing_id)
    if pairing is None:
        raise NotFound("That pairing does not exist.")
    person = session.get(Person, person_id)
    if person is None or person.council_id != cycle.council_id:
        raise Invalid("Raters must be people recorded for this council.")
    if person_id in (pairing.member_id, pairing.officer_id):
        raise Invalid(f"{person.full_name} is one of the pair and is already invited.")
    if group not in GROUP_KIND:
        raise Invalid("A nominated rater is in the members, officers or partners group.")
    if GROUP_KIND[group] != person.kind:
        raise Invalid(
            f"{person.full_name} is recorded as {person.kind}, so cannot rate in the "
            f"'{GROUP_LABELS[group]}' group."
        )
    existing = _invitation_for(session, cycle_id, pairing_id, person_id)
    if existing is not None and existing.status == InvitationStatus.revoked:
        # Withdrawn earlier and now wanted again: the same invitation comes back (one per
        # rater, pairing and cycle), with any answers saved before; a new link is needed.
        existing.status = InvitationStatus.not_started
        existing.revoked_at = None
        existing.token_hash = None
        existing.rater_group = group
        session.add(existing)
        session.flush()
        audit.record(
            session, actor, "nominate rater again", "invitation", existing.id, cycle.council_id
        )
        return existing
    if existing is not None:
        raise Conflict(f"{person.full_name} is already nominated for this pairing.")
    invitation = Invitation(
        cycle_id=cycle_id, pairing_id=pairing_id, rater_id=person_id, rater_group=group
    )
    session.add(invitation)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{person.full_name} is already nominated for this pairing.") from exc
    audit.record(session, actor, "nominate rater", "invitation", invitation.id, cycle.council_id)
    return invitation


def group_counts(session: Session, cycle_id: int, pairing_id: int) -> dict[str, int]:
    """Nominated raters per group, for the below-threshold warning."""
    rows = session.exec(
        select(Invitation.rater_group, func.count())
        .where(
            Invitation.cycle_id == cycle_id,
            Invitation.pairing_id == pairing_id,
            Invitation.status != InvitationStatus.revoked,
        )
        .group_by(Invitation.rater_group)
    ).all()
    return {group: count for group, count in rows}


# --- nomination screens (added for the cycle set-up page) ---------------------------------


def nominate_raters(
    session: Session,
    actor: Actor,
    cycle_id: int,
    pairing_id: int,
    person_ids: list[int],
    group: str,
) -> list[Invitation]:
    """Nominate several raters at once, all or nothing: every problem is listed and
    nobody is added unless all can be."""
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    if len(set(person_ids)) != len(person_ids):
        raise Invalid("The same person is in the list twice; nominate each person once.")
    added, problems = [], []
    for person_id in person_ids:
        try:
            with session.begin_nested():
                added.append(nominate_rater(session, actor, cycle_id, pairing_id, person_id, group))
        except (Invalid, Conflict, NotFound) as exc:
            problems.append(str(exc))
    if problems:
        raise Invalid("Nobody was nominated:", problems)
    return added


@dataclass(frozen=True)
class Nomination:
    """One rater invited to rate a pairing, as the cycle page lists them (never answers)."""

    invitation_id: int
    person_id: int
    name: str
    title: str
    group: str  # a RaterGroup
    status: str  # an InvitationStatus

    @property
    def live(self) -> bool:
        """Not withdrawn."""
        return self.status != InvitationStatus.revoked

    @property
    def withdrawable(self) -> bool:
        """An anonymous rater who has not submitted (the pair are never withdrawn)."""
        return self.group != RaterGroup.principal and self.status in (
            InvitationStatus.not_started,
            InvitationStatus.in_progress,
        )


def nominations(session: Session, cycle_id: int, pairing_id: int) -> list[Nomination]:
    """Who is invited to rate a pairing, with their group and status (never answers)."""
    rows = session.exec(
        select(Invitation, Person)
        .join(Person, col(Person.id) == Invitation.rater_id)
        .where(Invitation.cycle_id == cycle_id, Invitation.pairing_id == pairing_id)
        .order_by(col(Invitation.rater_group), col(Person.full_name))
    ).all()
    return [
        Nomination(
            invitation_id=inv.id or 0,
            person_id=person.id or 0,
            name=person.full_name,
            title=person.title,
            group=inv.rater_group,
            status=inv.status,
        )
        for inv, person in rows
    ]


def nomination_warnings(session: Session, cycle_id: int) -> list[str]:
    """Everything worth fixing in a cycle's nominations before it opens, pairing by
    pairing (see pairing_nomination_warnings). Warnings, never refusals."""
    cycle = get_cycle(session, cycle_id)
    warnings = []
    for pairing in pairings_in_cycle(session, cycle_id):
        warnings += pairing_nomination_warnings(session, cycle, pairing)
    return warnings


def pairing_nomination_warnings(session: Session, cycle: Cycle, pairing: Pairing) -> list[str]:
    """Anonymous groups with fewer nominated raters than the cycle's threshold (their
    answers would be left out of the report), then the balance of the raters."""
    from feedback.setup.people import pairing_label

    label = pairing_label(session, pairing)
    warnings = []
    cycle_id, pairing_id = stored_id(cycle.id), stored_id(pairing.id)
    counts = group_counts(session, cycle_id, pairing_id)
    for group in GROUP_KIND:
        n = counts.get(group, 0)
        if n == 0:
            warnings.append(
                f"{label}: no {GROUP_LABELS[group].lower()} "
                f"nominated, so this group will not appear in the report. Nominate at "
                f"least {cycle.anonymity_threshold} if their view matters."
            )
        elif n < cycle.anonymity_threshold:
            warnings.append(
                f"{label}: only {n} {GROUP_LABELS[group].lower()} "
                f"nominated. At least {cycle.anonymity_threshold} must respond for this "
                "group to be reported; with fewer, its answers are left out. Nominate more."
            )
    return warnings + balance_warnings(session, cycle_id, pairing_id)


@dataclass(frozen=True)
class NominationCheck:
    """One line of the table of what to check before a cycle opens: an anonymous group of a
    pairing with fewer nominated raters than the threshold, or the balance of its raters."""

    pairing_id: int
    pairing: str  # the pairing's label (people's names: plain text)
    group: str  # the rater group in words, or "" for a check of the whole pairing
    nominated: int | None  # raters nominated in the group (None: a balance check)
    needed: int | None  # the anonymity threshold (None: a balance check)
    note: str  # what it means and what to do, in a sentence


def nomination_checks(session: Session, cycle_id: int) -> list[NominationCheck]:
    """Everything worth fixing in a cycle's nominations, one row per pairing and group under
    the anonymity threshold, then one per balance warning: the one table the Cycles page
    shows (in the raters tab and before it opens). Warnings, never refusals."""
    from feedback.setup.people import pairing_label

    cycle = get_cycle(session, cycle_id)
    threshold = cycle.anonymity_threshold
    rows: list[NominationCheck] = []
    balance: list[NominationCheck] = []
    for pairing in pairings_in_cycle(session, cycle_id):
        pid = stored_id(pairing.id)
        label = pairing_label(session, pairing)
        counts = group_counts(session, cycle_id, pid)
        for group in GROUP_KIND:
            n = counts.get(group, 0)
            if n >= threshold:
                continue
            note = (
                "Nobody nominated: this group will not appear in the report."
                if n == 0
                else f"Fewer than {threshold}: unless {threshold - n} more are nominated and "
                f"at least {threshold} respond, this group's answers are left out."
            )
            rows.append(NominationCheck(pid, label, GROUP_LABELS[group], n, threshold, note))
        for warning in balance_warnings(session, cycle_id, pid):
            note = warning.removeprefix(f"{label}: ")
            balance.append(NominationCheck(pid, label, "", None, None, note[:1].upper() + note[1:]))
    return rows + balance


# Why each statutory or special role should rate the council's top pairing.
ROLES_FOR_TOP_PAIRING: dict[str, str] = {
    SpecialRole.monitoring_officer: "sees how the pair handle propriety, standards and "
    "formal advice",
    SpecialRole.chief_finance_officer: "sees whether financial advice is sought and heeded",
    SpecialRole.scrutiny_chair: "sees how the pair take challenge from councillors outside "
    "the executive",
}


def balance_warnings(session: Session, cycle_id: int, pairing_id: int) -> list[str]:
    """Is the pairing rated from more than one angle? Warns when the other councillors
    nominated whose side is recorded are all from the administration or all from the
    opposition, and — for a council's top pairing (leader, mayor or convener with the chief
    executive) — when the monitoring officer, the chief finance officer (s151) or a chair of
    scrutiny is not among its raters. Plain sentences for the page and the command line."""
    from feedback.setup.people import pairing_label

    pairing = session.get(Pairing, pairing_id)
    if pairing is None:
        raise NotFound("That pairing does not exist.")
    label = pairing_label(session, pairing)
    invited = session.exec(
        select(Invitation.rater_group, Person)
        .join(Person, col(Person.id) == col(Invitation.rater_id))
        .where(
            Invitation.cycle_id == cycle_id,
            Invitation.pairing_id == pairing_id,
            Invitation.status != InvitationStatus.revoked,
        )
    ).all()
    warnings = []

    sides = Counter(p.political_side for group, p in invited if group == RaterGroup.members)
    recorded = [side for side in PoliticalSide if sides[side]]
    if len(recorded) == 1:
        side = recorded[0]
        other = (
            PoliticalSide.opposition
            if side == PoliticalSide.administration
            else PoliticalSide.administration
        )
        n, unknown = sides[side], sides[""]
        who = (
            f"the {n} other councillor{'s' if n != 1 else ''} nominated"
            if not unknown
            else f"the {n} other councillor{'s' if n != 1 else ''} nominated whose side is "
            f"recorded ({unknown} more {'have' if unknown != 1 else 'has'} none recorded)"
        )
        warnings.append(
            f"{label}: {who} {'are all' if n != 1 else 'is'} from the {side}. Nominate "
            f"councillors from the {other} too, so the report does not rest on one side's view."
        )

    if is_top_pairing(pairing.kind):
        present = {p.special_role for _, p in invited}
        for role, why in ROLES_FOR_TOP_PAIRING.items():
            if role in present:
                continue
            holders = session.exec(
                select(Person.full_name)
                .where(Person.council_id == pairing.council_id, Person.special_role == role)
                .order_by(Person.full_name)
            ).all()
            if holders:
                warnings.append(
                    f"{label}: the {role} ({', '.join(holders)}) is not among the raters. "
                    f"The {role} {why}; nominate them."
                )
            else:
                warnings.append(
                    f"{label}: no {role} is among the raters, and nobody at the council is "
                    f"recorded as the {role}. The {role} {why}: record the role on the People "
                    "page and nominate them."
                )
    return warnings
