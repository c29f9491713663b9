"""Backing up the whole database and restoring a backup (`tandem backup`, `tandem restore`).

SQLite is copied with its online backup API, which reads one consistent snapshot while raters
go on writing (WAL readers never block writers); the copy is checked (`integrity_check`) and
only then renamed into place, so a half-written file never carries the backup's name.
PostgreSQL is dumped with `pg_dump --format=custom` against a snapshot exported from the
transaction that counts what it holds, so the summary describes exactly the dump.

A restore replaces everything in the target, so it is refused while the target holds any
council unless `replace` is given, and even then the target is first backed up beside itself.
Answers are never read or logged here: the summary counts councils, cycles and submitted
responses only.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from core import audit
from core.db import alembic_config, head_revision, schema_state, session_scope, upgrade
from core.errors import Conflict, Invalid
from core.roles import Actor, require_admin

COUNTS = (
    "SELECT (SELECT count(*) FROM council), (SELECT count(*) FROM cycle), "
    "(SELECT count(*) FROM response WHERE status = 'submitted')"
)


@dataclass(frozen=True)
class BackupSummary:
    """What a backup file holds, in the words `tandem backup|restore` print."""

    path: Path
    size_bytes: int
    councils: int
    cycles: int
    submitted_responses: int
    revision: str

    def describe(self) -> str:
        return (
            f"{self.councils} councils, {self.cycles} cycles and {self.submitted_responses} "
            f"submitted responses (schema {self.revision}, {self.size_bytes:,} bytes)"
        )


def _is_sqlite(engine: Engine) -> bool:
    return engine.url.get_backend_name() == "sqlite"


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise Invalid("Only a SQLite database kept in a file can be backed up or restored.")
    return Path(database).resolve()


class Counts(NamedTuple):
    councils: int
    cycles: int
    submitted_responses: int
    revision: str


def _summary(path: Path, counts: Counts) -> BackupSummary:
    return BackupSummary(path, path.stat().st_size, *counts)


def _counts(conn: Connection | sqlite3.Connection) -> Counts:
    if isinstance(conn, sqlite3.Connection):
        row = conn.execute(COUNTS).fetchone()
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    else:
        row = conn.execute(text(COUNTS)).one()
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).one()
    return Counts(int(row[0]), int(row[1]), int(row[2]), str(revision[0]))


def _refuse_existing(destination: Path) -> None:
    if destination.exists():
        raise Conflict(
            f"{destination} already exists. A backup never overwrites a file: choose a new "
            "name (for example one with today's date)."
        )
    if not destination.parent.is_dir():
        raise Invalid(f"The folder {destination.parent} does not exist: create it first.")


def back_up(engine: Engine, actor: Actor, destination: Path) -> BackupSummary:
    """Copy the whole database to `destination` (a new file) while the app keeps running."""
    require_admin(actor)
    destination = destination.expanduser().resolve()
    _refuse_existing(destination)
    summary = (
        _back_up_sqlite(engine, destination)
        if _is_sqlite(engine)
        else _back_up_postgres(engine, destination)
    )
    with session_scope(engine) as session:
        audit.record(
            session, actor, "database backed up", "database",
            file=str(destination), councils=summary.councils,
            submitted_responses=summary.submitted_responses,
        )  # fmt: skip
    return summary


def _back_up_sqlite(engine: Engine, destination: Path) -> BackupSummary:
    source_path = _sqlite_path(engine)
    if destination == source_path:
        raise Invalid("A backup must be a different file from the database itself.")
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(source_path, timeout=30)
    target = sqlite3.connect(partial)
    try:
        # pages=-1: the whole database in one step, so the copy is one snapshot even while
        # raters write (a step-by-step copy restarts whenever another connection writes).
        source.backup(target, pages=-1)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        checked = target.execute("PRAGMA integrity_check").fetchone()
        if checked is None or checked[0] != "ok":
            raise Invalid(f"The copy failed SQLite's integrity check ({checked}); nothing kept.")
        counts = _counts(target)
    except BaseException:
        target.close()
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    target.close()
    os.replace(partial, destination)
    return _summary(destination, counts)


def _pg_environment(engine: Engine) -> dict[str, str]:
    """The libpq variables pg_dump and pg_restore read, so no password is on a command line."""
    url = engine.url
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", url.host),
        ("PGPORT", str(url.port) if url.port else None),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value:
            env[key] = str(value)
    return env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise Invalid(
            f"{name} is not installed on this machine. Install PostgreSQL's client programs "
            "(on Debian: apt-get install postgresql-client-15) and run this again."
        )
    return found


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Invalid(f"{what} failed: {done.stderr.strip() or done.stdout.strip()}")


def _back_up_postgres(engine: Engine, destination: Path) -> BackupSummary:
    pg_dump = _pg_tool("pg_dump")
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    with engine.connect() as conn:
        conn.execute(text("BEGIN ISOLATION LEVEL REPEATABLE READ"))
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        counts = _counts(conn)
        try:
            # The dump reads the snapshot this transaction holds open: the counts describe it.
            _run(
                [pg_dump, "--format=custom", "--no-owner", f"--snapshot={snapshot}",
                 f"--file={partial}"],
                _pg_environment(engine), "pg_dump",
            )  # fmt: skip
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:
            conn.execute(text("COMMIT"))
    os.replace(partial, destination)
    return _summary(destination, counts)


def _refuse_newer(revision: str, source: Path) -> None:
    """A backup made by a later Tandem cannot be read by this one."""
    try:
        ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except Exception:
        raise Invalid(
            f"{source} was made by a newer version of Tandem (schema {revision}, this one "
            f"knows up to {head_revision()}). Nothing was changed: update Tandem first."
        ) from None


def _holds_councils(engine: Engine) -> int:
    if schema_state(engine) == "empty":
        return 0
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM council")).scalar_one())


def restore(engine: Engine, actor: Actor, source: Path, *, replace: bool = False) -> BackupSummary:
    """Replace the whole database with a backup made by `back_up`. Refused while the database
    holds councils unless `replace`; then the database is first backed up beside itself."""
    require_admin(actor)
    source = source.expanduser().resolve()
    if not source.is_file():
        raise Invalid(f"There is no backup file at {source}.")
    held = _holds_councils(engine)
    if held and not replace:
        raise Conflict(
            f"The database already holds {held} councils. Restoring replaces everything in it: "
            "run again with --replace (it is backed up beside itself first)."
        )
    kept: Path | None = None
    if held:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        where = _sqlite_path(engine).parent if _is_sqlite(engine) else source.parent
        kept = where / f"before-restore-{stamp}{'.db' if _is_sqlite(engine) else '.dump'}"
        back_up(engine, actor, kept)
    summary = (
        _restore_sqlite(engine, source) if _is_sqlite(engine) else _restore_postgres(engine, source)
    )
    upgrade(engine)  # a backup from an older Tandem is brought up to date
    with session_scope(engine) as session:
        audit.record(
            session, actor, "database restored", "database",
            file=str(source), kept_before=str(kept) if kept else None,
            councils=summary.councils, submitted_responses=summary.submitted_responses,
        )  # fmt: skip
    return summary


def _restore_sqlite(engine: Engine, source: Path) -> BackupSummary:
    target_path = _sqlite_path(engine)
    if source == target_path:
        raise Invalid("The backup and the database are the same file.")
    backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        checked = backup.execute("PRAGMA integrity_check").fetchone()
        counts = _counts(backup)
    except sqlite3.DatabaseError:
        backup.close()
        raise Invalid(
            f"{source} is not a Tandem backup (not a SQLite database Tandem made)."
        ) from None
    if checked is None or checked[0] != "ok":
        backup.close()
        raise Invalid(
            f"{source} is damaged (SQLite's integrity check: {checked}). Nothing changed."
        )
    _refuse_newer(counts.revision, source)
    engine.dispose()  # no pooled connection holds the old pages
    target = sqlite3.connect(target_path, timeout=30)
    try:
        backup.backup(target, pages=-1)  # one transaction on the target: all or nothing
    finally:
        target.close()
        backup.close()
    return _summary(source, counts)


def _dump_revision(pg_restore: str, source: Path, env: dict[str, str]) -> str:
    """The schema revision inside a custom-format dump, read without restoring anything."""
    listed = subprocess.run(
        [pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(source)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = listed.stdout.splitlines()
    for n, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and n + 1 < len(lines):
            return lines[n + 1].strip()
    raise Invalid(f"{source} is not a Tandem backup made by pg_dump --format=custom.")


def _restore_postgres(engine: Engine, source: Path) -> BackupSummary:
    pg_restore = _pg_tool("pg_restore")
    env = _pg_environment(engine)
    _refuse_newer(_dump_revision(pg_restore, source, env), source)
    engine.dispose()
    # --clean drops what the dump holds and --single-transaction makes drop and load one
    # transaction: a failed restore leaves the database as it was.
    _run(
        [pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction",
         "--exit-on-error", f"--dbname={engine.url.database}", str(source)],
        env, "pg_restore",
    )  # fmt: skip
    with engine.connect() as conn:
        counts = _counts(conn)
    return _summary(source, counts)
