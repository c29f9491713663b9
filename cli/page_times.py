"""How long the app's screens take on a bench build (`tandem bench --pages`).

Each screen is run through Streamlit's own app runner (streamlit.testing.v1.AppTest, the
same one the page tests use) as the administrator of a database with no accounts yet: once
as a first open, then again as the rerun a click causes. The time is the server's script
run, which is what a user waits for before the page settles (the browser then draws the
aggregates it was sent; no page sends responses to the browser)."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from tools.bench_run import Timing

APP = str(Path(__file__).resolve().parents[1] / "app.py")
SCREENS = [
    ("pages/home.py", "Home"),
    ("pages/people.py", "People"),
    ("pages/pairings.py", "Pairings"),
    ("pages/cycles.py", "Cycles"),
    ("pages/report.py", "Pairing report"),
    ("pages/council.py", "Council overview"),
    ("pages/present.py", "Presentation"),
    ("pages/plan.py", "Development plan"),
]


def _quiet() -> None:
    """Outside `streamlit run` Streamlit warns that it has no runtime, which is expected
    here; its app runner sets the levels again, so this is repeated after it."""
    from streamlit import logger as streamlit_logger

    streamlit_logger.set_log_level(logging.ERROR)
    for name in list(logging.Logger.manager.loggerDict):
        if name.startswith("streamlit"):
            logging.getLogger(name).setLevel(logging.ERROR)


def time_pages(url: str) -> list[Timing]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    _quiet()
    before = os.environ.get("TANDEM_DATABASE_URL")
    os.environ["TANDEM_DATABASE_URL"] = url
    st.cache_resource.clear()
    st.cache_data.clear()
    timings: list[Timing] = []
    try:
        at = AppTest.from_file(APP, default_timeout=300)
        at.run()
        for path, title in SCREENS:
            runs = []
            for _ in range(2):
                started = time.perf_counter()
                at.switch_page(path).run()
                runs.append(time.perf_counter() - started)
            problems = [e.value for e in at.exception] + [e.value for e in at.error]
            note = f"{title}: {problems[0]}" if problems else ""
            timings.append(
                Timing(
                    f"page_{Path(path).stem}",
                    f"Screen: {title} (first open)",
                    runs[0],
                    target="(no target)",
                    note=note,
                )
            )
            timings.append(
                Timing(
                    f"page_{Path(path).stem}_again",
                    f"Screen: {title} (after a click)",
                    runs[1],
                    target="(no target)",
                )
            )
    finally:
        _quiet()
        st.cache_resource.clear()
        st.cache_data.clear()
        if before is None:
            os.environ.pop("TANDEM_DATABASE_URL", None)
        else:
            os.environ["TANDEM_DATABASE_URL"] = before
    return timings
