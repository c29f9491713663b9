"""Data protection (facilitators and administrators): how long each council keeps a cycle's
data, purging what is past it, and exporting everything held about one person."""

import streamlit as st

from core.errors import PermissionDenied
from core.roles import require_staff
from feedback.setup.people import list_councils
from governance.retention import MAX_RETENTION_MONTHS, purge, set_retention
from governance.subject_access import find_subject, subject_access, to_json, to_xlsx
from ui.errors import friendly_errors
from ui.notices import flash
from ui.pickers import pick_council
from ui.state import current_actor, unit_of_work
from ui.text import alert

actor = current_actor()
st.title("Data protection")
try:
    require_staff(actor)
except PermissionDenied as exc:
    alert("error", exc, icon="lock")
    st.stop()

with unit_of_work() as session:
    councils = list_councils(session, actor)
if not councils:
    st.info("There are no councils you look after.", icon=":material/info:")
    st.stop()
council_id = pick_council(councils, key="dp_council")
council = next(c for c in councils if c.id == council_id)

retention_tab, access_tab = st.tabs(["Retention and purge", "Subject access request"])

with retention_tab:
    with st.form("retention"):
        months = st.number_input(
            "Keep each cycle's data for this many months after it closes",
            min_value=1,
            max_value=MAX_RETENTION_MONTHS,
            value=council.retention_months,
        )
        if st.form_submit_button("Save retention period"):
            saved = False
            with friendly_errors(), unit_of_work() as session:
                set_retention(session, actor, council_id, int(months))
                saved = True
            if saved:
                flash("success", "{} now keeps data for {} months.", council.name, months)
                st.rerun()

    with friendly_errors(), unit_of_work() as session:
        preview = purge(session, actor, council_id=council_id, dry_run=True)
    st.text(preview.summary())
    if not preview.cycles.empty:
        st.dataframe(
            preview.cycles.drop(columns=["council_id", "cycle_id"]),
            hide_index=True,
            width="stretch",
        )
    if preview.people:
        st.text("People nothing refers to any more: " + "; ".join(preview.people))
    if not preview.cycles.empty or preview.people:
        sure = st.checkbox(
            "I understand this deletes these cycles' answers, links, reports and plans for good.",
            key="dp_sure",
        )
        if st.button("Purge now", type="primary", disabled=not sure, key="dp_purge"):
            done = None
            with friendly_errors(), unit_of_work() as session:
                done = purge(session, actor, council_id=council_id)
            if done is not None:
                flash("success", done.summary())
                st.rerun()

with access_tab:
    st.caption(
        "Everything Tandem holds about one person on this council's list, as JSON or a "
        "workbook. Answers they gave as a rater are pseudonymous and are not included."
    )
    with st.form("sar"):
        email = st.text_input("Their email address", key="dp_email")
        asked = st.form_submit_button("Prepare the export")
    if asked:
        st.session_state.pop("dp_export", None)
        with friendly_errors(), unit_of_work() as session:
            person = find_subject(session, actor, email, council_id)
            data = subject_access(session, actor, person.id)
            st.session_state["dp_export"] = (
                person.full_name,
                to_json(data),
                to_xlsx(data),
                data["about"]["not_included"],
            )
    if export := st.session_state.get("dp_export"):
        name, as_json, as_xlsx, not_included = export
        st.text(f"Export for {name} is ready.")
        if not_included:
            alert("info", not_included)
        stem = "subject-access-" + "".join(ch if ch.isalnum() else "-" for ch in name.lower())
        left, right = st.columns(2)
        left.download_button(
            "Download JSON", as_json, f"{stem}.json", "application/json", key="dp_json"
        )
        right.download_button(
            "Download workbook",
            as_xlsx,
            f"{stem}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key="dp_xlsx",
        )
