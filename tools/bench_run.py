"""The timings of `tandem bench`, each beside its floor measured in the same run.

A floor is the least the database (or openpyxl) must do for the same answer: a bare SQL
aggregate over the same rows, a bare insert of the same people, openpyxl's write-only mode
for the same cells. The ratio says how much the app adds on top. Every timed call is the
real public function that the pages and the CLI call; the bench never copies their logic.
"""

from __future__ import annotations

import csv
import io
import statistics
import threading
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, insert, text
from sqlmodel import Session, col, func, select

from core.db import session_scope
from core.errors import NotFound
from core.models import Council, stored_id
from core.roles import SYSTEM
from feedback.models import Cycle, CyclePairing, Invitation, Pairing, Person, Rating, Response
from feedback.results.publication import publish_cycle, read_pairing_report
from feedback.results.report import council_overview, national_comparison, pairing_report
from feedback.results.tables import CouncilOverview, PairingReport
from planning.excel import export_plans
from tools.bench import CYCLE_NAME, NAME_PREFIX, BulkWriter

REPEAT = 5
CONCURRENT_RATERS = 50
IMPORT_PEOPLE = 1000


@dataclass
class Timing:
    key: str
    label: str
    seconds: float | None = None  # median of the runs (p95 for the concurrent submits)
    floor: float | None = None
    target: str = ""
    limit: float | None = None  # seconds (or MB for memory)
    floor_ratio_limit: float | None = None
    unit: str = "s"
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.seconds is None or not self.floor:
            return None
        return self.seconds / self.floor

    @property
    def met(self) -> bool | None:
        if self.seconds is None or self.limit is None:
            return None
        ok = self.seconds <= self.limit
        if self.floor_ratio_limit is not None and self.ratio is not None:
            ok = ok and self.ratio <= self.floor_ratio_limit
        return ok

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ratio"] = None if self.ratio is None else round(self.ratio, 2)
        out["met"] = self.met
        return out


@dataclass
class BenchResult:
    backend: str
    build: dict[str, Any]
    timings: list[Timing] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "build": self.build,
            "timings": [t.as_dict() for t in self.timings],
        }


def _median(fn: Callable[[], Any], repeat: int = REPEAT) -> float:
    fn()  # warm-up: imports, the framework parse, the database's own caches
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(0.95 * len(ordered)) - 1))]


# --- what is measured ---------------------------------------------------------------------


@dataclass
class Subject:
    """The council and pairing the single-item timings use: the first council with the
    full ten pairings, its leader–chief executive pairing."""

    council_id: int
    cycle_id: int
    pairing_id: int
    council_name: str


def pick_subject(engine: Engine) -> Subject:
    with Session(engine) as s:
        counts = (
            select(CyclePairing.cycle_id, func.count().label("n"))
            .group_by(col(CyclePairing.cycle_id))
            .subquery()
        )
        row = s.exec(
            select(Cycle.id, Cycle.council_id, Council.name)
            .join(Council, col(Council.id) == col(Cycle.council_id))
            .join(counts, counts.c.cycle_id == Cycle.id)
            .where(Cycle.name == CYCLE_NAME)
            .order_by(counts.c.n.desc(), col(Cycle.id))
        ).first()
        if row is None:
            raise NotFound(f"No cycle called {CYCLE_NAME!r}: build the bench data first.")
        cycle_id, council_id, name = row
        pairing_id = s.exec(
            select(Pairing.id)
            .join(CyclePairing, col(CyclePairing.pairing_id) == col(Pairing.id))
            .where(CyclePairing.cycle_id == cycle_id)
            .order_by(col(Pairing.kind).desc(), col(Pairing.id))
        ).first()
        if pairing_id is None:
            raise NotFound(f"The cycle {CYCLE_NAME!r} has no pairings.")
        return Subject(council_id, stored_id(cycle_id), pairing_id, name)


