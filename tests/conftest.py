"""Real databases for the tests: a SQLite file per test, and in CI (or wherever
scripts/test-setup.sh found the machine's PostgreSQL) a fresh PostgreSQL database per test.

Both are copied from a template migrated once per run, so every test starts from the
schema Alembic builds, never from `create_all`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from core.db import make_engine, upgrade

# The app's own reminder thread stays off in tests (and in the servers and commands they
# start, which inherit this): the tests that need it turn it on for their own processes.
os.environ["TANDEM_REMINDER_CHECK_SECONDS"] = "off"

PG_ADMIN_URL = os.environ.get("TANDEM_TEST_POSTGRES_ADMIN_URL", "")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# `make check` runs SQLite only (TANDEM_TEST_BACKENDS=sqlite); `make test` runs both.
BACKENDS = os.environ.get("TANDEM_TEST_BACKENDS", "sqlite,postgresql").split(",")


def _pg_admin() -> Engine:
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def require_postgres() -> None:
    if PG_ADMIN_URL:
        return
    message = (
        "PostgreSQL is not available: run `make test` (scripts/test-setup.sh starts it) or set "
        "TANDEM_TEST_POSTGRES_ADMIN_URL"
    )
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    require_postgres()
    name = f"tandem_tpl_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(
        make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    )
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fresh_pg_url(template: str | None) -> str:
    name = f"tandem_t_{uuid.uuid4().hex[:12]}"
    with _pg_admin().connect() as conn:
        clause = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _drop_pg(url: str) -> None:
    name = make_url(url).database
    with _pg_admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of the backend named by the test's `backend` parameter."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    require_postgres()
    url = _fresh_pg_url(None)
    yield url
    _drop_pg(url)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A migrated database on each backend (tests using it run twice)."""
    if request.param == "sqlite":
        path = tmp_path / "tandem.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    url = _fresh_pg_url(template)
    yield url
    _drop_pg(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated SQLite database, for tests about behaviour rather than the backend."""
    path = tmp_path / "tandem.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    eng = make_engine(sqlite_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A SQLite database holding the demo council, built once per run and copied per test."""
    from core.db import session_scope
    from tools.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with session_scope(engine) as s:
        build_demo(s)
    engine.dispose()
    return path


@pytest.fixture
def demo_url(tmp_path: Path, demo_template: Path) -> str:
    path = tmp_path / "demo.db"
    shutil.copy(demo_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def demo_engine(demo_url: str) -> Iterator[Engine]:
    eng = make_engine(demo_url)
    yield eng
    eng.dispose()


# Signing in for AppTest page tests lives in tests/signing_in.py: a module named
# `conftest` is ambiguous once tests/browser has its own.
