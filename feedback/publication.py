"""Publishing results, and the access-checked ways to read them (pages, CLI, exports).

Publishing freezes an *edition*: every pairing's suppressed report and the council overview,
exactly as the engine produced them. Principals only ever read editions. Republishing adds
an edition and never rewrites one, and it is checked against the previous edition so that
nobody can recover a late reply by comparing the two:

* An anonymous group's figures and comments may change between editions only if the group
  gained at least the cycle's anonymity threshold of new submitted replies (or lost that
  many). If any group of a pairing changed by between 1 and threshold − 1, the whole pairing
  is computed as at the previous edition's cut-off (the same replies as before, so the same
  figures, comments and counts) and carries a notice. The late replies wait until enough
  others join them.
* The council overview is computed from the same per-pairing cut-offs, so its heatmap and
  distributions cannot be differenced to recover a held-back reply either.

Staff (facilitators of the council, administrators, the command line) read the live engine
once the cycle is closed — with the same hold-back as the next republication would apply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from feedback import audit
from feedback.access import (
    Actor,
    require_cycle_manager,
    require_pairing_reader,
    require_staff,
)
from feedback.analysis import (
    ANONYMOUS,
    CouncilOverview,
    PairingReport,
    _compute,
    _cycle,
    _gaps,
    _overview_from,
    _report_from,
    council_reports,
)
from feedback.errors import Invalid, NotFound, PermissionDenied
from feedback.models import Cycle, CycleStatus, PublishedReport, utcnow

NOT_READY = (
    "Results can be read once the cycle is closed. This cycle is still {status}: close it "
    "first (no more answers are then accepted)."
)


def held_notice(threshold: int, edition: int) -> str:
    return (
        f"A few replies arrived after edition {edition} was published. To keep them "
        f"anonymous, this pairing's results stay as they were until at least {threshold} new "
        "replies from the same group have come in."
    )


def latest_edition(session: Session, cycle_id: int) -> PublishedReport | None:
    return session.exec(
        select(PublishedReport)
        .where(PublishedReport.cycle_id == cycle_id)
        .order_by(PublishedReport.edition.desc())
        .limit(1)
    ).first()


def _responded(report: dict[str, Any]) -> dict[str, int]:
    return {g["group"]: int(g["responded"]) for g in report.get("groups", [])}


def plan_cutoffs(
    session: Session, cycle: Cycle, previous: PublishedReport | None, now: datetime
) -> tuple[dict[int, datetime], dict[int, int]]:
    """Per pairing, the time up to which replies count in the next edition, and the pairings
    held at the previous edition's cut-off (pairing id → that edition's number)."""
    from feedback.analysis import _invitations, _pairings

    pairing_ids = [int(p) for p in _pairings(session, cycle.id, None)["pairing_id"]]
    cutoffs = {pid: now for pid in pairing_ids}
    held: dict[int, int] = {}
    if previous is None:
        return cutoffs, held
    counts = _invitations(session, cycle.id, None, None)
    current = {
        (int(r.pairing_id), r.group): int(r.responded) for r in counts.itertuples(index=False)
    }
    old_sections = previous.content.get("pairings", {})
    old_cutoffs = previous.content.get("cutoffs", {})
    threshold = cycle.anonymity_threshold
    for pid in pairing_ids:
        section = old_sections.get(str(pid))
        if section is None or str(pid) not in old_cutoffs:
            continue  # a pairing new to this edition: nothing earlier to compare with
        before = _responded(section)
        changes = [current.get((pid, g), 0) - before.get(g, 0) for g in ANONYMOUS]
        if any(0 < abs(d) < threshold for d in changes):
            cutoffs[pid] = datetime.fromisoformat(old_cutoffs[str(pid)])
            held[pid] = int(section.get("held_since") or previous.edition)
    return cutoffs, held


def _apply_held(report: PairingReport, held: dict[int, int], threshold: int) -> None:
    pid = int(report.meta["pairing_id"])
    if pid in held:
        report.notices.append(held_notice(threshold, held[pid]))


def publish_cycle(session: Session, actor: Actor, cycle_id: int) -> PublishedReport:
    """Freeze a new edition of a closed (or already published) cycle's results."""
    cycle = require_cycle_manager(session, actor, cycle_id)
    if cycle.status not in (CycleStatus.closed, CycleStatus.published):
        raise Invalid(
            f"A {cycle.status} cycle cannot be published; close it first so that no more "
            "answers come in."
        )
    now = utcnow()
    previous = latest_edition(session, cycle.id)
    cutoffs, held = plan_cutoffs(session, cycle, previous, now)
    reports, overview = council_reports(session, cycle.id, cutoffs)
    edition = previous.edition + 1 if previous is not None else 1
    pairings: dict[str, Any] = {}
    for pid, report in reports.items():
        report.meta["edition"] = edition
        _apply_held(report, held, cycle.anonymity_threshold)
        section = report.to_dict()
        if pid in held:
            section["held_since"] = held[pid]
        pairings[str(pid)] = section
    overview.meta["edition"] = edition
    content = {
        "pairings": pairings,
        "overview": overview.to_dict(),
        "cutoffs": {str(pid): at.isoformat() for pid, at in cutoffs.items()},
    }
    row = PublishedReport(
        cycle_id=cycle.id,
        edition=edition,
        content=content,
        published_at=now,
        published_by=actor.label,
    )
    session.add(row)
    if cycle.status == CycleStatus.closed:
        cycle.status = CycleStatus.published.value
    cycle.published_at = cycle.published_at or now
    session.add(cycle)
    session.flush()
    audit.record(
        session,
        actor,
        "publish results",
        "cycle",
        cycle.id,
        cycle.council_id,
        edition=edition,
        held_pairings=sorted(held) or None,
    )
    return row


