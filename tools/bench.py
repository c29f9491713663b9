"""A national cycle built fast, for `tandem bench`: 382 councils in four nations, each with
a leader–chief executive pairing and up to nine cabinet–director pairings, 12–20 raters
per pairing beside the two principals, every answer submitted, and a plan per pairing.

This writes with bulk inserts (PostgreSQL COPY, SQLite executemany of one INSERT),
never the per-row domain functions: those are what the benchmark times, not what it uses
to fill the database. The rows are the same shape the domain functions write (drafts
first, ratings, then the status change to submitted, so migration 0002's triggers agree).

The bench refuses any database that holds something other than an earlier bench build:
it is for a dedicated, throw-away database, never a council's real data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, insert, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, col, select

from core.db import session_scope, upgrade
from core.errors import Conflict
from core.models import AuditEvent, Council, stored_id
from feedback.models import (
    Comment,
    Cycle,
    CyclePairing,
    Dimension,
    Invitation,
    Item,
    Pairing,
    Person,
    Rating,
    Response,
)
from feedback.setup.framework import asks, ensure_default_framework, framework_spec
from planning.models import DevelopmentPlan, PlanAction, PlanGoal

# A row of a table as the bulk writer takes it: values in the order of its columns.
Row = tuple[Any, ...]

# Local authorities by nation (2026): 317 in England, 32 in Scotland, 22 in Wales, 11 in NI.
NATIONS: dict[str, int] = {"England": 317, "Scotland": 32, "Wales": 22, "Northern Ireland": 11}
CYCLE_NAME = "National benchmark 2026"
MARKER_ACTION = "bench build"
BENCH_ACTOR = "tandem bench"
NAME_PREFIX = "Bench"
CANT_SAY_RATE = 0.05
NO_RESPONSE_RATE = 0.02
COMMENT_RATE = 0.12
BATCH = 50_000

PORTFOLIOS = [
    "Finance and Resources",
    "Adult Social Care",
    "Children's Services",
    "Housing",
    "Environment and Climate",
    "Regeneration and Growth",
    "Transport and Highways",
    "Communities and Culture",
    "Digital and Customer Services",
]
COMMENT_POOL = [
    "They make time to talk before the formal meeting.",
    "Decisions sometimes arrive without the advice being heard.",
    "Priorities are clear in writing and reviewed each quarter.",
    "Disagreements are handled privately and professionally.",
    "Officers are credited in public for their work.",
    "The line between political and professional could be clearer.",
    "Bad news is shared early, which we value.",
    "Staff feel the pressure of change is understood.",
]
GOAL_TITLES = [
    "Agree three priorities in writing",
    "Hold a monthly one-to-one with an agenda",
    "Route disagreements through the agreed channel",
    "Credit officers' work in public",
]
ACTION_TEXTS = [
    "Draft a one-page priorities note",
    "Book the next four one-to-ones",
    "Review progress at cabinet briefing",
]


@dataclass
class BenchBuild:
    """What a build put in the database (also stored as the bench marker's detail)."""

    scale: float
    councils: int
    pairings: int
    people: int
    invitations: int
    responses: int
    ratings: int
    comments: int
    plans: int
    cycle_name: str
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def councils_per_nation(scale: float) -> dict[str, int]:
    """The national mix shrunk by `scale` (largest remainders), at least one council."""
    if not 0 < scale <= 1:
        from core.errors import Invalid

        raise Invalid(f"--scale must be above 0 and at most 1 (it was {scale}).")
    total = max(1, round(sum(NATIONS.values()) * scale))
    exact = {n: c * total / sum(NATIONS.values()) for n, c in NATIONS.items()}
    counts = {n: math.floor(v) for n, v in exact.items()}
    for n in sorted(exact, key=lambda n: exact[n] - counts[n], reverse=True):
        if sum(counts.values()) >= total:
            break
        counts[n] += 1
    return counts


# --- is this database ours to fill? ---------------------------------------------------------


def bench_marker(engine: Engine) -> dict[str, Any] | None:
    """The detail of the last bench build in this database, or None if there is none."""
    if "auditevent" not in inspect(engine).get_table_names():
        return None
    with Session(engine) as s:
        event = s.exec(
            select(AuditEvent)
            .where(AuditEvent.action == MARKER_ACTION)
            .order_by(AuditEvent.id.desc())  # type: ignore[union-attr]
        ).first()
        return dict(event.detail) if event is not None else None


def database_state(engine: Engine) -> str:
    """'empty' (no tables, or Tandem tables with nobody in them), 'bench' (an earlier bench
    build) — anything else is refused, because it may be somebody's real data."""
    tables = set(inspect(engine).get_table_names())
    if not tables or tables == {"alembic_version"}:
        return "empty"
    if bench_marker(engine) is not None:
        return "bench"
    if {"council", "useraccount"} <= tables:
        with engine.connect() as conn:
            held = conn.execute(
                text("SELECT (SELECT count(*) FROM council) + (SELECT count(*) FROM useraccount)")
            ).scalar_one()
        if held == 0:
            return "empty"
    shown = engine.url.render_as_string(hide_password=True)
    raise Conflict(
        f"The database {shown} already holds data that a benchmark did not create, so "
        "`tandem bench` will not touch it. Give it a dedicated database instead: a new SQLite "
        "file (the default), or an empty PostgreSQL database such as tandem_bench "
        "(createdb tandem_bench, then --database-url postgresql+psycopg://…/tandem_bench)."
    )


def wipe_bench_database(engine: Engine) -> None:
    """Empty an earlier bench build (only ever called after `database_state` said 'bench')."""
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        return
    # SQLite: the submitted-is-final triggers refuse deleting a submitted response's
    # ratings one by one, so the bench file is simply started again.
    path = make_url(str(engine.url)).database
    engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def prepare_database(engine: Engine, reuse_scale: float | None = None) -> bool:
    """Make the schema current on an empty or bench database. Returns True when a bench
    build at `reuse_scale` is already there and may be reused as it is."""
    state = database_state(engine)
    if state == "bench":
        marker = bench_marker(engine) or {}
        if reuse_scale is not None and marker.get("scale") == reuse_scale:
            upgrade(engine)
            return True
        wipe_bench_database(engine)
    upgrade(engine)
    return False


# --- bulk writing -----------------------------------------------------------------------------


def _sqlite_stamps(row: Row, stamps: list[int]) -> Row:
    """Store times as SQLAlchemy does on SQLite: naive UTC text, so they read back alike."""
    out = list(row)
    for k in stamps:
        v = out[k]
        if isinstance(v, datetime):
            out[k] = v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return tuple(out)


class BulkWriter:
    """COPY on PostgreSQL, executemany of one INSERT on SQLite; ids are given
    by the bench itself so no row needs RETURNING."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    def next_id(self, table: str) -> int:
        return int(
            self.conn.execute(text(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")).scalar_one()
        )

    def write(self, model: type[SQLModel], columns: Sequence[str], rows: Iterable[Row]) -> int:
        table = model.__table__  # type: ignore[attr-defined]
        count = 0
        if self.pg:
            raw = self.conn.connection.driver_connection
            if raw is None:
                raise RuntimeError("The database connection has been closed.")
            with (
                raw.cursor() as cur,
                cur.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        # The statement Core's insert() would compile, with the columns in our order
        # (compile() would reorder them to the table's).
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
        batch: list[Row] = []
        stamps: list[int] | None = None
        for row in rows:
            if stamps is None:
                stamps = [k for k, v in enumerate(row) if isinstance(v, datetime)]
            if stamps:
                row = _sqlite_stamps(row, stamps)
            batch.append(row)
            if len(batch) >= BATCH:
                self.conn.exec_driver_sql(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            self.conn.exec_driver_sql(sql, batch)
            count += len(batch)
        return count

    def fix_sequences(self, tables: Iterable[str]) -> None:
        """After explicit ids, move PostgreSQL's sequences past them."""
        if not self.pg:
            return
        for t in tables:
            self.conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {t}))"
                )
            )


