"""Publishing results, and the access-checked ways to read them (pages, CLI, exports).

Publishing freezes an *edition*: every pairing's suppressed report and the council overview.
Principals only ever read editions. Republishing adds an edition and never rewrites one.

Staff (facilitators of the council, administrators, the command line) also read a closed
cycle's results before publication, and may close, read, reopen, let a reply in and read
again. So every result computed from the answers — an edition, and every staff read of the
report, PDF, CLI and JSON, council overview and presentation — goes through ONE function,
`_serve`, which holds each pairing against every earlier snapshot of it (editions and
earlier staff reads alike; the rules are set out above `_serve`). Nobody can therefore
recover a late, withdrawn or erased reply by comparing any two things they were shown.
A 90-day pulse is also compared by PERSON with what was shown of the full cycle it follows
(`_apart_from_related`, inside `_serve`), since its replies are new but its raters are not.

"Change since last cycle" compares with the previous cycle's latest published edition (its
dimension table), never with figures computed live: a previous cycle that was never
published gives no change table at all (feedback.results.report.change_since, used by every
read, live or published).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from core import audit
from core.errors import Invalid, NotFound, PermissionDenied
from core.formats import uk_datetime
from core.models import utcnow
from core.roles import Actor, is_principal, require_staff
from core.vocabulary import CycleKind, CycleStatus
from feedback.access import NOT_PUBLISHED_YET, require_cycle_manager, require_pairing_reader
from feedback.models import (
    Cycle,
    Invitation,
    PublishedPairingReport,
    PublishedReport,
    Response,
    StaffPreview,
)
from feedback.results.engine import (
    Computed,
    cell_code,
    contributors,
    gap_table,
    overview_parts,
)
from feedback.results.loading import load_cycle, stored_id
from feedback.results.moderated import moderated_sections
from feedback.results.report import assemble_overview, compute_cycle, pairing_sections
from feedback.results.tables import (
    ANONYMOUS,
    SRC,
    TARGET_CODE,
    CouncilOverview,
    PairingReport,
    without_unshown,
)

NOT_READY = (
    "Results can be read once the cycle is closed. This cycle is still {status}: close it "
    "first (no more answers are then accepted)."
)


def latest_edition(session: Session, cycle_id: int) -> PublishedReport | None:
    return session.exec(
        select(PublishedReport)
        .where(col(PublishedReport.cycle_id) == cycle_id)
        .order_by(col(PublishedReport.edition).desc())
        .limit(1)
    ).first()


def edition_sections(
    session: Session, report_id: int, pairing_ids: list[int] | None = None
) -> dict[str, dict[str, Any]]:
    """An edition's pairing reports as stored (pairing id as text → the report's dict)."""
    query = sa_select(
        col(PublishedPairingReport.pairing_id), col(PublishedPairingReport.content)
    ).where(col(PublishedPairingReport.report_id) == report_id)
    if pairing_ids is not None:
        query = query.where(col(PublishedPairingReport.pairing_id).in_(pairing_ids))
    rows = session.execute(query.order_by(col(PublishedPairingReport.pairing_id))).all()
    return {str(pid): content for pid, content in rows}


def edition_content(session: Session, edition: PublishedReport) -> dict[str, Any]:
    """A whole edition in one dict: the overview, the cut-offs and every pairing's report
    under "pairings" (exports, subject access, tests), without what no screen shows."""
    sections = edition_sections(session, stored_id(edition))
    content: dict[str, Any] = without_unshown({**edition.content, "pairings": sections})
    return content


@dataclass
class _Latest:
    """A pairing's part of its cycle's latest edition (`section` None: the edition has none)."""

    edition: int
    section: dict[str, Any] | None
    private: dict[str, Any] | None  # server-side only, never served


def _latest_section(session: Session, cycle_id: int, pairing_id: int) -> _Latest | None:
    """The latest edition's part for this pairing, or None when the cycle has no edition:
    one query that reads this pairing's part only."""
    row = session.execute(
        sa_select(
            col(PublishedReport.edition),
            col(PublishedPairingReport.content),
            col(PublishedPairingReport.private),
        )
        .outerjoin(
            PublishedPairingReport,
            and_(
                col(PublishedPairingReport.report_id) == col(PublishedReport.id),
                col(PublishedPairingReport.pairing_id) == pairing_id,
            ),
        )
        .where(col(PublishedReport.cycle_id) == cycle_id)
        .order_by(col(PublishedReport.edition).desc())
        .limit(1)
    ).first()
    return None if row is None else _Latest(row[0], row[1], row[2])


