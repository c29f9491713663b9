"""Comment moderation before publication: staff hide a comment (or an open answer) that
names someone or is abusive, or remove some of its words, giving a reason.

- Staff only (the council's facilitator or an administrator), on a closed cycle, before it is
  published: after publication it is refused in words (withdraw the publication first).
- Only comments a staff read would show can be moderated: the list is the pairing's results
  as a staff read serves them (`publication.staff_read`, held like every read), so groups
  below the threshold stay out of sight here too.
- Never silent: removed words are replaced by a visible marker, the report says that
  comments were moderated, and the rater's words are kept untouched (in `Comment` /
  `OpenAnswer`), so a moderation can be undone until publication. Readers are served the
  moderated text only (`feedback.results.moderated`, applied to every read and edition).
- Audited with the reason, never with the comment's words.

A comment is named by a *reference*: a short hash of the cycle, pairing, dimension (or
question) and the words themselves. It says nothing the comment does not, and the same
rater's comments share nothing (a response id would link them). Identical words under the
same heading share a reference and are moderated together.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from core import audit
from core.errors import Invalid, NotFound
from core.models import utcnow
from core.roles import Actor
from core.text import one_line
from core.vocabulary import CycleStatus, RaterGroup, ResponseStatus
from feedback.access import require_cycle_manager, staff_name
from feedback.models import (
    Comment,
    CommentModeration,
    Cycle,
    Dimension,
    Invitation,
    OpenAnswer,
    Response,
)
from feedback.results.loading import stored_id
from feedback.results.moderated import (
    MARKER,
    OPEN,
    Moderation,
    merge_spans,
    moderations,
    redacted,
)
from feedback.results.publication import staff_read
from feedback.results.tables import PairingReport

PUBLISHED = (
    "This cycle's results are published, so its comments can no longer be moderated: "
    "principals may already have read them. To change them, withdraw the publication first "
    "(Cycles page: Withdraw publication, or `tandem cycle unpublish CYCLE`), moderate, then "
    "publish again."
)
REASON_REQUIRED = (
    "Give a reason (for example “names a member of staff” or “abusive”): it is kept in the "
    "audit log, without the comment."
)


@dataclass(frozen=True)
class ModeratedComment:
    """A comment as staff moderating it see it (before publication only)."""

    ref: str
    part: str  # a dimension's code, or "open:<question code>"
    heading: str  # the dimension's name, or the open question
    text: str  # the rater's words, as a staff read shows them
    state: str  # shown | hidden | redacted
    shown: str | None  # what readers will see (None: hidden)
    reason: str
    moderated_by: str
    moderated_at: datetime | None


def comment_ref(cycle_id: int, pairing_id: int, part: str, text: str) -> str:
    digest = hashlib.sha256(f"{cycle_id}|{pairing_id}|{part}|{text}".encode()).hexdigest()
    return digest[:10]


def _refuse_published(cycle: Cycle) -> None:
    if cycle.status == CycleStatus.published:
        raise Invalid(PUBLISHED)


def _listed(
    session: Session, actor: Actor, cycle_id: int, pairing_id: int
) -> tuple[Cycle, list[ModeratedComment], dict[str, list[int]], list[Moderation]]:
    _refuse_published(require_cycle_manager(session, actor, cycle_id))
    read = staff_read(session, actor, cycle_id, pairing_id)
    cid = stored_id(read.cycle)
    report = PairingReport.from_dict(read.section)
    dims = report.dimensions.drop_duplicates("dimension_code")
    names = dict(zip(dims["dimension_code"], dims["dimension_name"], strict=True))
    parts: list[tuple[str, str, list[str]]] = [
        (code, str(names.get(code, code)), list(texts)) for code, texts in report.comments.items()
    ]
    parts += [(OPEN + q["code"], q["question"], list(q["answers"])) for q in report.open_answers]
    mods = moderations(session, cid, pairing_id)
    out: list[ModeratedComment] = []
    for part, heading, texts in parts:
        unused = [m for m in mods if m.part == part]
        for text in texts:
            mod = next((m for m in unused if m.original == text), None)
            if mod is not None:
                unused.remove(mod)
            state = "shown" if mod is None else "hidden" if mod.hidden else "redacted"
            out.append(
                ModeratedComment(
                    ref=comment_ref(cid, pairing_id, part, text),
                    part=part,
                    heading=heading,
                    text=text,
                    state=state,
                    shown=text if mod is None else mod.shown,
                    reason=mod.reason if mod else "",
                    moderated_by=mod.moderated_by if mod else "",
                    moderated_at=mod.moderated_at if mod else None,
                )
            )
    return read.cycle, out, read.cells, mods


def comments_to_moderate(
    session: Session, actor: Actor, cycle_id: int, pairing_id: int
) -> list[ModeratedComment]:
    """Every comment and open answer a staff read of this pairing shows, in report order,
    with its reference and how it is moderated (staff; a closed cycle, before publication)."""
    return _listed(session, actor, cycle_id, pairing_id)[1]


def _find(
    session: Session, actor: Actor, cycle_id: int, pairing_id: int, ref: str
) -> tuple[Cycle, ModeratedComment, list[int]]:
    """The comment a reference names, and the responses whose words it is: only responses
    of groups the staff read shows (its cells), never a suppressed group's."""
    cycle, listed, cells, _mods = _listed(session, actor, cycle_id, pairing_id)
    comment = next((c for c in listed if c.ref == ref.strip().lower()), None)
    if comment is None:
        raise NotFound(
            f"No comment shown for this pairing has the reference {ref!r}: "
            "`tandem comments list CYCLE --pairing ID` lists them."
        )
    # The anonymous groups' responses behind this heading's comments as served (the cells),
    # and the pair's own (self and partner are always shown, and held in no cell).
    shown_ids = sorted(
        {
            rid
            for key, ids in cells.items()
            if key.startswith("comments|") and key.split("|", 2)[2] == comment.part
            for rid in ids
        }
        | set(_pair_responses(session, stored_id(cycle), pairing_id))
    )
    if comment.part.startswith(OPEN):
        query = sa_select(col(OpenAnswer.response_id)).where(
            col(OpenAnswer.question) == comment.part.removeprefix(OPEN),
            col(OpenAnswer.text) == comment.text,
        )
        query = query.where(col(OpenAnswer.response_id).in_(shown_ids))
    else:
        query = (
            sa_select(col(Comment.response_id))
            .join(Dimension, col(Dimension.id) == col(Comment.dimension_id))
            .where(
                col(Dimension.code) == comment.part,
                col(Comment.text) == comment.text,
                col(Comment.response_id).in_(shown_ids),
            )
        )
    response_ids = [int(r) for r in session.execute(query).scalars().all()]
    if not response_ids:
        raise NotFound("That comment is no longer in this pairing's results.")
    return cycle, comment, response_ids


