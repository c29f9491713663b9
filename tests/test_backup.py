"""`tandem backup` and `tandem restore` (issue 16, faults): a copy taken while raters are
submitting holds every response submitted before it began, each one whole; a restore is
refused over a database in use unless asked, keeps what it replaced, and refuses files that
are not backups. PostgreSQL: the same commands, and the README's own pg_dump / pg_restore
lines run as written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cycle_builder import build_cycle
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlmodel import select

from core.db import make_engine, session_scope
from core.errors import Conflict, Invalid
from core.roles import SYSTEM
from feedback.collection.responses import items_for_invitation, save_answers, submit_response
from feedback.models import Invitation
from governance.backup import back_up, restore

TANDEM = str(Path(sys.executable).with_name("tandem"))
README = Path(__file__).resolve().parents[1] / "README.md"


def tandem(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TANDEM_DATABASE_URL": url}
    return subprocess.run([TANDEM, *args], capture_output=True, text=True, env=env, timeout=300)


def submitted(engine: Engine) -> dict[int, int]:
    """Each submitted response's invitation, with how many ratings it holds."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT r.invitation_id, count(g.item_id) FROM response r "
                "LEFT JOIN rating g ON g.response_id = r.id WHERE r.status = 'submitted' "
                "GROUP BY r.invitation_id"
            )
        ).all()
    return {int(a): int(b) for a, b in rows}


def raters_submitting(url: str, stop: threading.Event, errors: list[BaseException]) -> None:
    """Every invited rater answers everything and submits, one after another, as fast as the
    database allows, until all have or `stop` is set."""
    engine = make_engine(url)
    try:
        with session_scope(engine) as s:
            invitations = s.exec(select(Invitation).order_by(Invitation.id)).all()
        for inv in invitations:
            if stop.is_set():
                return
            with session_scope(engine) as s:
                items = items_for_invitation(s, inv)
                save_answers(s, inv.id, {i.id: 1 + (i.id % 3) for i in items})
            with session_scope(engine) as s:
                submit_response(s, inv.id)
    except BaseException as exc:  # reported to the test, never swallowed
        errors.append(exc)
    finally:
        engine.dispose()


def expected_ratings(url: str) -> dict[int, int]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as s:
            return {
                inv.id: len(items_for_invitation(s, inv))
                for inv in s.exec(select(Invitation)).all()
            }
    finally:
        engine.dispose()


def test_a_backup_taken_while_raters_submit_restores_every_submitted_response(
    sqlite_url: str, sqlite_template: Path, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_url)
    build_cycle(engine, raters_per_group=12)
    whole = expected_ratings(sqlite_url)
    assert len(whole) >= 40
    stop, errors = threading.Event(), []
    writer = threading.Thread(target=raters_submitting, args=(sqlite_url, stop, errors))
    writer.start()
    copies: list[tuple[Path, set[int], set[int]]] = []
    try:
        for n in range(4):
            while len(submitted(engine)) < 6 * (n + 1) and writer.is_alive():
                threading.Event().wait(0.02)
            before = set(submitted(engine))
            copy = tmp_path / f"copy-{n}.db"
            summary = back_up(engine, SYSTEM, copy)
            after = set(submitted(engine))
            assert summary.submitted_responses >= len(before)
            # Taken while raters were still submitting, not after they had all finished.
            assert writer.is_alive() and len(after) < len(whole), n
            copies.append((copy, before, after))
    finally:
        stop.set()
        writer.join()
    assert not errors, errors
    for copy, before, after in copies:
        target = tmp_path / f"restored-{copy.stem}.db"
        shutil.copy(sqlite_template, target)  # a fresh, empty Tandem database
        restored = make_engine(f"sqlite:///{target}")
        summary = restore(restored, SYSTEM, copy)
        found = submitted(restored)
        restored.dispose()
        assert before <= set(found) <= after, (copy, len(before), len(found), len(after))
        assert summary.submitted_responses == len(found)
        # One snapshot: no submitted response without every one of its answers.
        assert all(found[i] == whole[i] for i in found), copy
    engine.dispose()