def _edition_parts(
    session: Session, report_id: int
) -> dict[str, tuple[dict[str, Any], dict[str, Any] | None]]:
    rows = session.execute(
        sa_select(
            col(PublishedPairingReport.pairing_id),
            col(PublishedPairingReport.content),
            col(PublishedPairingReport.private),
        )
        .where(col(PublishedPairingReport.report_id) == report_id)
        .order_by(col(PublishedPairingReport.pairing_id))
    ).all()
    return {str(pid): (content, private) for pid, content, private in rows}


# --- the hold-back: every read is held against every earlier snapshot -------------------------
#
# A *snapshot* of a pairing is what someone was shown of it: each edition's part (principals
# and staff), and each staff preview (a staff read of a closed cycle before publication that
# showed something new). Every result computed from the answers — an edition, a staff read
# of the report, the PDF, the CLI and its JSON, the council overview, the presentation —
# goes through `_serve`, which compares the engine's candidate with EVERY earlier snapshot
# of the pairing, by which responses stand behind each anonymous figure (kept server-side
# in `private`, never served):
#
# * in each anonymous item or dimension cell (each group and "everyone else") shown in both,
#   each shown group's replies, and each shown group's comments per dimension (a group shown
#   in both with no comment before counts as an empty set), the responses added must be 0
#   or at least the cycle's threshold, and so must the responses taken away (a reply
#   erased, a group dropped by a raised threshold: at least the threshold the earlier
#   snapshot was made with, whose figures already showed that many);
# * otherwise the pairing is HELD: it is served exactly as its latest snapshot showed it (a
#   verbatim copy of that stored part, not a recomputation, which would change when a
#   response was erased or the threshold raised), with a notice for staff only.
#
# A cell shown for the first time may appear (nothing earlier can be subtracted from it).
# A staff read that shows something new is stored as a preview, so later reads and editions
# are held against it; one that shows nothing new stores nothing. The council overview is
# put together from each pairing's part as served (feedback.results.report.assemble_overview), so
# it moves only when a pairing's served results move.

Cells = dict[str, list[int]]


@dataclass
class _Snapshot:
    at: datetime
    section: dict[str, Any]
    private: dict[str, Any]

    @property
    def cells(self) -> Cells:
        return self.private.get("cells") or {}

    @property
    def threshold(self) -> int:
        return int(self.private.get("threshold") or self.section["meta"]["threshold"])


@dataclass
class _Served:
    section: dict[str, Any]  # the pairing's report as served (PairingReport.to_dict)
    private: dict[str, Any]  # cells, overview part, threshold (never served)
    new: bool  # shows something no earlier snapshot showed: store it
    held_since: datetime | None = None  # held: served as its snapshot of this time


def _group_of(key: str) -> str:
    return key.split("|")[1]


def _reveals(before: Cells, after: Cells, threshold: int, before_threshold: int) -> bool:
    """Whether serving `after` where `before` was shown would let someone work out what
    fewer than the threshold of people said (see the rules above)."""
    shown_before = {_group_of(k) for k in before if k.startswith("replies|")}
    shown_after = {_group_of(k) for k in after if k.startswith("replies|")}
    both = shown_before & shown_after
    keys = {k for k in after if k in before}
    keys |= {
        k for k in set(before) | set(after) if k.startswith("comments|") and _group_of(k) in both
    }
    keys.discard("all")
    for key in keys:
        was, now = set(before.get(key, ())), set(after.get(key, ()))
        added, removed = len(now - was), len(was - now)
        if 0 < added < threshold or 0 < removed < min(threshold, before_threshold):
            return True
    return False


