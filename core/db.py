"""Where the data lives: engine, sessions and keeping the schema current with Alembic.

The default is a SQLite file beside the app (`data/tandem.db`); `TANDEM_DATABASE_URL`
points Tandem at any SQLAlchemy URL, PostgreSQL through psycopg 3 included.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
)
from sqlmodel import Session
from sqlmodel.sql.expression import Select

from core.settings import load_settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_SQLITE_PATH = DATA_DIR / "tandem.db"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


class TandemError(Exception):
    """An error whose message is written for the person using Tandem."""


class DatabaseConfigError(TandemError):
    pass


class SchemaError(TandemError):
    pass


class DatabaseUnavailable(TandemError):
    """The database did not answer (restarting, or the network dropped) after waiting."""


# How long a new connection waits for a restarting PostgreSQL before giving up: a restart
# takes a second or two, and a rater's click is better slow than lost.
CONNECT_PATIENCE_SECONDS = 15.0


def database_unavailable(exc: BaseException) -> bool:
    """True for an error that means the database went away (restart, dropped connection),
    after which the same unit of work may safely be tried again."""
    return isinstance(exc, DBAPIError) and (
        exc.connection_invalidated or isinstance(exc, OperationalError)
    )


def database_url() -> str:
    url = load_settings().database_url
    return url or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _normalise(url: str) -> str:
    # "postgresql://" would pick psycopg2, which Tandem does not ship; use psycopg 3.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _json_loads(text: str | bytes) -> object:
    """JSON columns (published editions, audit details) parsed with orjson, several times
    faster than the standard library for a report's tables; anything orjson refuses
    (a NaN written by an older version) falls back to the standard parser."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def make_engine(url: str | None = None) -> Engine:
    """One engine per process. SQLite gets WAL, enforced foreign keys and a busy timeout."""
    raw = _normalise(url or database_url())
    try:
        parsed = make_url(raw)
        if parsed.get_backend_name() not in ("sqlite", "postgresql"):
            raise DatabaseConfigError(
                f"Tandem supports SQLite and PostgreSQL, not '{parsed.get_backend_name()}'. "
                "Set TANDEM_DATABASE_URL to sqlite:///path/to/tandem.db or "
                "postgresql+psycopg://user:password@host/dbname."
            )
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                parsed,
                connect_args={"timeout": 30, "check_same_thread": False},
                json_deserializer=_json_loads,
            )
            event.listen(engine, "connect", _sqlite_pragmas)
            # SQLite's own transaction handling begins lazily; BEGIN IMMEDIATE on write
            # paths is done where needed. Keep pysqlite from swallowing BEGIN.
        else:
            engine = create_engine(
                parsed,
                pool_pre_ping=True,
                pool_size=10,
                max_overflow=20,
                json_deserializer=_json_loads,
                connect_args={"connect_timeout": 5},
            )
            event.listen(engine, "do_connect", _patient_connect)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        shown = make_url(raw).render_as_string(hide_password=True) if "://" in raw else raw
        raise DatabaseConfigError(
            f"TANDEM_DATABASE_URL={shown!r} is not a database address Tandem can use ({exc}). "
            "Use sqlite:///path/to/tandem.db or postgresql+psycopg://user:password@host/dbname."
        ) from exc
    return engine


def _patient_connect(dialect, _record, cargs, cparams):  # type: ignore[no-untyped-def]
    """Open a PostgreSQL connection, waiting out a restart: tried again for up to
    CONNECT_PATIENCE_SECONDS while the server refuses connections or is shutting down."""
    deadline = time.monotonic() + CONNECT_PATIENCE_SECONDS
    pause = 0.1
    while True:
        try:
            return dialect.connect(*cargs, **cparams)
        except dialect.loaded_dbapi.OperationalError:
            if time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def select_row(*columns: Any) -> Select[*tuple[Any, ...]]:
    """SELECT of more than four entities or columns: `sqlmodel.select`'s typed overloads stop
    at four. Runs with `session.exec` like any other; its rows are untyped tuples."""
    return Select(*columns)


# --- schema -------------------------------------------------------------------------


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        raise DatabaseConfigError(
            f"Tandem could not open the database at {engine.url.render_as_string(True)}: "
            f"{exc.orig}. Check TANDEM_DATABASE_URL and that the server is running."
        ) from exc


def schema_state(engine: Engine) -> str:
    """'current', 'empty', 'older' or 'newer' (a database made by a later Tandem)."""
    current = current_revision(engine)
    if current is None:
        tables = set(inspect(engine).get_table_names())
        return "empty" if not tables else "unmanaged"
    script = ScriptDirectory.from_config(alembic_config())
    if current == script.get_current_head():
        return "current"
    try:
        script.get_revision(current)
    except Exception:
        return "newer"
    return "older"


def upgrade(engine: Engine) -> str:
    """Bring an empty or older database up to date. Returns what happened, in words."""
    state = schema_state(engine)
    if state == "newer":
        raise SchemaError(
            f"This database (revision {current_revision(engine)}) was made by a newer version "
            "of Tandem than this one. Nothing was changed. Update Tandem (git pull, then "
            "pip install -e .) before using this database."
        )
    if state == "unmanaged":
        raise SchemaError(
            "This database already has tables that Tandem did not create. Nothing was "
            "changed. Point TANDEM_DATABASE_URL at an empty database or a Tandem one."
        )
    if state == "current":
        return "The database is already up to date."
    command.upgrade(alembic_config(engine), "head")
    return (
        "The database was empty; it now has the Tandem schema."
        if state == "empty"
        else ("The database was upgraded to the current schema.")
    )


def ensure_schema(engine: Engine) -> None:
    """Used at app and CLI start: upgrade quietly, or fail with instructions."""
    if schema_state(engine) != "current":
        upgrade(engine)
