"""The rater's questionnaire, opened from a personal link (?t=TOKEN).

The link is checked on every run and in every save: the page only ever shows the
invitations that belong to the link's rater. Each answer is saved the moment it changes.

A link alone never shows answers (issue 12): a draft opens only with the resume key of the
browser that began it, which this page keeps in a cookie and in the page's address (`k`),
and submitted answers are never shown again.
"""

import re
import time
from dataclasses import replace

import streamlit as st

from core.db import database_unavailable
from core.errors import Conflict, TandemError
from core.formats import date_in, datetime_in
from core.i18n import LANGUAGES, plural, translator
from feedback.collection.invitations import resolve_token
from feedback.collection.responses import (
    ALREADY_SUBMITTED,
    CANT_SAY,
    COULD_NOT_SAVE,
    DRAFT_ELSEWHERE,
    InvitationChoice,
    LinkGone,
    QuestionnaireView,
    SavedAnswers,
    SectionView,
    confidentiality_statement,
    invitation_choices,
    new_resume_key,
    questionnaire_view,
    rater_language,
    record_answers,
    start_again,
    submit_response,
    valid_resume_key,
)
from ui.browser import commit_while_typing, page_language, scroll_to
from ui.cookies import keep_cookie
from ui.state import get_engine, unit_of_work
from ui.text import alert, escaped, fill, show, show_html

KEY_COOKIE = "tandem_draft_key"
KEY_COOKIE_DAYS = 400  # the longest a browser keeps a cookie
LANGUAGE_NAMES = {"cy": "Cymraeg", "en": "English"}  # each language named in itself


def _lang() -> str:
    """The language this page speaks on this run (the view's, once it is read)."""
    lang = st.session_state.get("q_lang_shown")
    return lang if lang in LANGUAGES else "en"


def _(message: str) -> str:
    """gettext for the rater's language (core.i18n; the Welsh is data/locale/cy)."""
    return translator(_lang())(message)


def ngettext(singular: str, plural_form: str, n: int) -> str:
    """gettext's plural for the rater's language (Welsh has six forms; the catalogue's)."""
    return plural(_lang())(singular, plural_form, n)


def _chosen_language() -> str | None:
    """The language the rater chose on this link in this browser session (the switch at
    the top, kept in the session and the page's address so a reload keeps it), if any."""
    chosen = st.session_state.get("q_lang")
    if chosen is None:
        chosen = st.query_params.get("lang")
        if chosen not in LANGUAGES and (st.context.locale or "").lower().startswith("cy"):
            chosen = "cy"  # a browser set to Welsh
        st.session_state["q_lang"] = chosen if chosen in LANGUAGES else None
    return chosen if chosen in LANGUAGES else None


def _switch_language() -> None:
    chosen = st.session_state.get("q_lang_switch")
    if chosen in LANGUAGES:
        st.session_state["q_lang"] = chosen
        st.query_params["lang"] = chosen


SAVE_RETRIES = 5  # a save the database did not answer is tried again this often, a second apart


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


def _changed(key: str, seen: dict[str, object]) -> object | None:
    """The form's value under `key` if the rater changed it since this tab last saved."""
    value = st.session_state.get(key)
    if value is None or key not in seen:
        return None
    if isinstance(value, list):
        old = seen[key]
        return value if not isinstance(old, list) or sorted(value) != sorted(old) else None
    return value if value != seen[key] else None


def _unsaved(
    invitation_id: int,
) -> tuple[dict[int, int | None], dict[int, str], dict[str, str], list[int] | None]:
    """What the rater changed in this tab and the database does not have yet: ratings,
    comments, open answers and (None if unchanged) the dimensions that matter most. Read
    from the form alone (the keys this tab filled in), so nothing is loaded to find it."""
    seen = _seen(invitation_id)
    ratings: dict[int, int | None] = {}
    comments: dict[int, str] = {}
    open_answers: dict[str, str] = {}
    picks: list[int] | None = None
    for key in list(seen):
        value = _changed(key, seen)
        if value is None:
            continue
        kind, _inv, *rest = key.split("_", 2)
        if kind == "q" and isinstance(value, int):
            ratings[int(rest[0])] = None if value == CANT_SAY else value
        elif kind == "c" and isinstance(value, str):
            comments[int(rest[0])] = value
        elif kind == "o" and isinstance(value, str):
            open_answers[rest[0]] = value
        elif kind == "m" and isinstance(value, list):
            picks = [int(d) for d in value]
    return ratings, comments, open_answers, picks


