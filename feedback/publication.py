"""Publishing results, and the access-checked ways to read them (pages, CLI, exports).

Publishing freezes an *edition*: every pairing's suppressed report and the council overview,
exactly as the engine produced them. Principals only ever read editions. Republishing adds
an edition and never rewrites one, and it is checked against the previous edition so that
nobody can recover a late reply by comparing the two:

* Every published count of an anonymous source that was shown in the previous edition may
  change only by 0 or by at least the cycle's anonymity threshold: each item cell and each
  dimension cell of each anonymous group and of "everyone else", each anonymous group's
  number of replies (shown or not), and each shown group's number of comments per
  dimension. If the report
  computed with the new cut-off would move any of them by between 1 and threshold − 1, the
  whole pairing is computed as at the previous edition's cut-off (the same replies as
  before, so the same figures, comments and counts) and carries a notice. The late replies
  wait until enough others join them. A cell shown for the first time (suppressed before)
  may appear: nothing earlier can be subtracted from it.
* The council overview is computed from the same per-pairing cut-offs, so its heatmap and
  distributions cannot be differenced to recover a held-back reply either.
* "Change since last cycle" compares with the previous cycle's latest published edition
  (its dimension table), never with figures computed live: a previous cycle that was never
  published gives no change table at all.

Staff (facilitators of the council, administrators, the command line) read the live engine
once the cycle is closed — with the same hold-back as the next republication would apply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import and_
from sqlalchemy import select as sa_select
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
    COLUMNS,
    CouncilOverview,
    PairingReport,
    _comments,
    _compute,
    _Computed,
    _cycle,
    _gaps,
    _overview_from,
    _pairings,
    _report_from,
    previous_cycle,
    without_unshown,
)
from feedback.errors import Invalid, NotFound, PermissionDenied
from feedback.models import (
    Cycle,
    CycleStatus,
    PublishedPairingReport,
    PublishedReport,
    utcnow,
)

NOT_READY = (
    "Results can be read once the cycle is closed. This cycle is still {status}: close it "
    "first (no more answers are then accepted)."
)
CELL_SOURCES = (*ANONYMOUS, "others")  # the published sources that must not be differenced
CHANGE_SOURCES = ("self", "partner", "others")


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


def edition_sections(
    session: Session, report_id: int, pairing_ids: list[int] | None = None
) -> dict[str, dict[str, Any]]:
    """An edition's pairing reports as stored (pairing id as text → the report's dict)."""
    query = sa_select(PublishedPairingReport.pairing_id, PublishedPairingReport.content).where(
        PublishedPairingReport.report_id == report_id
    )
    if pairing_ids is not None:
        query = query.where(PublishedPairingReport.pairing_id.in_(pairing_ids))
    rows = session.execute(query.order_by(PublishedPairingReport.pairing_id)).all()
    return {str(pid): content for pid, content in rows}


def edition_content(session: Session, edition: PublishedReport) -> dict[str, Any]:
    """A whole edition in one dict: the overview, the cut-offs and every pairing's report
    under "pairings" (exports, subject access, tests), without what no screen shows."""
    return without_unshown({**edition.content, "pairings": edition_sections(session, edition.id)})


def _latest_section(
    session: Session, cycle_id: int, pairing_id: int
) -> tuple[int, dict[str, Any] | None] | None:
    """(latest edition's number, this pairing's part of it or None), or None when the cycle
    has no edition: one query that reads this pairing's part only."""
    row = session.execute(
        sa_select(PublishedReport.edition, PublishedPairingReport.content)
        .outerjoin(
            PublishedPairingReport,
            and_(
                PublishedPairingReport.report_id == PublishedReport.id,
                PublishedPairingReport.pairing_id == pairing_id,
            ),
        )
        .where(PublishedReport.cycle_id == cycle_id)
        .order_by(PublishedReport.edition.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


# --- the hold-back ------------------------------------------------------------------------------

Counts = dict[tuple[Any, ...], int]


def _shown_groups(groups: list[dict[str, Any]]) -> set[str]:
    return {g["group"] for g in groups if g["group"] in ANONYMOUS and g.get("shown")}


def _cell_counts(
    items: list[dict[str, Any]], dims: list[dict[str, Any]], groups: list[dict[str, Any]]
) -> Counts:
    """The published counts of the anonymous sources of one pairing's report."""
    out: Counts = {}
    for r in items:
        if r["source"] in CELL_SOURCES and r.get("n") is not None:
            out[("item", r["item_code"], r["target"], r["source"])] = int(r["n"])
    for r in dims:
        if r["source"] in CELL_SOURCES and r.get("n") is not None:
            out[("dimension", r["dimension_code"], r["target"], r["source"])] = int(r["n"])
    replies = {g["group"]: int(g["responded"] or 0) for g in groups}
    for group in ANONYMOUS:  # shown or not: a group's count of replies is published
        out[("replies", group)] = replies.get(group, 0)
    return out


def _comment_counts(frame: pd.DataFrame) -> dict[int, Counts]:
    """Per pairing, the number of comments per (group, dimension)."""
    out: dict[int, Counts] = {}
    if frame.empty:
        return out
    sizes = frame.groupby(["pairing_id", "rater_group", "dimension_code"]).size()
    for (pid, group, code), n in sizes.items():
        out.setdefault(int(pid), {})[("comments", group, code)] = int(n)
    return out


def _framework_counts(content: dict[str, Any]) -> Counts:
    """The published counts of framework 2026.2's additions in one pairing's report (stored
    or candidate): answers shown per open question, and how many of everyone else (and of
    each anonymous group) chose each dimension as mattering most, and of how many."""
    out: Counts = {}
    for q in content.get("open_answers") or []:
        out[("open", q["code"])] = len(q.get("answers") or [])
    for r in content.get("matters_most") or []:
        if r["source"] in CELL_SOURCES:
            out[("picked", r["source"], r["dimension_code"])] = int(r["picked"])
            out[("pickers", r["source"])] = int(r["raters"])
    return out


def _moves_a_few(before: Counts, after: Counts, shown_before: set[str], threshold: int) -> bool:
    """Whether any count shown before would change by between 1 and threshold − 1. Comment
    counts of a group shown before are checked even where it had no comment (0 → 1 is one
    identifiable comment); other cells only where they were shown before."""
    keys = set(before) | {k for k in after if k[0] == "comments" and k[1] in shown_before}
    return any(0 < abs(after.get(k, 0) - before.get(k, 0)) < threshold for k in keys)


def _to_hold(
    session: Session,
    cycle: Cycle,
    previous: PublishedReport,
    candidates: dict[int, PairingReport],
    cutoffs: dict[int, datetime],
    pairing_id: int | None,
) -> dict[int, datetime]:
    """The pairings whose candidate report (at `cutoffs`) would let a late reply be
    recovered by differencing it with the previous edition → that edition's cut-off."""
    old_sections = edition_sections(session, previous.id, list(candidates))
    old_cutoffs = previous.content.get("cutoffs", {})
    # A pairing new to this edition has nothing earlier to compare with.
    comparable = {
        pid: datetime.fromisoformat(old_cutoffs[str(pid)])
        for pid in candidates
        if str(pid) in old_sections and str(pid) in old_cutoffs
    }
    if not comparable:
        return {}
    comments_after = _comment_counts(_comments(session, cycle.id, pairing_id, cutoffs))
    comments_before = _comment_counts(_comments(session, cycle.id, pairing_id, comparable))
    threshold = cycle.anonymity_threshold
    hold: dict[int, datetime] = {}
    for pid, old_cutoff in comparable.items():
        section = old_sections[str(pid)]
        report = candidates[pid]
        old_groups = section.get("groups", [])
        new_groups = report.groups.to_dict("records")
        shown_before, shown_after = _shown_groups(old_groups), _shown_groups(new_groups)
        before = _cell_counts(section.get("items", []), section.get("dimensions", []), old_groups)
        after = _cell_counts(
            report.items.to_dict("records"), report.dimensions.to_dict("records"), new_groups
        )
        before |= {k: n for k, n in comments_before.get(pid, {}).items() if k[1] in shown_before}
        after |= {k: n for k, n in comments_after.get(pid, {}).items() if k[1] in shown_after}
        before |= _framework_counts(section)
        after |= _framework_counts(report.to_dict())
        if _moves_a_few(before, after, shown_before, threshold):
            hold[pid] = old_cutoff
    return hold


def _run(
    session: Session,
    cycle: Cycle,
    now: datetime,
    pairing_id: int | None = None,
    reports_wanted: bool = True,
) -> tuple[dict[int, datetime], dict[int, int], _Computed, dict[int, PairingReport]]:
    """The engine at the cut-offs the next edition would use: (cut-offs, held pairings →
    the edition they are held at, the engine pass at exactly those cut-offs, the reports).

    Without an earlier edition this is one engine pass (and no reports unless wanted).
    With one, every pairing's candidate report is compared with its previous section, and
    the pairings that must wait are recomputed at the previous edition's cut-off."""
    previous = latest_edition(session, cycle.id)
    ids = [int(p) for p in _pairings(session, cycle.id, pairing_id)["pairing_id"]]
    if pairing_id is not None and not ids:
        raise NotFound("That pairing did not take part in this cycle.")
    cutoffs = {pid: now for pid in ids}
    c = _compute(session, cycle, pairing_id, cutoffs)
    reports: dict[int, PairingReport] = {}
    if reports_wanted or previous is not None:
        gaps = _gaps(c)
        reports = {pid: _report_from(session, c, pid, gaps) for pid in ids}
    held: dict[int, int] = {}
    if previous is not None:
        hold = _to_hold(session, cycle, previous, reports, cutoffs, pairing_id)
        if hold:
            sections = edition_sections(session, previous.id, list(hold))
            for pid, at in hold.items():
                cutoffs[pid] = at
                held[pid] = int(sections[str(pid)].get("held_since") or previous.edition)
            c = _compute(session, cycle, pairing_id, cutoffs)
            gaps = _gaps(c)
            for pid in hold:  # pairings are independent: the others are unchanged
                reports[pid] = _report_from(session, c, pid, gaps)
    for pid, report in reports.items():
        _published_change(session, cycle, report)
        if pid in held:
            report.notices.append(held_notice(cycle.anonymity_threshold, held[pid]))
    return cutoffs, held, c, reports


def plan_cutoffs(
    session: Session, cycle: Cycle, now: datetime
) -> tuple[dict[int, datetime], dict[int, int]]:
    """Per pairing, the time up to which replies count in the next edition, and the pairings
    held at the previous edition's cut-off (pairing id → the edition they are held at)."""
    cutoffs, held, _c, _reports = _run(session, cycle, now, reports_wanted=False)
    return cutoffs, held


# --- change since the previous cycle ------------------------------------------------------------


def _previous_published_dimensions(
    session: Session, previous: Cycle, pairing_id: int
) -> list[dict[str, Any]] | None:
    """This pairing's dimension table in the previous cycle's latest edition (None if that
    cycle was never published, or its edition has no section for the pairing)."""
    row = session.execute(
        sa_select(PublishedPairingReport.content["dimensions"])
        .join(PublishedReport, PublishedReport.id == PublishedPairingReport.report_id)
        .where(
            PublishedReport.cycle_id == previous.id,
            PublishedPairingReport.pairing_id == int(pairing_id),
        )
        .order_by(PublishedReport.edition.desc())
        .limit(1)
    ).first()
    if row is None or not isinstance(row[0], list):
        return None
    return row[0]


def _published_change(session: Session, cycle: Cycle, report: PairingReport) -> None:
    """Rebuild the report's change table against the previous cycle as it was published
    (the engine's own table may use figures of an unpublished or held-back cycle)."""
    pid = int(report.meta["pairing_id"])
    previous = previous_cycle(session, cycle, pid)
    records = _previous_published_dimensions(session, previous, pid) if previous else None
    report.meta["previous_cycle_name"] = previous.name if records is not None else None
    empty = pd.DataFrame(columns=COLUMNS["change"])
    if not records:
        report.change = empty
        return
    before = pd.DataFrame(records)
    keys = ["dimension_code", "target", "source"]
    if not set([*keys, "mean"]) <= set(before.columns):
        report.change = empty
        return
    now = report.dimensions[report.dimensions["source"].isin(CHANGE_SOURCES)]
    change = now.merge(
        before[[*keys, "mean"]].rename(columns={"mean": "previous"}), on=keys
    ).rename(columns={"mean": "current"})
    change["previous"] = change["previous"].astype("float64")
    change["current"] = change["current"].astype("float64")
    change["change"] = change["current"] - change["previous"]
    change = change.dropna(subset=["previous", "current"])
    report.change = empty if change.empty else change[COLUMNS["change"]].reset_index(drop=True)


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
    cutoffs, held, c, reports = _run(session, cycle, now)
    overview = _overview_from(session, c, _gaps(c))
    edition = previous.edition + 1 if previous is not None else 1
    pairings: dict[str, Any] = {}
    for pid, report in reports.items():
        report.meta["edition"] = edition
        report.meta["published_at"] = now.isoformat()
        section = report.to_dict()
        if pid in held:
            section["held_since"] = held[pid]
        pairings[str(pid)] = section
    overview.meta["edition"] = edition
    content = {
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
    session.flush()
    session.add_all(
        PublishedPairingReport(report_id=row.id, pairing_id=int(pid), content=section)
        for pid, section in pairings.items()
    )
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
        latest = _latest_section(session, cycle.id, pairing_id)
        if latest is None:
            raise PermissionDenied(
                "Your report is not published yet. Your facilitator will tell you when it is."
            )
        if latest[1] is None:
            raise NotFound("This pairing has no published report in this cycle.")
        return PairingReport.from_dict(latest[1])
    if cycle.status == CycleStatus.published:
        latest = _latest_section(session, cycle.id, pairing_id)
        if latest is not None and latest[1] is not None:
            # Once published, staff read exactly what the principals read.
            return PairingReport.from_dict(latest[1])
    _live_ready(cycle)
    _cutoffs, _held, _c, reports = _run(session, cycle, utcnow(), pairing_id)
    return reports[pairing_id]


def read_council_overview(session: Session, actor: Actor, cycle_id: int) -> CouncilOverview:
    """The council overview (staff only), live once the cycle is closed."""
    require_staff(actor)
    cycle = require_cycle_manager(session, actor, cycle_id)
    if cycle.status == CycleStatus.published and (edition := latest_edition(session, cycle.id)):
        return CouncilOverview.from_dict(edition.content["overview"])
    _live_ready(cycle)
    _cutoffs, _held, c, _reports = _run(session, cycle, utcnow(), reports_wanted=False)
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
            for key, section in edition_sections(session, edition.id).items()
        }
    _live_ready(cycle)
    _cutoffs, _held, _c, reports = _run(session, cycle, utcnow())
    return reports


def read_published_overview(session: Session, actor: Actor, cycle_id: int) -> CouncilOverview:
    """The council overview as last published (staff)."""
    require_staff(actor)
    require_cycle_manager(session, actor, cycle_id)
    edition = latest_edition(session, cycle_id)
    if edition is None:
        raise NotFound("This cycle has not been published yet.")
    return CouncilOverview.from_dict(edition.content["overview"])