_PAIRING_FLOOR = """
SELECT i.rater_group, i.rater_id = p.member_id AS is_member, r.item_id,
       count(r.value) AS n, avg(r.value) AS mean
FROM invitation i
JOIN pairing p ON p.id = i.pairing_id
JOIN response s ON s.invitation_id = i.id AND s.status = 'submitted'
JOIN rating r ON r.response_id = s.id
WHERE i.cycle_id = :cycle AND i.pairing_id = :pairing
GROUP BY i.rater_group, i.rater_id = p.member_id, r.item_id
"""

_COUNCIL_FLOOR = """
SELECT i.pairing_id, it.dimension_id, i.rater_group, count(r.value) AS n, avg(r.value) AS mean
FROM invitation i
JOIN response s ON s.invitation_id = i.id AND s.status = 'submitted'
JOIN rating r ON r.response_id = s.id
JOIN item it ON it.id = r.item_id
WHERE i.cycle_id = :cycle
GROUP BY i.pairing_id, it.dimension_id, i.rater_group
"""

_NATIONAL_FLOOR = """
SELECT c.council_id, r.item_id, r.value, count(*) AS n
FROM rating r
JOIN item it ON it.id = r.item_id AND it.dimension_id IS NULL
JOIN response s ON s.id = r.response_id AND s.status = 'submitted'
JOIN invitation i ON i.id = s.invitation_id
JOIN cycle c ON c.id = i.cycle_id
WHERE c.name = :cycle_name
GROUP BY c.council_id, r.item_id, r.value
"""


def _sql(engine: Engine, sql: str, **params: Any) -> Callable[[], Any]:
    def run() -> Any:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).all()

    return run


def _in_session(engine: Engine, fn: Callable[[Session], Any]) -> Callable[[], Any]:
    def run() -> Any:
        with Session(engine) as s:
            return fn(s)

    return run


def pairing_report_call(sub: Subject) -> Callable[[Session], PairingReport]:
    return lambda s: pairing_report(s, sub.cycle_id, sub.pairing_id)


def council_overview_call(sub: Subject) -> Callable[[Session], CouncilOverview]:
    return lambda s: council_overview(s, sub.cycle_id)


def national_call(sub: Subject) -> Callable[[Session], pd.DataFrame]:
    return national_comparison


def plan_export_call(sub: Subject) -> Callable[[Session], bytes]:
    return lambda s: export_plans(s, SYSTEM, sub.cycle_id)  # the whole council's plans, with charts


def time_pairing_report(engine: Engine, sub: Subject) -> Timing:
    """The engine computing a pairing's report from its ratings: what publishing does for
    each pairing, and what staff read while a closed cycle is not yet published."""
    target = "≤ 150 ms"
    call = pairing_report_call(sub)
    return Timing(
        "pairing_report",
        "Pairing report computed from the ratings (publishing; staff preview)",
        seconds=_median(_in_session(engine, call)),
        floor=_median(_sql(engine, _PAIRING_FLOOR, cycle=sub.cycle_id, pairing=sub.pairing_id)),
        target=target,
        limit=0.150,
    )


def _every_table(report: PairingReport) -> PairingReport:
    for name in report.TABLES:
        getattr(report, name)
    return report


def time_published_report(engine: Engine, sub: Subject) -> list[Timing]:
    """The pairing report as its readers open it — principals always, staff once the cycle
    is published: the frozen, already-suppressed edition. Publishes the subject's cycle
    first (untimed). Timed twice: as read (the tables stay records until used) and with all
    eight tables made into DataFrames, as the report page draws them."""
    target = "≤ 150 ms and ≤ 3× floor"
    with Session(engine) as s:
        publish_cycle(s, SYSTEM, sub.cycle_id)
        s.commit()
    floor = _median(_sql(engine, _PAIRING_FLOOR, cycle=sub.cycle_id, pairing=sub.pairing_id))

    def opened(s: Session) -> PairingReport:
        return read_pairing_report(s, SYSTEM, sub.cycle_id, sub.pairing_id)

    return [
        Timing(
            "published_report",
            "Pairing report as its readers open it (published edition)",
            seconds=_median(_in_session(engine, opened)),
            floor=floor,
            target=target,
            limit=0.150,
            floor_ratio_limit=3.0,
        ),
        Timing(
            "published_report_tables",
            "  … with all eight tables built as DataFrames (report page)",
            seconds=_median(_in_session(engine, lambda s: _every_table(opened(s)))),
            floor=floor,
            target="≤ 150 ms",
            limit=0.150,
        ),
    ]


