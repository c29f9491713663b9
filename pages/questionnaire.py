"""The rater's questionnaire, opened from a personal link (?t=TOKEN).

The link is checked on every run and in every save: the page only ever shows the
invitations that belong to the link's rater. Each answer is saved the moment it changes.

A link alone never shows answers (issue 12): a draft opens only with the resume key of the
browser that began it, which this page keeps in a cookie and in the page's address (`k`),
and submitted answers are never shown again.
"""

import re
from dataclasses import replace

import streamlit as st
from sqlalchemy.exc import IntegrityError

from core.errors import Conflict, TandemError
from feedback.collection.invitations import resolve_token
from feedback.collection.responses import (
    ALREADY_SUBMITTED,
    CANT_SAY,
    DRAFT_ELSEWHERE,
    QuestionnaireView,
    confidentiality_statement,
    new_resume_key,
    questionnaire_view,
    save_answers,
    start_again,
    submit_response,
    valid_resume_key,
)
from ui.cookies import keep_cookie
from ui.state import unit_of_work
from ui.text import alert, escaped, fill, show, show_html

KEY_COOKIE = "tandem_draft_key"
KEY_COOKIE_DAYS = 400  # the longest a browser keeps a cookie


def _resume_key() -> str:
    """This browser's resume key: the session's own; else the one in the page's address
    (the tab reloaded) or the cookie (the link opened again in this browser); else new."""
    key = st.session_state.get("q_key")
    if key is None:
        key = (
            valid_resume_key(st.query_params.get("k"))
            or valid_resume_key(st.context.cookies.get(KEY_COOKIE))
            or new_resume_key()
        )
        st.session_state["q_key"] = key
    return key


def _keep_resume_key(key: str) -> None:
    """Leave the key with this browser only: in the address bar and a first-party cookie
    (set from the page, as Streamlit sets no cookies itself). It is never emailed."""
    if st.query_params.get("k") != key:
        st.query_params["k"] = key
    keep_cookie(KEY_COOKIE, key, KEY_COOKIE_DAYS, key="q_key_cookie")


def _allowed_invitations() -> list[int]:
    with unit_of_work() as session:
        link = resolve_token(session, st.query_params.get("t", ""))
    return link.invitation_ids if link.ok else []


def _seen(invitation_id: int) -> dict[str, object]:
    """What this tab last knew to be stored, per question and comment box. A tab saves only
    what its rater changed since then, so a second tab left open on an older state never
    writes its stale answers over newer ones."""
    return st.session_state.setdefault(f"q_seen_{invitation_id}", {})


def _unsaved(
    view: QuestionnaireView,
) -> tuple[dict[int, int | None], dict[int, str], dict[str, str], list[int] | None]:
    """What the rater changed in this tab and the database does not have yet: ratings,
    comments, open answers and (None if unchanged) the dimensions that matter most."""
    inv = view.invitation_id
    seen = _seen(inv)
    ratings: dict[int, int | None] = {}
    comments: dict[int, str] = {}
    for section in view.sections:
        for q in section.questions:
            key = f"q_{inv}_{q.item_id}"
            value = st.session_state.get(key)
            if key in seen and value is not None and value != seen[key]:
                ratings[q.item_id] = None if value == CANT_SAY else value
        if section.dimension_id is not None:
            key = f"c_{inv}_{section.dimension_id}"
            text = st.session_state.get(key)
            if key in seen and text is not None and text != seen[key]:
                comments[section.dimension_id] = text
    open_answers: dict[str, str] = {}
    for q in view.open_questions:
        key = f"o_{inv}_{q.code}"
        text = st.session_state.get(key)
        if key in seen and text is not None and text != seen[key]:
            open_answers[q.code] = text
    picks = None
    key = f"m_{inv}"
    chosen = st.session_state.get(key)
    changed = chosen is not None and key in seen and sorted(chosen) != sorted(seen[key])
    if view.matters_most is not None and changed:
        picks = list(chosen)
    return ratings, comments, open_answers, picks


def _form_value(view: QuestionnaireView, item_id: int) -> int | None:
    stored = view.ratings.get(item_id, "unanswered")
    return None if stored == "unanswered" else (CANT_SAY if stored is None else stored)