def _form_value(view: QuestionnaireView, item_id: int) -> int | None:
    stored = view.ratings.get(item_id, "unanswered")
    return None if stored == "unanswered" else (CANT_SAY if stored is None else stored)


def _save_unsaved(
    invitation_id: int, view: QuestionnaireView | None = None, link_token: str | None = None
) -> SavedAnswers:
    """Save every answer the rater changed in this tab, in one write transaction
    (responses.record_answers, which also settles a clash with another tab).

    Run on every rerun rather than only from each widget's on_change: a rater clicking
    quickly interrupts reruns, and an interrupted rerun can skip a callback. Comparing the
    form with what the tab last saved cannot miss an answer. Returns what was saved."""
    ratings, comments, open_answers, picks = _unsaved(invitation_id)
    if not ratings and not comments and not open_answers and picks is None:
        return SavedAnswers()
    if view is not None and (view.submitted or view.draft_elsewhere):
        # Submitted (or begun again) from another tab or device: say so; the form is gone.
        st.session_state["q_error"] = ALREADY_SUBMITTED if view.submitted else DRAFT_ELSEWHERE
        return SavedAnswers()
    try:
        saved = record_answers(
            get_engine(),
            invitation_id,
            ratings,
            comments,
            resume_key=_resume_key(),
            open_answers=open_answers,
            picks=picks,
            language=_lang(),
            link_token=link_token,
        )
    except LinkGone:
        st.session_state["q_link_gone"] = True  # the whole page asks the link and says why
        return SavedAnswers()
    except TandemError as exc:
        st.session_state["q_error"] = _(str(exc))  # the catalogue's words where it has them
        return SavedAnswers()
    seen = _seen(invitation_id)
    keys = (
        [f"q_{invitation_id}_{i}" for i in ratings]
        + [f"c_{invitation_id}_{d}" for d in comments]
        + [f"o_{invitation_id}_{code}" for code in open_answers]
    )
    for key in keys:
        seen[key] = st.session_state.get(key)
    if picks is not None:
        seen[f"m_{invitation_id}"] = list(picks)
    return saved


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
        st.session_state["q_error"] = _("This link no longer works, so nothing was submitted.")
        return
    key = _resume_key()
    try:
        _save_unsaved(invitation_id)  # whatever the form holds goes in before the submit
        with unit_of_work() as session:
            submit_response(session, invitation_id, resume_key=key)
        st.session_state["q_notice"] = _("Thank you — your answers have been submitted.")
    except Conflict as exc:
        st.session_state["q_notice"] = _(str(exc))
    except TandemError as exc:
        st.session_state["q_error"] = _(str(exc))
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        st.session_state["q_error"] = _(COULD_NOT_SAVE)  # the answers stay; submit again
    st.session_state["q_done"] = True  # the whole page runs again and says what happened


def _start_again(invitation_id: int) -> None:
    st.session_state.pop(f"q_restart_{invitation_id}", None)
    if invitation_id not in _allowed_invitations():
        st.session_state["q_error"] = _("This link no longer works, so nothing was changed.")
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
        st.session_state["q_notice"] = _("The earlier answers were deleted; you can start again.")
    except TandemError as exc:
        st.session_state["q_error"] = _(str(exc))


def _first_step(view: QuestionnaireView) -> int:
    """Where the rater lands: the step of the first question not answered yet (the last
    step, to submit, once every question has an answer)."""
    for number, section in enumerate(view.sections):
        if any(q.item_id not in view.ratings for q in section.questions):
            return number
    return len(view.sections)


def _go_to(invitation_id: int, step: int) -> None:
    st.session_state[f"q_step_{invitation_id}"] = step
    st.session_state["q_moves"] = moves = st.session_state.get("q_moves", 0) + 1
    st.session_state["q_scroll"] = moves