def _pair_responses(session: Session, cycle_id: int, pairing_id: int) -> list[int]:
    """The two principals' submitted responses about their own pairing."""
    query = (
        sa_select(col(Response.id))
        .join(Invitation, col(Invitation.id) == col(Response.invitation_id))
        .where(
            col(Invitation.cycle_id) == cycle_id,
            col(Invitation.pairing_id) == pairing_id,
            col(Invitation.rater_group) == RaterGroup.principal,
            col(Response.status) == ResponseStatus.submitted,
        )
    )
    return [int(r) for r in session.execute(query).scalars().all()]


def _reason(reason: str, quoted: str) -> str:
    """The reason as kept, refused when it quotes the words taken out (`quoted`)."""
    text = one_line(reason, "The reason", limit=500, required=REASON_REQUIRED)
    words = quoted.strip().casefold()
    if len(words) >= 2 and re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text.casefold()):
        raise Invalid(
            "The reason quotes the words being taken out: give the reason without them "
            "(the audit log never holds what a rater wrote)."
        )
    return text


def _upsert(
    session: Session,
    actor: Actor,
    cycle: Cycle,
    pairing_id: int,
    comment: ModeratedComment,
    response_ids: list[int],
    *,
    hidden: bool,
    spans: list[tuple[int, int]],
    reason: str,
) -> None:
    existing = {
        m.response_id: m
        for m in session.exec(
            select(CommentModeration).where(
                col(CommentModeration.response_id).in_(response_ids),
                CommentModeration.part == comment.part,
            )
        ).all()
    }
    now = utcnow()
    for rid in response_ids:
        row = existing.get(rid) or CommentModeration(
            cycle_id=stored_id(cycle),
            pairing_id=pairing_id,
            response_id=rid,
            part=comment.part,
            reason=reason,
        )
        if hidden:
            row.hidden = True
        else:
            row.spans = [list(s) for s in merge_spans([*(row.spans or []), *spans])]
        row.reason = reason
        row.moderated_by = staff_name(session, actor)
        row.moderated_at = now
        session.add(row)
    session.flush()


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    cycle: Cycle,
    pairing_id: int,
    comment: ModeratedComment,
    **detail: object,
) -> None:
    """The audit entry: where and why, never the comment's words."""
    audit.record(
        session,
        actor,
        action,
        "cycle",
        cycle.id,
        cycle.council_id,
        pairing=pairing_id,
        under=comment.heading,
        **detail,
    )


