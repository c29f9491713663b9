"""`tandem report`: the same suppressed results as the engine, as text or JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, select

from core.db import make_engine
from core.roles import SYSTEM
from feedback.models import Cycle, Pairing, Person
from feedback.results.publication import read_pairing_report

TANDEM = str(Path(sys.executable).with_name("tandem"))


def run(*args: str, url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TANDEM_DATABASE_URL": url}
    return subprocess.run([TANDEM, *args], capture_output=True, text=True, env=env, timeout=300)


def _children(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with Session(engine) as s:
        cycle = s.exec(select(Cycle).where(Cycle.name == "Annual review 2026")).one()
        member = s.exec(select(Person).where(Person.full_name == "Cllr Owen Fletcher")).one()
        pairing = s.exec(select(Pairing).where(Pairing.member_id == member.id)).one()
    engine.dispose()
    return cycle.id, pairing.id


def test_json_for_one_pairing_is_the_engine_after_suppression(demo_url: str) -> None:
    cycle_id, pairing_id = _children(demo_url)
    out = run("report", str(cycle_id), "--pairing", str(pairing_id), "--json", url=demo_url)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    section = data["pairings"][str(pairing_id)]
    groups = {g["group"]: g for g in section["groups"]}
    # two partners replied, but a hidden group says only "fewer than 3"
    assert groups["partners"]["responded"] == "fewer than 3"
    assert groups["partners"]["shown"] is False
    assert not any(r["source"] == "partners" for r in section["items"])
    assert not any(r["source"] == "partners" for r in section["dimensions"])
    assert any("External partners" in n for n in section["notices"])
    engine = make_engine(demo_url)
    with Session(engine) as s:
        expected = read_pairing_report(s, SYSTEM, cycle_id, pairing_id).to_dict()
    engine.dispose()
    assert section == json.loads(json.dumps(expected))


def test_text_for_the_whole_cycle_by_name(demo_url: str) -> None:
    out = run("report", "Annual review 2026", url=demo_url)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "council overview" in text and "blind spot" in text
    # the children's pairing: two partners replied; a hidden group says "fewer than 3"
    assert "External partners fewer than 3 (2 invited) (not shown)" in text
    assert "Change since Annual review 2025" in text
    assert text.count("== ") == 5
    # Solace like for like: one chief executive's answer is never a percentage.
    assert "nationally (Solace)" in text and "here not shown (" in text


def test_an_unknown_cycle_is_refused_plainly(demo_url: str) -> None:
    out = run("report", "No such review", url=demo_url)
    assert out.returncode == 1 and "There is no cycle called" in out.stderr
    assert "Traceback" not in out.stderr
