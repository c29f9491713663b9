"""Errors on screen: Tandem's own errors as their plain message, anything else as a friendly
sentence with a reference, while the traceback goes to the server's log (never the browser)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import streamlit as st

from core.db import database_unavailable
from core.errors import Invalid, NotFound, PermissionDenied, TandemError
from ui.text import alert

log = logging.getLogger("tandem.ui")

DATABASE_AWAY = (
    "Could not reach the database just now; nothing you saved is lost. "
    "Please try again in a moment."
)
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread on the phone


def new_reference() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(6))


def show_error(exc: TandemError, *, refusals: Literal["error", "warning"] = "error") -> None:
    """The message (and each problem, as plain text) of one of Tandem's own errors.

    With refusals="warning" (the results pages, where nothing went wrong: there is just
    nothing this person may see there yet), a refusal (PermissionDenied) and a missing
    record (NotFound) are a warning with a lock or a search icon; otherwise an error."""
    problems = exc.problems if isinstance(exc, Invalid) else ()
    if refusals == "warning" and isinstance(exc, PermissionDenied):
        alert("warning", str(exc), icon="lock", details=problems)
    elif refusals == "warning" and isinstance(exc, NotFound):
        alert("warning", str(exc), icon="search_off", details=problems)
    else:
        alert("error", str(exc), icon="error", details=problems)


def show_unexpected(exc: BaseException) -> str:
    """Log the traceback under a short reference and tell the user only the reference."""
    reference = new_reference()
    log.error("Unexpected error (reference %s)", reference, exc_info=exc)
    st.error(
        f"Something went wrong; it has been logged (reference {reference}). Please try again, "
        "and if it keeps happening give the reference to your administrator.",
        icon=":material/report:",
    )
    return reference


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Wrap a block of a page: TandemError → st.error(message); anything else → a friendly
    message with a reference and logging."""
    try:
        yield
    except TandemError as exc:
        show_error(exc)
    except Exception as exc:  # st.stop/st.rerun are BaseExceptions and pass straight by
        if database_unavailable(exc):
            # PostgreSQL restarting: a plain sentence, never a traceback or a reference.
            log.warning("The database did not answer: %s", exc)
            alert("warning", DATABASE_AWAY, icon="sync_problem")
        else:
            show_unexpected(exc)