def _save_unsaved(view: QuestionnaireView) -> bool:
    """Save every answer the rater changed in this tab, in one transaction.

    Run on every rerun rather than only from each widget's on_change: a rater clicking
    quickly interrupts reruns, and an interrupted rerun can skip a callback. Comparing the
    form with what the tab last saved cannot miss an answer. Returns True if saved."""
    inv = view.invitation_id
    ratings, comments, open_answers, picks = _unsaved(view)
    if not ratings and not comments and not open_answers and picks is None:
        return False
    seen = _seen(inv)
    if view.submitted or view.draft_elsewhere:
        # Submitted (or begun again) from another tab or device: say so; the form is gone.
        st.session_state["q_error"] = ALREADY_SUBMITTED if view.submitted else DRAFT_ELSEWHERE
        return False
    for attempt in (1, 2):
        try:
            with unit_of_work() as session:
                save_answers(
                    session,
                    inv,
                    ratings,
                    comments,
                    resume_key=_resume_key(),
                    open_answers=open_answers,
                    picks=picks,
                )
            for code in open_answers:
                key = f"o_{inv}_{code}"
                seen[key] = st.session_state.get(key)
            if picks is not None:
                seen[f"m_{inv}"] = list(picks)
            for item_id in ratings:
                key = f"q_{inv}_{item_id}"
                seen[key] = st.session_state.get(key)
            for dimension_id in comments:
                key = f"c_{inv}_{dimension_id}"
                seen[key] = st.session_state.get(key)
            return True
        except IntegrityError:
            # Another tab saved the same question at the same instant; once more wins.
            if attempt == 2:
                st.session_state["q_error"] = "That answer could not be saved; please try again."
        except TandemError as exc:
            st.session_state["q_error"] = str(exc)
            return False
    return False


def statement_html(view: QuestionnaireView) -> str:
    """The confidentiality statement as HTML: its own **emphasis** in bold, the names it
    quotes as text. The names go in after the emphasis is made, so theirs is never read."""
    names = {"\x00member\x00": view.member_name, "\x00officer\x00": view.officer_name}
    marked = replace(view, member_name="\x00member\x00", officer_name="\x00officer\x00")
    items = []
    for line in confidentiality_statement(marked):
        html = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escaped(line))
        for mark, name in names.items():
            html = html.replace(mark, escaped(name))
        items.append(f"<li>{html}</li>")
    return f'<ul style="margin:0;padding-left:1.5rem">{"".join(items)}</ul>'


def _submit(invitation_id: int) -> None:
    st.session_state.pop(f"q_confirm_{invitation_id}", None)
    if invitation_id not in _allowed_invitations():
        st.session_state["q_error"] = "This link no longer works, so nothing was submitted."
        return
    key = _resume_key()
    try:
        with unit_of_work() as session:
            view = questionnaire_view(session, invitation_id, key)
        _save_unsaved(view)  # whatever the form holds goes in before the submit
        with unit_of_work() as session:
            submit_response(session, invitation_id, resume_key=key)
        st.session_state["q_notice"] = "Thank you — your answers have been submitted."
    except Conflict as exc:
        st.session_state["q_notice"] = str(exc)
    except TandemError as exc:
        st.session_state["q_error"] = str(exc)


def _start_again(invitation_id: int) -> None:
    st.session_state.pop(f"q_restart_{invitation_id}", None)
    if invitation_id not in _allowed_invitations():
        st.session_state["q_error"] = "This link no longer works, so nothing was changed."
        return
    try:
        with unit_of_work() as session:
            start_again(session, invitation_id, resume_key=_resume_key())
        # The form starts empty: forget what this tab knew of the invitation.
        for name in [k for k in st.session_state if str(k).startswith(f"q_{invitation_id}_")]:
            del st.session_state[name]
        for prefix in ("c", "o"):
            for name in [
                k for k in st.session_state if str(k).startswith(f"{prefix}_{invitation_id}_")
            ]:
                del st.session_state[name]
        st.session_state.pop(f"m_{invitation_id}", None)
        st.session_state.pop(f"q_seen_{invitation_id}", None)
        st.session_state["q_notice"] = "The earlier answers were deleted; you can start again."
    except TandemError as exc:
        st.session_state["q_error"] = str(exc)


