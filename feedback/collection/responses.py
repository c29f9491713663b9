"""Answers: saved as the rater goes, submitted once, final after that.

The database refuses any change to a submitted response (triggers from migration 0002);
these functions check first so that the rater gets a plain message instead.

Who may see a draft (issue 12): a link is not enough, because staff hold every link (the
mail-merge file) and can make new ones at will. A draft is bound to a *resume key*, a
random secret made by the browser's page and kept there (a cookie and the page's address),
never sent by email or exported. Only that key reads, changes or submits the draft; any
other holder of the link is told answers were begun elsewhere and may only start again,
which deletes them unread. Once submitted, answers are never shown through a link again.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Engine,
    Integer,
    String,
    Text,
    bindparam,
    cast,
    exists,
    literal,
    null,
    union_all,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql as pg_insert
from sqlalchemy.dialects import sqlite as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, SQLModel, col, delete, func, select, update

from core.db import database_unavailable, select_row, session_scope
from core.errors import Conflict, DatabaseUnavailable, Invalid, NotFound
from core.i18n import LANGUAGES, N_, translator
from core.models import Council, utcnow
from core.text import paragraphs
from core.vocabulary import (
    CycleStatus,
    InvitationStatus,
    Language,
    RaterGroup,
    ResponseStatus,
    pairing_label,
)
from feedback.collection.invitations import hash_token
from feedback.models import (
    Comment,
    Cycle,
    CyclePairing,
    DimensionPick,
    FrameworkVersion,
    Invitation,
    OpenAnswer,
    Pairing,
    Person,
    Rating,
    Response,
)
from feedback.setup.framework import (
    StoredDimension,
    StoredFramework,
    StoredItem,
    render_item,
    scale_labels,
    stored_framework,
    welsh_description,
    welsh_name,
    wording_for,
)

MAX_COMMENT_CHARS = 4000

# Marked for the catalogue (core.i18n): the rater's page shows them in the rater's language.
# What a rater reads while PostgreSQL restarts: their answers stay in the form and the page
# saves them again in a moment (pages/questionnaire.py).
COULD_NOT_SAVE = N_("Could not save just now: the database did not answer. Trying again…")
ALREADY_SUBMITTED = N_(
    "These answers were already submitted and can no longer be changed. Thank you — "
    "nothing more is needed."
)
DRAFT_ELSEWHERE = N_(
    "Answers for this pairing were begun in another browser or on another device. To keep "
    "them private they open only there: please use this link in that browser to carry on. "
    "If you cannot, you can start again here; the earlier answers are then deleted unread."
)


# The invitation a link names and its round, beside the one being saved (`_link_opens`).
_LINK = aliased(Invitation, name="link_invitation")
_LINK_CYCLE = aliased(Cycle, name="link_cycle")
# The pairing's and the rater's people, aliased once: an alias made per call costs more to
# build than the statement it is in (every column proxied again on each answer saved).
_MEMBER = aliased(Person, name="member_person")
_OFFICER = aliased(Person, name="officer_person")
_RATER = aliased(Person, name="rater_person")


def first_language(cycle_language: str) -> str:
    """The language a rater's page opens in: the cycle's, and Welsh first in a bilingual
    cycle. Why Welsh first: the Welsh Language Standards ask that Welsh be treated no less
    favourably than English and that, where both are offered, the Welsh is met first; the
    switch at the top names each language in itself ("English", "Cymraeg"), so a rater who
    reads only English is one click away and the choice is kept for that link's session."""
    return Language.en if cycle_language == Language.en else Language.cy


def rater_language(cycle_language: str, chosen: object) -> str:
    """The language the rater reads: their choice where the cycle offers both, else the
    cycle's own (a Welsh-only or English-only cycle offers no switch)."""
    if cycle_language == Language.both and chosen in LANGUAGES:
        return str(chosen)
    return first_language(cycle_language)


RESUME_KEY_BYTES = 32
RESUME_KEY_SHAPE = re.compile(r"^[A-Za-z0-9_\-]{40,100}$")


def new_resume_key() -> str:
    """A browser's secret for its drafts; made by the rater's page, never stored in clear."""
    return secrets.token_urlsafe(RESUME_KEY_BYTES)


def valid_resume_key(key: object) -> str | None:
    """The key if it looks like one Tandem made, None otherwise (anything not a string too:
    a cookie or address the browser sent is not to be trusted)."""
    if not isinstance(key, str):
        return None
    key = key.strip()
    return key if RESUME_KEY_SHAPE.match(key) else None


def _resume_hash(key: str | None) -> str | None:
    # None stands for Tandem's own writers (demo data, the bench), which use no browser.
    return hashlib.sha256(key.encode("utf-8")).hexdigest() if key else None


def opens_draft(response: Response, resume_key: str | None) -> bool:
    """The one rule for who may read or write a draft: the key that began it."""
    return response.resume_hash == _resume_hash(resume_key)