def _view_again(invitation_id: int) -> QuestionnaireView | None:
    """For a rerun of the steps alone (an answer clicked, next or back). None when the
    whole page must say something instead (the link no longer works, submitted or begun
    elsewhere, a save refused).

    An answer clicked is one write transaction and no read: the save itself checks, in the
    statement that reads the invitation, that the page's link still opens it and the round
    is open, and refuses a submitted or elsewhere-begun draft; the view the steps last drew
    then takes the saved answers. Anything else (next, back, nothing saved) reads the link
    and the invitation again, in one read transaction as on a full run."""
    last: tuple[str | None, QuestionnaireView] | None = st.session_state.get("q_drawn")
    if (
        last is not None
        and last[0] == _chosen_language()
        and (last[1].invitation_id == invitation_id)
    ):
        try:
            saved = _save_unsaved(invitation_id, link_token=st.query_params.get("t", ""))
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            st.session_state["q_error"] = _(COULD_NOT_SAVE)
            return None
        if "q_error" in st.session_state or st.session_state.pop("q_link_gone", False):
            return None
        if saved:
            return last[1].with_saved(saved)
    try:
        with unit_of_work() as session:
            link = resolve_token(session, st.query_params.get("t", ""))
            if not link.ok or invitation_id not in link.invitation_ids:
                return None
            view = questionnaire_view(session, invitation_id, _resume_key(), _chosen_language())
    except Exception as exc:
        # A fragment's rerun is outside the page's friendly_errors: a restarting PostgreSQL
        # is said plainly here (the whole page then tries again), never as a traceback.
        if not database_unavailable(exc):
            raise
        st.session_state["q_error"] = _(COULD_NOT_SAVE)
        return None
    saved = _save_unsaved(invitation_id, view)
    if view.submitted or view.draft_elsewhere or "q_error" in st.session_state:
        return None
    return view.with_saved(saved) if saved else view


STEP_CSS = """<style>
/* The progress stays in view while the rater scrolls a step (Streamlit's header is 3.75rem). */
.st-key-q_progress {
  position: sticky; top: 3.75rem; z-index: 99;
  background: #FAF9F6; padding: 0.5rem 0 0.25rem; margin-top: -0.5rem;
  border-bottom: 1px solid rgba(126,140,148,0.35);
}
.st-key-q_step { scroll-margin-top: 9rem; }
/* The six-point scale in one row, in order, at any width: each option a column of its own
   (the dot above its words), never wrapping into a grid. */
.st-key-q_step [data-testid="stRadio"] [role="radiogroup"] {
  display: flex; flex-direction: row; flex-wrap: nowrap; align-items: stretch;
  gap: 0.25rem; width: 100%;
}
.st-key-q_step [role="radiogroup"] > div { flex: 1 1 0; min-width: 0; display: flex; margin: 0; }
.st-key-q_step [data-testid="stRadioOption"] {
  width: 100%; margin: 0; padding: 0.4rem 0.1rem; border-radius: 0.5rem; cursor: pointer;
  display: flex; justify-content: center; align-items: flex-start;
}
.st-key-q_step [data-testid="stRadioOption"]:hover { background: #EDF1F2; }
/* The keyboard's focus drawn plainly (WCAG 2.4.7): the radio itself is hidden, so the option
   the rater is on gets a ring in the theme's teal (7:1 on the page). */
.st-key-q_step [data-testid="stRadioOption"]:has(input:focus-visible) {
  outline: 3px solid #0F5E6B; outline-offset: 1px;
}
.st-key-q_step [data-testid="stRadioOption"] > div {
  display: flex; flex-direction: column; align-items: center; gap: 0.3rem;
  text-align: center; width: 100%; margin: 0;
}
.st-key-q_step [data-testid="stRadioOption"] > div > div { margin: 0; }
.st-key-q_step [data-testid="stRadioOption"] p {
  font-size: 0.8rem; line-height: 1.2; overflow-wrap: anywhere; hyphens: auto; margin: 0;
}
</style>"""


# One read per run: the link, the invitation on screen (and, for a rater asked about
# several pairings, one line for each to choose from). The framework is the process's
# parsed copy. A changed answer is then one write (`_save_unsaved`), kept in the view
# without reading the questionnaire back.
choices: list[InvitationChoice] = []
view: QuestionnaireView | None = None
st.session_state.pop("q_done", None)  # a full run says whatever a submit led to
with unit_of_work() as session:
    link = resolve_token(session, st.query_params.get("t", ""))
    resume_key = _resume_key() if link.ok else ""
    if link.ok:
        ids = link.invitation_ids
        if len(ids) > 1:
            choices = invitation_choices(session, ids, resume_key)
        shown_id = st.session_state.get("q_choice")
        view = questionnaire_view(
            session, shown_id if shown_id in ids else ids[0], resume_key, _chosen_language()
        )