with unit_of_work() as session:
    link = resolve_token(session, st.query_params.get("t", ""))
    resume_key = _resume_key() if link.ok else ""
    views = (
        [questionnaire_view(session, i, resume_key) for i in link.invitation_ids] if link.ok else []
    )
if any([_save_unsaved(v) for v in views]):
    with unit_of_work() as session:
        views = [questionnaire_view(session, i, resume_key) for i in link.invitation_ids]

st.title("Tandem feedback")
if not link.ok:
    # A plain page: no names, no council, nothing from the database.
    st.info(link.message, icon=":material/link_off:")
    st.stop()
_keep_resume_key(resume_key)


def _status(v: QuestionnaireView) -> str:
    if v.submitted:
        return "submitted"
    return "begun elsewhere" if v.draft_elsewhere else f"{v.answered}/{v.total}"


if len(views) > 1:
    st.write(f"You have been asked for feedback on **{len(views)} pairings**.")
    by_id = {v.invitation_id: v for v in views}
    # A selectbox, not a radio: its options are plain text, radio options are Markdown.
    chosen = st.selectbox(
        "Which pairing would you like to answer for?",
        options=list(by_id),
        format_func=lambda i: f"{by_id[i].pairing_label} — {by_id[i].cycle} ({_status(by_id[i])})",
        key="q_choice",
    )
    view = by_id[chosen]
else:
    view = views[0]

inv = view.invitation_id
# Everything from the database is shown as text (HTML-escaped), never as Markdown.
member = fill("<b>{}</b>", view.member_name) + (
    fill(", {}", view.member_title) if view.member_title else ""
)
officer = fill("<b>{}</b>", view.officer_name) + (
    fill(", {}", view.officer_title) if view.officer_title else ""
)
rater, portfolio = escaped(view.rater_name), escaped(view.portfolio)
show(view.pairing_label, kind="subheader")
show(
    "{} · {} · closes {}",
    view.council,
    view.cycle,
    f"{view.closes_on:%-d %B %Y}",
    kind="caption",
)
if view.rater_side:
    partner = escaped(view.officer_name if view.rater_side == "member" else view.member_name)
    show_html(
        f"Hello {rater}. This is your own review: you rate yourself, {partner} "
        f"and your partnership ({member} and {officer}"
        + (f"; {portfolio}" if view.portfolio else "")
        + ")."
    )
else:
    show_html(
        f"Hello {rater}. You are giving feedback on the partnership between "
        f"{member} and {officer}" + (f" ({portfolio})" if view.portfolio else "") + ": "
        "each of them, and how they work together."
    )
with st.expander("Who will see your answers", expanded=not view.submitted, icon=":material/lock:"):
    show_html(statement_html(view))

for message_key, kind in (("q_error", "error"), ("q_notice", "success")):
    if message := st.session_state.pop(message_key, None):
        alert(kind, message)

if view.submitted:
    # Never the answers again, on this link or any later one: whoever holds a link may not
    # be the rater (staff hold every link).
    when = f" on {view.submitted_at:%-d %B %Y at %H:%M} (UTC)" if view.submitted_at else ""
    st.success(
        f"Submitted{when}. Thank you — nothing more is needed. To keep them private, "
        "submitted answers are not shown again.",
        icon=":material/check_circle:",
    )
    st.stop()
if view.draft_elsewhere:
    st.info(DRAFT_ELSEWHERE, icon=":material/devices:")
    restart_key = f"q_restart_{inv}"
    if not st.session_state.get(restart_key):
        if st.button("Start again here", key=f"q_again_{inv}"):
            st.session_state[restart_key] = True
            st.rerun()
    else:
        st.warning(
            "Delete the answers begun elsewhere and start again? They cannot be recovered.",
            icon=":material/help:",
        )
        st.button(
            "Yes, delete them and start again",
            type="primary",
            key=f"q_again_yes_{inv}",
            on_click=_start_again,
            args=(inv,),
        )
        st.button(
            "No, keep them",
            key=f"q_again_no_{inv}",
            on_click=lambda: st.session_state.pop(restart_key, None),
        )
    st.stop()