def test_backup_and_restore_refuse_what_would_lose_data(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    build_cycle(engine)
    copy = tmp_path / "tandem-backup.db"
    back_up(engine, SYSTEM, copy)
    with pytest.raises(Conflict, match="never overwrites"):
        back_up(engine, SYSTEM, copy)
    with pytest.raises(Conflict, match="already holds 1 councils.*--replace"):
        restore(engine, SYSTEM, copy)
    not_a_backup = tmp_path / "notes.db"
    not_a_backup.write_text("minutes of the cabinet meeting\n" * 100)
    with pytest.raises(Invalid, match="not a Tandem backup"):
        restore(engine, SYSTEM, not_a_backup, replace=True)
    with pytest.raises(Invalid, match="no backup file"):
        restore(engine, SYSTEM, tmp_path / "missing.db", replace=True)
    # Nothing above changed the database.
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM council")).scalar_one() == 1
    engine.dispose()


def test_the_commands_back_up_and_restore_a_changed_database(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_url)
    build_cycle(engine)
    engine.dispose()
    copy = tmp_path / "before-the-change.db"
    out = tandem("backup", str(copy), url=sqlite_url)
    assert out.returncode == 0, out.stderr
    assert re.search(r"Backed up 1 councils, 1 cycles and 0 submitted responses", out.stdout)
    again = tandem("backup", str(copy), url=sqlite_url)
    assert again.returncode == 1 and "never overwrites" in again.stdout + again.stderr
    assert "Traceback" not in again.stdout + again.stderr

    assert tandem("council", "add", "Borth Town Council", url=sqlite_url).returncode == 0
    refused = tandem("restore", str(copy), url=sqlite_url)
    assert refused.returncode == 1 and "--replace" in refused.stdout + refused.stderr
    done = tandem("restore", str(copy), "--replace", url=sqlite_url)
    assert done.returncode == 0, done.stderr
    assert "Restored 1 councils" in done.stdout
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM council")).scalars().all()
        actions = conn.execute(text("SELECT action FROM auditevent")).scalars().all()
    engine.dispose()
    assert names == ["Llanfair County Council"]
    assert "database restored" in actions
    kept = list(Path(make_url(sqlite_url).database or "").parent.glob("before-restore-*.db"))
    assert len(kept) == 1  # what was replaced, Borth included, is kept beside the database
    keeper = make_engine(f"sqlite:///{kept[0]}")
    with keeper.connect() as conn:
        assert (
            "Borth Town Council" in conn.execute(text("SELECT name FROM council")).scalars().all()
        )
    keeper.dispose()


def _postgres_url(db_url: str) -> str:
    """The address as libpq (pg_dump, pg_restore) takes it."""
    return db_url.replace("postgresql+psycopg://", "postgresql://", 1)


def _readme_commands() -> list[str]:
    lines = README.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if re.match(r"\s*pg_(dump|restore) ", line)]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgres_backup_and_restore_by_tandem_and_by_the_readme(
    db_url: str, tmp_path: Path
) -> None:
    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is not installed: scripts/test-setup.sh installs postgresql-client")
    engine = make_engine(db_url)
    build_cycle(engine)
    engine.dispose()
    dump = tmp_path / "tandem.dump"
    out = tandem("backup", str(dump), url=db_url)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Backed up 1 councils, 1 cycles" in out.stdout
    assert tandem("council", "add", "Borth Town Council", url=db_url).returncode == 0
    done = tandem("restore", str(dump), "--replace", url=db_url)
    assert done.returncode == 0, done.stdout + done.stderr
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM council")).scalars().all() == [
            "Llanfair County Council"
        ]
    engine.dispose()

    # The README's commands, as written, with its two placeholders filled in.
    commands = _readme_commands()
    assert [c.split()[0] for c in commands] == ["pg_dump", "pg_restore"], commands
    env = {**os.environ, "TANDEM_PG": _postgres_url(db_url)}
    by_hand = tmp_path / "by-hand"
    by_hand.mkdir()
    assert tandem("council", "add", "Borth Town Council", url=db_url).returncode == 0
    dumped = subprocess.run(commands[0], shell=True, cwd=by_hand, env=env, capture_output=True)
    assert dumped.returncode == 0, dumped.stderr
    assert tandem("council", "add", "Aberaeron Town Council", url=db_url).returncode == 0
    loaded = subprocess.run(commands[1], shell=True, cwd=by_hand, env=env, capture_output=True)
    assert loaded.returncode == 0, loaded.stderr
    engine = make_engine(db_url)
    with engine.connect() as conn:
        names = sorted(conn.execute(text("SELECT name FROM council")).scalars().all())
    engine.dispose()
    assert names == ["Borth Town Council", "Llanfair County Council"]
