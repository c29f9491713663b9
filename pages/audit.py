"""Audit log (administrators): who did what, when, on which record. It never holds answers."""

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from core import audit
from core.errors import PermissionDenied
from core.formats import DATE_INPUT, DATETIME_COLUMN, local_times
from core.roles import require_admin
from feedback.setup.people import list_councils
from ui.errors import friendly_errors
from ui.state import current_actor, unit_of_work
from ui.text import alert

actor = current_actor()
st.title("Audit log")
try:
    require_admin(actor)
except PermissionDenied as exc:
    alert("error", exc, icon="lock")
    st.stop()
st.caption(
    "Administrative actions: accounts, sign-ins, set-up, links, publication, purges and "
    "exports. Answers and comments are never recorded here."
)

with unit_of_work() as session:
    councils = {c.id: c.name for c in list_councils(session, actor)}
    actions = audit.actions(session, actor)

c1, c2, c3 = st.columns(3)
council_id = c1.selectbox(
    "Council", [None, *councils], format_func=lambda c: councils.get(c, "All"), key="audit_c"
)
action = c2.selectbox("Action", [None, *actions], format_func=lambda a: a or "All", key="audit_a")
username = c3.text_input("Done by (username)", key="audit_u").strip()
d1, d2 = st.columns(2)
since = d1.date_input(
    "From", datetime.now(UTC).date() - timedelta(days=90), format=DATE_INPUT, key="audit_from"
)
until = d2.date_input("To", datetime.now(UTC).date(), format=DATE_INPUT, key="audit_to")

with friendly_errors(), unit_of_work() as session:
    log = audit.read_log(
        session,
        actor,
        council_id=council_id,
        action=action,
        username=username or None,
        since=datetime.combine(since, time.min, UTC) if since else None,
        until=datetime.combine(until, time.max, UTC) if until else None,
    )
    st.caption(f"{len(log)} event(s), newest first (at most 1,000).")
    log["at"] = local_times(log["at"])
    st.dataframe(
        log[["at", "actor", "action", "entity", "entity_id", "council", "detail"]],
        hide_index=True,
        width="stretch",
        column_config={
            "at": st.column_config.DatetimeColumn("When", format=DATETIME_COLUMN + ":ss"),
            "actor": "Who",
            "action": "What",
            "entity": "Record",
            "entity_id": st.column_config.NumberColumn("Id", format="%d"),
            "council": "Council",
            "detail": "Detail",
        },
    )
