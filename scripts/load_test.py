"""Raters under load on real servers (issue 16): N people answering the real questionnaire
at once, through HAProxy, on two `streamlit run app.py` processes and one PostgreSQL.

What it does, each run:
1. Creates a fresh PostgreSQL database (dropped afterwards unless --keep) with an open cycle
   and N unanswered invitations, each with its own link.
2. Starts `streamlit run app.py` --processes times (1 or 2) on that database and HAProxy in
   front with deploy/haproxy.cfg (sticky sessions, WebSockets passed through).
3. Drives N raters at once through the proxy. Each opens their link (an HTTP request that
   gets the proxy's sticky cookie, then Streamlit's WebSocket at /_stcore/stream, speaking its
   browser protocol: BackMsg out, ForwardMsg back, protobuf), answers every question by
   sending the radio's new value as the browser does (a rerun of the questionnaire's
   fragment), presses Next through every step, then Submit and Yes. --browsers of them are
   real headless Chromium pages instead, as a check that the protocol client measures what
   a browser sees. Raters arrive evenly over --ramp seconds (30) and read each question for
   --think seconds on average (3; each pause between half and one and a half times that)
   before answering, as people do; --think 0 --ramp 0 measures the servers' capacity.
4. Reports per saved answer p50/p95 (from sending the answer until the server says the
   run finished and the page shows the new count of answers), the RSS of the app processes
   before and after divided by the sessions, the app processes' CPU per answer, errors,
   and checks the database: every answer each rater gave is stored once, with the value
   given, and every response is submitted.

Faults, in the same run:
  --kill-app    SIGKILL one app process when half the raters' answers are in; its raters
                reconnect through the proxy to the other, reopening their link (the draft
                opens with the resume key the page put in the address), and go on.
  --restart-db  run PostgreSQL in a cluster of its own (pg_createcluster 15 loadtest,
                port 5444) and restart it mid-run (`pg_ctlcluster 15 loadtest restart`).

    .venv/bin/python scripts/load_test.py --raters 50                  # one run
    .venv/bin/python scripts/load_test.py --raters 50,100,200,300      # the largest N that holds
    .venv/bin/python scripts/load_test.py --raters 100 --processes 1   # one process, to compare
    .venv/bin/python scripts/load_test.py --raters 20 --kill-app --restart-db
    .venv/bin/python scripts/load_test.py --raters 5 --json            # for the smoke test

PostgreSQL: --admin-url, else TANDEM_TEST_POSTGRES_ADMIN_URL (scripts/test-setup.sh writes it
to .test-env). HAProxy: Debian's `haproxy` package.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"
PROGRESS = re.compile(r"(\d+) of (\d+) questions answered")
STEP = re.compile(r"Step (\d+) of (\d+)")
TARGET_P95_MS = 300.0
# A person reads a question and picks an answer in several seconds (3 s is quick for a
# 15-word statement on a five-point scale); --think 0 measures the servers' capacity instead.
THINK_S = 3.0
# People open their links over time, not in the same instant: N first page loads at once
# queue behind each other and then the first answers behind them.
RAMP_S = 30.0
OWN_CLUSTER = ("15", "loadtest", 5444)
CANT_SAY = 0  # mirrors feedback.collection.responses.CANT_SAY (checked at start)


# --- the database ---------------------------------------------------------------------------


def _admin_url(given: str) -> str:
    url = given or os.environ.get("TANDEM_TEST_POSTGRES_ADMIN_URL", "")
    if not url:
        raise SystemExit(
            "No PostgreSQL: pass --admin-url or run scripts/test-setup.sh and `. ./.test-env`."
        )
    return url


def _own_cluster() -> str:
    """A PostgreSQL cluster for this test alone, so restarting it disturbs nobody else."""
    version, name, port = OWN_CLUSTER
    listed = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
    if not any(line.split()[:2] == [version, name] for line in listed.splitlines()):
        subprocess.run(
            ["pg_createcluster", version, name, "--port", str(port)],
            check=True,
            capture_output=True,
        )
    subprocess.run(["pg_ctlcluster", version, name, "start"], capture_output=True)
    for _ in range(60):
        if subprocess.run(["pg_isready", "-q", "-p", str(port)]).returncode == 0:
            break
        time.sleep(0.5)
    role = "SELECT 1 FROM pg_roles WHERE rolname='tandem_test'"
    psql = ["su", "postgres", "-c"]
    found = subprocess.run(
        [*psql, f'psql -p {port} -qtAc "{role}"'], capture_output=True, text=True
    ).stdout
    if "1" not in found:
        subprocess.run(
            [
                *psql,
                f'psql -p {port} -qc "CREATE ROLE tandem_test LOGIN SUPERUSER '
                f"PASSWORD 'tandem_test'\"",
            ],
            check=True,
            capture_output=True,
        )
    return f"postgresql+psycopg://tandem_test:tandem_test@localhost:{port}/postgres"


def _create_database(admin_url: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from core.db import _normalise

    name = f"tandem_load_{int(time.time() * 1000)}"
    admin = create_engine(_normalise(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(_normalise(admin_url)).set(database=name).render_as_string(False)


def _drop_database(admin_url: str, url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from core.db import _normalise

    name = make_url(url).database
    admin = create_engine(_normalise(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclass
class Rater:
    invitation_id: int
    token: str
    answers: dict[int, int] = field(default_factory=dict)  # item id -> value chosen
    by_browser: bool = False
    # Answers sent when the connection dropped, not confirmed: stored or not, as it happened.
    unconfirmed: dict[int, int] = field(default_factory=dict)


def _seed(url: str, n: int) -> list[Rater]:
    """An open cycle of one pairing with `n` raters, each invited with a link of their own."""
    from sqlmodel import select

    from core.db import make_engine, session_scope, upgrade
    from core.models import Council
    from feedback.collection.invitations import hash_token, new_token
    from feedback.collection.responses import CANT_SAY as cant_say
    from feedback.models import Cycle, CyclePairing, Invitation, Pairing, Person
    from feedback.setup.framework import ensure_default_framework

    assert cant_say == CANT_SAY
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    today = date.today()
    raters: list[Rater] = []
    with session_scope(engine) as s:
        framework = ensure_default_framework(s)
        council = Council(name="Loadtest Borough Council", nation="England")
        s.add(council)
        s.flush()
        assert council.id is not None

        def person(k: int, kind: str) -> Person:
            p = Person(
                council_id=council.id,
                full_name=f"Rater {k}",
                email=f"rater{k}@loadtest.example.gov.uk",
                kind=kind,
            )
            s.add(p)
            return p

        member, officer = person(-1, "member"), person(-2, "officer")
        people = [person(k, "member" if k % 2 else "officer") for k in range(n)]
        s.flush()
        pairing = Pairing(
            council_id=council.id,
            kind="leader–chief executive",
            member_id=member.id,
            officer_id=officer.id,
        )
        cycle = Cycle(
            council_id=council.id,
            name="Load test",
            opens_on=today - timedelta(days=1),
            closes_on=today + timedelta(days=28),
            status="open",
            framework_version_id=framework.id,
        )
        s.add(pairing)
        s.add(cycle)
        s.flush()
        s.add(CyclePairing(cycle_id=cycle.id, pairing_id=pairing.id))
        tokens = []
        for k, p in enumerate(people):
            token = new_token()
            tokens.append(token)
            s.add(
                Invitation(
                    cycle_id=cycle.id,
                    pairing_id=pairing.id,
                    rater_id=p.id,
                    rater_group=("members", "officers")[k % 2],
                    token_hash=hash_token(token),
                    token_issued_at=now,
                    sent_at=now,
                )
            )
        s.flush()
        invitations = s.exec(
            select(Invitation).where(Invitation.cycle_id == cycle.id).order_by(Invitation.id)
        ).all()
        for inv, token in zip(invitations, tokens, strict=True):
            assert inv.id is not None
            raters.append(Rater(inv.id, token))
    engine.dispose()
    return raters


def _check_database(url: str, raters: list[Rater]) -> dict[str, int]:
    """Every answer each rater saw saved is stored once, with its value; every response that
    was submitted is; nothing else is stored."""
    from sqlalchemy import text

    from core.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT r.invitation_id, r.status, g.item_id, g.value FROM response r "
                "LEFT JOIN rating g ON g.response_id = r.id"
            )
        ).all()
        duplicated = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT response_id, item_id FROM rating "
                "GROUP BY response_id, item_id HAVING count(*) > 1) d"
            )
        ).scalar_one()
        responses_twice = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT invitation_id FROM response "
                "GROUP BY invitation_id HAVING count(*) > 1) d"
            )
        ).scalar_one()
    engine.dispose()
    stored: dict[int, dict[int, int | None]] = {}
    status: dict[int, str] = {}
    for inv_id, st, item_id, value in rows:
        status[inv_id] = st
        if item_id is not None:
            stored.setdefault(inv_id, {})[item_id] = value
    lost = wrong = unsubmitted = 0
    for r in raters:
        have = stored.get(r.invitation_id, {})
        for item, value in r.unconfirmed.items():  # saved as the old process died: fine
            if item not in r.answers and have.get(item, -1) == (
                None if value == CANT_SAY else value
            ):
                r.answers[item] = value
        for item, value in r.answers.items():
            if item not in have:
                lost += 1
            elif have[item] != (None if value == CANT_SAY else value):
                wrong += 1
        if status.get(r.invitation_id) != "submitted":
            unsubmitted += 1
    extra = sum(len(set(stored.get(r.invitation_id, {})) - set(r.answers)) for r in raters)
    return {
        "answers_expected": sum(len(r.answers) for r in raters),
        "answers_stored": sum(len(v) for v in stored.values()),
        "lost": lost,
        "wrong_value": wrong,
        "duplicated": int(duplicated) + int(responses_twice),
        "unexpected": extra,
        "not_submitted": unsubmitted,
    }


# --- the servers ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes] | None, log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{proc.args!r} stopped:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.25)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s:\n{log.read_text()[-3000:]}")


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_s(pid: int) -> float:
    """The CPU time a process has used (user + system), from /proc: what each saved answer
    costs the server, whatever else the machine is doing at the time."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class Stack:
    """The app processes and HAProxy in front, stopped (only these) on exit."""

    def __init__(self, url: str, processes: int, work: Path) -> None:
        self.url, self.work = url, work
        self.ports = [_free_port() for _ in range(processes)]
        self.proxy_port = _free_port()
        self.apps: list[subprocess.Popen[bytes]] = []
        self.proxy: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Stack:
        env = {**os.environ, "TANDEM_DATABASE_URL": self.url, "PYTHONUNBUFFERED": "1"}
        env.pop("TANDEM_TEST_POSTGRES_ADMIN_URL", None)
        for k, port in enumerate(self.ports):
            log = self.work / f"app{k + 1}.log"
            self.apps.append(
                subprocess.Popen(
                    [str(BIN / "streamlit"), "run", "app.py", "--server.headless", "true",
                     "--server.port", str(port), "--server.address", "127.0.0.1",
                     "--server.fileWatcherType", "none"],
                    cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
        for k, (proc, port) in enumerate(zip(self.apps, self.ports, strict=True)):
            log = self.work / f"app{k + 1}.log"
            _wait_http(f"http://127.0.0.1:{port}/_stcore/health", proc, log, 90)
        second = self.ports[1] if len(self.ports) > 1 else self.ports[0]
        proxy_env = {
            **os.environ,
            "TANDEM_PROXY_BIND": f"127.0.0.1:{self.proxy_port}",
            "TANDEM_APP1": f"127.0.0.1:{self.ports[0]}",
            "TANDEM_APP2": f"127.0.0.1:{second}",
        }
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        log = self.work / "haproxy.log"
        self.proxy = subprocess.Popen(
            [haproxy, "-db", "-f", str(HAPROXY_CFG)],
            env=proxy_env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        _wait_http(f"http://127.0.0.1:{self.proxy_port}/_stcore/health", self.proxy, log, 30)
        time.sleep(2.5)  # both servers marked up by the proxy's health checks
        return self

    def rss_kib(self) -> list[int]:
        return [_rss_kib(p.pid) for p in self.apps]

    def cpu_s(self) -> float:
        return sum(_cpu_s(p.pid) for p in self.apps)

    def kill(self, k: int) -> None:
        os.kill(self.apps[k].pid, signal.SIGKILL)
        self.apps[k].wait()

    def __exit__(self, *_exc: object) -> None:
        for proc in [*self.apps, *([self.proxy] if self.proxy else [])]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*self.apps, *([self.proxy] if self.proxy else [])]:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


# --- a rater over Streamlit's protocol ------------------------------------------------------


class Disconnected(Exception):
    pass


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds per saved answer
    errors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # plain "could not save" messages seen
    reconnects: int = 0
    submitted: bool = False
    server: str = ""


class Page:
    """What one run of the app drew, as the browser keeps it: widgets by their key."""

    def __init__(self) -> None:
        self.widgets: dict[str, tuple[str, Any]] = {}  # user key -> (element kind, proto)
        self.texts: list[str] = []
        self.fragment_id = ""
        self.page_hash = ""
        self.query = ""

    def take(self, msg: Any) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.page_hash = msg.new_session.page_script_hash or self.page_hash
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "delta":
            delta = msg.delta
            if delta.fragment_id:
                self.fragment_id = delta.fragment_id
            if delta.WhichOneof("type") != "new_element":
                return
            el = delta.new_element
            ek = el.WhichOneof("type")
            if ek is None:
                return
            body = getattr(el, ek)
            wid = getattr(body, "id", "")
            if isinstance(wid, str) and wid.startswith("$$ID-"):
                self.widgets[wid.split("-", 2)[2]] = (ek, body)
            if ek == "progress":
                self.texts.append(body.text)
            elif ek == "alert":  # Alert.Format: 1 error, 2 warning, 3 info, 4 success
                self.texts.append(f"alert{body.format}:" + body.body)
            elif ek == "exception":
                self.texts.append("exception:" + body.message)
            elif ek == "markdown":
                self.texts.append(body.body)


class ProtocolRater:
    def __init__(
        self, host: str, port: int, rater: Rater, outcome: Outcome, think: float = 0.0
    ) -> None:
        self.host, self.port, self.rater, self.out = host, port, rater, outcome
        self.think = think
        self.pause = random.Random(rater.invitation_id * 7919)
        self.ws: Any = None
        self.cookie = ""
        self.page = Page()
        self.states: dict[str, Any] = {}  # widget id -> WidgetState the browser holds
        self.query = f"t={rater.token}"

    async def _http_cookie(self) -> None:
        """The page's first request, as a browser's: the proxy answers with its cookie."""
        reader, writer = await asyncio.open_connection(self.host, self.port)
        writer.write(
            f"GET /?{self.query} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Connection: close\r\n{self._cookie_header()}\r\n".encode()
        )
        await writer.drain()
        head = (await reader.read()).split(b"\r\n\r\n", 1)[0].decode("latin-1")
        writer.close()
        for line in head.split("\r\n"):
            if line.lower().startswith("set-cookie:") and "TANDEM_SERVER=" in line:
                self.cookie = line.split(":", 1)[1].strip().split(";", 1)[0]
                self.out.server = self.cookie.split("=", 1)[1]

    def _cookie_header(self) -> str:
        return f"Cookie: {self.cookie}\r\n" if self.cookie else ""

    async def connect(self) -> None:
        import websockets

        await self._http_cookie()
        headers = {"Origin": f"http://{self.host}:{self.port}"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        self.ws = await websockets.connect(
            f"ws://{self.host}:{self.port}/_stcore/stream",
            subprotocols=["streamlit"],  # type: ignore[list-item]
            additional_headers=headers,
            max_size=None,
            open_timeout=60,
            ping_interval=None,
        )
        self.page = Page()
        self.states = {}
        await self.run(fragment=False)

    async def run(self, fragment: bool, trigger: str | None = None) -> float:
        """One rerun, as the browser asks for it: every widget's state (a button pressed as
        a trigger). Returns seconds until the server said the run (and any rerun it led
        to) finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        back = BackMsg()
        rerun = back.rerun_script
        rerun.query_string = self.query
        rerun.page_script_hash = self.page.page_hash
        if fragment and self.page.fragment_id:
            rerun.fragment_id = self.page.fragment_id
        for state in self.states.values():
            rerun.widget_states.widgets.append(state)
        if trigger is not None:
            w = WidgetState(id=trigger, trigger_value=True)
            rerun.widget_states.widgets.append(w)
        started = time.perf_counter()
        try:
            await self.ws.send(back.SerializeToString())
            self.page.texts = []
            self.page.widgets = {}  # what this run draws (the steps, or the whole page)
            while True:
                data = await asyncio.wait_for(self.ws.recv(), timeout=120)
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self.page.take(msg)
                if msg.WhichOneof("type") == "page_info_changed":
                    self.query = msg.page_info_changed.query_string or self.query
                if msg.WhichOneof("type") == "script_finished":
                    status = msg.script_finished
                    if status in (
                        ForwardMsg.FINISHED_SUCCESSFULLY,
                        ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
                    ):
                        break
                    if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                        raise RuntimeError("the app did not compile")
        except (TimeoutError, OSError, Exception) as exc:
            if type(exc).__name__.startswith("Connection") or isinstance(
                exc, (OSError, asyncio.TimeoutError)
            ):
                raise Disconnected(str(exc)) from exc
            raise
        for text in self.page.texts:
            if text.startswith("exception:"):
                self.out.errors.append(text)
            elif text.startswith("alert") and ("Trying again" in text or "try again" in text):
                self.out.notices.append(text)  # the plain message while PostgreSQL restarts
            elif text.startswith("alert1:"):
                self.out.errors.append(text)
        return time.perf_counter() - started

    def answered(self) -> int | None:
        for text in self.page.texts:
            if m := PROGRESS.search(text):
                return int(m.group(1))
        return None

    async def _read(self) -> None:
        """A person reads the question before answering: `think` seconds on average."""
        if self.think:
            await asyncio.sleep(self.think * self.pause.uniform(0.5, 1.5))

    async def answer_all(self, half: asyncio.Event | None, counter: list[int]) -> None:
        inv = self.rater.invitation_id
        rng = random.Random(inv)
        while True:
            radios = [
                (key, body)
                for key, (kind, body) in self.page.widgets.items()
                if kind == "radio" and key.startswith(f"q_{inv}_")
            ]
            for key, body in radios:
                item = int(key.rsplit("_", 1)[1])
                if item in self.rater.answers:
                    continue
                options = list(body.options)
                index = rng.randrange(len(options))
                from streamlit.proto.WidgetStates_pb2 import WidgetState

                await self._read()
                self.states[body.id] = WidgetState(id=body.id, string_value=options[index])
                before = self.answered()
                value = _option_value(index, options[index])
                self.rater.unconfirmed[item] = value
                seconds = await self.run(fragment=True)
                del self.rater.unconfirmed[item]
                self.rater.answers[item] = value
                after = self.answered()
                # The count may stay put when a reconnected rater answers again a question
                # whose save reached the database just before the old process died.
                if after is None or before is None or after < before:
                    self.out.errors.append(f"progress {before} → {after} after an answer")
                self.out.latencies.append(seconds)
                counter[0] += 1
                if (
                    half is not None
                    and not half.is_set()
                    and counter[1]
                    and (counter[0] >= counter[1])
                ):
                    half.set()
            nxt = self.page.widgets.get(f"q_next_{inv}")
            self.states = {}  # the step's radios leave the page with it
            if nxt is None:
                break
            await self._read()
            await self.run(fragment=True, trigger=nxt[1].id)
        for key in (f"q_submit_{inv}", f"q_yes_{inv}"):
            button = self.page.widgets.get(key)
            if button is None:
                self.out.errors.append(f"no {key} button")
                return
            await self.run(fragment=True, trigger=button[1].id)
        self.out.submitted = any("Submitted" in t for t in self.page.texts)


def _option_value(index: int, label: str) -> int:
    """The stored value of the option at `index`: the scale's points in order (1…5), then
    Can't say (stored as NULL)."""
    return CANT_SAY if label == "Can't say" else index + 1


async def _protocol_rater(
    host: str,
    port: int,
    rater: Rater,
    out: Outcome,
    half: asyncio.Event,
    counter: list[int],
    start: asyncio.Event,
    think: float = 0.0,
    delay: float = 0.0,
) -> None:
    await start.wait()
    await asyncio.sleep(delay)  # raters arrive over the ramp, not in one instant
    client = ProtocolRater(host, port, rater, out, think)
    for _attempt in range(5):
        try:
            if client.ws is None or out.reconnects:
                await client.connect()
            await client.answer_all(half, counter)
            break
        except Disconnected:
            out.reconnects += 1
            client.ws = None
            client.cookie = ""  # the proxy's cookie names the dead server: a new one is given
            await asyncio.sleep(0.5)
        except Exception as exc:
            out.errors.append(f"{type(exc).__name__}: {exc}")
            break
    if client.ws is not None:
        await client.ws.close()


def _warm_up(stack: Stack, warmers: list[Rater]) -> None:
    async def one(port: int, rater: Rater) -> None:
        client = ProtocolRater("127.0.0.1", port, rater, Outcome())
        await client.connect()
        await client.ws.close()

    async def every() -> None:
        await asyncio.gather(*(one(p, r) for p, r in zip(stack.ports, warmers, strict=True)))

    asyncio.run(every())
    time.sleep(1.0)


# --- a few raters in real Chromium ----------------------------------------------------------

IDLE_WITH = """(expected) => {
    const app = document.querySelector('[data-testid="stApp"]');
    const text = [...document.querySelectorAll('[data-testid="stProgress"]')]
        .map(e => e.innerText).join(' ');
    const m = text.match(/(\\d+) of (\\d+) questions answered/);
    return !!(app && app.getAttribute('data-test-script-state') === 'notRunning'
        && m && Number(m[1]) >= expected);
}"""


def _browser_raters(
    url: str, raters: list[Rater], outs: list[Outcome], go: threading.Event, think: float = 0.0
) -> None:
    """Each browser rater in a headless Chromium of its own, at the same time as the
    others, timed from the click until the page shows the new count of answers and
    Streamlit is idle (what the rater sees)."""
    threads = [
        threading.Thread(target=_browser_rater, args=(url, r, o, go, think), daemon=True)
        for r, o in zip(raters, outs, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _browser_rater(url: str, rater: Rater, out: Outcome, go: threading.Event, think: float) -> None:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    from browser_kit import wait_for_app

    chromium = os.environ.get("TANDEM_CHROMIUM") or shutil.which("chromium") or None
    pause = random.Random(rater.invitation_id * 7919)

    def read() -> None:  # a person reads the question before answering (see ProtocolRater)
        if think:
            time.sleep(think * pause.uniform(0.5, 1.5))

    go.wait()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_page()
            page.goto(f"{url}/?t={rater.token}")
            wait_for_app(page)
            cookies = page.context.cookies()
            out.server = next((c["value"] for c in cookies if c["name"] == "TANDEM_SERVER"), "")
            inv = rater.invitation_id
            while True:
                groups = page.get_by_test_id("stRadio")
                for q in range(groups.count()):
                    text = page.get_by_test_id("stProgress").first.inner_text()
                    done = int(PROGRESS.search(text).group(1))  # type: ignore[union-attr]
                    index = random.Random(inv * 1000 + done).randrange(6)
                    option = groups.nth(q).get_by_test_id("stRadioOption").nth(index)
                    label = option.inner_text().strip()
                    read()
                    started = time.perf_counter()
                    option.click()
                    page.wait_for_function(IDLE_WITH, arg=done + 1, timeout=120_000)
                    out.latencies.append(time.perf_counter() - started)
                    item = _browser_item(page, q, inv)
                    rater.answers[item] = _option_value(index, label)
                wait_for_app(page)
                step = page.get_by_text(STEP).first.inner_text()
                number, steps = (int(x) for x in STEP.search(step).groups())  # type: ignore[union-attr]
                if number == steps:
                    break
                read()
                page.get_by_role("button", name="Next").click()
                page.get_by_text(f"Step {number + 1} of ").first.wait_for(timeout=60_000)
                wait_for_app(page)
            page.get_by_role("button", name="Submit my answers").click()
            wait_for_app(page)
            page.get_by_role("button", name="Yes, submit my answers").click()
            page.get_by_text("Submitted").first.wait_for(timeout=60_000)
            out.submitted = True
            page.close()
        except Exception as exc:
            out.errors.append(f"browser: {type(exc).__name__}: {exc}")
        browser.close()


def _browser_item(page: Any, q: int, inv: int) -> int:
    """The item id of the q-th question on the step, from its widget's key (a class
    `st-key-q_<inv>_<item>` Streamlit puts on keyed widgets' containers)."""
    cls = page.evaluate(
        """([q, prefix]) => {
            const els = [...document.querySelectorAll('[class*="st-key-' + prefix + '"]')];
            const names = els.map(
                e => [...e.classList].find(c => c.startsWith('st-key-' + prefix)));
            return [...new Set(names)][q];
        }""",
        [q, f"q_{inv}_"],
    )
    return int(str(cls).rsplit("_", 1)[1])


# --- one run --------------------------------------------------------------------------------


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def run_once(
    admin_url: str,
    n: int,
    processes: int,
    browsers: int,
    kill_app: bool,
    restart_db: bool,
    keep: bool,
    say: Any,
    think: float = 0.0,
    ramp: float = 0.0,
) -> dict[str, Any]:
    if restart_db:
        admin_url = _own_cluster()
    url = _create_database(admin_url)
    work = Path(tempfile.mkdtemp(prefix="tandem-load-"))
    try:
        raters = _seed(url, n + processes)
        # One session per process first (not counted): the app's modules are imported on the
        # first run, so memory per session is measured from a warm process.
        warmers, raters = raters[:processes], raters[processes:]
        browsers = min(browsers, n)
        for r in raters[:browsers]:
            r.by_browser = True
        say(
            f"{n} raters ({browsers} in Chromium), {processes} process(es), "
            f"database {url.rsplit('/', 1)[1]}"
        )
        with Stack(url, processes, work) as stack:
            _warm_up(stack, warmers)
            rss_before = stack.rss_kib()
            cpu_before = stack.cpu_s()
            driver_before = time.process_time()
            outs = [Outcome() for _ in raters]
            faults: list[str] = []

            async def drive() -> None:
                start, half = asyncio.Event(), asyncio.Event()
                counter = [0, 0]
                tasks = [
                    asyncio.create_task(
                        _protocol_rater(
                            "127.0.0.1",
                            stack.proxy_port,
                            r,
                            o,
                            half,
                            counter,
                            start,
                            think,
                            ramp * k / len(raters),
                        )
                    )
                    for k, (r, o) in enumerate(zip(raters, outs, strict=True))
                    if not r.by_browser
                ]
                go = threading.Event()
                thread = threading.Thread(
                    target=_browser_raters,
                    args=(
                        f"http://127.0.0.1:{stack.proxy_port}",
                        raters[:browsers],
                        outs[:browsers],
                        go,
                        think,
                    ),
                    daemon=True,
                )
                thread.start()
                counter[1] = max(1, (n - browsers) * 27 // 2) if (kill_app or restart_db) else 0
                start.set()
                go.set()
                if kill_app or restart_db:
                    await asyncio.wait_for(half.wait(), timeout=600)
                    if kill_app and processes > 1:
                        # The process no Chromium rater is on: the browsers stay the check
                        # on the protocol client's timings; protocol raters reconnect.
                        for _ in range(600):
                            if all(o.server or o.errors for o in outs[:browsers]):
                                break
                            await asyncio.sleep(0.1)
                        in_browsers = {o.server for o in outs[:browsers]}
                        victim = 0 if "app2" in in_browsers and "app1" not in in_browsers else 1
                        stack.kill(victim)
                        faults.append(
                            f"app process {victim + 1} killed (SIGKILL) after {counter[0]} answers"
                        )
                    if restart_db:
                        version, name, _port = OWN_CLUSTER
                        t0 = time.perf_counter()
                        await asyncio.to_thread(
                            subprocess.run, ["pg_ctlcluster", version, name, "restart"], check=True
                        )
                        faults.append(
                            f"PostgreSQL restarted after {counter[0]} answers "
                            f"({time.perf_counter() - t0:.1f} s)"
                        )
                await asyncio.gather(*tasks)
                await asyncio.to_thread(thread.join)

            rss_peak: list[int] = []
            t0 = time.perf_counter()
            asyncio.run(drive())
            wall = time.perf_counter() - t0
            rss_peak = stack.rss_kib()
            cpu_used = stack.cpu_s() - cpu_before
            driver_used = time.process_time() - driver_before
        check = _check_database(url, raters)
        proto = [
            s for r, o in zip(raters, outs, strict=True) if not r.by_browser for s in o.latencies
        ]
        chrome = [s for r, o in zip(raters, outs, strict=True) if r.by_browser for s in o.latencies]
        sessions = n
        # A killed process has no memory left to measure: only the live ones count.
        grown = [max(0, b - a) for a, b in zip(rss_before, rss_peak, strict=True) if b]
        result = {
            "raters": n,
            "processes": processes,
            "browsers": browsers,
            "answers_saved": len(proto) + len(chrome),
            "p50_ms": _pct(proto, 50),
            "p95_ms": _pct(proto, 95),
            "browser_p50_ms": _pct(chrome, 50),
            "browser_p95_ms": _pct(chrome, 95),
            "wall_s": round(wall, 1),
            "think_s": think,
            "ramp_s": ramp,
            # The app processes' CPU per answer saved (Next and Submit runs included): a
            # killed process's share is lost, so only without --kill-app.
            "server_cpu_ms_per_answer": None
            if kill_app or not (proto or chrome)
            else round(1000 * cpu_used / (len(proto) + len(chrome)), 1),
            # This script's own CPU (the raters' side), which shares the machine's cores.
            "driver_cpu_ms_per_answer": round(
                1000 * driver_used / max(1, len(proto) + len(chrome)), 1
            ),
            "answers_per_s": round((len(proto) + len(chrome)) / wall, 1) if wall else None,
            "rss_before_mib": [round(k / 1024) for k in rss_before],
            "rss_after_mib": [round(k / 1024) for k in rss_peak],
            "mib_per_session": None if kill_app else round(sum(grown) / 1024 / sessions, 2),
            "errors": sum(len(o.errors) for o in outs),
            "error_examples": sorted({e[:160] for o in outs for e in o.errors})[:5],
            "could_not_save_notices": sum(len(o.notices) for o in outs),
            "reconnects": sum(o.reconnects for o in outs),
            "submitted": sum(o.submitted for o in outs),
            "faults": faults,
            "load_average": os.getloadavg(),
            **check,
        }
        result["holds"] = (
            result["p95_ms"] <= TARGET_P95_MS
            and check["lost"] == 0
            and check["duplicated"] == 0
            and check["wrong_value"] == 0
        )
        return result
    finally:
        if not keep:
            _drop_database(admin_url, url)
            shutil.rmtree(work, ignore_errors=True)
        else:
            say(f"kept: {url} and the logs in {work}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raters", default="50", help="N, or N1,N2,… for a sweep")
    parser.add_argument("--processes", type=int, default=2, choices=(1, 2))
    parser.add_argument("--browsers", type=int, default=2, help="raters in real Chromium")
    parser.add_argument("--kill-app", action="store_true")
    parser.add_argument("--restart-db", action="store_true")
    parser.add_argument("--admin-url", default="")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--think",
        type=float,
        default=THINK_S,
        help="seconds a rater reads each question before answering, on average (each pause "
        "is drawn between half and one and a half times this); 0: answer as fast as the "
        "server allows, which measures capacity, not people",
    )
    parser.add_argument(
        "--ramp",
        type=float,
        default=RAMP_S,
        help="seconds over which the raters open their links, evenly (0: all at once); "
        "the Chromium raters open first",
    )
    args = parser.parse_args(argv)

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    admin = "" if args.restart_db else _admin_url(args.admin_url)
    results = []
    for n in [int(x) for x in args.raters.split(",")]:
        r = run_once(
            admin,
            n,
            args.processes,
            args.browsers,
            args.kill_app,
            args.restart_db,
            args.keep,
            say,
            args.think,
            args.ramp,
        )
        results.append(r)
        if not args.json:
            print(_line(r), flush=True)
    held = [r["raters"] for r in results if r["holds"]]
    if args.json:
        print(json.dumps({"runs": results, "largest_n_held": max(held, default=0)}, indent=2))
    else:
        print(
            f"Largest N with p95 per saved answer ≤ {TARGET_P95_MS:.0f} ms and nothing lost or "
            f"duplicated: {max(held, default=0) or 'none of those tried'}"
        )
    return 0


def _line(r: dict[str, Any]) -> str:
    return (
        f"N={r['raters']} processes={r['processes']}: per saved answer p50 {r['p50_ms']:.0f} ms, "
        f"p95 {r['p95_ms']:.0f} ms (Chromium p50 {r['browser_p50_ms']:.0f} / p95 "
        f"{r['browser_p95_ms']:.0f} ms, {r['browsers']} pages); {r['answers_saved']} answers in "
        f"{r['wall_s']} s ({r['answers_per_s']}/s, reading {r['think_s']} s a question, "
        f"arriving over {r['ramp_s']} s); "
        f"server CPU {r['server_cpu_ms_per_answer']} ms per answer (raters' side "
        f"{r['driver_cpu_ms_per_answer']} ms); "
        f"memory {r['mib_per_session']} MiB per session (RSS "
        f"{r['rss_before_mib']} → {r['rss_after_mib']} MiB); errors {r['errors']} "
        f"{r['error_examples']}; lost {r['lost']}, duplicated {r['duplicated']}, wrong value "
        f"{r['wrong_value']}, not submitted {r['not_submitted']}; reconnects {r['reconnects']}, "
        f"'could not save' notices {r['could_not_save_notices']}; faults {r['faults']}; "
        f"load average {tuple(round(x, 2) for x in r['load_average'])}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