def _pairings_of(engine: Engine, cycle_id: int) -> int:
    with Session(engine) as s:
        return int(
            s.exec(
                select(func.count())
                .select_from(CyclePairing)
                .where(CyclePairing.cycle_id == cycle_id)
            ).one()
        )


def _publish_undone(engine: Engine, cycle_id: int) -> None:
    """The real `publish_cycle`, every row it writes flushed, then rolled back, so the
    cycle is as it was for the steps after (the page timings read it closed)."""
    with Session(engine) as s:
        publish_cycle(s, SYSTEM, cycle_id)
        s.flush()
        s.rollback()


def time_publish_council(engine: Engine, sub: Subject) -> Timing:
    """Publishing the subject council's cycle (every pairing computed in one pass over the
    cycle, held back, moderated and written), per pairing; floor: the bare GROUP BY over
    the council's ratings, per pairing."""
    n = _pairings_of(engine, sub.cycle_id)
    return Timing(
        "publish_council",
        f"Publishing one council's cycle, per pairing ({n} pairings)",
        seconds=_median(lambda: _publish_undone(engine, sub.cycle_id)) / n,
        floor=_median(_sql(engine, _COUNCIL_FLOOR, cycle=sub.cycle_id)) / n,
        target="≤ 10× floor",
        limit=10.0,
        floor_ratio_limit=10.0,
    )


def time_publish_national(engine: Engine) -> Timing:
    """The real `publish_cycle` for every cycle of the national build, one after another
    (closing any that is not closed yet, as the bench's own cycles already are), each
    rolled back once written so later steps find the cycles as they were. Once, not a
    median: it is the long wait."""
    with Session(engine) as s:
        rows = [
            (stored_id(cid), str(status))
            for cid, status in s.exec(
                select(Cycle.id, Cycle.status)
                .where(Cycle.name == CYCLE_NAME)
                .order_by(col(Cycle.id))
            ).all()
        ]
    opened = [cid for cid, status in rows if status not in ("closed", "published")]
    if opened:
        from feedback.setup.cycles import set_cycle_status

        with session_scope(engine) as s:
            for cid in opened:
                set_cycle_status(s, SYSTEM, cid, "closed")
    with Session(engine) as s:
        pairings = int(
            s.exec(
                select(func.count())
                .select_from(CyclePairing)
                .join(Cycle, col(Cycle.id) == col(CyclePairing.cycle_id))
                .where(Cycle.name == CYCLE_NAME)
            ).one()
        )
    started = time.perf_counter()
    for cycle_id, _status in rows:
        _publish_undone(engine, cycle_id)
    seconds = time.perf_counter() - started
    return Timing(
        "publish_national",
        f"Publishing the whole national build ({len(rows)} cycles, {pairings:,} pairings)",
        seconds=seconds,
        target="≤ 60 s",
        limit=60.0,
        note=f"{len(rows)} cycles published one after another, each rolled back once written",
    )


def time_council_overview(engine: Engine, sub: Subject) -> Timing:
    target = "≤ 1 s and ≤ 10× floor"
    call = council_overview_call(sub)
    return Timing(
        "council_overview",
        "Council overview (one council)",
        seconds=_median(_in_session(engine, call)),
        floor=_median(_sql(engine, _COUNCIL_FLOOR, cycle=sub.cycle_id)),
        target=target,
        limit=1.0,
        floor_ratio_limit=10.0,
    )