def list_editions(session: Session, actor: Actor, cycle_id: int) -> list[dict[str, Any]]:
    """Editions of a cycle: number, when and by whom (staff)."""
    require_cycle_manager(session, actor, cycle_id)
    rows = session.exec(
        select(PublishedReport.edition, PublishedReport.published_at, PublishedReport.published_by)
        .where(PublishedReport.cycle_id == cycle_id)
        .order_by(PublishedReport.edition)
    ).all()
    return [{"edition": e, "published_at": at, "published_by": by} for e, at, by in rows]


def _live_ready(cycle: Cycle) -> None:
    if cycle.status not in (CycleStatus.closed, CycleStatus.published):
        raise Invalid(NOT_READY.format(status=cycle.status))


def read_pairing_report(
    session: Session, actor: Actor, cycle_id: int, pairing_id: int
) -> PairingReport:
    """A principal reads their own pairing's latest published edition. Staff read the same
    edition once the cycle is published, and before that the live engine once the cycle is
    closed (with the hold-back the next edition would apply)."""
    cycle = _cycle(session, cycle_id)
    require_pairing_reader(session, actor, pairing_id, cycle)
    if actor.role == "principal":
        edition = latest_edition(session, cycle.id)
        if edition is None:
            raise PermissionDenied(
                "Your report is not published yet. Your facilitator will tell you when it is."
            )
        section = edition.content.get("pairings", {}).get(str(pairing_id))
        if section is None:
            raise NotFound("This pairing has no published report in this cycle.")
        return PairingReport.from_dict(section)
    if cycle.status == CycleStatus.published and (edition := latest_edition(session, cycle.id)):
        # Once published, staff read exactly what the principals read.
        section = edition.content.get("pairings", {}).get(str(pairing_id))
        if section is not None:
            return PairingReport.from_dict(section)
    _live_ready(cycle)
    cutoffs, held = plan_cutoffs(session, cycle, latest_edition(session, cycle.id), utcnow())
    c = _compute(session, cycle, pairing_id, {pairing_id: cutoffs[pairing_id]})
    report = _report_from(session, c, pairing_id)
    _apply_held(report, held, cycle.anonymity_threshold)
    return report


def read_council_overview(session: Session, actor: Actor, cycle_id: int) -> CouncilOverview:
    """The council overview (staff only), live once the cycle is closed."""
    require_staff(actor)
    cycle = require_cycle_manager(session, actor, cycle_id)
    if cycle.status == CycleStatus.published and (edition := latest_edition(session, cycle.id)):
        return CouncilOverview.from_dict(edition.content["overview"])
    _live_ready(cycle)
    cutoffs, _held = plan_cutoffs(session, cycle, latest_edition(session, cycle.id), utcnow())
    c = _compute(session, cycle, None, cutoffs)
    return _overview_from(session, c, _gaps(c))


def read_all_pairing_reports(
    session: Session, actor: Actor, cycle_id: int
) -> dict[int, PairingReport]:
    """Every pairing's report of a cycle in one pass (staff; the CLI and exports)."""
    require_staff(actor)
    cycle = require_cycle_manager(session, actor, cycle_id)
    if cycle.status == CycleStatus.published and (edition := latest_edition(session, cycle.id)):
        return {
            int(key): PairingReport.from_dict(section)
            for key, section in edition.content.get("pairings", {}).items()
        }
    _live_ready(cycle)
    cutoffs, held = plan_cutoffs(session, cycle, latest_edition(session, cycle.id), utcnow())
    reports, _overview = council_reports(session, cycle.id, cutoffs)
    for report in reports.values():
        _apply_held(report, held, cycle.anonymity_threshold)
    return reports


def read_published_overview(session: Session, actor: Actor, cycle_id: int) -> CouncilOverview:
    """The council overview as last published (staff)."""
    require_staff(actor)
    require_cycle_manager(session, actor, cycle_id)
    edition = latest_edition(session, cycle_id)
    if edition is None:
        raise NotFound("This cycle has not been published yet.")
    return CouncilOverview.from_dict(edition.content["overview"])
