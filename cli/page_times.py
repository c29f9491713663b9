"""How long the app's screens take on a bench build (`tandem bench --pages`).

Each screen is run through Streamlit's own app runner (streamlit.testing.v1.AppTest, the
same one the page tests use) as the administrator of a database with no accounts yet: a
first open (a fresh browser session, nothing of the screen in Streamlit's data cache:
nobody has opened it since the server started), then the rerun one click on it causes
(another council, cycle or pairing chosen, the next slide, a question answered). The time
is the server's script run, which is what a user waits for before the page settles (the
browser then draws what it was sent). Each is the median of a few fresh sessions.

As a real server does, each script is compiled once per process (Streamlit's Runtime keeps
one ScriptCache); AppTest would compile app.py and the page again on every run, which no
user ever waits for. The floor is a run of a page that only shows a title: what Streamlit
itself costs per run on this machine at this moment."""

from __future__ import annotations

import logging
import os
import statistics
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tools.bench_run import Timing

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
SCREENS = [
    ("pages/home.py", "Home"),
    ("pages/people.py", "People"),
    ("pages/pairings.py", "Pairings"),
    ("pages/cycles.py", "Cycles"),
    ("pages/report.py", "Pairing report"),
    ("pages/council.py", "Council overview"),
    ("pages/present.py", "Presentation"),
    ("pages/plan.py", "Development plan"),
    ("pages/users.py", "Users"),
    ("pages/audit.py", "Audit log"),
    ("pages/data_protection.py", "Data protection"),
]
HOME = "pages/home.py"
QUESTIONNAIRE = ("pages/questionnaire.py", "Questionnaire (a rater's link)")
FIRST_OPEN_LIMIT = 0.250
CLICK_LIMIT = 0.150
RUNS = 3  # fresh sessions per screen; the median is reported
FLOOR_SCRIPT = "import streamlit as st\nst.title('Tandem')\n"

Click = Callable[[Any], Any]  # AppTest → AppTest, after its rerun


def _quiet() -> None:
    """Outside `streamlit run` Streamlit warns that it has no runtime, which is expected
    here; its app runner sets the levels again, so this is repeated after it."""
    from streamlit import logger as streamlit_logger

    streamlit_logger.set_log_level(logging.ERROR)
    for name in list(logging.Logger.manager.loggerDict):
        if name.startswith("streamlit"):
            logging.getLogger(name).setLevel(logging.ERROR)


# --- the click timed on each screen ---------------------------------------------------------


def next_option(key: str) -> Click:
    """Choose the next option of the selectbox `key` (the first when none is chosen)."""

    def click(at: Any) -> Any:
        box = at.selectbox(key=key)
        options = list(box.options)
        try:
            current = box.index
        except ValueError:  # a value AppTest cannot place among the formatted options
            current = None
        box.select_index(0 if current is None else (current + 1) % len(options))
        return at.run()

    return click


def press(key: str) -> Click:
    return lambda at: at.button(key=key).click().run()


def rerun(at: Any) -> Any:
    return at.run()


def _home_click(at: Any) -> Any:
    """A national body opens a council from the table. With a few councils (a card each,
    every pairing already shown) there is nothing to open: the page runs again."""
    if any(s.key == "home_council" for s in at.selectbox):
        return next_option("home_council")(at)
    return at.run()


def _answer(at: Any) -> Any:
    radio = next(r for r in at.radio if r.key and r.key.startswith("q_"))
    radio.set_value(4 if radio.value != 4 else 5)  # the framework's scale: 0 can't say, 1–6
    return at.run()


CLICKS: dict[str, tuple[str, Click]] = {
    "pages/home.py": ("a council opened (a few councils: the page again)", _home_click),
    "pages/people.py": ("another council", next_option("council_id")),
    "pages/pairings.py": ("another council", next_option("council_id")),
    "pages/cycles.py": ("another pairing of the cycle", next_option("cycle_pairing")),
    "pages/report.py": ("another pairing", next_option("report_pairing")),
    "pages/council.py": ("another cycle", next_option("council_cycle")),
    "pages/present.py": ("the next slide", press("present_next")),
    "pages/plan.py": ("another pairing", next_option("plan_pairing")),
    # With no accounts yet the page is the form to add the first one: nothing to click.
    "pages/users.py": ("the page again", rerun),
    "pages/audit.py": ("another action", next_option("audit_a")),
    "pages/data_protection.py": ("another council", next_option("dp_council")),
    "pages/questionnaire.py": ("a question answered", _answer),
}


# --- running -------------------------------------------------------------------------------