def time_national(engine: Engine, sub: Subject) -> Timing:
    target = "≤ 5 s"
    call = national_call(sub)
    return Timing(
        "national",
        "National Solace comparison",
        seconds=_median(_in_session(engine, call), repeat=3),
        floor=_median(_sql(engine, _NATIONAL_FLOOR, cycle_name=CYCLE_NAME), repeat=3),
        target=target,
        limit=5.0,
    )


def _write_only_floor(workbook_bytes: bytes) -> Callable[[], bytes]:
    """openpyxl write-only mode writing the very cells the export wrote."""
    from openpyxl import Workbook, load_workbook

    source = load_workbook(io.BytesIO(workbook_bytes), read_only=True)
    sheets = [(ws.title, [list(r) for r in ws.iter_rows(values_only=True)]) for ws in source]
    source.close()

    def write() -> bytes:
        wb = Workbook(write_only=True)
        for title, rows in sheets:
            ws = wb.create_sheet(title)
            for row in rows:
                ws.append(row)
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()

    return write


def time_plan_export(engine: Engine, sub: Subject) -> Timing:
    target = "≤ 1 s and ≤ 10× floor"
    call = plan_export_call(sub)
    with Session(engine) as s:
        data = call(s)
    return Timing(
        "plan_export",
        "Plan export (one council, .xlsx)",
        seconds=_median(_in_session(engine, call)),
        floor=_median(_write_only_floor(data)),
        target=target,
        limit=1.0,
        floor_ratio_limit=10.0,
    )


# --- people import --------------------------------------------------------------------------


def _people_rows(tag: str, n: int) -> list[list[str]]:
    kinds = ("member", "officer", "external")
    return [
        [f"Person {k} {tag}", f"person{k}.{tag}@import.bench.example.gov.uk", kinds[k % 3],
         "Head of Service" if k % 3 == 1 else "", "", "Partner body" if k % 3 == 2 else ""]
        for k in range(n)
    ]  # fmt: skip


def _new_council(engine: Engine, name: str, nation: str = "England") -> int:
    with engine.begin() as conn:
        council_id: int = conn.execute(
            insert(Council.__table__).returning(Council.__table__.c.id),  # type: ignore[attr-defined]
            {"name": name, "nation": nation, "retention_months": 36, "created_at": _now()},
        ).scalar_one()
        return council_id


def _now() -> datetime:
    return datetime.now(UTC)


def _drop_council(engine: Engine, council_id: int) -> None:
    from feedback.setup.people import delete_council

    with session_scope(engine) as s:
        delete_council(s, SYSTEM, council_id)


def time_people_import(engine: Engine, n: int = IMPORT_PEOPLE) -> Timing:
    from feedback.setup.people_import import COLUMNS, import_people

    runs: list[float] = []
    floors: list[float] = []
    for attempt in range(3):
        tag = f"{int(time.time())}{attempt}"
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(COLUMNS)
        rows = _people_rows(tag, n)
        writer.writerows(rows)
        data = buffer.getvalue().encode("utf-8")
        council_id = _new_council(engine, f"{NAME_PREFIX} import {tag}")
        started = time.perf_counter()
        with session_scope(engine) as s:
            result = import_people(s, SYSTEM, council_id, "people.csv", data)
        runs.append(time.perf_counter() - started)
        assert len(result.added) == n
        floor_council = _new_council(engine, f"{NAME_PREFIX} import floor {tag}")
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(
                insert(Person.__table__),  # type: ignore[attr-defined]
                [
                    {"council_id": floor_council, "full_name": r[0], "email": r[1],
                     "kind": r[2], "title": r[3], "portfolio": r[4], "organisation": r[5],
                     "created_at": _now()}
                    for r in rows
                ],
            )  # fmt: skip
        floors.append(time.perf_counter() - started)
        _drop_council(engine, council_id)
        _drop_council(engine, floor_council)
    return Timing(
        "people_import",
        f"Bulk people import ({n} rows, .csv)",
        seconds=statistics.median(runs),
        floor=statistics.median(floors),
        target="≤ 10× floor",
        limit=10.0,
        floor_ratio_limit=10.0,
    )