# The page speaks the view's language from here on (a dead link: the rater's choice, or the
# language of the cycle the link belonged to, else English).
st.session_state["q_lang_shown"] = (
    view.language
    if view is not None
    else rater_language(link.cycle_language or "en", _chosen_language())
)
for invitation_id in link.invitation_ids if link.ok else []:
    on_screen = view is not None and invitation_id == view.invitation_id
    saved = _save_unsaved(invitation_id, view if on_screen else None)
    if saved and view is not None and on_screen:
        view = view.with_saved(saved)

page_language(_lang(), key="q_page_language")
offered = view.cycle_language if view is not None else (link.cycle_language or "en")
if offered == "both":
    # The switch comes first on the page, each language named in itself.
    st.segmented_control(
        "Iaith / Language",
        options=["cy", "en"],
        format_func=LANGUAGE_NAMES.__getitem__,
        default=_lang(),
        key="q_lang_switch",
        on_change=_switch_language,
        label_visibility="collapsed",
    )
st.title(_("Tandem feedback"))
# The statement opens in a new tab (the rater's link is not in its address, so it opens
# as a visitor's page and this form stays where it was).
show_html(
    '<a href="accessibility" target="_blank" rel="noopener">'
    + escaped(_("Accessibility statement"))
    + "</a> — "
    + escaped(_("how to ask for another format or report a problem")),
)  # full-strength text: a link in a caption's 60% opacity falls below 4.5:1
if not link.ok or view is None:
    # A plain page: no names, no council, nothing from the database.
    st.info(_(link.message), icon=":material/link_off:")
    st.stop()
assert view is not None  # for the type checker: st.stop() ends the run
_keep_resume_key(resume_key)


def _status(submitted: bool, elsewhere: bool, answered: int, total: int) -> str:
    if submitted:
        return _("submitted")
    return _("begun elsewhere") if elsewhere else f"{answered}/{total}"


if len(choices) > 1:
    st.markdown(
        ngettext(
            "You have been asked for feedback on **{n} pairing**.",
            "You have been asked for feedback on **{n} pairings**.",
            len(choices),
        ).format(n=len(choices))
    )
    labels = {
        c.invitation_id: f"{c.pairing_label} — {c.cycle} "
        f"({_status(c.submitted, c.draft_elsewhere, c.answered, c.total)})"
        for c in choices
    }
    labels[view.invitation_id] = (
        f"{view.pairing_label} — {view.cycle} "
        f"({_status(view.submitted, view.draft_elsewhere, view.answered, view.total)})"
    )
    # A selectbox, not a radio: its options are plain text, radio options are Markdown.
    st.selectbox(
        _("Which pairing would you like to answer for?"),
        options=list(labels),
        format_func=labels.__getitem__,
        key="q_choice",
    )

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
    "{} · {} · " + escaped(_("closes {date}").format(date=date_in(view.closes_on, _lang()))),
    view.council,
    view.cycle,
    kind="caption",
)
# Whole sentences in the catalogue, the (escaped) names put in by name: never pieces of a
# sentence joined together, which no translation could follow.
pair = {"member": member, "officer": officer, "portfolio": portfolio}
if view.rater_side:
    partner = escaped(view.officer_name if view.rater_side == "member" else view.member_name)
    own = (
        _(
            "Hello {rater}. This is your own review: you rate yourself, {partner} and your "
            "partnership ({member} and {officer}; {portfolio})."
        )
        if view.portfolio
        else _(
            "Hello {rater}. This is your own review: you rate yourself, {partner} and your "
            "partnership ({member} and {officer})."
        )
    )
    show_html(escaped(own).format(rater=rater, partner=partner, **pair))
else:
    other = (
        _(
            "Hello {rater}. You are giving feedback on the partnership between {member} and "
            "{officer} ({portfolio}): each of them, and how they work together."
        )
        if view.portfolio
        else _(
            "Hello {rater}. You are giving feedback on the partnership between {member} and "
            "{officer}: each of them, and how they work together."
        )
    )
    show_html(escaped(other).format(rater=rater, **pair))
with st.expander(
    _("Who will see your answers"), expanded=not view.submitted, icon=":material/lock:"
):
    show_html(statement_html(view))