def _legacy_private(
    session: Session, cycle: Cycle, pairing_id: int, cutoff: str | None, section: dict[str, Any]
) -> dict[str, Any]:
    """An edition published before `private` was kept: worked out from the engine at its
    cut-off (as the hold-back used to compare)."""
    at = datetime.fromisoformat(cutoff) if cutoff else utcnow()
    c = compute_cycle(session, cycle, pairing_id, {pairing_id: at})
    return {
        "cells": contributors(c).get(pairing_id, {}),
        "overview": overview_parts(c).get(pairing_id, {}),
        "threshold": int(section["meta"].get("threshold") or cycle.anonymity_threshold),
    }


def _history(session: Session, cycle: Cycle, ids: list[int]) -> dict[int, list[_Snapshot]]:
    """Every snapshot of these pairings (editions and staff previews), oldest first."""
    out: dict[int, list[tuple[datetime, int, _Snapshot]]] = {pid: [] for pid in ids}
    editions = session.execute(
        sa_select(
            col(PublishedReport.id),
            col(PublishedReport.published_at),
            col(PublishedPairingReport.pairing_id),
            col(PublishedPairingReport.content),
            col(PublishedPairingReport.private),
        )
        .join(
            PublishedPairingReport, col(PublishedPairingReport.report_id) == col(PublishedReport.id)
        )
        .where(
            col(PublishedReport.cycle_id) == cycle.id,
            col(PublishedPairingReport.pairing_id).in_(ids),
        )
    ).all()
    for report_id, at, pid, content, private in editions:
        if private is None:
            report = session.get(PublishedReport, report_id)
            cutoff = (report.content.get("cutoffs") or {}).get(str(pid)) if report else None
            private = _legacy_private(session, cycle, pid, cutoff, content)
        out[pid].append((at, 0, _Snapshot(at, content, private)))
    previews = session.execute(
        sa_select(
            col(StaffPreview.id),
            col(StaffPreview.taken_at),
            col(StaffPreview.pairing_id),
            col(StaffPreview.content),
            col(StaffPreview.private),
        ).where(col(StaffPreview.cycle_id) == cycle.id, col(StaffPreview.pairing_id).in_(ids))
    ).all()
    for row_id, at, pid, content, private in previews:
        out[pid].append((at, row_id, _Snapshot(at, content, private)))
    return {
        pid: [snap for *_k, snap in sorted(rows, key=lambda r: r[:2])] for pid, rows in out.items()
    }


# --- a 90-day pulse and the full cycle it follows: compared by PERSON ---------------------------
#
# A pulse asks the same raters again, so its figures and the full cycle's are two sums over
# nearly the same people: with 4 officers behind a full-cycle figure and 3 of them behind the
# pulse's, 4 × the one − 3 × the other is about the fourth officer's answer. Replies differ
# between cycles, so the hold-back's comparison by response cannot see this; this one
# compares WHO answered (the invitee behind each response; an erased response counts as
# somebody nobody else is). The rule, for a pulse against every snapshot (editions and
# staff previews) of the full cycle it follows and of the other pulses after it — and for a
# full cycle against the snapshots of its pulses, so a republished full cycle obeys it too:
#
# * for each anonymous figure — each item and dimension cell of each group and of "everyone
#   else", as the hold-back's cells — the people behind it and behind the same figure there
#   must be the same (difference 0) or differ by at least the threshold (the larger of the
#   two cycles'): 0 < |A Δ B| < threshold withholds it, with its change since the full
#   cycle (engine `withheld`: as if too few had answered, so every dimension, "everyone
#   else", heatmap, finding and overview figure built on it goes too), and the report says
#   why (core.vocabulary.PULSE_WITHHELD);
# * withholding a cell changes the figures built on it, so the comparison is repeated until
#   nothing more is withheld.
#
# It runs inside `_serve`, before the hold-back, so every route (report, PDF, CLI and JSON,
# exports, overview, presentation, editions) serves a pulse only as it allows.

