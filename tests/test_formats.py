"""One format for dates, times and figures (core.formats)."""

from datetime import UTC, date, datetime

from core.formats import share_of, uk_date, uk_datetime, whole_percent


def test_uk_dates_are_in_words_without_a_leading_zero() -> None:
    assert uk_date(date(2026, 12, 2)) == "2 December 2026"
    assert uk_date(None) == "—"


def test_times_are_the_councils_local_time() -> None:
    # Stored in UTC: 23:30 UTC on 30 June is already 1 July in London (BST).
    summer = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    assert uk_datetime(summer) == "1 July 2026, 00:30"
    assert uk_date(summer) == "1 July 2026"
    # A naive stored value is UTC; in winter London is on UTC.
    assert uk_datetime(datetime(2026, 12, 2, 12, 0, 30)) == "2 December 2026, 12:00"


def test_percentages_are_whole_numbers_beside_their_n() -> None:
    assert whole_percent(2 / 3) == "67%"
    assert whole_percent(1.0) == "100%"
    assert share_of(2, 3) == "67% (2 of 3)"
    assert share_of(0, 0) == "—"
