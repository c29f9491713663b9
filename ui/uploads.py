"""Checking an upload once per file, not on every rerun.

Streamlit reruns a page on every click while a file sits in the uploader; the dry run of an
import reads the whole file, so it is kept in session state under the file's hash (and
whatever else it depends on: the council, the person signed in) and computed again only
when one of those changes, or after the file was imported.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

import streamlit as st

from core.uploads import fingerprint

T = TypeVar("T")


def checked_once(key: str, scope: Hashable, data: bytes, check: Callable[[], T]) -> T:
    """`check()`'s result for this file and scope, computed on the first run that sees
    them and kept under `key` in session state."""
    stamp = (scope, fingerprint(data))
    held = st.session_state.get(key)
    if held is None or held[0] != stamp:
        held = (stamp, check())
        st.session_state[key] = held
    return held[1]


def keep(key: str, scope: Hashable, data: bytes, value: object) -> None:
    """What became of this file (e.g. imported), shown instead of checking it again."""
    st.session_state[key] = ((scope, fingerprint(data)), value)


def forget(key: str) -> None:
    """After the file was imported: its dry run no longer says what would change."""
    st.session_state.pop(key, None)