FIGURES = ("item|", "dim|")


def _related_cycles(session: Session, cycle: Cycle) -> list[Cycle]:
    """The cycles whose figures a pulse (or a full cycle with pulses) could be set against:
    the full cycle a pulse follows and the other pulses after it; a full cycle's pulses."""
    full_id = cycle.follows_cycle_id if cycle.kind == CycleKind.pulse else cycle.id
    if full_id is None:
        return []
    rows = session.exec(
        select(Cycle).where(
            (col(Cycle.id) == full_id) | (col(Cycle.follows_cycle_id) == full_id),
            col(Cycle.id) != cycle.id,
        )
    ).all()
    return list(rows)


def _people_of(session: Session, response_ids: set[int]) -> dict[int, int]:
    """Response id → the person who was invited to give it (erased ones are missing)."""
    if not response_ids:
        return {}
    rows = session.execute(
        sa_select(col(Response.id), col(Invitation.rater_id))
        .join(Invitation, col(Invitation.id) == col(Response.invitation_id))
        .where(col(Response.id).in_(sorted(response_ids)))
    ).all()
    return {int(rid): int(person) for rid, person in rows}


def _figure_people(cells: Cells, people: dict[int, int]) -> dict[str, set[int]]:
    """Who stands behind each anonymous figure (an unknown response: -id, nobody else)."""
    return {
        key: {people.get(r, -r) for r in rids}
        for key, rids in cells.items()
        if key.startswith(FIGURES)
    }


def _related_snapshots(
    session: Session, cycle: Cycle, ids: list[int]
) -> dict[int, list[tuple[int, dict[str, set[int]]]]]:
    """Per pairing: (threshold, people behind each figure) of every snapshot of the
    related cycles (`_related_cycles`)."""
    raw: list[tuple[int, int, Cells]] = []
    for other in _related_cycles(session, cycle):
        for pid, snaps in _history(session, other, ids).items():
            raw += [(pid, snap.threshold, snap.cells) for snap in snaps]
    people = _people_of(session, {r for *_x, cells in raw for v in cells.values() for r in v})
    out: dict[int, list[tuple[int, dict[str, set[int]]]]] = {}
    for pid, k, cells in raw:
        out.setdefault(pid, []).append((k, _figure_people(cells, people)))
    return out


def _cells_behind(c: Computed, pairing_id: int, key: str) -> set[int]:
    """The item cells (engine.cell_code) a figure is built from."""
    parts = key.split("|")
    items = c.items
    if parts[0] == "item":
        chosen = items.loc[items["item_code"] == parts[1], "item_id"]
    else:
        dps = c.dims.loc[c.dims["dimension_code"] == parts[1], "dp"]
        chosen = items.loc[
            items["dimension_position"].isin(dps) & (items["t"] == TARGET_CODE[parts[2]]),
            "item_id",
        ]
    groups = [parts[-1]] if parts[-1] in ANONYMOUS else list(ANONYMOUS)
    return {
        int(code)
        for group in groups
        for code in cell_code(pairing_id, chosen.to_numpy(dtype="int64"), SRC[group])
    }


def _apart_from_related(
    session: Session, cycle: Cycle, pairing_id: int | None, c: Computed
) -> Computed:
    """The engine's figures with every figure withheld that the rule above forbids."""
    ids = [int(p) for p in c.pairings["pairing_id"]]
    before = _related_snapshots(session, cycle, ids)
    if not any(before.values()):
        return c
    withheld: set[int] = set()
    asked = max([cycle.anonymity_threshold] + [k for snaps in before.values() for k, _p in snaps])
    while True:
        cells = contributors(c)
        people = _people_of(
            session,
            {
                r
                for one in cells.values()
                for key, v in one.items()
                if key.startswith(FIGURES)
                for r in v
            },
        )
        # The smallest figures first (a group's item, its dimension, then "everyone else"):
        # withholding a group's cell changes "everyone else", which may then be far enough.
        more: list[set[int]] = [set(), set(), set(), set()]
        for pid in ids:
            for key, now in _figure_people(cells.get(pid, {}), people).items():
                for k, figures in before.get(pid, ()):
                    differ = len(now ^ figures.get(key, set()))
                    if 0 < differ < max(cycle.anonymity_threshold, k):
                        tier = (key.startswith("dim|")) + 2 * key.endswith("|others")
                        more[tier] |= _cells_behind(c, pid, key) - withheld
                        break
        first = next((tier for tier in more if tier), set())
        if not first:
            c.withheld_threshold = asked
            return c
        withheld |= first
        c = compute_cycle(session, cycle, pairing_id, withheld=frozenset(withheld))


