"""After the first page run of a server process, what is alive is frozen out of the garbage
collector's full passes (ui.long_lived): a full pass over Tandem's libraries held every
rater's click for 0.2–0.3 s under load. Checked in a process of its own, as a server is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import gc, os, sys
sys.path.insert(0, {root!r})
os.environ["TANDEM_DATABASE_URL"] = {url!r}
os.environ["TANDEM_REMINDER_CHECK_SECONDS"] = "off"
from streamlit.testing.v1 import AppTest
assert gc.get_freeze_count() == 0
freezes = []
freeze = gc.freeze
gc.freeze = lambda: (freezes.append(1), freeze())[1]
at = AppTest.from_file({app!r}, default_timeout=60).run()
assert not at.exception, at.exception
frozen = gc.get_freeze_count()
at.run()
AppTest.from_file({app!r}, default_timeout=60).run()  # another session
print(frozen, len(freezes))
"""


def test_the_first_page_run_freezes_what_lives_as_long_as_the_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tandem.db'}"
    subprocess.run(
        [str(Path(sys.executable).parent / "tandem"), "db", "upgrade"],
        env={"TANDEM_DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(root=str(ROOT), url=url, app=str(ROOT / "app.py"))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    frozen, freezes = (int(x) for x in done.stdout.split()[-2:])
    assert frozen > 10_000  # the libraries, not a handful of objects
    assert freezes == 1  # once per process: later runs (sessions' objects) are not frozen
