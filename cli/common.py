"""Shared plumbing for the command line: one engine, one session per command, errors
printed as plain sentences with a non-zero exit code."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import typer
from sqlalchemy import Engine
from sqlmodel import Session

from core.db import TandemError, ensure_schema, make_engine, session_scope
from core.errors import Invalid

F = TypeVar("F", bound=Callable[..., Any])

_engine: Engine | None = None


def engine() -> Engine:
    """One engine per process; the schema is brought up to date on first use."""
    global _engine
    if _engine is None:
        _engine = make_engine()
        ensure_schema(_engine)
    return _engine


@contextmanager
def unit_of_work() -> Iterator[Session]:
    with session_scope(engine()) as session:
        yield session


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def friendly(fn: F) -> F:
    """Turn Tandem's own errors into a message and exit code 1, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Invalid as exc:
            lines = [str(exc), *(f"  - {p}" for p in exc.problems)]
            fail("\n".join(lines))
        except TandemError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail("Stopped.", 130)

    return wrapper  # type: ignore[return-value]


def council_id(session: Session, ref: str) -> int:
    """A council by its id or its exact name; a one-line message if there is none."""
    from feedback.setup.people import find_council, get_council

    found = get_council(session, int(ref)) if ref.isdigit() else find_council(session, ref)
    if found is None:
        fail(f"There is no council called '{ref}'.")
    assert found.id is not None  # a stored council has an id
    return found.id


def confirm(yes: bool, question: str) -> None:
    """Ask before something that cannot be undone, unless --yes was given; no means stop,
    with nothing changed (exit code 1)."""
    if yes:
        return
    if not sys.stdin.isatty():
        fail(f"{question} Run again with --yes to go ahead; nothing was changed.")
    if not typer.confirm(question, default=False):
        fail("Nothing was changed.")


def echo(message: str = "") -> None:
    typer.echo(message)


def is_tty() -> bool:
    return sys.stdout.isatty()