def _serve(
    session: Session, cycle: Cycle, pairing_id: int | None = None
) -> tuple[dict[int, _Served], Computed]:
    """THE way any result is computed from the answers: each pairing's candidate report,
    or its latest snapshot where the candidate would reveal too little a change."""
    c = compute_cycle(session, cycle, pairing_id)
    ids = [int(p) for p in c.pairings["pairing_id"]]
    if pairing_id is not None and not ids:
        raise NotFound("That pairing did not take part in this cycle.")
    c = _apart_from_related(session, cycle, pairing_id, c)
    gaps = gap_table(c)
    cells, parts = contributors(c), overview_parts(c)
    history = _history(session, cycle, ids)
    threshold = cycle.anonymity_threshold
    held = {
        pid
        for pid in ids
        if any(
            _reveals(s.cells, cells.get(pid, {}), threshold, s.threshold)
            for s in history.get(pid, [])
        )
    }
    # Every pairing not held, computed in one pass over the cycle.
    sections = pairing_sections(session, c, [pid for pid in ids if pid not in held], gaps)
    served: dict[int, _Served] = {}
    for pid in ids:
        snaps = history.get(pid, [])
        mine = cells.get(pid, {})
        if pid in held:
            latest = snaps[-1]
            served[pid] = _Served(
                copy.deepcopy(latest.section), latest.private, new=False, held_since=latest.at
            )
            continue
        private = {"cells": mine, "overview": parts.get(pid, {}), "threshold": threshold}
        new = not snaps or snaps[-1].cells != mine or snaps[-1].threshold != threshold
        served[pid] = _Served(sections[pid], private, new=new)
    return served, c


def _held_for_staff(threshold: int, since: datetime | str) -> str:
    """What staff are told about a held pairing (principals are told nothing of it)."""
    when = datetime.fromisoformat(since) if isinstance(since, str) else since
    return (
        "Staff only: replies have come in (or been removed) since these results were first "
        f"shown on {uk_datetime(when)}, too few to show without letting someone "
        "work out what they said. To keep them anonymous, this pairing's results stay as "
        f"they were until at least {threshold} replies from the same group have come in."
    )


def _live(session: Session, cycle: Cycle, pid: int, served: _Served) -> PairingReport:
    """A staff read before publication: the served part, moderated, marked live."""
    return _lives(session, cycle, {pid: served})[pid]


def _lives(session: Session, cycle: Cycle, served: dict[int, _Served]) -> dict[int, PairingReport]:
    """`_live` for several pairings (their moderations read in one query)."""
    sections = moderated_sections(
        session,
        stored_id(cycle),
        {pid: copy.deepcopy(one.section) for pid, one in served.items()},
    )
    return {pid: _live_one(cycle, sections[pid], one) for pid, one in served.items()}


def _live_one(cycle: Cycle, section: dict[str, Any], served: _Served) -> PairingReport:
    threshold = cycle.anonymity_threshold
    section["meta"]["edition"] = None
    section["meta"].pop("published_at", None)
    if served.held_since is not None:
        section["notices"] = [*section["notices"], _held_for_staff(threshold, served.held_since)]
    return PairingReport.from_dict(section)