# --- the national cycle -------------------------------------------------------------------


@dataclass
class _Framework:
    id: int
    dim_items: np.ndarray  # item ids answered by everyone, in position order
    dim_of_item: np.ndarray  # index of each of those items' dimension
    targets: np.ndarray  # "member" / "officer" / "partnership" per item
    solace: list[tuple[int, int]]  # (item id, points on its scale)
    dimension_ids: list[int]
    dimension_codes: list[str]
    # Per rater group, which of dim_items it is asked (framework 2026.2's audiences): a
    # group is never given an answer to an item its form would not show.
    asked: dict[str, np.ndarray]


def _framework(session: Session) -> _Framework:
    version = ensure_default_framework(session)
    spec = framework_spec(version)
    dims = session.exec(
        select(Dimension)
        .where(Dimension.framework_version_id == version.id)
        .order_by(col(Dimension.position))
    ).all()
    position = {d.id: k for k, d in enumerate(dims)}
    items = session.exec(
        select(Item)
        .where(col(Item.framework_version_id) == version.id)
        .order_by(col(Item.position))
    ).all()
    everyone = [i for i in items if i.audience == "everyone" and i.dimension_id is not None]
    solace_points = {"advice_frequency": 5, "relationship": 4}
    return _Framework(
        id=stored_id(version.id),
        dim_items=np.array([i.id for i in everyone]),
        dim_of_item=np.array([position[i.dimension_id] for i in everyone]),
        targets=np.array([i.target for i in everyone]),
        solace=[
            (stored_id(i.id), solace_points.get(i.scale, 5))
            for i in items
            if i.dimension_id is None
        ],
        dimension_ids=[stored_id(d.id) for d in dims],
        dimension_codes=[d.code for d in dims],
        asked={
            group: np.array([asks(spec, i.code, i.audience, group) for i in everyone])
            for group in ("principal", "members", "officers", "partners")
        },
    )


