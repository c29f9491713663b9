"""Walking the rater's questionnaire in AppTest as a rater does: one step per dimension,
with the page's own Next and Back buttons."""

from __future__ import annotations

import re
from collections.abc import Iterator

from shown import shown
from streamlit.testing.v1 import AppTest

STEP = re.compile(r"Step (\d+) of (\d+): (.+)")


def step_of(at: AppTest) -> tuple[int, int, str]:
    """(step, steps, title) as the page shows them above the questions."""
    found = STEP.search(shown(at))
    assert found, "no step shown"
    return int(found.group(1)), int(found.group(2)), found.group(3).strip()


def has_button(at: AppTest, key: str) -> bool:
    return any(b.key == key for b in at.button)


def next_step(at: AppTest, inv_id: int) -> AppTest:
    at.button(key=f"q_next_{inv_id}").click().run()
    assert not at.exception
    return at


def to_last_step(at: AppTest, inv_id: int) -> AppTest:
    """Next, Next… until the step that submits."""
    while has_button(at, f"q_next_{inv_id}"):
        next_step(at, inv_id)
    return at


def to_first_step(at: AppTest, inv_id: int) -> AppTest:
    while has_button(at, f"q_back_{inv_id}"):
        at.button(key=f"q_back_{inv_id}").click().run()
        assert not at.exception
    return at


def every_step(at: AppTest, inv_id: int) -> Iterator[AppTest]:
    """The page at each step in turn, from the first."""
    to_first_step(at, inv_id)
    yield at
    while has_button(at, f"q_next_{inv_id}"):
        yield next_step(at, inv_id)


def rating_keys(at: AppTest, inv_id: int) -> list[str]:
    return [r.key for r in at.radio if r.key and r.key.startswith(f"q_{inv_id}_")]