def _keep_previews(session: Session, cycle: Cycle, served: dict[int, _Served]) -> None:
    """Store each staff read that showed something new, so later reads are held against it."""
    now = utcnow()
    for pid, one in served.items():
        if one.new:
            session.add(
                StaffPreview(
                    cycle_id=stored_id(cycle),
                    pairing_id=pid,
                    taken_at=now,
                    content=one.section,
                    private=one.private,
                )
            )
            one.new = False
    session.flush()


def _overview(session: Session, c: Computed, served: dict[int, _Served]) -> CouncilOverview:
    return assemble_overview(
        c.cycle,
        c.council_name,
        c.labels(),
        c.dims,
        c.solace_benchmarks,
        {pid: one.private.get("overview") or {} for pid, one in served.items()},
        {pid: one.section for pid, one in served.items()},
    )


def publish_cycle(session: Session, actor: Actor, cycle_id: int) -> PublishedReport:
    """Freeze a new edition of a closed (or already published) cycle's results, each
    pairing held against every earlier edition and staff preview (`_serve`)."""
    cycle = require_cycle_manager(session, actor, cycle_id)
    if cycle.status not in (CycleStatus.closed, CycleStatus.published):
        raise Invalid(
            f"A {cycle.status} cycle cannot be published; close it first so that no more "
            "answers come in."
        )
    now = utcnow()
    previous = latest_edition(session, stored_id(cycle))
    served, c = _serve(session, cycle)
    edition = previous.edition + 1 if previous is not None else 1
    held = sorted(pid for pid, one in served.items() if one.held_since is not None)
    # The edition holds the comments as moderated, never the words staff took out.
    moderated = moderated_sections(
        session, stored_id(cycle), {pid: one.section for pid, one in served.items()}
    )
    for pid, one in served.items():
        one.section = moderated[pid]
        one.section["meta"]["edition"] = edition
        one.section["meta"]["published_at"] = now.isoformat()
    overview = _overview(session, c, served)
    overview.meta["edition"] = edition
    content = {
        "overview": overview.to_dict(),
        "cutoffs": {str(pid): (one.held_since or now).isoformat() for pid, one in served.items()},
    }
    row = PublishedReport(
        cycle_id=stored_id(cycle),
        edition=edition,
        content=content,
        published_at=now,
        published_by=actor.label,
    )
    session.add(row)
    session.flush()
    session.add_all(
        PublishedPairingReport(
            report_id=stored_id(row),
            pairing_id=int(pid),
            content=one.section,
            private={
                **one.private,
                "held_since": one.held_since.isoformat() if one.held_since else None,
            },
        )
        for pid, one in served.items()
    )
    if cycle.status == CycleStatus.closed:
        cycle.status = CycleStatus.published.value
    cycle.published_at = cycle.published_at or now
    session.add(cycle)
    session.flush()
    audit.record(  # the audit log is for administrators only: principals never see it
        session,
        actor,
        "publish results",
        "cycle",
        cycle.id,
        cycle.council_id,
        edition=edition,
        held_pairings=held or None,
    )
    return row


@dataclass(frozen=True)
class EditionInfo:
    """One edition of a cycle's results: its number, when and by whom it was published."""

    edition: int
    published_at: datetime
    published_by: str


def list_editions(session: Session, actor: Actor, cycle_id: int) -> list[EditionInfo]:
    """Editions of a cycle, oldest first (staff)."""
    require_cycle_manager(session, actor, cycle_id)
    rows = session.exec(
        select(
            col(PublishedReport.edition),
            col(PublishedReport.published_at),
            col(PublishedReport.published_by),
        )
        .where(col(PublishedReport.cycle_id) == cycle_id)
        .order_by(col(PublishedReport.edition))
    ).all()
    return [EditionInfo(e, at, by) for e, at, by in rows]


def _live_ready(cycle: Cycle) -> None:
    if cycle.status not in (CycleStatus.closed, CycleStatus.published):
        raise Invalid(NOT_READY.format(status=cycle.status))


OLD_HELD_NOTICE = "A few replies arrived after edition"  # editions published before 0005