class _Ids:
    def __init__(self, writer: BulkWriter, tables: Iterable[str]) -> None:
        self.next = {t: writer.next_id(t) for t in tables}

    def take(self, table: str, n: int = 1) -> int:
        first = self.next[table]
        self.next[table] += n
        return first


def build_national(
    engine: Engine,
    scale: float = 1.0,
    seed: int = 2026,
    progress: Callable[[str], None] | None = None,
) -> BenchBuild:
    """Fill a prepared (empty) database with the national cycle. One transaction: a build
    that fails leaves nothing behind."""
    say = progress or (lambda _m: None)
    started = datetime.now(UTC)
    with session_scope(engine) as s:
        fw = _framework(s)
    per_nation = councils_per_nation(scale)
    now = datetime.now(UTC)
    opens, closes = date(2026, 9, 1), date(2026, 9, 30)
    submitted_at = datetime(2026, 9, 20, 12, 0, tzinfo=UTC)
    rng = np.random.default_rng(seed)

    councils: list[Row] = []
    people: list[Row] = []
    pairings: list[Row] = []
    cycles: list[Row] = []
    cycle_pairings: list[Row] = []
    invitations: list[Row] = []
    responses: list[Row] = []
    comments: list[Row] = []
    plans: list[Row] = []
    goals: list[Row] = []
    actions: list[Row] = []
    # Ratings are described per response and expanded lazily while writing (3 million rows).
    answer_plan: list[tuple[int, bool, str | None, np.ndarray, str]] = []

    with engine.begin() as conn:
        w = BulkWriter(conn)
        ids = _Ids(
            w,
            [
                "council",
                "person",
                "pairing",
                "cycle",
                "invitation",
                "response",
                "developmentplan",
                "plangoal",
                "planaction",
            ],
        )
        number = 0
        for nation, count in per_nation.items():
            for _ in range(count):
                number += 1
                _council(
                    number, nation, rng, fw, ids, now, opens, closes,
                    councils, people, pairings, cycles, cycle_pairings, invitations,
                    responses, comments, plans, goals, actions, answer_plan,
                )  # fmt: skip
        say(f"Writing {len(councils)} councils, {len(people)} people, {len(pairings)} pairings…")
        w.write(Council, ["id", "name", "nation", "retention_months", "created_at"], councils)
        w.write(
            Person,
            ["id", "council_id", "full_name", "email", "kind", "title", "portfolio",
             "organisation", "created_at"],
            people,
        )  # fmt: skip
        w.write(
            Pairing,
            ["id", "council_id", "kind", "member_id", "officer_id", "portfolio", "active",
             "created_at"],
            pairings,
        )  # fmt: skip
        w.write(
            Cycle,
            ["id", "council_id", "name", "opens_on", "closes_on", "status",
             "framework_version_id", "anonymity_threshold", "invitation_subject",
             "invitation_body", "reminder_subject", "reminder_body", "created_at"],
            cycles,
        )  # fmt: skip
        w.write(CyclePairing, ["cycle_id", "pairing_id"], cycle_pairings)
        say(f"Writing {len(invitations)} invitations and {len(responses)} responses…")
        w.write(
            Invitation,
            ["id", "cycle_id", "pairing_id", "rater_id", "rater_group", "status",
             "reminder_count", "sent_at", "created_at"],
            invitations,
        )  # fmt: skip
        # Drafts first: the database refuses ratings for an already-submitted response.
        w.write(Response, ["id", "invitation_id", "status", "started_at", "updated_at"], responses)
        n_ratings = w.write(
            Rating, ["response_id", "item_id", "value"], _ratings(answer_plan, fw, seed)
        )
        say(f"Wrote {n_ratings} ratings; writing comments and plans…")
        w.write(Comment, ["response_id", "dimension_id", "text"], comments)
        conn.execute(
            text(
                "UPDATE response SET status = 'submitted', submitted_at = :at, updated_at = :at "
                "WHERE status = 'draft'"
            ),
            {"at": submitted_at},
        )
        w.write(
            DevelopmentPlan,
            ["id", "pairing_id", "cycle_id", "status", "revision", "created_at", "updated_at",
             "updated_by"],
            plans,
        )  # fmt: skip
        w.write(
            PlanGoal,
            ["id", "plan_id", "dimension_code", "challenge", "title", "description", "source",
             "position", "created_at"],
            goals,
        )  # fmt: skip
        w.write(
            PlanAction,
            ["id", "goal_id", "description", "owner", "due_on", "success_measure", "status",
             "position", "updated_at"],
            actions,
        )  # fmt: skip
        w.fix_sequences(ids.next)
        build = BenchBuild(
            scale=scale,
            councils=len(councils),
            pairings=len(pairings),
            people=len(people),
            invitations=len(invitations),
            responses=len(responses),
            ratings=n_ratings,
            comments=len(comments),
            plans=len(plans),
            cycle_name=CYCLE_NAME,
        )
        build.seconds = round((datetime.now(UTC) - started).total_seconds(), 1)
        conn.execute(
            insert(AuditEvent.__table__),  # type: ignore[attr-defined]
            {
                "at": now,
                "actor": BENCH_ACTOR,
                "action": MARKER_ACTION,
                "entity": "database",
                "entity_id": None,
                "council_id": None,
                "detail": build.as_dict(),
            },
        )
    if engine.dialect.name == "postgresql":
        # Fresh statistics so the planner sees 3 million ratings, not an empty table.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    # seconds stays as recorded in the marker, so a reused build reports the same figure.
    return build