def framework_of(session: Session, cycle: Cycle) -> StoredFramework:
    """The framework version a cycle runs, parsed once per process (framework.stored_framework)."""
    checksum = session.exec(
        select(FrameworkVersion.checksum).where(FrameworkVersion.id == cycle.framework_version_id)
    ).one()
    return stored_framework(session, cycle.framework_version_id, checksum)


def _focus_join() -> Any:
    """How an invitation finds its pairing's place in the cycle (a pulse's focus)."""
    return (col(CyclePairing.cycle_id) == Invitation.cycle_id) & (
        col(CyclePairing.pairing_id) == Invitation.pairing_id
    )


def items_for_invitation(session: Session, invitation: Invitation) -> list[StoredItem]:
    """The items this rater answers: those the framework asks of their group (everything,
    plus the principals-only questions, for the two principals); in a 90-day pulse, only
    the pulse's items (framework.StoredFramework.in_pulse)."""
    cycle = session.get(Cycle, invitation.cycle_id)
    if cycle is None:
        raise NotFound("This feedback round does not exist.")
    place = session.get(CyclePairing, (invitation.cycle_id, invitation.pairing_id))
    focus = place.focus_dimensions if place is not None else None
    return framework_of(session, cycle).items_for(invitation.rater_group, focus)


def dimensions_for_cycle(session: Session, cycle: Cycle) -> list[StoredDimension]:
    return list(framework_of(session, cycle).dimensions)


def get_response(session: Session, invitation_id: int) -> Response | None:
    return session.exec(select(Response).where(Response.invitation_id == invitation_id)).first()


@dataclass(frozen=True)
class _Opened:
    invitation: Invitation
    cycle: Cycle
    framework: StoredFramework
    focus: list[str] | None  # a pulse's asked dimensions; None: the whole framework


class LinkGone(Invalid):
    """The link a page was opened with no longer opens this invitation (replaced by a newer
    link, withdrawn, or its round no longer open): nothing was saved, and the page asks the
    link again, which says why in the rater's words."""


def _link_opens() -> Any:
    """True where the link (its hash bound as `link_hash`) is a live link of the same rater,
    in an open round: the check `invitations.resolve_token` makes, inside the save's own
    statement."""
    return exists(
        sa_select(literal(1))
        .select_from(_LINK)
        .join(_LINK_CYCLE, col(_LINK_CYCLE.id) == _LINK.cycle_id)
        .where(
            col(_LINK.token_hash) == bindparam("link_hash"),
            col(_LINK.rater_id) == Invitation.rater_id,
            col(_LINK.status) != InvitationStatus.revoked,
            col(_LINK_CYCLE.status) == CycleStatus.open,
        )
    )


def _opening(link_ok: Any) -> Any:
    return (
        select_row(
            Invitation, Cycle, FrameworkVersion.checksum, CyclePairing.focus_dimensions, link_ok
        )
        .join(Cycle, col(Cycle.id) == Invitation.cycle_id)
        .join(FrameworkVersion, col(FrameworkVersion.id) == Cycle.framework_version_id)
        .outerjoin(CyclePairing, _focus_join())
        .where(Invitation.id == bindparam("invitation_id"))
    )


