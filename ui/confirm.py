"""Asking once before an action that cannot be undone, and acting on what the page showed.

A page's button does not act in the run its click starts, on whatever that run reads: its
`on_click` callback records what the user saw (the cycle, its status) with `ask`, the next
run draws the question with `confirmation` — naming the target in words — and "Yes" runs
the recorded action in its own callback, before the page is read again. So the page never
acts on something other than what it showed, a stale target is refused by the domain
function (it is given the status the user saw), and every list after an action is read
after it.

`act` is the same without the question, for actions that can be undone. Errors are kept
for the next run and shown where the action was (`errors`), never lost in a rerun."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from core.errors import PermissionDenied, TandemError
from core.roles import Actor
from ui.errors import show_error
from ui.text import alert


@dataclass(frozen=True)
class Pending:
    """A question waiting for its answer: a template (trusted HTML) and the user text in it,
    the words of the "Yes" button, what to do, and what the question is about (it is shown
    only while the page shows that same thing)."""

    question: str
    args: tuple[str, ...]
    yes: str
    action: Callable[[Actor], None]
    about: object
    table: pd.DataFrame | None = None
    table_config: dict[str, Any] = field(default_factory=dict)
    table_caption: str = ""


def _pending_key(slot: str) -> str:
    return f"confirm__{slot}"


def _error_key(slot: str) -> str:
    return f"confirm__{slot}__error"


def fail(slot: str, exc: TandemError) -> None:
    """Keep `exc` to be shown by `errors(slot)` (or `confirmation(slot, …)`) next run."""
    st.session_state[_error_key(slot)] = exc


def errors(slot: str) -> None:
    """Show the error an action of `slot` ended with, once."""
    exc = st.session_state.pop(_error_key(slot), None)
    if exc is not None:
        show_error(exc)


def acting() -> Actor:
    """Who acts, re-read from the database at the moment of acting: a callback runs before
    the page does, so it never trusts the account the page was last drawn for (switched
    off since, or signed out in another tab)."""
    from ui.auth import resolve_actor

    actor = resolve_actor()
    if actor is None:
        raise PermissionDenied(
            "You are no longer signed in, so nothing was changed. Reload the page to sign in."
        )
    return actor


def act(slot: str, action: Callable[[Actor], None]) -> None:
    """Run `action` now (meant for an on_click callback) as the actor of this moment
    (`acting`); a TandemError is kept for `errors(slot)`. The action says what it did with
    ui.notices.flash."""
    try:
        action(acting())
    except TandemError as exc:
        fail(slot, exc)


def ask(
    slot: str,
    question: str,
    *args: object,
    yes: str,
    action: Callable[[Actor], None],
    about: object,
    table: pd.DataFrame | None = None,
    table_config: dict[str, Any] | None = None,
    table_caption: str = "",
) -> None:
    """Put a question to the user (meant for an on_click callback): `question` is a
    template as for ui.text.alert, `args` the user text in it (a cycle's name). One
    question per slot: a newer one replaces it."""
    st.session_state.pop(_error_key(slot), None)
    st.session_state[_pending_key(slot)] = Pending(
        question,
        tuple(str(a) for a in args),
        yes,
        action,
        about,
        table,
        table_config or {},
        table_caption,
    )


def pending(slot: str) -> Pending | None:
    found = st.session_state.get(_pending_key(slot))
    return found if isinstance(found, Pending) else None


def cancel(slot: str) -> None:
    st.session_state.pop(_pending_key(slot), None)


def _answer_yes(slot: str) -> None:
    asked = st.session_state.pop(_pending_key(slot), None)
    if isinstance(asked, Pending):
        act(slot, asked.action)


def confirmation(slot: str, about: object) -> None:
    """Where the question of `slot` is asked (if there is one, and it is about `about`:
    a question about another cycle is dropped), with any error its action ended with."""
    errors(slot)
    asked = pending(slot)
    if asked is None:
        return
    if asked.about != about:
        cancel(slot)
        return
    with st.container(border=True, key=f"confirm_{slot}"):
        alert("warning", asked.question, *asked.args, icon="help")
        if asked.table is not None and not asked.table.empty:
            if asked.table_caption:
                st.caption(asked.table_caption)
            st.dataframe(
                asked.table, hide_index=True, width="stretch", column_config=asked.table_config
            )
        with st.container(horizontal=True):
            st.button(
                asked.yes,
                key=f"confirm_{slot}_yes",
                type="primary",
                on_click=_answer_yes,
                args=(slot,),
            )
            st.button("Cancel", key=f"confirm_{slot}_cancel", on_click=cancel, args=(slot,))