st.progress(
    view.answered / view.total if view.total else 0.0,
    text=f"{view.answered} of {view.total} questions answered",
)
st.caption(
    "Every answer is saved as soon as you choose it, so you can close this page and "
    "come back to it with the same link in this browser (to keep them private, your "
    "answers open only here). Choose *Can't say* where you have not seen "
    "enough to judge."
)

for section in view.sections:
    with st.container(border=True):
        show(section.title, kind="h4")
        if section.description:
            show(section.description, kind="caption")
        for number, q in enumerate(section.questions, 1):
            key = f"q_{inv}_{q.item_id}"
            if key not in st.session_state:
                st.session_state[key] = _seen(inv)[key] = _form_value(view, q.item_id)
            # The item quotes the pair's names, and a radio's label is Markdown (even when
            # collapsed): the question is shown as text above a radio whose label, read by
            # screen readers, holds only Tandem's words.
            show(
                '{}<br><span style="font-size:0.875rem;opacity:0.6">About {}</span>',
                q.text,
                q.about,
            )
            labels = dict(q.options)  # the framework's scale words
            st.radio(
                f"Your rating, question {number} of {len(section.questions)} on “{section.title}”",
                options=list(labels),
                format_func=labels.get,
                key=key,
                horizontal=True,
                label_visibility="collapsed",
            )
        if section.dimension_id is not None:
            key = f"c_{inv}_{section.dimension_id}"
            if key not in st.session_state:
                st.session_state[key] = _seen(inv)[key] = view.comments.get(
                    section.dimension_id, ""
                )
            st.text_area(
                f"Comments on “{section.title}” (optional)",  # the framework's words
                key=key,
                max_chars=4000,
                placeholder="Examples help the pair most. Leave out anything that identifies you.",
            )

if view.matters_most is not None:
    with st.container(border=True):
        mm = view.matters_most
        st.markdown("#### What matters most")
        names = dict(mm.options)
        key = f"m_{inv}"
        if key not in st.session_state:
            st.session_state[key] = list(view.picks)
            _seen(inv)[key] = list(view.picks)
        show(mm.text)  # may name the pair: shown as text, never as a widget's Markdown label
        st.multiselect(
            f"Choose up to {mm.pick} dimensions",
            options=list(names),
            format_func=lambda d: names[d],  # options are plain text
            max_selections=mm.pick,
            key=key,
            placeholder=f"Choose up to {mm.pick}",
        )
if view.open_questions:
    with st.container(border=True):
        st.markdown("#### In your own words")
        st.caption(
            "Optional. Answers are shown like comments: word for word, without names and "
            "only from groups with enough replies. Leave out anything that identifies you."
        )
        for number, q in enumerate(view.open_questions, start=1):
            key = f"o_{inv}_{q.code}"
            if key not in st.session_state:
                st.session_state[key] = _seen(inv)[key] = view.open_answers.get(q.code, "")
            show(q.text, kind="strong")  # names the pair: text, not a Markdown label
            st.text_area(
                f"Your answer to open question {number} of {len(view.open_questions)}",
                key=key,
                max_chars=4000,
                label_visibility="collapsed",
            )

confirm_key = f"q_confirm_{inv}"
if not st.session_state.get(confirm_key):
    if st.button("Submit my answers", type="primary", key=f"q_submit_{inv}"):
        st.session_state[confirm_key] = True
        st.rerun()
else:
    missing = view.total - view.answered
    st.warning(
        "Submit now? After submitting you cannot change your answers."
        + (
            f" {missing} question{'s are' if missing != 1 else ' is'} still unanswered "
            "and will count as not answered."
            if missing
            else ""
        ),
        icon=":material/help:",
    )
    st.button(
        "Yes, submit my answers",
        type="primary",
        key=f"q_yes_{inv}",
        on_click=_submit,
        args=(inv,),
    )
    st.button(
        "Not yet",
        key=f"q_no_{inv}",
        on_click=lambda: st.session_state.pop(confirm_key, None),
    )