retry_save = False
for message_key, kind in (("q_error", "error"), ("q_notice", "success")):
    if message := st.session_state.pop(message_key, None):
        if message == _(COULD_NOT_SAVE):  # stored in the rater's language
            # PostgreSQL restarting: the unsaved answers stay in the form and are saved by
            # the run this page starts in a moment (a few times, then the rater's next click).
            retry_save = st.session_state.get("q_retries", 0) < SAVE_RETRIES
            st.session_state["q_retries"] = st.session_state.get("q_retries", 0) + 1
            alert("warning", message, icon="sync_problem")
        else:
            alert(kind, message)
if not retry_save:
    st.session_state.pop("q_retries", None)

if view.submitted:
    # Never the answers again, on this link or any later one: whoever holds a link may not
    # be the rater (staff hold every link).
    done = (
        _(
            "Submitted on {when}. Thank you — nothing more is needed. To keep them private, "
            "submitted answers are not shown again."
        ).format(when=datetime_in(view.submitted_at, _lang()))
        if view.submitted_at
        else _(
            "Submitted. Thank you — nothing more is needed. To keep them private, submitted "
            "answers are not shown again."
        )
    )
    st.success(done, icon=":material/check_circle:")
    # The rater clicked submit at the foot of the form: bring the thank-you into view.
    scroll_to("h1", f"submitted-{inv}", key="q_scroll_submitted")
    st.stop()
if view.draft_elsewhere:
    st.info(_(DRAFT_ELSEWHERE), icon=":material/devices:")
    restart_key = f"q_restart_{inv}"
    if not st.session_state.get(restart_key):
        if st.button(_("Start again here"), key=f"q_again_{inv}"):
            st.session_state[restart_key] = True
            st.rerun()
    else:
        st.warning(
            _("Delete the answers begun elsewhere and start again? They cannot be recovered."),
            icon=":material/help:",
        )
        st.button(
            _("Yes, delete them and start again"),
            type="primary",
            key=f"q_again_yes_{inv}",
            on_click=_start_again,
            args=(inv,),
        )
        st.button(
            _("No, keep them"),
            key=f"q_again_no_{inv}",
            on_click=lambda: st.session_state.pop(restart_key, None),
        )
    st.stop()


def _question_step(inv: int, section: SectionView, view: QuestionnaireView) -> None:
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
            '{}<br><span style="font-size:0.875rem;opacity:0.6">'
            + escaped(_("About {who}")).replace("{who}", "{}")
            + "</span>",
            q.text,
            q.about,
        )
        labels = dict(q.options)  # the framework's scale words
        st.radio(
            _("Your rating, question {number} of {count} on “{title}”").format(
                number=number, count=len(section.questions), title=section.title
            ),
            options=list(labels),
            format_func=labels.get,
            key=key,
            horizontal=True,
            label_visibility="collapsed",
        )
    if section.dimension_id is not None:
        key = f"c_{inv}_{section.dimension_id}"
        if key not in st.session_state:
            st.session_state[key] = _seen(inv)[key] = view.comments.get(section.dimension_id, "")
        st.text_area(
            _("Comments on “{title}” (optional)").format(title=section.title),  # framework's
            key=key,
            max_chars=4000,
            placeholder=_("Examples help the pair most. Leave out anything that identifies you."),
        )


def _last_step(inv: int, view: QuestionnaireView) -> None:
    """What matters most, the open questions, and submitting."""
    if view.matters_most is not None:
        mm = view.matters_most
        st.markdown("#### " + _("What matters most"))
        names = dict(mm.options)
        key = f"m_{inv}"
        if key not in st.session_state:
            st.session_state[key] = list(view.picks)
            _seen(inv)[key] = list(view.picks)
        show(mm.text)  # may name the pair: shown as text, never as a widget's Markdown label
        st.multiselect(
            _("Choose up to {n} dimensions").format(n=mm.pick),
            options=list(names),
            format_func=lambda d: names[d],  # options are plain text
            max_selections=mm.pick,
            key=key,
            placeholder=_("Choose up to {n}").format(n=mm.pick),
        )
    if view.open_questions:
        st.markdown("#### " + _("In your own words"))
        st.caption(
            _(
                "Optional. Answers are shown like comments: word for word, without names and "
                "only from groups with enough replies. Leave out anything that identifies you."
            )
        )
        for number, q in enumerate(view.open_questions, start=1):
            key = f"o_{inv}_{q.code}"
            if key not in st.session_state:
                st.session_state[key] = _seen(inv)[key] = view.open_answers.get(q.code, "")
            show(q.text, kind="strong")  # names the pair: text, not a Markdown label
            st.text_area(
                _("Your answer to open question {number} of {count}").format(
                    number=number, count=len(view.open_questions)
                ),
                key=key,
                max_chars=4000,
                label_visibility="collapsed",
            )
    if not view.matters_most and not view.open_questions:
        show(_("That was the last question."), kind="h4")