def _council(
    number: int,
    nation: str,
    rng: np.random.Generator,
    fw: _Framework,
    ids: _Ids,
    now: datetime,
    opens: date,
    closes: date,
    councils: list[Row],
    people: list[Row],
    pairings: list[Row],
    cycles: list[Row],
    cycle_pairings: list[Row],
    invitations: list[Row],
    responses: list[Row],
    comments: list[Row],
    plans: list[Row],
    goals: list[Row],
    actions: list[Row],
    answer_plan: list[tuple[int, bool, str | None, np.ndarray, str]],
) -> None:
    council_id = ids.take("council")
    name = f"{NAME_PREFIX} {nation} Council {number:03d}"
    domain = f"c{number:03d}.bench.example.gov.uk"
    councils.append((council_id, name, nation, 36, now))
    cabinet = 9 if rng.random() > 0.05 else int(rng.integers(5, 9))

    def person(full_name: str, key: str, kind: str, title: str = "", portfolio: str = "",
               organisation: str = "") -> int:  # fmt: skip
        pid = ids.take("person")
        people.append(
            (pid, council_id, full_name, f"{key}@{domain}", kind, title, portfolio,
             organisation, now)
        )  # fmt: skip
        return pid

    leader = person(f"Cllr Leader {number}", "leader", "member", "Leader of the Council")
    chief = person(f"Chief Executive {number}", "ceo", "officer", "Chief Executive")
    cabinet_members = [
        person(f"Cllr Cabinet {k + 1}", f"cab{k}", "member", "Cabinet Member", PORTFOLIOS[k])
        for k in range(cabinet)
    ]
    directors = [
        person(f"Director {k + 1}", f"dir{k}", "officer", "Director", PORTFOLIOS[k])
        for k in range(cabinet)
    ]
    backbench = [person(f"Cllr Member {k + 1}", f"m{k}", "member") for k in range(30)]
    staff = [person(f"Officer {k + 1}", f"o{k}", "officer", "Head of Service") for k in range(24)]
    partners = [
        person(f"Partner {k + 1}", f"p{k}", "external", organisation=f"Partner body {k + 1}")
        for k in range(12)
    ]
    cycle_id = ids.take("cycle")
    cycles.append(
        (cycle_id, council_id, CYCLE_NAME, opens, closes, "closed", fw.id, 3, "", "", "", "", now)
    )
    duos = [("leader–chief executive", leader, chief, "")] + [
        ("cabinet–director", cabinet_members[k], directors[k], PORTFOLIOS[k])
        for k in range(cabinet)
    ]
    all_members = [leader, *cabinet_members, *backbench]
    all_officers = [chief, *directors, *staff]
    for kind, member_id, officer_id, portfolio in duos:
        pairing_id = ids.take("pairing")
        pairings.append((pairing_id, council_id, kind, member_id, officer_id, portfolio, True, now))
        cycle_pairings.append((cycle_id, pairing_id))
        others = int(rng.integers(12, 21))
        n_partners = int(rng.integers(2, 6))  # 2 sometimes: below the threshold, suppressed
        n_members = int(rng.integers(4, others - n_partners - 2))
        n_officers = others - n_partners - n_members
        pool_m = [m for m in all_members if m != member_id]
        pool_o = [o for o in all_officers if o != officer_id]
        raters: list[tuple[int, str, str | None]] = [
            (member_id, "principal", "member"),
            (officer_id, "principal", "officer"),
        ]
        raters += [(int(r), "members", None) for r in rng.choice(pool_m, n_members, replace=False)]
        raters += [
            (int(r), "officers", None) for r in rng.choice(pool_o, n_officers, replace=False)
        ]
        raters += [
            (int(r), "partners", None) for r in rng.choice(partners, n_partners, replace=False)
        ]
        # The pairing's character: where it is strong and weak, and how far the member and
        # the officer see themselves more kindly than others do.
        base = np.clip(rng.normal(3.6, 0.45, len(fw.dimension_ids)), 1.8, 4.7)
        for rater_id, group, side in raters:
            answered = side is not None or rng.random() > NO_RESPONSE_RATE
            inv_id = ids.take("invitation")
            invitations.append(
                (inv_id, cycle_id, pairing_id, rater_id, group,
                 "submitted" if answered else "not started", 0, now, now)
            )  # fmt: skip
            if not answered:
                continue
            response_id = ids.take("response")
            responses.append((response_id, inv_id, "draft", now, now))
            answer_plan.append((response_id, side is not None, side, base, group))
            if side is None:
                for d, dim_id in enumerate(fw.dimension_ids):
                    if rng.random() < COMMENT_RATE:
                        text_ = COMMENT_POOL[(response_id + d) % len(COMMENT_POOL)]
                        comments.append((response_id, dim_id, text_))
        plan_id = ids.take("developmentplan")
        plans.append((plan_id, pairing_id, cycle_id, "draft", 1, now, now, BENCH_ACTOR))
        for g in range(3):
            goal_id = ids.take("plangoal")
            code = fw.dimension_codes[int(np.argmin(base)) if g == 0 else (g * 3) % len(base)]
            goals.append((goal_id, plan_id, code, None, GOAL_TITLES[g], "", "written", g, now))
            for a in range(3):
                actions.append(
                    (ids.take("planaction"), goal_id, ACTION_TEXTS[a], ("member", "officer",
                     "joint")[a], closes + timedelta(days=30 * (a + 1)), "Both agree it is done",
                     ("done", "in progress", "not started")[a], a, now)
                )  # fmt: skip