# --- raters submitting at once ---------------------------------------------------------------


def _open_cycle_for_raters(engine: Engine, n: int) -> tuple[int, list[int]]:
    """A council with an open cycle and `n` unanswered invitations, written in bulk."""
    from feedback.setup.framework import ensure_default_framework

    tag = str(int(time.time() * 1000))
    with session_scope(engine) as s:
        framework_id = ensure_default_framework(s).id
    council_id = _new_council(engine, f"{NAME_PREFIX} concurrency {tag}", "Wales")
    now = _now()
    with engine.begin() as conn:
        w = BulkWriter(conn)
        pid = w.next_id("person")
        people = [
            (pid + k, council_id, f"Rater {k}", f"r{k}.{tag}@bench.example.gov.uk",
             "member" if k % 2 == 0 else "officer", "", "", "", now)
            for k in range(n + 2)
        ]  # fmt: skip
        w.write(
            Person,
            ["id", "council_id", "full_name", "email", "kind", "title", "portfolio",
             "organisation", "created_at"],
            people,
        )  # fmt: skip
        member, officer = pid, pid + 1
        pairing_id = w.next_id("pairing")
        w.write(
            Pairing,
            ["id", "council_id", "kind", "member_id", "officer_id", "portfolio", "active",
             "created_at"],
            [(pairing_id, council_id, "leader–chief executive", member, officer, "", True, now)],
        )  # fmt: skip
        cycle_id = w.next_id("cycle")
        w.write(
            Cycle,
            ["id", "council_id", "name", "opens_on", "closes_on", "status",
             "framework_version_id", "anonymity_threshold", "invitation_subject",
             "invitation_body", "reminder_subject", "reminder_body", "created_at"],
            [(cycle_id, council_id, "Concurrency", date(2026, 9, 1), date(2026, 12, 1), "open",
              framework_id, 3, "", "", "", "", now)],
        )  # fmt: skip
        w.write(CyclePairing, ["cycle_id", "pairing_id"], [(cycle_id, pairing_id)])
        first = w.next_id("invitation")
        groups = ["principal", "principal"] + [
            ("members", "officers", "partners")[k % 2] for k in range(n)
        ]
        rows = [
            (first + k, cycle_id, pairing_id, pid + k, groups[k], "not started", 0, now, now)
            for k in range(n)
        ]
        w.write(
            Invitation,
            ["id", "cycle_id", "pairing_id", "rater_id", "rater_group", "status",
             "reminder_count", "sent_at", "created_at"],
            rows,
        )  # fmt: skip
        w.fix_sequences(["person", "pairing", "cycle", "invitation"])
    return council_id, [r[0] for r in rows]


def open_cycle_for_raters(engine: Engine, n: int) -> tuple[int, list[int]]:
    """A council with an open cycle and `n` unanswered invitations (its id and theirs), for
    the page timings' questionnaire; remove it again with `drop_council`."""
    return _open_cycle_for_raters(engine, n)


def drop_council(engine: Engine, council_id: int) -> None:
    _drop_council(engine, council_id)


def _rater_plan(engine: Engine, invitation_ids: list[int]) -> list[tuple[int, dict[int, int]]]:
    from feedback.collection.responses import items_for_invitation

    with Session(engine) as s:
        plan = []
        for inv_id in invitation_ids:
            invitation = s.get(Invitation, inv_id)
            if invitation is None:
                raise NotFound(f"There is no invitation with id {inv_id}.")
            ids = [stored_id(i.id) for i in items_for_invitation(s, invitation)]
            plan.append((inv_id, {i: (i + inv_id) % 4 + 1 for i in ids}))
        return plan