def _edition_report(
    section: dict[str, Any], private: dict[str, Any] | None, staff: bool
) -> PairingReport:
    """An edition's part as its reader sees it: principals see only that it is the
    published edition; staff are also told when it was held back."""
    report = PairingReport.from_dict(section)
    if not staff:
        report.notices = [n for n in report.notices if not n.startswith(OLD_HELD_NOTICE)]
    elif private and private.get("held_since"):
        report.notices.append(
            _held_for_staff(int(section["meta"]["threshold"]), private["held_since"])
        )
    return report


def read_pairing_report(
    session: Session, actor: Actor, cycle_id: int, pairing_id: int
) -> PairingReport:
    """A principal reads their own pairing's latest published edition. Staff read the same
    edition once the cycle is published, and before that (a closed cycle) the results as
    `_serve` gives them: held against every earlier edition and staff read."""
    cycle = load_cycle(session, cycle_id)
    require_pairing_reader(session, actor, pairing_id, cycle)
    staff = not is_principal(actor)
    if not staff or cycle.status == CycleStatus.published:
        latest = _latest_section(session, stored_id(cycle), pairing_id)
        if not staff and latest is None:  # marked published, yet no edition to read
            raise PermissionDenied(NOT_PUBLISHED_YET)
        if not staff and latest is not None and latest.section is None:
            raise NotFound("This pairing has no published report in this cycle.")
        if latest is not None and latest.section is not None:
            # Once published, staff read exactly what the principals read.
            return _edition_report(latest.section, latest.private, staff)
    _live_ready(cycle)
    served, _c = _serve(session, cycle, pairing_id)
    _keep_previews(session, cycle, served)
    return _live(session, cycle, pairing_id, served[pairing_id])


def read_council_overview(session: Session, actor: Actor, cycle_id: int) -> CouncilOverview:
    """The council overview (staff only): the latest edition's once published; before
    that, put together from each pairing's results as `_serve` gives them."""
    require_staff(actor)
    cycle = require_cycle_manager(session, actor, cycle_id)
    if cycle.status == CycleStatus.published and (
        edition := latest_edition(session, stored_id(cycle))
    ):
        return CouncilOverview.from_dict(edition.content["overview"])
    _live_ready(cycle)
    served, c = _serve(session, cycle)
    _keep_previews(session, cycle, served)
    return _overview(session, c, served)


def read_all_pairing_reports(
    session: Session, actor: Actor, cycle_id: int
) -> dict[int, PairingReport]:
    """Every pairing's report of a cycle in one pass (staff; the CLI and exports)."""
    require_staff(actor)
    cycle = require_cycle_manager(session, actor, cycle_id)
    if cycle.status == CycleStatus.published and (
        edition := latest_edition(session, stored_id(cycle))
    ):
        return {
            int(key): _edition_report(section, private, staff=True)
            for key, (section, private) in _edition_parts(session, stored_id(edition)).items()
        }
    _live_ready(cycle)
    served, _c = _serve(session, cycle)
    _keep_previews(session, cycle, served)
    return _lives(session, cycle, served)


@dataclass(frozen=True)
class StaffRead:
    """A pairing's results as a staff read before publication serves them, before
    moderation: what comment moderation may act on (feedback.results.moderation). `cells`
    (server-side only, never served) says which responses stand behind each shown group's
    comments, so only comments that would be shown can be moderated."""

    cycle: Cycle
    section: dict[str, Any]
    cells: dict[str, list[int]]


def staff_read(session: Session, actor: Actor, cycle_id: int, pairing_id: int) -> StaffRead:
    """A staff read of one pairing of a closed cycle, held like every other (`_serve`)."""
    require_staff(actor)
    cycle = require_cycle_manager(session, actor, cycle_id)
    _live_ready(cycle)
    served, _c = _serve(session, cycle, pairing_id)
    _keep_previews(session, cycle, served)
    one = served[pairing_id]
    return StaffRead(cycle, copy.deepcopy(one.section), dict(one.private.get("cells") or {}))