def _submit_buttons(inv: int, view: QuestionnaireView) -> None:
    confirm_key = f"q_confirm_{inv}"
    if not st.session_state.get(confirm_key):
        st.button(
            _("Submit my answers"),
            type="primary",
            key=f"q_submit_{inv}",
            on_click=lambda: st.session_state.update({confirm_key: True}),
        )
        return
    missing = view.total - view.answered
    ask = _("Submit now? After submitting you cannot change your answers.")
    if missing:
        ask += " " + ngettext(
            "{n} question is still unanswered and will count as not answered.",
            "{n} questions are still unanswered and will count as not answered.",
            missing,
        ).format(n=missing)
    st.warning(ask, icon=":material/help:")
    st.button(
        _("Yes, submit my answers"),
        type="primary",
        key=f"q_yes_{inv}",
        on_click=_submit,
        args=(inv,),
    )
    st.button(
        _("Not yet"),
        key=f"q_no_{inv}",
        on_click=lambda: st.session_state.pop(confirm_key, None),
    )


@st.fragment
def _steps(inv: int) -> None:
    """The questionnaire, one step per dimension. A click inside reruns only this part of
    the page (st.fragment): the answer is saved and the progress moves without the rest of
    the page being run and sent again."""
    if st.session_state.pop("q_done", False):
        st.rerun()  # submitted: the whole page shows the thank-you (and nothing else)
    fresh: QuestionnaireView | None = st.session_state.pop("q_fresh_view", None)
    current = fresh if fresh is not None and fresh.invitation_id == inv else _view_again(inv)
    if current is None:
        st.rerun()  # the whole page says what happened
    assert current is not None  # st.rerun() ends the run
    st.session_state["q_drawn"] = (_chosen_language(), current)  # for the next answer's save
    sections = current.sections
    last = len(sections)
    step_key = f"q_step_{inv}"
    if step_key not in st.session_state:
        st.session_state[step_key] = _first_step(current)
    step = min(max(int(st.session_state[step_key]), 0), last)
    title = sections[step].title if step < last else _("Finish and submit")
    with st.container(key="q_progress"):
        st.progress(
            current.answered / current.total if current.total else 0.0,
            text=_("{answered} of {total} questions answered").format(
                answered=current.answered, total=current.total
            ),
        )
        show(
            escaped(_("Step {number} of {count}: {title}"))
            .replace("{number}", str(step + 1))
            .replace("{count}", str(last + 1))
            .replace("{title}", "{}"),
            title,
            kind="caption",
        )
    with st.container(key="q_step"):
        if step < last:
            _question_step(inv, sections[step], current)
        else:
            _last_step(inv, current)
    with st.container(horizontal=True, key="q_nav"):
        if step > 0:
            st.button(
                _("Back"),
                icon=":material/arrow_back:",
                key=f"q_back_{inv}",
                on_click=_go_to,
                args=(inv, step - 1),
            )
        if step < last:
            st.button(
                _("Next"),
                type="primary",
                icon=":material/arrow_forward:",
                key=f"q_next_{inv}",
                on_click=_go_to,
                args=(inv, step + 1),
            )
    if step == last:
        _submit_buttons(inv, current)
    if scroll := st.session_state.pop("q_scroll", None):  # only on the run after a move
        scroll_to(".st-key-q_step", f"step-{inv}-{scroll}", focus="h4", key="q_scroll_step")


st.caption(
    _(
        "Every answer is saved as soon as you choose it, so you can close this page and "
        "come back to it with the same link in this browser (to keep them private, your "
        "answers open only here). Choose *Can't say* where you have not seen "
        "enough to judge."
    )
)
st.html(STEP_CSS)
# Global listeners, installed once: outside the steps so a click there does not send it again.
commit_while_typing("q_step", key="q_commit_typing")
st.session_state["q_fresh_view"] = view
_steps(inv)
if retry_save:
    time.sleep(1.0)
    st.rerun()
