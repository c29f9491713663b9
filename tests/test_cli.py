"""The `tandem` command, run as a user would run it: a real process, a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TANDEM = str(Path(sys.executable).with_name("tandem"))


def run(*args: str, url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TANDEM_DATABASE_URL": url}
    return subprocess.run([TANDEM, *args], capture_output=True, text=True, env=env, timeout=300)


def test_help_lists_every_command_with_a_purpose(tmp_path) -> None:
    import typer.main

    from cli.main import app

    group = typer.main.get_command(app)
    names = sorted(group.commands)
    assert {"demo", "db"} <= set(names)
    out = run("--help", url=f"sqlite:///{tmp_path / 'x.db'}")
    assert out.returncode == 0
    for name in names:
        assert name in out.stdout
        purpose = group.commands[name].get_short_help_str(limit=200)
        assert purpose.strip(), f"`tandem {name}` has no one-line purpose"


@pytest.mark.slow
def test_db_upgrade_then_demo_twice_then_cycles(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    out = run("db", "upgrade", url=url)
    assert out.returncode == 0 and "empty" in out.stdout
    out = run("db", "status", url=url)
    assert "up to date" in out.stdout
    out = run("demo", url=url)
    assert out.returncode == 0, out.stderr
    assert "Built the demo council" in out.stdout
    out = run("demo", url=url)
    assert out.returncode == 0 and "nothing was changed" in out.stdout
    out = run("cycles", url=url)
    assert "Annual review 2026" in out.stdout and "Kingsmere" in out.stdout


def test_a_bad_database_url_is_a_message_not_a_traceback(tmp_path) -> None:
    out = run("db", "upgrade", url="mysql://someone@somewhere/db")
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert "TANDEM_DATABASE_URL" in out.stderr or "supports SQLite" in out.stderr