def _ratings(
    answer_plan: list[tuple[int, bool, str | None, np.ndarray, str]], fw: _Framework, seed: int
) -> Iterable[tuple[int, int, int | None]]:
    """Every rating, council by council: the pairing's base for the item's dimension, a lift
    when the rater is the person the item is about, noise, 'can't say' now and then."""
    rng = np.random.default_rng(seed + 1)
    n_items = len(fw.dim_items)
    item_ids = fw.dim_items.tolist()
    chunk = 2000  # responses at a time, so memory stays flat
    for start in range(0, len(answer_plan), chunk):
        part = answer_plan[start : start + chunk]
        base = np.stack([p[3][fw.dim_of_item] for p in part])
        sides = np.array([p[2] or "" for p in part])
        lift = np.where(sides[:, None] == fw.targets[None, :], 0.5, 0.0)
        values = np.clip(np.rint(base + lift + rng.normal(0, 0.8, (len(part), n_items))), 1, 5)
        values[rng.random((len(part), n_items)) < CANT_SAY_RATE] = 0
        flat = values.astype(int).tolist()
        for (response_id, principal, _side, _base, group), row in zip(part, flat, strict=True):
            for item_id, v, asked in zip(item_ids, row, fw.asked[group], strict=True):
                if asked:
                    yield (response_id, item_id, v or None)
            if principal:
                for item_id, points in fw.solace:
                    yield (response_id, item_id, int(rng.integers(1, points + 1)))
