"""Once per server process, after its first page has run: everything alive then (the
libraries, the framework, the compiled pages) is moved out of the garbage collector's full
passes (`gc.freeze`).

Why: a full pass walks every object in the process. With Tandem's libraries loaded, one
took 0.2–0.3 s, and every rater whose click arrived meanwhile waited for it (measured with
scripts/load_test.py: 12 such passes in 200 s with 60 raters). What is frozen is never
freed, which is right for what lives as long as the process; each session's objects come
later and are collected as before."""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_done = False


def settle_after_first_run() -> None:
    """Call at the end of a page run; only the first call in the process does anything."""
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        gc.collect()  # what is already garbage is freed, not frozen
        gc.freeze()
        _done = True