# Each save runs these; built once with bound parameters, since building a statement (and
# its cache key) per answer cost more than running it.
_OPENING = _opening(literal(True))
_OPENING_BY_LINK = _opening(_link_opens())
_LOCKED_RESPONSE = (
    select(Response)
    .where(Response.invitation_id == bindparam("invitation_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


def _open_invitation(
    session: Session, invitation_id: int, link_token: str | None = None
) -> _Opened:
    """The invitation, its cycle and framework, in one statement; refused unless answers
    may still be saved (not withdrawn, the round open) and, given the link the rater's page
    was opened with, unless that link still opens it (`LinkGone`)."""
    if link_token is None:
        row = session.exec(_OPENING, params={"invitation_id": invitation_id}).first()
    else:
        row = session.exec(
            _OPENING_BY_LINK,
            params={"invitation_id": invitation_id, "link_hash": hash_token(link_token)},
        ).first()
    if row is None:
        raise NotFound("This invitation does not exist.")
    invitation, cycle, checksum, focus, opens = row
    if not opens:
        raise LinkGone("This link no longer opens this questionnaire.")
    if invitation.status == InvitationStatus.revoked:
        raise Invalid("This invitation has been withdrawn, so answers can no longer be saved.")
    if cycle.status != CycleStatus.open:
        raise Invalid(
            f"This feedback round is {cycle.status}, so answers can no longer be saved. "
            "Please contact the person who invited you if you think this is wrong."
        )
    return _Opened(
        invitation, cycle, stored_framework(session, cycle.framework_version_id, checksum), focus
    )


def _locked_response(session: Session, invitation_id: int) -> Response | None:
    # Row lock (PostgreSQL; SQLite writes one at a time anyway) so that a "start again"
    # elsewhere cannot rebind the draft between this check and the write.
    return session.exec(_LOCKED_RESPONSE, params={"invitation_id": invitation_id}).first()


def _draft_response(session: Session, invitation: Invitation, resume_key: str | None) -> Response:
    invitation_id = _id(invitation.id)
    response = _locked_response(session, invitation_id)
    if response is None:
        try:
            with session.begin_nested():
                response = Response(
                    invitation_id=invitation_id, resume_hash=_resume_hash(resume_key)
                )
                session.add(response)
        except IntegrityError:  # another tab created it a moment ago
            response = _locked_response(session, invitation_id)
            if response is None:
                raise
    if response.status == ResponseStatus.submitted:
        raise Conflict(ALREADY_SUBMITTED)
    if not opens_draft(response, resume_key):
        raise Conflict(DRAFT_ELSEWHERE)
    return response


def _id(value: int | None) -> int:
    """A stored row's id (None only before it is flushed, which never reaches here)."""
    if value is None:
        raise NotFound("This record is not stored.")
    return value


@dataclass
class SavedAnswers:
    """What one save stored, as stored (texts cleaned by core.text): the page's form keeps
    it without reading everything back."""

    ratings: dict[int, int | None] = field(default_factory=dict)
    comments: dict[int, str] = field(default_factory=dict)  # "" : deleted
    open_answers: dict[str, str] = field(default_factory=dict)  # "" : deleted
    picks: list[int] | None = None  # None: unchanged

    def __bool__(self) -> bool:
        return bool(self.ratings or self.comments or self.open_answers or self.picks is not None)


def _validate(
    opened: _Opened,
    ratings: dict[int, int | None],
    comments: dict[int, str],
    open_answers: dict[str, str] | None = None,
    picks: list[int] | None = None,
) -> dict[int, str]:
    """Check the answers; returns the comments as they are stored (core.text). Open
    answers are cleaned in place by the same rule."""
    framework = opened.framework
    spec = framework.spec
    focus = opened.focus
    items = {i.id: i for i in framework.items_for(opened.invitation.rater_group, focus)}
    shown = framework.dimensions if focus is None else framework.pulse_dimensions(focus)
    dimensions = {d.id: d for d in shown}
    problems = []
    # A pulse asks no open questions and not which dimensions matter most.
    questions = {q.code for q in spec.open_questions or []} if focus is None else set()
    open_answers = open_answers if open_answers is not None else {}
    for code, text in list(open_answers.items()):
        if code not in questions:
            problems.append(f"Question '{code}' is not part of this questionnaire.")
            continue
        try:  # the one rule for text, as for comments
            open_answers[code] = paragraphs(text, "your answer", limit=MAX_COMMENT_CHARS)
        except Invalid as exc:
            problems.append(str(exc))
    if picks is not None:
        limit = spec.matters_most.pick if spec.matters_most and focus is None else 0
        if not limit:
            problems.append("This questionnaire does not ask which dimensions matter most.")
        elif len(set(picks)) > limit:
            problems.append(
                f"Choose at most {limit} of the dimensions that matter most; "
                f"{len(set(picks))} were chosen. Untick one and save again."
            )
        if any(p not in dimensions for p in picks):
            problems.append("A chosen dimension is not part of this questionnaire.")
    for item_id, value in ratings.items():
        item = items.get(item_id)
        if item is None:
            problems.append(f"Question {item_id} is not part of this questionnaire.")
            continue
        if value is None:
            if not spec.scales[item.scale].allows_cant_say:
                problems.append(f"'{item.code}' needs an answer.")
            continue
        top = len(spec.scales[item.scale].points)
        if not isinstance(value, int) or not 1 <= value <= top:
            problems.append(f"'{item.code}' must be answered on its scale (1 to {top}).")
    texts: dict[int, str] = {}
    for dimension_id, text in comments.items():
        if dimension_id not in dimensions:
            problems.append(f"Comment box {dimension_id} is not part of this questionnaire.")
            continue
        try:  # the one rule for text; a comment may run over several lines
            texts[dimension_id] = paragraphs(
                text,
                f"your comment on “{dimensions[dimension_id].name}”",
                limit=MAX_COMMENT_CHARS,
            )
        except Invalid as exc:
            problems.append(str(exc))
    if problems:
        raise Invalid("Some answers could not be saved.", problems)
    return texts


_UPSERTS: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], Any] = {}


def _upsert(
    session: Session, model: type[SQLModel], keys: list[str], rows: list[dict[str, Any]]
) -> None:
    """INSERT … ON CONFLICT DO UPDATE (SQLite and PostgreSQL alike), all rows at once. The
    statement for each table, dialect and set of columns is built once per process."""
    if not rows:
        return
    table = sa_inspect(model).local_table
    dialect = session.get_bind().dialect.name
    shape = (dialect, table.name, tuple(keys), tuple(rows[0]))
    statement = _UPSERTS.get(shape)
    if statement is None:
        insert = (pg_insert if dialect == "postgresql" else sqlite_insert).insert(table)
        changed = {c: insert.excluded[c] for c in rows[0] if c not in keys}
        statement = _UPSERTS.setdefault(
            shape, insert.on_conflict_do_update(index_elements=keys, set_=changed)
        )
    session.exec(statement, params=rows)


def _write_extras(
    session: Session, response_id: int, open_answers: dict[str, str], picks: list[int] | None
) -> None:
    """Open answers like comments (an empty one is deleted); picks replace the earlier set."""
    texts = {q: (t or "").strip() for q, t in open_answers.items()}
    _write_texts(session, OpenAnswer, "question", response_id, texts)
    if picks is not None:
        session.exec(delete(DimensionPick).where(col(DimensionPick.response_id) == response_id))
        for dimension_id in sorted(set(picks)):
            session.add(DimensionPick(response_id=response_id, dimension_id=dimension_id))


def _write_answers(
    session: Session, response_id: int, ratings: dict[int, int | None], comments: dict[int, str]
) -> None:
    # Issue 7 (bench, several app processes): one upsert per table instead of a `get` per
    # answer then an insert. The read-then-insert made ~50 round trips per questionnaire,
    # and two tabs or servers saving the same answer at once could both find nothing and
    # both insert, failing the second save; an upsert has no such gap.
    _upsert(
        session,
        Rating,
        ["response_id", "item_id"],
        [{"response_id": response_id, "item_id": i, "value": v} for i, v in ratings.items()],
    )
    _write_texts(session, Comment, "dimension_id", response_id, comments)  # as stored (_validate)


def _write_texts(
    session: Session,
    table: type[Comment] | type[OpenAnswer],
    key: str,
    response_id: int,
    texts: Mapping[int, str] | Mapping[str, str],
) -> None:
    """Free text of a response, one row per `key`: written where there is text, deleted
    where it was emptied (comments and open answers keep the same rule)."""
    _upsert(
        session,
        table,
        ["response_id", key],
        [{"response_id": response_id, key: k, "text": t} for k, t in texts.items() if t],
    )
    cleared = [k for k, t in texts.items() if not t]
    if cleared:
        session.exec(
            delete(table).where(
                col(table.response_id) == response_id, col(getattr(table, key)).in_(cleared)
            )
        )


def save_answers(
    session: Session,
    invitation_id: int,
    ratings: dict[int, int | None] | None = None,
    comments: dict[int, str] | None = None,
    *,
    resume_key: str | None = None,
    open_answers: dict[str, str] | None = None,
    picks: list[int] | None = None,
    language: str | None = None,
) -> Response:
    """Save (or change) some answers of a draft. Only the answers given are touched, so two
    tabs saving different questions do not undo each other. The rater's page passes its
    browser's resume key: the first save binds the draft to it, and a draft begun with
    another key is refused (`DRAFT_ELSEWHERE`). `open_answers` (by question code) are kept
    like comments; `picks` (dimension ids; None: unchanged) replaces the dimensions chosen
    as mattering most."""
    response, _saved = _save(
        session, invitation_id, ratings, comments, resume_key, open_answers, picks, language
    )
    return response


def _save(
    session: Session,
    invitation_id: int,
    ratings: dict[int, int | None] | None,
    comments: dict[int, str] | None,
    resume_key: str | None,
    open_answers: dict[str, str] | None,
    picks: list[int] | None,
    language: str | None = None,
    link_token: str | None = None,
) -> tuple[Response, SavedAnswers]:
    ratings, comments = dict(ratings or {}), dict(comments or {})
    open_answers = dict(open_answers or {})
    opened = _open_invitation(session, invitation_id, link_token)
    invitation = opened.invitation
    comments = _validate(opened, ratings, comments, open_answers, picks)
    response = _draft_response(session, invitation, resume_key)
    response_id = _id(response.id)
    try:
        _write_answers(session, response_id, ratings, comments)
        _write_extras(session, response_id, open_answers, picks)
    except DBAPIError as exc:
        # Submitted from another tab or server since we looked: the database refused.
        if "has been submitted" in str(exc.orig):
            raise Conflict(ALREADY_SUBMITTED) from None
        raise
    response.updated_at = utcnow()
    if language in LANGUAGES:
        # The language this save was made in: a report may name a comment's language
        # (feedback.results.engine.comment_languages says when).
        response.language = str(language)
    session.add(response)
    if invitation.status == InvitationStatus.not_started:
        # Conditional (issue 7): another process may have submitted meanwhile, and its
        # "submitted" must not be overwritten by our stale "in progress".
        session.exec(
            update(Invitation)
            .where(
                col(Invitation.id) == invitation.id,
                col(Invitation.status) == InvitationStatus.not_started,
            )
            .values(status=InvitationStatus.in_progress)
        )
    session.flush()
    saved = SavedAnswers(
        ratings=ratings,
        comments=comments,
        open_answers={q: (t or "").strip() for q, t in open_answers.items()},
        picks=sorted(set(picks)) if picks is not None else None,
    )
    return response, saved


SAVE_CLASHED = "That answer could not be saved; please try again."


def record_answers(
    engine: Engine,
    invitation_id: int,
    ratings: dict[int, int | None] | None = None,
    comments: dict[int, str] | None = None,
    *,
    resume_key: str | None = None,
    open_answers: dict[str, str] | None = None,
    picks: list[int] | None = None,
    language: str | None = None,
    link_token: str | None = None,
) -> SavedAnswers:
    """`save_answers` in a transaction of its own, as the rater's page saves: one write
    transaction per save. Given `link_token` (the link the page was opened with), the save
    is refused with `LinkGone` unless that link still opens the invitation, checked in the
    same statement that reads it (so the page need not read the link again first).

    If another tab or server wrote the same answers at the same instant (the database
    refuses one of two clashing rows), the save is tried once more, which then wins; a
    second clash is a `Conflict` asking the rater to try again.

    If the database went away mid-save (PostgreSQL restarted), the save is tried again
    too: it is an upsert of the same rows, so a save whose commit was lost on the way
    stores each answer once. Still unreachable: `DatabaseUnavailable`, said plainly."""
    clashes = 0
    for _attempt in range(4):
        try:
            with session_scope(engine) as session:
                _response, saved = _save(
                    session,
                    invitation_id,
                    ratings,
                    comments,
                    resume_key,
                    open_answers,
                    picks,
                    language,
                    link_token,
                )
            return saved
        except IntegrityError:
            clashes += 1
            if clashes == 2:
                raise Conflict(SAVE_CLASHED) from None
        except DBAPIError as exc:
            if not database_unavailable(exc):
                raise
    raise DatabaseUnavailable(COULD_NOT_SAVE)


def submit_response(
    session: Session, invitation_id: int, *, resume_key: str | None = None
) -> Response:
    """Submit once. A second submit (double click, second tab) is told it is already done.
    Only the browser that began the draft can submit it."""
    invitation = _open_invitation(session, invitation_id).invitation
    response = get_response(session, invitation_id)
    if response is not None and response.status == ResponseStatus.submitted:
        raise Conflict(ALREADY_SUBMITTED)
    if response is None:
        raise Invalid("Please answer at least one question before submitting.")
    if not opens_draft(response, resume_key):
        raise Conflict(DRAFT_ELSEWHERE)
    answered = session.exec(
        select(Rating).where(Rating.response_id == response.id, col(Rating.value).is_not(None))
    ).first()
    if answered is None:
        raise Invalid("Please answer at least one question before submitting.")
    # Conditional update: of two simultaneous submits, exactly one changes a row.
    now = utcnow()
    result = session.exec(
        update(Response)
        .where(col(Response.id) == response.id, col(Response.status) == ResponseStatus.draft)
        .values(status=ResponseStatus.submitted, submitted_at=now, updated_at=now)
    )
    if result.rowcount != 1:
        raise Conflict(ALREADY_SUBMITTED)
    invitation.status = InvitationStatus.submitted
    session.add(invitation)
    session.flush()
    session.refresh(response)
    return response


def start_again(session: Session, invitation_id: int, *, resume_key: str) -> Response | None:
    """Delete a draft begun elsewhere, unread, and bind the invitation to this browser's
    key. The only thing a link holder without the draft's key can do to it."""
    invitation = _open_invitation(session, invitation_id).invitation
    response = _locked_response(session, _id(invitation.id))  # see _draft_response
    if response is None:
        return None
    if response.status == ResponseStatus.submitted:
        raise Conflict(ALREADY_SUBMITTED)
    if opens_draft(response, resume_key):
        return response  # already this browser's (a second click): nothing to delete
    try:
        session.exec(delete(Rating).where(col(Rating.response_id) == response.id))
        session.exec(delete(Comment).where(col(Comment.response_id) == response.id))
        session.exec(delete(OpenAnswer).where(col(OpenAnswer.response_id) == response.id))
        session.exec(delete(DimensionPick).where(col(DimensionPick.response_id) == response.id))
    except DBAPIError as exc:
        if "has been submitted" in str(exc.orig):
            raise Conflict(ALREADY_SUBMITTED) from None
        raise
    response.resume_hash = _resume_hash(resume_key)
    response.started_at = response.updated_at = utcnow()
    session.add(response)
    session.flush()
    return response


# --- what the rater's form shows (added for the questionnaire page) -----------------------

CANT_SAY = 0  # the form's value for "can't say"; stored as NULL


@dataclass
class QuestionView:
    item_id: int
    text: str  # with the pairing's names filled in
    about: str  # "Cllr X", "the partnership"...
    options: list[tuple[int, str]]  # (value, label), CANT_SAY last where allowed


@dataclass
class OpenQuestionView:
    code: str
    text: str  # worded for the person answering
    about: str


@dataclass
class MattersMostView:
    text: str
    pick: int  # at most this many
    options: list[tuple[int, str]]  # (dimension id, name)


@dataclass
class SectionView:
    dimension_id: int | None  # None: the two national comparison questions
    title: str
    description: str
    questions: list[QuestionView]


@dataclass
class QuestionnaireView:
    invitation_id: int
    council: str
    cycle: str
    closes_on: date
    member_name: str
    member_title: str
    officer_name: str
    officer_title: str
    portfolio: str
    pairing_kind: str
    rater_name: str
    rater_group: str
    rater_side: str | None  # "member" / "officer" for a principal
    anonymity_threshold: int
    submitted: bool
    submitted_at: datetime | None
    # A draft exists that this browser's key does not open: nothing of it is shown.
    draft_elsewhere: bool
    sections: list[SectionView]
    ratings: dict[int, int | None]
    comments: dict[int, str]
    # Framework 2026.2: open questions and the dimensions that matter most (none in 2026.1).
    open_questions: list[OpenQuestionView] = field(default_factory=list)
    # What the rater reads (en / cy) and what the cycle offers (en / cy / both).
    language: str = Language.en
    cycle_language: str = Language.en
    open_answers: dict[str, str] = field(default_factory=dict)
    matters_most: MattersMostView | None = None
    picks: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(len(s.questions) for s in self.sections)

    @property
    def answered(self) -> int:
        ids = {q.item_id for s in self.sections for q in s.questions}
        return len(ids & set(self.ratings))

    @property
    def pairing_label(self) -> str:
        return pairing_label(self.member_name, self.officer_name)

    def with_saved(self, saved: SavedAnswers) -> QuestionnaireView:
        """This view with a save of this tab in it, as `_save` stored it: what the form shows
        after the save without reading the questionnaire back."""
        if not saved:
            return self
        comments = {**self.comments, **saved.comments}
        open_answers = {**self.open_answers, **saved.open_answers}
        return replace(
            self,
            ratings={**self.ratings, **saved.ratings},
            comments={d: t for d, t in comments.items() if t},
            open_answers={q: t for q, t in open_answers.items() if t},
            picks=list(saved.picks) if saved.picks is not None else list(self.picks),
        )


def _draft_answers(session: Session, response_id: int) -> _DraftAnswers:
    """Every answer of one draft, in one statement (ratings, comments, open answers and
    picks side by side)."""

    def none(kind: type[Integer] | type[String] | type[Text]) -> Any:
        return cast(null(), kind)

    # A compound SELECT: run on the session's connection (same transaction).
    rows = (
        session.connection()
        .execute(
            union_all(
                sa_select(
                    literal("rating"),
                    col(Rating.item_id),
                    none(String),
                    col(Rating.value),
                    none(Text),
                ).where(col(Rating.response_id) == response_id),
                sa_select(
                    literal("comment"),
                    col(Comment.dimension_id),
                    none(String),
                    none(Integer),
                    col(Comment.text),
                ).where(col(Comment.response_id) == response_id),
                sa_select(
                    literal("open"),
                    none(Integer),
                    col(OpenAnswer.question),
                    none(Integer),
                    col(OpenAnswer.text),
                ).where(col(OpenAnswer.response_id) == response_id),
                sa_select(
                    literal("pick"),
                    col(DimensionPick.dimension_id),
                    none(String),
                    none(Integer),
                    none(Text),
                ).where(col(DimensionPick.response_id) == response_id),
            )
        )
        .all()
    )
    answers = _DraftAnswers()
    for kind, number, code, value, text in rows:
        if kind == "rating":
            answers.ratings[number] = value
        elif kind == "comment":
            answers.comments[number] = text
        elif kind == "open":
            answers.open_answers[code] = text
        else:
            answers.picks.append(number)
    answers.picks.sort()
    return answers


@dataclass
class _DraftAnswers:
    ratings: dict[int, int | None] = field(default_factory=dict)
    comments: dict[int, str] = field(default_factory=dict)
    open_answers: dict[str, str] = field(default_factory=dict)
    picks: list[int] = field(default_factory=list)


def questionnaire_view(
    session: Session,
    invitation_id: int,
    resume_key: str | None = None,
    language: str | None = None,
) -> QuestionnaireView:
    """Everything the form needs for one invitation, names filled in, and the answers so
    far of a draft that `resume_key` began. A submitted response shows no answers.

    Two statements at most: the invitation with its cycle, council, pairing, people and
    draft in one, the draft's answers in another; the framework is the process's parsed
    copy (framework.stored_framework). `language` is the rater's choice (en / cy), honoured
    where the cycle runs in both languages (`rater_language`)."""
    member_p, officer_p, rater_p = _MEMBER, _OFFICER, _RATER
    row = session.exec(
        select_row(
            Invitation,
            Cycle,
            Council.name,
            Pairing,
            member_p,
            officer_p,
            rater_p,
            FrameworkVersion.checksum,
            Response,
            CyclePairing.focus_dimensions,
        )
        .join(Cycle, col(Cycle.id) == Invitation.cycle_id)
        .join(Council, col(Council.id) == Cycle.council_id)
        .join(Pairing, col(Pairing.id) == Invitation.pairing_id)
        .join(member_p, col(member_p.id) == Pairing.member_id)
        .join(officer_p, col(officer_p.id) == Pairing.officer_id)
        .join(rater_p, col(rater_p.id) == Invitation.rater_id)
        .join(FrameworkVersion, col(FrameworkVersion.id) == Cycle.framework_version_id)
        .outerjoin(Response, col(Response.invitation_id) == Invitation.id)
        .outerjoin(CyclePairing, _focus_join())
        .where(Invitation.id == invitation_id)
    ).first()
    if row is None:
        raise NotFound("This invitation does not exist.")
    invitation, cycle, council, pairing, member, officer, rater, checksum, response, focus = row
    framework = stored_framework(session, cycle.framework_version_id, checksum)
    spec = framework.spec
    lang = rater_language(cycle.language, language)
    _ = translator(lang)
    side = None
    if invitation.rater_group == RaterGroup.principal:
        side = "member" if rater.id == member.id else "officer"
    about = {
        "member": _("you") if side == "member" else member.full_name,
        "officer": _("you") if side == "officer" else officer.full_name,
        "partnership": _("the partnership"),
    }
    welsh = lang == Language.cy
    names = {
        d.id: welsh_name(spec, d.code, d.name) if welsh else d.name for d in framework.dimensions
    }
    sections: dict[int | None, SectionView] = {}
    for d in framework.dimensions:
        description = welsh_description(spec, d.code, d.description) if welsh else d.description
        sections[d.id] = SectionView(d.id, names[d.id], description, [])
    partner = officer.full_name if side == "member" else member.full_name

    def words(code: str, text: str, target: str) -> str:
        worded, _mine = wording_for(spec, code, text, target, side, lang)
        return render_item(worded, member.full_name, officer.full_name, partner)

    for item in framework.items_for(invitation.rater_group, focus):
        scale = spec.scales[item.scale]
        options = scale_labels(spec, item.scale, lang)
        if scale.allows_cant_say:
            options.append((CANT_SAY, _("Can't say")))
        if item.dimension_id not in sections:
            sections[item.dimension_id] = SectionView(
                None,
                _("How you see the partnership overall"),
                _(
                    "Two questions from national research (Solace asked chief executives "
                    "about their leaders), so the council can compare itself."
                ),
                [],
            )
        sections[item.dimension_id].questions.append(
            QuestionView(
                item.id, words(item.code, item.text, item.target), about[item.target], options
            )
        )
    open_questions = [
        OpenQuestionView(q.code, words(q.code, q.text, q.target), about[q.target])
        for q in spec.open_questions or []
        if focus is None  # a pulse asks only its rated items (and comments)
    ]
    matters_most = None
    if spec.matters_most is not None and focus is None:
        mm = spec.matters_most
        text = mm.self_text if side and mm.self_text else mm.text
        if welsh and mm.cy is not None:
            text = (mm.cy.self_text if side and mm.self_text else mm.cy.text) or text
        matters_most = MattersMostView(
            render_item(text, member.full_name, officer.full_name, partner),
            mm.pick,
            [(d.id, names[d.id]) for d in framework.dimensions],
        )
    submitted = response is not None and response.status == ResponseStatus.submitted
    readable = response is not None and not submitted and opens_draft(response, resume_key)
    answers = _draft_answers(session, _id(response.id)) if readable else _DraftAnswers()
    return QuestionnaireView(
        invitation_id=_id(invitation.id),
        council=council,
        cycle=cycle.name,
        closes_on=cycle.closes_on,
        member_name=member.full_name,
        member_title=member.title,
        officer_name=officer.full_name,
        officer_title=officer.title,
        portfolio=pairing.portfolio,
        pairing_kind=pairing.kind,
        rater_name=rater.full_name,
        rater_group=invitation.rater_group,
        rater_side=side,
        anonymity_threshold=cycle.anonymity_threshold,
        submitted=submitted,
        submitted_at=response.submitted_at if response is not None and submitted else None,
        draft_elsewhere=(
            response is not None and not submitted and not opens_draft(response, resume_key)
        ),
        sections=[s for s in sections.values() if s.questions],
        ratings=answers.ratings,
        comments=answers.comments,
        open_questions=open_questions,
        open_answers=answers.open_answers,
        matters_most=matters_most,
        picks=answers.picks,
        language=lang,
        cycle_language=cycle.language,
    )


@dataclass(frozen=True)
class InvitationChoice:
    """One of a rater's invitations as the list to choose from shows it: the pairing, the
    round and how far along it is — never any answer, and no count once submitted or for
    a draft this browser did not begin."""

    invitation_id: int
    pairing_label: str
    cycle: str
    submitted: bool
    draft_elsewhere: bool
    answered: int
    total: int

    @property
    def status(self) -> str:
        if self.submitted:
            return "submitted"
        return "begun elsewhere" if self.draft_elsewhere else f"{self.answered}/{self.total}"


def invitation_choices(
    session: Session, invitation_ids: list[int], resume_key: str | None = None
) -> list[InvitationChoice]:
    """The rater's invitations (in the order given) for choosing one, in one statement."""
    if not invitation_ids:
        return []
    member_p, officer_p = _MEMBER, _OFFICER
    answered = (
        select(func.count())
        .select_from(Rating)
        .where(col(Rating.response_id) == Response.id)
        .scalar_subquery()
    )
    rows = session.exec(
        select_row(
            Invitation.id,
            Invitation.rater_group,
            member_p.full_name,
            officer_p.full_name,
            Cycle.name,
            Cycle.framework_version_id,
            FrameworkVersion.checksum,
            Response.status,
            Response.resume_hash,
            answered,
            CyclePairing.focus_dimensions,
        )
        .join(Cycle, col(Cycle.id) == Invitation.cycle_id)
        .join(Pairing, col(Pairing.id) == Invitation.pairing_id)
        .join(member_p, col(member_p.id) == Pairing.member_id)
        .join(officer_p, col(officer_p.id) == Pairing.officer_id)
        .join(FrameworkVersion, col(FrameworkVersion.id) == Cycle.framework_version_id)
        .outerjoin(Response, col(Response.invitation_id) == Invitation.id)
        .outerjoin(CyclePairing, _focus_join())
        .where(col(Invitation.id).in_(invitation_ids))
    ).all()
    by_id: dict[int, InvitationChoice] = {}
    for row in rows:
        inv_id, group, member, officer, cycle, version_id, checksum, status, resume_hash, n = row[
            :10
        ]
        total = len(stored_framework(session, version_id, checksum).items_for(group, row[10]))
        submitted = status == ResponseStatus.submitted
        elsewhere = status is not None and not submitted and resume_hash != _resume_hash(resume_key)
        by_id[inv_id] = InvitationChoice(
            inv_id,
            pairing_label(member, officer),
            cycle,
            submitted,
            elsewhere,
            0 if submitted or elsewhere else int(n or 0),
            total,
        )
    return [by_id[i] for i in invitation_ids if i in by_id]


GROUP_NOUNS: dict[str, str] = {
    RaterGroup.members: N_("councillors"),
    RaterGroup.officers: N_("officers"),
    RaterGroup.partners: N_("external partners"),
}


def confidentiality_statement(view: QuestionnaireView) -> list[str]:
    """What will happen to these answers, true to how Tandem reports them, in the rater's
    language (the view's)."""
    _ = translator(view.language)
    if view.rater_group == RaterGroup.principal:
        partner = view.officer_name if view.rater_side == "member" else view.member_name
        return [
            _("You are one of the pair being reviewed, so your answers are **not anonymous**."),
            _(
                "Your ratings of yourself are shown as your self-assessment; your ratings of "
                "{partner} are shown to both of you as the partner's view; your view of the "
                "partnership is shown beside theirs. As there are only two of you, anything "
                "you write can be recognised as yours."
            ).format(partner=partner),
            _(
                "Your answers to the two national questions (how often advice is asked for, "
                "and how the working relationship is) are never shown on their own. In a "
                "leader–chief executive pairing of 12 months or more, the chief executive's "
                "answers count towards the council's and the national comparison with "
                "Solace's figures, and the leader's are shown beside them — each only as a "
                "percentage of at least {n} answers. Other pairings' answers, and pairings "
                "under 12 months old, are not counted in that comparison."
            ).format(n=view.anonymity_threshold),
            _("The report is released by the facilitator once the round closes."),
        ]
    noun = _(GROUP_NOUNS[view.rater_group])
    n = view.anonymity_threshold
    return [
        _(
            "Your answers are **anonymous**: they are combined with those of the other "
            "{noun} who rate this pairing, and reports never show your name or your "
            "individual answers."
        ).format(noun=noun),
        _(
            "Your group's scores and comments are only shown if at least {n} {noun} respond; "
            "with fewer, your group is left out of the report altogether."
        ).format(n=n, noun=noun),
        _(
            "Comments are shown word for word, without names and in an order that does not "
            "reveal who wrote them — so leave out details that would identify you."
        ),
        _("The facilitator can see whether you have responded, but not what you answered."),
    ] + (
        [
            _(
                "A report says which language comments were written in only where at least "
                "{n} of the people whose comments are shown wrote in each language, so "
                "writing in Welsh or in English never singles you out."
            ).format(n=n)
        ]
        if view.cycle_language != Language.en
        else []
    )