@contextmanager
def _compiled_once() -> Iterator[None]:
    """One ScriptCache for every AppTest run, as the real server's Runtime keeps one."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    modules = (app_test, local_script_runner)  # each names ScriptCache for its own use
    saved = [getattr(m, "ScriptCache") for m in modules]  # noqa: B009 - not exported
    for module in modules:
        setattr(module, "ScriptCache", lambda: shared)  # noqa: B010
    try:
        yield
    finally:
        for module, original in zip(modules, saved, strict=True):
            setattr(module, "ScriptCache", original)  # noqa: B010


def _server_options() -> None:
    """The runner options Tandem ships (.streamlit/config.toml), wherever tandem runs from."""
    from streamlit import config

    shipped = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text("utf-8"))
    for name, value in shipped.get("runner", {}).items():
        config.set_option(f"runner.{name}", value)


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _problems(at: Any) -> list[str]:
    return [str(e.value) for e in at.exception] + [str(e.value) for e in at.error]


def _floor() -> float:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(FLOOR_SCRIPT, default_timeout=60)
    at.run()
    return statistics.median(_timed(at.run) for _ in range(5))


def _screen_rows(
    key: str,
    title: str,
    opened: Callable[[], Any],
    click: tuple[str, Click],
    floor: float,
) -> list[Timing]:
    """The first open and the click of one screen, each the median of RUNS fresh sessions.
    `opened()` gives a session with the router run (untimed) and times nothing itself."""
    import streamlit as st

    firsts, clicks, notes = [], [], []
    what, do = click
    for _ in range(RUNS):
        at, open_page = opened()
        st.cache_data.clear()  # nobody has opened the screen since the server started
        firsts.append(_timed(open_page))
        notes += _problems(at)
        clicks.append(_timed(lambda: do(at)))  # noqa: B023 - called at once
        notes += _problems(at)
    note = f"{title}: {notes[0]}" if notes else ""
    return [
        Timing(
            f"page_{key}",
            f"Screen: {title} (first open)",
            statistics.median(firsts),
            floor=floor,
            target="≤ 250 ms",
            limit=FIRST_OPEN_LIMIT,
            note=note,
        ),
        Timing(
            f"page_{key}_again",
            f"Screen: {title} (after a click): {what}",
            statistics.median(clicks),
            floor=floor,
            target="≤ 150 ms",
            limit=CLICK_LIMIT,
        ),
    ]


def _warm_up(paths: list[str]) -> None:
    """Every screen opened once in a throwaway session, untimed: the libraries a screen
    imports (Altair, openpyxl…) load once per server process, before its first visitor is
    served, not on each visitor's first open."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    for path in paths:
        at.switch_page(path).run()
    _quiet()


def _staff_screen(path: str, title: str, floor: float) -> list[Timing]:
    from streamlit.testing.v1 import AppTest

    def opened() -> tuple[Any, Callable[[], Any]]:
        at = AppTest.from_file(APP, default_timeout=300)
        if path == HOME:  # the page a browser arriving opens
            return at, at.run
        at.run()  # the router and Home, as a browser arriving does
        _quiet()
        return at, lambda: at.switch_page(path).run()

    return _screen_rows(Path(path).stem, title, opened, CLICKS[path], floor)


def _questionnaire(url: str, floor: float) -> list[Timing]:
    """A rater opening their link on an open cycle of a council added for the purpose (and
    removed after), and answering a question."""
    from streamlit.testing.v1 import AppTest

    from core.db import make_engine, session_scope
    from core.roles import SYSTEM
    from feedback.collection.invitations import issue_token
    from tools.bench_run import drop_council, open_cycle_for_raters

    engine = make_engine(url)
    council_id, invitation_ids = open_cycle_for_raters(engine, RUNS + 1)
    links = iter(invitation_ids)
    try:
        with session_scope(engine) as s:  # the warm-up: one rater's link opened, untimed
            token = issue_token(s, SYSTEM, next(links))
        warm = AppTest.from_file(APP, default_timeout=300)
        warm.query_params["t"] = token
        warm.run()

        def opened() -> tuple[Any, Callable[[], Any]]:
            with session_scope(engine) as s:
                token = issue_token(s, SYSTEM, next(links))
            at = AppTest.from_file(APP, default_timeout=300)
            at.query_params["t"] = token
            return at, at.run

        path, title = QUESTIONNAIRE
        return _screen_rows(Path(path).stem, title, opened, CLICKS[path], floor)
    finally:
        drop_council(engine, council_id)
        engine.dispose()


def time_pages(url: str) -> list[Timing]:
    import streamlit as st

    _quiet()
    _server_options()
    before = os.environ.get("TANDEM_DATABASE_URL")
    os.environ["TANDEM_DATABASE_URL"] = url
    st.cache_resource.clear()
    st.cache_data.clear()
    timings: list[Timing] = []
    try:
        with _compiled_once():
            floor = _floor()
            _warm_up([path for path, _title in SCREENS])
            for path, title in SCREENS:
                timings += _staff_screen(path, title, floor)
            timings += _questionnaire(url, floor)
    finally:
        _quiet()
        st.cache_resource.clear()
        st.cache_data.clear()
        if before is None:
            os.environ.pop("TANDEM_DATABASE_URL", None)
        else:
            os.environ["TANDEM_DATABASE_URL"] = before
    return timings
