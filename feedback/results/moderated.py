"""What readers are served of moderated comments: THE one place a comment's text is changed
on its way out (feedback.results.publication calls it for every staff read before
publication and for every edition it freezes).

Staff may hide a comment (or an open answer) or remove words from it before publication
(feedback.results.moderation). The rater's words are never edited: they stay in `Comment` /
`OpenAnswer`, and a `CommentModeration` row says what to do with them. Here each moderated
text in a served report section is found by the words it holds and hidden, or has its removed
words replaced by a visible marker; the comments are then sorted again by what they now say,
so that a comment's place in the alphabetical list says nothing of the words removed. A report
with a moderated comment says so in a notice: nothing is changed silently.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from feedback.models import Comment, CommentModeration, Dimension, OpenAnswer

MARKER = "[removed by the facilitator]"
NOTICE = (
    "Before publication the facilitator withheld some comments, or removed words from them "
    f"(marked {MARKER}), for the reason recorded with each. Nothing else in any comment was "
    "changed."
)
OPEN = "open:"  # a moderated part that is an open answer: "open:<question code>"


@dataclass(frozen=True)
class Moderation:
    """One moderated comment: its part, the rater's words, and what readers see instead."""

    id: int
    response_id: int
    part: str  # a dimension's code, or "open:<question code>"
    original: str
    hidden: bool
    spans: tuple[tuple[int, int], ...]
    reason: str
    moderated_by: str
    moderated_at: Any

    @property
    def shown(self) -> str | None:
        """The text readers see: None when hidden."""
        return None if self.hidden else redacted(self.original, self.spans)


def redacted(text: str, spans: Iterable[Sequence[int]]) -> str:
    """`text` with each [start, end) range replaced by the marker (ranges merged first)."""
    out, at = [], 0
    for start, end in merge_spans(spans):
        out.append(text[at:start])
        out.append(MARKER)
        at = end
    out.append(text[at:])
    return "".join(out)


def merge_spans(spans: Iterable[Sequence[int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted((int(s), int(e)) for s, e in spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def moderations(session: Session, cycle_id: int, pairing_id: int) -> list[Moderation]:
    """Every moderation of this pairing's comments in this cycle, with the words they apply
    to (read server-side only: never served as such)."""
    return moderations_of(session, cycle_id, [pairing_id])[pairing_id]


def moderations_of(
    session: Session, cycle_id: int, pairing_ids: list[int]
) -> dict[int, list[Moderation]]:
    """`moderations` of several pairings of a cycle in one query."""
    out: dict[int, list[Moderation]] = {int(pid): [] for pid in pairing_ids}
    if not out:
        return out
    dimension_text = (
        sa_select(col(Comment.text))
        .join(Dimension, col(Dimension.id) == col(Comment.dimension_id))
        .where(
            and_(
                col(Comment.response_id) == col(CommentModeration.response_id),
                col(Dimension.code) == col(CommentModeration.part),
            )
        )
        .scalar_subquery()
    )
    open_text = (
        sa_select(col(OpenAnswer.text))
        .where(
            and_(
                col(OpenAnswer.response_id) == col(CommentModeration.response_id),
                OPEN + col(OpenAnswer.question) == col(CommentModeration.part),
            )
        )
        .scalar_subquery()
    )
    rows = session.execute(
        sa_select(
            col(CommentModeration.pairing_id),
            col(CommentModeration.id),
            col(CommentModeration.response_id),
            col(CommentModeration.part),
            dimension_text,
            open_text,
            col(CommentModeration.hidden),
            col(CommentModeration.spans),
            col(CommentModeration.reason),
            col(CommentModeration.moderated_by),
            col(CommentModeration.moderated_at),
        )
        .where(
            col(CommentModeration.cycle_id) == cycle_id,
            col(CommentModeration.pairing_id).in_(sorted(out)),
        )
        .order_by(col(CommentModeration.id))
    ).all()
    for pid, mid, rid, part, dim_text, open_answer, hidden, spans, reason, by, at in rows:
        original = open_answer if part.startswith(OPEN) else dim_text
        if original is None:  # the words are gone (the response erased): nothing to apply
            continue
        out[int(pid)].append(
            Moderation(
                id=int(mid),
                response_id=int(rid),
                part=str(part),
                original=str(original),
                hidden=bool(hidden),
                spans=tuple((int(s), int(e)) for s, e in (spans or [])),
                reason=str(reason),
                moderated_by=str(by),
                moderated_at=at,
            )
        )
    return out


def _ordered(texts: list[str]) -> list[str]:
    """The comments' order (feedback.results.engine.shown_texts): alphabetical."""
    return sorted(texts, key=lambda t: (t.casefold(), t))


def _apply(texts: list[str], mods: list[Moderation]) -> tuple[list[str], bool]:
    """`texts` with each moderation applied to one comment holding its words."""
    out, _tags, changed = _apply_tagged(texts, None, mods)
    return out, changed


def _apply_tagged(
    texts: list[str], tags: list[str] | None, mods: list[Moderation]
) -> tuple[list[str], list[str] | None, bool]:
    """`_apply`, carrying each comment's tag (its language, PairingReport.comment_languages)
    with it through the moderation and the new order."""
    if not mods:
        return texts, tags, False
    out: list[str | None] = list(texts)
    changed = False
    for mod in mods:
        for i, text in enumerate(texts):
            if out[i] is not None and out[i] == text and text == mod.original:
                out[i] = mod.shown
                changed = True
                break
    if not changed:
        return texts, tags, False
    kept = [(t, tags[i] if tags is not None else "") for i, t in enumerate(out) if t is not None]
    kept.sort(key=lambda pair: (pair[0].casefold(), pair[0]))  # the order of `_ordered`
    return [t for t, _ in kept], [g for _, g in kept] if tags is not None else None, True


def apply_moderation(section: dict[str, Any], mods: list[Moderation]) -> dict[str, Any]:
    """A copy of a served report section (PairingReport.to_dict) with the moderations
    applied to its comments and open answers, and the notice when any applied."""
    if not mods:
        return section
    by_part: dict[str, list[Moderation]] = {}
    for mod in mods:
        by_part.setdefault(mod.part, []).append(mod)
    out = copy.deepcopy(section)
    changed = False
    comments: dict[str, list[str]] = out.get("comments") or {}
    languages: dict[str, list[str]] = out.get("comment_languages") or {}
    for code in list(comments):
        tags = languages.get(code)
        texts, tags, did = _apply_tagged(list(comments[code]), tags, by_part.get(code, []))
        changed |= did
        if texts:
            comments[code] = texts
            if tags is not None:
                languages[code] = tags
        else:
            del comments[code]
            languages.pop(code, None)
    for question in out.get("open_answers") or []:
        texts, did = _apply(list(question["answers"]), by_part.get(OPEN + question["code"], []))
        changed |= did
        question["answers"] = texts
    if changed and NOTICE not in out.get("notices", []):
        out["notices"] = [*out.get("notices", []), NOTICE]
    return out


def moderated_section(
    session: Session, cycle_id: int, pairing_id: int, section: dict[str, Any]
) -> dict[str, Any]:
    """A served section as readers may see it: THE call for every read and edition."""
    return apply_moderation(section, moderations(session, cycle_id, pairing_id))


def moderated_sections(
    session: Session, cycle_id: int, sections: dict[int, dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """`moderated_section` for several pairings' sections in one query."""
    mods = moderations_of(session, cycle_id, list(sections))
    return {pid: apply_moderation(section, mods[pid]) for pid, section in sections.items()}
