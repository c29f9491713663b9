"""`tandem bench` end to end at a tiny scale: it builds, times everything and prints a
full table (no timing assertions: numbers belong in the benchmark's output). It never
touches a database holding anyone's real data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from core.db import PROJECT_ROOT, make_engine
from core.models import Council
from feedback.models import Rating

TANDEM = str(Path(sys.executable).parent / "tandem")
MEASURES = {
    "pairing_report": "Pairing report computed from the ratings",
    "published_report": "Pairing report as its readers open it",
    "published_report_tables": "with all eight tables built as DataFrames",
    "council_overview": "Council overview",
    "national": "National Solace comparison",
    "plan_export": "Plan export",
    "people_import": "Bulk people import",
    "concurrent_saves": "raters saving a whole questionnaire at once",
    "concurrent_submits": "raters submitting at once",
    "report_memory": "Report path peak memory",
    "publish_council": "Publishing one council's cycle, per pairing",
    "publish_national": "Publishing the whole national build",
}
WITHOUT_FLOOR = {"report_memory", "publish_national"}


def _bench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TANDEM, "bench", "--scale", "0.005", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


@pytest.mark.slow
def test_bench_prints_a_table_with_every_measure_and_its_floor(monkeypatch) -> None:
    monkeypatch.delenv("TANDEM_DATABASE_URL", raising=False)
    done = _bench("--pages")
    assert done.returncode == 0, done.stderr
    table = done.stdout
    assert "Backend: sqlite" in table
    lines = table.splitlines()
    for key, label in MEASURES.items():
        row = next((line for line in lines if label in line), None)
        assert row is not None, f"no row for {label}:\n{table}"
        cells = [c for c in row.split("  ") if c.strip()]
        time_cell, floor_cell = cells[1].strip(), cells[2].strip()
        assert time_cell[0].isdigit(), f"{label} has no time: {row}"
        if key not in WITHOUT_FLOOR:
            assert floor_cell[0].isdigit(), f"{label} has no floor: {row}"
    assert "50/50 submitted" in table
    assert "0 raters with answers other than they gave" in table
    # --pages: every screen ran on the bench data, without an error, and was timed.
    from cli.page_times import SCREENS

    for _path, title in SCREENS:
        for when in ("first open", "after a click"):
            row = next(line for line in lines if f"Screen: {title} ({when})" in line)
            cells = [c for c in row.split("  ") if c.strip()]
            assert cells[1].strip()[0].isdigit(), row
    notes = table.split("Notes:")[-1]
    assert "Screen" not in notes and "Exception" not in notes, notes


@pytest.mark.parametrize("empty_db_url", ["postgresql"], indirect=True)
def test_bench_json_on_postgresql_and_the_database_is_emptied_after(empty_db_url) -> None:
    done = _bench("--json", "--database-url", empty_db_url)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["backend"] == "postgresql"
    assert result["build"]["councils"] == 2 and result["build"]["ratings"] > 1000
    timings = {t["key"]: t for t in result["timings"]}
    assert set(timings) == set(MEASURES)
    for key, t in timings.items():
        assert isinstance(t["seconds"], float) and t["seconds"] > 0, t
        if key not in WITHOUT_FLOOR:
            assert isinstance(t["floor"], float) and t["floor"] > 0, t
            assert t["ratio"] is not None
    assert "50/50 submitted" in timings["concurrent_submits"]["note"]
    # Without --keep the bench leaves its dedicated database empty again.
    engine = make_engine(empty_db_url)
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Rating)).one() == 0
    engine.dispose()


@pytest.mark.slow
def test_bench_keeps_and_reuses_its_build(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    first = _bench("--json", "--keep", "--database-url", url)
    assert first.returncode == 0, first.stderr
    built = json.loads(first.stdout)["build"]
    again = _bench("--json", "--keep", "--reuse", "--database-url", url)
    assert again.returncode == 0, again.stderr
    assert "Reusing" not in again.stdout  # progress goes to stderr, never into the JSON
    assert json.loads(again.stdout)["build"] == built
    engine = make_engine(url)
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Rating)).one() == built["ratings"]
        # The import and concurrency councils are removed again after timing.
        assert s.exec(select(func.count()).select_from(Council)).one() == built["councils"]
    engine.dispose()


def test_bench_refuses_a_database_with_real_data(demo_url: str) -> None:
    engine = make_engine(demo_url)
    with Session(engine) as s:
        before = s.exec(select(func.count()).select_from(Rating)).one()
    done = _bench("--database-url", demo_url)
    assert done.returncode == 1
    assert "already holds data that a benchmark did not create" in done.stderr
    assert "Traceback" not in done.stderr
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Rating)).one() == before > 0
    engine.dispose()


def test_bench_refuses_a_scale_out_of_range() -> None:
    done = _bench("--scale", "2")
    assert done.returncode == 1
    assert "--scale must be above 0 and at most 1" in done.stderr
