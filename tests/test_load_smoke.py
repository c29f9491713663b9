"""The load test at a small size, both faults included (issue 16): five raters answer the
real questionnaire through HAProxy on two `streamlit run` processes, one of them in
Chromium; one app process is killed with SIGKILL and PostgreSQL (a cluster of the test's
own) is restarted half-way. Every answer given is stored once, with its value, and every
response is submitted. No timings are asserted: speed is the script's report."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from core.db import PROJECT_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_five_raters_through_the_proxy_lose_nothing_when_an_app_dies_and_postgres_restarts() -> (
    None
):
    # The load test needs PostgreSQL (scripts/test-setup.sh starts it and writes this URL).
    # Imported by name, `conftest` can be tests/browser's in a whole-suite run, so no import.
    if not os.environ.get("TANDEM_TEST_POSTGRES_ADMIN_URL"):
        pytest.fail("PostgreSQL is not available: run `make test` (scripts/test-setup.sh).")
    done = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "load_test.py"), "--raters", "5",
         "--browsers", "1", "--kill-app", "--restart-db", "--think", "0", "--ramp", "0", "--json"],
        cwd=PROJECT_ROOT, env=os.environ, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = json.loads(done.stdout)["runs"]
    shown = json.dumps(run, indent=1)  # the whole report, when something fails
    assert run["answers_expected"] > 5 * 30, shown  # every rater answered every question
    assert run["answers_stored"] == run["answers_expected"], shown
    assert run["lost"] == 0, shown
    assert run["duplicated"] == 0, shown
    assert run["wrong_value"] == 0, shown
    assert run["unexpected"] == 0, shown
    assert run["not_submitted"] == 0, shown
    assert run["submitted"] == 5, shown
    assert run["errors"] == 0, shown
    # Both faults happened: the killed process's raters came back through the proxy.
    assert any("SIGKILL" in f for f in run["faults"])
    assert any("PostgreSQL restarted" in f for f in run["faults"])
