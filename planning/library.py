"""The action library (`data/action_library.yaml`): per framework dimension, a suggested
goal, what good looks like for the member, the officer and the pair, and practical actions.
Read once per file version; the suggestions, the calendar's rules and the development guide
all read it from here."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from core.db import DATA_DIR

ACTION_LIBRARY = DATA_DIR / "action_library.yaml"


@functools.cache
def _library_cached(path: str, mtime: float) -> dict[str, Any]:
    library: dict[str, Any] = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return library


def load_action_library(path: Path = ACTION_LIBRARY) -> dict[str, Any]:
    return _library_cached(str(path), path.stat().st_mtime)
