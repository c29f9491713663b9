"""Issue 12, point 4: editions and exports carry only what the screens show.

No screen shows a cell's standard deviation, and with n = 3 a mean and an sd pin down the
exact answers in 33 of 35 cases. So no edition, `tandem report --json`, report object or
subject-access export carries an sd (or any std) field; editions stored before the change
still hold one, and every read strips it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from core.db import make_engine
from core.roles import SYSTEM, Actor
from core.vocabulary import CycleStatus
from feedback.models import Cycle, Pairing, Person, PublishedPairingReport, PublishedReport
from feedback.results.publication import (
    edition_content,
    latest_edition,
    read_all_pairing_reports,
    read_council_overview,
    read_pairing_report,
)
from feedback.results.tables import ANONYMOUS
from feedback.setup.cycles import set_cycle_status
from governance.subject_access import subject_access, to_json

TANDEM = str(Path(sys.executable).with_name("tandem"))


def spreads(value: Any, path: str = "") -> list[str]:
    """Where in `value` a key names a spread (sd, std, stdev...), at any depth."""
    found = []
    if isinstance(value, dict):
        for key, inner in value.items():
            name = str(key).lower()
            if name == "sd" or "std" in name or "stdev" in name or "variance" in name:
                found.append(f"{path}/{key}")
            found += spreads(inner, f"{path}/{key}")
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found += spreads(inner, f"{path}[{i}]")
    return found


def _finished_cycles(engine) -> list[Cycle]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(Cycle).where(Cycle.status.in_([CycleStatus.closed, CycleStatus.published]))
            ).all()
        )


def _cli_json(url: str, cycle_id: int) -> dict[str, Any]:
    env = {**os.environ, "TANDEM_DATABASE_URL": url}
    out = subprocess.run(
        [TANDEM, "report", str(cycle_id), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _everything_served(engine, url: str) -> dict[str, Any]:
    """Every way staff or a principal get results out, for every finished cycle. The
    demo's newest cycle is taken back to closed first, so the live engine is read too."""
    with Session(engine) as s:
        newest = s.exec(select(Cycle).order_by(Cycle.opens_on.desc())).first()
        set_cycle_status(s, SYSTEM, newest.id, CycleStatus.closed)
        s.commit()
    served: dict[str, Any] = {}
    cycles = _finished_cycles(engine)
    assert any(c.status == CycleStatus.published for c in cycles)
    assert any(c.status == CycleStatus.closed for c in cycles)  # the live engine too
    with Session(engine) as s:
        for cycle in cycles:
            reports = read_all_pairing_reports(s, SYSTEM, cycle.id)
            served[f"reports {cycle.name}"] = {k: r.to_dict() for k, r in reports.items()}
            served[f"overview {cycle.name}"] = read_council_overview(s, SYSTEM, cycle.id).to_dict()
            for pid in reports:
                one = read_pairing_report(s, SYSTEM, cycle.id, pid)
                served[f"report {cycle.name} {pid}"] = one.to_dict()
                # A DataFrame read, then the dict: the frames carry no spread either.
                assert "sd" not in one.items.columns and "sd" not in one.dimensions.columns
            if (edition := latest_edition(s, cycle.id)) is not None:
                served[f"edition {cycle.name}"] = edition_content(s, edition)
                for pid in reports:
                    pairing = s.get(Pairing, pid)
                    principal = Actor("p", "principal", person_id=pairing.member_id)
                    served[f"principal {cycle.name} {pid}"] = read_pairing_report(
                        s, principal, cycle.id, pid
                    ).to_dict()
        for person in s.exec(select(Person)).all():
            served[f"subject access {person.email}"] = json.loads(
                to_json(subject_access(s, SYSTEM, person.id))
            )
        s.rollback()  # the exports' audit events are not the point here
    for cycle in cycles:
        served[f"cli {cycle.name}"] = _cli_json(url, cycle.id)
    return served


def _anonymous_cells(served: dict[str, Any]) -> int:
    """How many anonymous cells the served data holds (so the test checks real cells)."""
    text = json.dumps(served, default=str)
    return sum(text.count(f'"source": "{g}"') for g in ANONYMOUS)


@pytest.mark.slow
def test_no_edition_or_export_carries_a_spread(demo_url: str) -> None:
    engine = make_engine(demo_url)
    with Session(engine) as s:
        stored = [r.content for r in s.exec(select(PublishedReport)).all()]
        stored += [r.content for r in s.exec(select(PublishedPairingReport)).all()]
    assert stored
    assert spreads(stored) == []  # nothing stored in any edition
    served = _everything_served(engine, demo_url)
    engine.dispose()
    assert _anonymous_cells(served) > 100
    assert spreads(served) == []


@pytest.mark.slow
def test_an_edition_stored_with_spreads_serves_none(demo_url: str) -> None:
    """An edition published before the change: its stored records still hold "sd"."""
    engine = make_engine(demo_url)
    with Session(engine) as s:
        rows = s.exec(select(PublishedPairingReport)).all()
        assert rows
        for row in rows:
            content = json.loads(json.dumps(row.content))
            for table in ("items", "dimensions"):
                for record in content.get(table) or []:
                    record["sd"] = 0.57735
            s.exec(
                update(PublishedPairingReport)
                .where(PublishedPairingReport.id == row.id)
                .values(content=content)
            )
        for edition in s.exec(select(PublishedReport)).all():
            content = json.loads(json.dumps(edition.content))
            for record in content.get("overview", {}).get("heatmap") or []:
                record["sd"] = 0.57735
            s.exec(
                update(PublishedReport)
                .where(PublishedReport.id == edition.id)
                .values(content=content)
            )
        s.commit()
        old = [r.content for r in s.exec(select(PublishedPairingReport)).all()]
        assert spreads(old)  # the old edition really holds them
    served = _everything_served(engine, demo_url)
    engine.dispose()
    assert _anonymous_cells(served) > 100
    assert spreads(served) == []
