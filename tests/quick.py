"""`make check` runs the suite quickly (TANDEM_TEST_QUICK=1): property tests try fewer
examples there. `make test` and CI try them all."""

from __future__ import annotations

import os

QUICK = os.environ.get("TANDEM_TEST_QUICK", "") == "1"


def examples(full: int) -> int:
    """How many examples a property test tries: all of them, or a tenth when quick."""
    return max(3, full // 10) if QUICK else full
