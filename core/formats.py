"""One format for dates, times and figures everywhere people read them (pages, CLI, emails,
exports' notes): UK dates in words ("2 December 2026"), times in the council's local time
(Europe/London, so BST in summer), whole-number percentages beside their n.

Streamlit's column and date-input formats are here too, so a table on one page cannot
show "2026/12/02" while the next shows "02/12/2026"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
from babel.dates import format_date

LOCAL_TIME = ZoneInfo("Europe/London")

# st.column_config.DateColumn / DatetimeColumn (moment.js tokens) and st.date_input.
DATE_COLUMN = "D MMMM YYYY"
DATETIME_COLUMN = "D MMMM YYYY, HH:mm"
DATE_INPUT = "DD/MM/YYYY"  # st.date_input takes only numeric orders; the UK one


def local_time(moment: datetime) -> datetime:
    """`moment` in the council's local time; a naive value is taken as UTC (as stored)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TIME)


def uk_date(value: date | datetime | None, missing: str = "—") -> str:
    """'2 December 2026' (a datetime is first put in local time)."""
    if value is None:
        return missing
    if isinstance(value, datetime):
        value = local_time(value).date()
    return f"{value.day} {value:%B %Y}"


def date_in(value: date | datetime | None, language: str, missing: str = "—") -> str:
    """`uk_date` in the rater's language: '2 Rhagfyr 2026' in Welsh (Babel's CLDR month
    names), '2 December 2026' in English."""
    if language != "cy" or value is None:
        return uk_date(value, missing)
    if isinstance(value, datetime):
        value = local_time(value).date()
    return format_date(value, "d MMMM y", locale="cy")


def datetime_in(value: datetime, language: str) -> str:
    """A local date and time in the rater's language ('2 Rhagfyr 2026, 14:05')."""
    return f"{date_in(value, language)}, {local_time(value):%H:%M}"


def uk_datetime(value: datetime | None, missing: str = "—") -> str:
    """'2 December 2026, 12:00' in local time (24-hour clock, as council papers use)."""
    if value is None:
        return missing
    moment = local_time(value)
    return f"{moment.day} {moment:%B %Y, %H:%M}"


def whole_percent(rate: float) -> str:
    """A share as a whole-number percentage: 0.6667 → '67%'."""
    return f"{round(rate * 100):d}%"


def share_of(part: int, whole: int) -> str:
    """'67% (2 of 3)'; '—' when there is nothing to divide by."""
    if whole <= 0:
        return "—"
    return f"{whole_percent(part / whole)} ({part} of {whole})"


def local_times(values: pd.Series) -> pd.Series:
    """A column of stored times (naive values are UTC) in the council's local time, for tables."""
    return pd.to_datetime(values, utc=True).dt.tz_convert(LOCAL_TIME)