def hide_comment(
    session: Session, actor: Actor, cycle_id: int, pairing_id: int, ref: str, reason: str
) -> ModeratedComment:
    """Withhold a comment from the report (and every edition, PDF, export) until restored."""
    cycle, comment, response_ids = _find(session, actor, cycle_id, pairing_id, ref)
    # A whole short comment ("Good") may well be in a reason by chance; a longer one is not.
    why = _reason(reason, comment.text if len(comment.text) >= 12 else "")
    _upsert(
        session, actor, cycle, pairing_id, comment, response_ids, hidden=True, spans=[], reason=why
    )
    _audit(session, actor, "hide comment", cycle, pairing_id, comment, reason=why)
    return _after(session, actor, cycle_id, pairing_id, comment.ref)


def redact_comment(
    session: Session,
    actor: Actor,
    cycle_id: int,
    pairing_id: int,
    ref: str,
    words: str,
    reason: str,
) -> ModeratedComment:
    """Take `words` (every place they appear as whole words, in any case) out of a
    comment: readers see the marker "[removed by the facilitator]" where they were."""
    cycle, comment, response_ids = _find(session, actor, cycle_id, pairing_id, ref)
    if comment.state == "hidden":
        raise Invalid("That comment is withheld already: restore it first to remove words.")
    target = one_line(words, "The words to remove", required="Say which words to remove.")
    # Whole words only ("Al" is not taken out of "always"), in any case.
    pattern = rf"(?<!\w){re.escape(target)}(?!\w)"
    spans = [(m.start(), m.end()) for m in re.finditer(pattern, comment.text, re.I)]
    if not spans:
        raise Invalid(
            "Those words are not in the comment: copy them exactly as the comment has them."
        )
    why = _reason(reason, target)
    mods = [m for m in moderations(session, stored_id(cycle), pairing_id) if m.part == comment.part]
    before = next((m.spans for m in mods if m.original == comment.text), ())
    left = redacted(comment.text, merge_spans([*before, *spans])).replace(MARKER, "")
    if not re.search(r"\w", left):
        raise Invalid("That would remove every word of the comment: withhold it instead.")
    _upsert(
        session,
        actor,
        cycle,
        pairing_id,
        comment,
        response_ids,
        hidden=False,
        spans=spans,
        reason=why,
    )
    _audit(
        session, actor, "redact comment", cycle, pairing_id, comment, reason=why, places=len(spans)
    )
    return _after(session, actor, cycle_id, pairing_id, comment.ref)


def restore_comment(
    session: Session, actor: Actor, cycle_id: int, pairing_id: int, ref: str, reason: str = ""
) -> ModeratedComment:
    """Undo a comment's moderation: readers see it as the rater wrote it again."""
    cycle, comment, response_ids = _find(session, actor, cycle_id, pairing_id, ref)
    if comment.state == "shown":
        raise Invalid("That comment is not moderated: there is nothing to restore.")
    why = one_line(reason, "The reason", limit=500) or None
    for row in session.exec(
        select(CommentModeration).where(
            col(CommentModeration.response_id).in_(response_ids),
            CommentModeration.part == comment.part,
        )
    ).all():
        session.delete(row)
    session.flush()
    _audit(session, actor, "restore comment", cycle, pairing_id, comment, reason=why)
    return _after(session, actor, cycle_id, pairing_id, comment.ref)


def _after(
    session: Session, actor: Actor, cycle_id: int, pairing_id: int, ref: str
) -> ModeratedComment:
    listed = _listed(session, actor, cycle_id, pairing_id)[1]
    return next(c for c in listed if c.ref == ref)
