"""Choosing the council, cycle or pairing a page is about: one selectbox, the same on every
page, whose choice stays put.

Each choice is remembered by id under its key, apart from the widget, so it holds across
reruns, after an action that changes how the option is listed (a cycle's label carries its
status), and across a visit to another page (pages that share a key share the choice)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

K = TypeVar("K")


def _remembered(key: str) -> str:
    return f"{key}__chosen"


def _shown(key: str) -> str:
    return f"{key}__shown"


def choose(key: str, value: object) -> None:
    """Make `value` the choice of the picker `key` from the next time it is drawn (after
    creating a council, say). Call it before the picker is drawn in this run, or rerun."""
    st.session_state[_remembered(key)] = value
    st.session_state[key] = value


def pick(
    label: str,
    names: Mapping[K, str],
    key: str,
    *,
    where: Any = None,
    help: str | None = None,
) -> K:
    """One of `names` (id → its label, shown as plain text), chosen in a selectbox: the
    widget's value when it is one of them, else the choice remembered under `key`, else the
    first. `names` must not be empty; `where` is a column, the sidebar or a container."""
    if not names:
        raise ValueError(f"Nothing to choose from for {label!r}.")
    options = list(names)
    remembered = _remembered(key)
    current = st.session_state.get(key)
    if current not in names:
        kept = st.session_state.get(remembered)
        st.session_state[key] = kept if kept in names else options[0]
    elif st.session_state.get(_shown(key), {}).get(current, names[current]) != names[current]:
        # The choice is listed differently now (a cycle's label carries its status). The
        # browser holds a choice by its label: told nothing, it would send the old label
        # with its next rerun, which matches no option, and Streamlit would fall back to
        # the first one — another cycle. Setting it again sends the new label.
        st.session_state[key] = current
    chosen: K = (st if where is None else where).selectbox(
        label, options, format_func=lambda k: names.get(k, str(k)), key=key, help=help
    )
    st.session_state[remembered] = chosen
    st.session_state[_shown(key)] = dict(names)
    return chosen


def council_names(councils: Iterable[Any]) -> dict[int, str]:
    """Councils (with .id and .name) as a picker's names."""
    return {int(c.id): c.name for c in councils}


def cycle_names(cycles: pd.DataFrame) -> dict[int, str]:
    """Cycles of several councils (rows with cycle_id, council, cycle and status, as
    feedback.results.report_index lists them) as "Council · Cycle (status)", once each."""
    rows = cycles.drop_duplicates("cycle_id")
    return {
        int(cid): f"{council} · {cycle} ({status})"
        for cid, council, cycle, status in zip(
            rows["cycle_id"], rows["council"], rows["cycle"], rows["status"], strict=True
        )
    }


def pick_council(councils: Iterable[Any], key: str = "council_id", **kwargs: Any) -> int:
    """The council a set-up page is about. The People, Pairings and Cycles pages share the
    key, so the council chosen on one is the council of the others."""
    return pick("Council", council_names(councils), key, **kwargs)