def _run_at_once(
    plan: list[tuple[int, dict[int, int]]], one: Callable[[int, dict[int, int]], None]
) -> list[float]:
    start = threading.Barrier(len(plan))

    def rater(inv_id: int, answers: dict[int, int]) -> float:
        start.wait()
        began = time.perf_counter()
        one(inv_id, answers)
        return time.perf_counter() - began

    with ThreadPoolExecutor(max_workers=len(plan)) as pool:
        return list(pool.map(lambda p: rater(*p), plan))


def time_concurrent_raters(engine: Engine, n: int = CONCURRENT_RATERS) -> list[Timing]:
    """`n` raters, each in its own thread and Session, all at the same moment: first each
    saves a whole questionnaire (the page saves as they go; this is all of it at once), then
    all press Submit. p95 of one rater's call, and a count that nothing was lost or stored
    twice. Floors: the same writers at once doing a bare INSERT, then a bare UPDATE."""
    from feedback.collection.responses import save_answers, submit_response

    council_id, invitation_ids = _open_cycle_for_raters(engine, n)
    floor_council, floor_ids = _open_cycle_for_raters(engine, n)
    try:
        plan = _rater_plan(engine, invitation_ids)

        def save(inv_id: int, answers: dict[int, int]) -> None:
            ratings: dict[int, int | None] = dict(answers)
            with session_scope(engine) as s:
                save_answers(s, inv_id, ratings)

        def submit(inv_id: int, _answers: dict[int, int]) -> None:
            with session_scope(engine) as s:
                submit_response(s, inv_id)

        saving = _run_at_once(plan, save)
        submitting = _run_at_once(plan, submit)
        expected = sum(len(a) for _i, a in plan)
        with Session(engine) as s:
            stored = s.exec(
                select(func.count())
                .select_from(Rating)
                .join(Response, col(Response.id) == col(Rating.response_id))
                .where(Response.invitation_id.in_(invitation_ids))  # type: ignore[attr-defined]
            ).one()
            submitted = s.exec(
                select(func.count())
                .select_from(Response)
                .where(
                    Response.invitation_id.in_(invitation_ids),  # type: ignore[attr-defined]
                    Response.status == "submitted",
                )
            ).one()
            mismatched = 0
            for inv_id, answers in plan:
                got = dict(
                    s.exec(
                        select(Rating.item_id, Rating.value)
                        .join(Response, col(Response.id) == col(Rating.response_id))
                        .where(Response.invitation_id == inv_id)
                    ).all()
                )
                mismatched += got != answers
        intact = stored == expected and submitted == n and mismatched == 0
        floor_plan = [(f, answers) for f, (_i, answers) in zip(floor_ids, plan, strict=True)]
        response_of: dict[int, int] = {}

        def bare_save(inv_id: int, answers: dict[int, int]) -> None:
            with engine.begin() as conn:
                rid = conn.execute(
                    insert(Response.__table__).returning(Response.__table__.c.id),  # type: ignore[attr-defined]
                    {"invitation_id": inv_id, "status": "draft", "started_at": _now(),
                     "updated_at": _now()},
                ).scalar_one()  # fmt: skip
                conn.execute(
                    insert(Rating.__table__),  # type: ignore[attr-defined]
                    [{"response_id": rid, "item_id": i, "value": v} for i, v in answers.items()],
                )
            response_of[inv_id] = rid

        def bare_submit(inv_id: int, _answers: dict[int, int]) -> None:
            with engine.begin() as conn:
                conn.execute(
                    text("UPDATE response SET status = 'submitted' WHERE id = :id"),
                    {"id": response_of[inv_id]},
                )

        floor_saving = _run_at_once(floor_plan, bare_save)
        floor_submitting = _run_at_once(floor_plan, bare_submit)
    finally:
        _drop_council(engine, council_id)
        _drop_council(engine, floor_council)
    check = (
        f"{stored}/{expected} ratings stored, {submitted}/{n} submitted, "
        f"{mismatched} raters with answers other than they gave"
    )
    return [
        Timing(
            "concurrent_saves",
            f"{n} raters saving a whole questionnaire at once (p95)",
            seconds=_p95(saving),
            floor=_p95(floor_saving),
            target="(no target)",
        ),
        Timing(
            "concurrent_submits",
            f"{n} raters submitting at once (p95)",
            seconds=_p95(submitting),
            floor=_p95(floor_submitting),
            target="p95 ≤ 500 ms, nothing lost",
            limit=0.5 if intact else -1.0,  # lost or duplicated answers can never pass
            note=check,
        ),
    ]


# --- memory ---------------------------------------------------------------------------------


def measure_report_memory(engine: Engine, sub: Subject) -> Timing:
    """Peak Python memory allocated while the report path runs (pairing report, council
    overview, national comparison), by tracemalloc."""
    calls: list[Callable[[Session], object]] = [
        pairing_report_call(sub),
        council_overview_call(sub),
        national_call(sub),
    ]
    target = "≤ 500 MB"
    tracemalloc.start()
    try:
        for call in calls:
            with Session(engine) as s:
                call(s)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Timing(
        "report_memory",
        "Report path peak memory (tracemalloc)",
        seconds=peak / 1_000_000,
        target=target,
        limit=500.0,
        unit="MB",
    )


def run_timings(
    engine: Engine, build: dict[str, Any], progress: Callable[[str], None] | None = None
) -> BenchResult:
    say = progress or (lambda _m: None)
    sub = pick_subject(engine)
    result = BenchResult(engine.dialect.name, build)
    steps: list[tuple[str, Callable[[], Timing | list[Timing]]]] = [
        ("pairing report", lambda: time_pairing_report(engine, sub)),
        ("council overview", lambda: time_council_overview(engine, sub)),
        ("national comparison", lambda: time_national(engine, sub)),
        ("plan export", lambda: time_plan_export(engine, sub)),
        ("people import", lambda: time_people_import(engine)),
        ("raters saving and submitting at once", lambda: time_concurrent_raters(engine)),
        ("report memory", lambda: measure_report_memory(engine, sub)),
        ("publishing one council", lambda: time_publish_council(engine, sub)),
        ("publishing the whole national build", lambda: time_publish_national(engine)),
        # Last: publishing changes the subject cycle's status (closed → published).
        ("published pairing report", lambda: time_published_report(engine, sub)),
    ]
    for what, step in steps:
        say(f"Timing {what}…")
        measured = step()
        result.timings.extend(measured if isinstance(measured, list) else [measured])
    return result


# --- printing ---------------------------------------------------------------------------------


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if value < 0.01:
        return f"{value * 1000:.1f} ms"
    return f"{value * 1000:,.0f} ms" if value < 10 else f"{value:,.1f} s"


def format_table(result: BenchResult) -> str:
    b = result.build
    head = (
        f"Backend: {result.backend}; scale {b.get('scale')}: {b.get('councils')} councils, "
        f"{b.get('pairings')} pairings, {b.get('responses')} responses, "
        f"{b.get('ratings'):,} ratings (built in {b.get('seconds')} s)"
    )
    rows = [("Measure", "Time", "Floor", "× floor", "Target", "Met")]
    for t in result.timings:
        met = {True: "yes", False: "NO", None: "—"}[t.met]
        ratio = "—" if t.ratio is None else f"{t.ratio:.1f}×"
        rows.append((t.label, _fmt(t.seconds, t.unit), _fmt(t.floor, t.unit), ratio, t.target, met))
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    lines = [head, ""]
    for n, r in enumerate(rows):
        lines.append("  ".join(c.ljust(widths[k]) for k, c in enumerate(r)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"  {t.label}: {t.note}" for t in result.timings if t.note]
    if notes:
        lines += ["", "Notes:", *notes]
    return "\n".join(lines)
