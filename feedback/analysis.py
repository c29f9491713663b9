"""The analysis engine: perception gaps for each pairing and the council overview.

Pure (no Streamlit, no actor: access is checked in feedback/publication.py). Each result is
built from one SQL query of ratings loaded into a DataFrame and aggregated with vectorised
pandas, and confidentiality is applied HERE, so no page, chart, export or command can go
around it:

* Sources. "self" and "partner" are the two principals, identified by design (for a member
  item the member is self and the officer partner, and the other way round for an officer
  item; for a partnership item "self" is the mean of the two principals, and the mirror
  shows each one's view). "members", "officers", "partners" are the anonymous groups;
  "others" pools the anonymous raters whose figures are shown.
* An anonymous group is shown only if at least `cycle.anonymity_threshold` of its raters
  submitted — for scores and for comments. Within a shown group, an item (or dimension) that
  fewer than the threshold answered is left out for that group (its cell is suppressed).
* "others" is pooled only from shown cells, so a suppressed group or cell is never folded in
  where subtracting the shown groups would reveal it.
* Half-items rule: a rater counts for a dimension (for one target) only if they answered at
  least half of that dimension's items for that target ("can't say" is not an answer);
  a rater who does not count for a dimension does not count in its items either.
* A dimension score pools every answer in that dimension's SHOWN item cells (n = the raters
  behind them). Every published figure is therefore a function of the shown item cells:
  no dimension, "others", heatmap or distribution figure can be set against the item
  figures to recover an answer that is not shown. (A mean of each rater's own mean would
  weight raters differently from the items, and the difference gives single answers back.)
* Comments are unattributed and sorted alphabetically, so their order reveals nothing.
* Only submitted responses count; `cutoffs` (pairing id → time) restrict a pairing to the
  responses submitted by then, which is how a republished edition holds back a late reply
  (see feedback/publication.py).

Blind spot / hidden strength: |self − others| ≥ GAP_THRESHOLD (0.5 on the 1–5 scale).
Johari quadrant per dimension: "blind spot" or "hidden strength" when flagged; otherwise
"open strength" if others' mean ≥ HIGH_SCORE (3.5, between neutral and agree) and
"development area" below it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from feedback.errors import NotFound
from feedback.framework import FrameworkSpec, asks, framework_spec, render_item
from feedback.models import (
    Comment,
    Council,
    Cycle,
    CyclePairing,
    CycleStatus,
    Dimension,
    DimensionPick,
    FrameworkVersion,
    Invitation,
    InvitationStatus,
    Item,
    OpenAnswer,
    Pairing,
    Person,
    PublishedPairingReport,
    PublishedReport,
    Rating,
    Response,
    ResponseStatus,
)

GAP_THRESHOLD: float = 0.5
HIGH_SCORE: float = 3.5
TOP_N = 5

ANONYMOUS = ("members", "officers", "partners")
NAMED_VIEWS = ("member_view", "officer_view")  # the principals' partnership answers
SOURCE_ORDER = ["self", "partner", "members", "officers", "partners", "others"]
TARGET_ORDER = ["member", "officer", "partnership"]
GROUP_ORDER = ["principal", "members", "officers", "partners"]
GROUP_LABELS = {
    "principal": "The pair (self and partner)",
    "members": "Other councillors",
    "officers": "Other officers",
    "partners": "External partners",
}
# Sources as small integers inside the engine (names only in results).
SRC = {
    "self": 0,
    "partner": 1,
    "members": 2,
    "officers": 3,
    "partners": 4,
    "others": 5,
    "member_view": 6,
    "officer_view": 7,
}
SRC_NAME = {code: name for name, code in SRC.items()}
NAMED_VIEWS_CODES = (SRC["member_view"], SRC["officer_view"])
TARGET_CODE = {"member": 0, "officer": 1, "partnership": 2}
TARGET_NAME = {code: name for name, code in TARGET_CODE.items()}
SOLACE_MEASURES = {"solace.advice": "advice", "solace.relationship": "relationship"}
FINISHED = (CycleStatus.closed.value, CycleStatus.published.value)

COLUMNS: dict[str, list[str]] = {
    "groups": ["group", "label", "invited", "responded", "shown"],
    "items": [
        "item_code",
        "item_text",
        "dimension_code",
        "dimension_name",
        "target",
        "source",
        "mean",
        "n",
    ],
    "dimensions": ["dimension_code", "dimension_name", "target", "source", "mean", "n"],
    "gaps": [
        "dimension_code",
        "dimension_name",
        "target",
        "self_mean",
        "partner_mean",
        "others_mean",
        "others_n",
        "gap",
        "flag",
        "quadrant",
    ],
    "top_items": ["item_code", "item_text", "dimension_name", "target", "mean", "n"],
    "bottom_items": ["item_code", "item_text", "dimension_name", "target", "mean", "n"],
    "mirror": [
        "dimension_code",
        "dimension_name",
        "member_view",
        "officer_view",
        "others_view",
        "others_n",
    ],
    "change": [
        "dimension_code",
        "dimension_name",
        "target",
        "source",
        "previous",
        "current",
        "change",
    ],
    # Framework 2026.2: the dimensions raters chose as mattering most, per source (the two
    # principals by name; an anonymous group, and everyone else, only with at least the
    # threshold's number of raters who chose). `picked` of `raters` chose it; rank 1 = most.
    "matters_most": [
        "dimension_code",
        "dimension_name",
        "source",
        "picked",
        "raters",
        "rank",
    ],
    "heatmap": ["pairing_id", "pairing_label", "dimension_code", "dimension_name", "score", "n"],
    "distribution": ["dimension_code", "dimension_name", "rating", "count"],
    "solace": ["measure", "label", "council_pct", "national_pct", "n", "members_pct", "members_n"],
    "response_rates": ["pairing_id", "pairing_label", "group", "invited", "responded", "rate"],
}
# Statistics no screen shows are neither stored in an edition nor served (issue 12): with
# n = 3, a cell's mean and standard deviation pin down its exact set of answers in 33 of 35
# cases. Editions published before this still hold "sd"; it is stripped whenever one is read.
NOT_SERVED = frozenset({"sd"})


def without_unshown(value: Any) -> Any:
    """`value` (an edition's content, a report's dict, a table's records) with every
    NOT_SERVED key removed at any depth."""
    if isinstance(value, dict):
        return {k: without_unshown(v) for k, v in value.items() if k not in NOT_SERVED}
    if isinstance(value, list):
        return [without_unshown(v) for v in value]
    return value


NATIONAL_COLUMNS = [
    "council_id",
    "council_name",
    "advice_pct",
    "relationship_pct",
    "n",
    "advice_n",
    "relationship_n",
]


# --- JSON-safe conversion ---------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _frame(records: list[dict[str, Any]] | None, name: str) -> pd.DataFrame:
    """A stored table back as a DataFrame: the named columns first, in order (empty ones
    for columns an older edition lacks), then any others the records carry."""
    columns = COLUMNS[name]
    if not records:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    extra = [
        c
        for c in dict.fromkeys(k for r in records for k in r)
        if c not in columns and c not in NOT_SERVED
    ]
    # Column by column is several times quicker than pandas reading a list of dicts.
    return pd.DataFrame({c: [r.get(c) for r in records] for c in columns + extra})


# --- results ----------------------------------------------------------------------------------


class _Table:
    """One of a report's tables. A report read from a published edition keeps the stored
    records and makes each DataFrame the first time it is read, so a reader that needs a
    few tables (a plan's suggestions, the export's gap chart) does not pay for all eight."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, report: Any, owner: type | None = None) -> Any:
        if report is None:
            return self
        frame = _frame(report._stored.pop(self.name, None), self.name)
        report.__dict__[self.name] = frame  # set once; later reads skip this descriptor
        return frame


class PairingReport:
    """One pairing's results: what the report page, the CLI, plans and exports show."""

    _frames = (
        "groups",
        "items",
        "dimensions",
        "gaps",
        "top_items",
        "bottom_items",
        "mirror",
        "change",
        "matters_most",
    )
    groups = _Table()
    items = _Table()
    dimensions = _Table()
    gaps = _Table()
    top_items = _Table()
    bottom_items = _Table()
    mirror = _Table()
    change = _Table()
    matters_most = _Table()

    def __init__(
        self,
        meta: dict[str, Any],
        comments: dict[str, list[str]] | None = None,
        notices: list[str] | None = None,
        open_answers: list[dict[str, Any]] | None = None,
        **frames: pd.DataFrame,
    ) -> None:
        unknown = set(frames) - set(self._frames)
        if unknown:
            raise TypeError(f"unknown report tables: {sorted(unknown)}")
        self.meta = meta
        self.comments = comments if comments is not None else {}
        self.notices = notices if notices is not None else []
        # Framework 2026.2: each open question ({code, target, question, answers}), its
        # answers under the comments' rules (shown groups only, unattributed, alphabetical).
        self.open_answers = open_answers if open_answers is not None else []
        self._stored: dict[str, list[dict[str, Any]]] = {}
        for name, frame in frames.items():
            setattr(self, name, frame)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"meta": {k: _plain(v) for k, v in self.meta.items()}}
        for name in self._frames:
            if name in self.__dict__:
                out[name] = _records(self.__dict__[name])
            else:  # never made into a DataFrame: the stored records are the answer
                out[name] = [dict(r) for r in self._stored.get(name) or []]
        out["comments"] = {k: list(v) for k, v in self.comments.items()}
        out["notices"] = list(self.notices)
        out["open_answers"] = [dict(q, answers=list(q["answers"])) for q in self.open_answers]
        return out

    def comment_sections(self) -> list[tuple[str, list[str]]]:
        """(dimension name, its comments) for each dimension with comments, in report
        order: what the page and the PDF list under "Comments"."""
        dims = self.dimensions.drop_duplicates("dimension_code")
        names = dict(zip(dims["dimension_code"], dims["dimension_name"], strict=True))
        return [
            (str(names.get(code, code)), texts) for code, texts in self.comments.items() if texts
        ]

    def matters_most_summary(self) -> pd.DataFrame:
        """What matters most beside how it is rated, one row per dimension (page and PDF):
        dimension_name, rank and chosen ("5 of 8") for everyone else, whether each of the
        pair chose it, and everyone else's score for the member, officer and partnership.
        Dimensions ranked by everyone else first; empty when nobody's choices can be shown."""
        mm = self.matters_most
        if mm.empty:
            return pd.DataFrame()
        dims = self.dimensions.drop_duplicates("dimension_code")
        names = dict(zip(dims["dimension_code"], dims["dimension_name"], strict=True))
        names |= dict(zip(mm["dimension_code"], mm["dimension_name"], strict=True))
        by = {src: rows.set_index("dimension_code") for src, rows in mm.groupby("source")}
        scores = self.dimensions[self.dimensions["source"] == "others"]
        rows = []
        for position, code in enumerate(names):
            others = by.get("others")
            row: dict[str, Any] = {"dimension_name": names[code], "_p": position}
            if others is not None and code in others.index:
                o = others.loc[code]
                row["rank"] = None if pd.isna(o["rank"]) else int(o["rank"])
                row["chosen"] = f"{int(o['picked'])} of {int(o['raters'])}"
            else:
                row["rank"], row["chosen"] = None, ""
            for view in NAMED_VIEWS:
                mine = by.get(view)
                row[view] = bool(
                    mine is not None and code in mine.index and mine.loc[code, "picked"]
                )
            for target in TARGET_ORDER:
                hit = scores[(scores["dimension_code"] == code) & (scores["target"] == target)]
                row[f"others_{target}"] = None if hit.empty else float(hit["mean"].iloc[0])
            rows.append(row)
        out = pd.DataFrame(rows)
        out["_r"] = out["rank"].fillna(99)
        return out.sort_values(["_r", "_p"]).drop(columns=["_r", "_p"]).reset_index(drop=True)

    def framework_note(self) -> str | None:
        """Said beside the change since last cycle when the two cycles asked different
        questions (framework 2026.1 then 2026.2): the comparison is by dimension."""
        now, before = (
            self.meta.get("framework_version"),
            self.meta.get("previous_framework_version"),
        )
        if not now or not before or now == before:
            return None
        return (
            f"The questions changed between the two cycles (framework {before}, then {now}): "
            "each dimension's score is compared, not the same questions, so a small change "
            "may come from the new wording."
        )

    def not_asked_notes(self) -> list[str]:
        """Which groups were not asked some items (framework 2026.2): not applicable to
        them, never counted as missing or "can't say"."""
        counts: dict[str, int] = {}
        for groups in (self.meta.get("not_asked") or {}).values():
            for group in groups:
                counts[group] = counts.get(group, 0) + 1
        return [
            f"{GROUP_LABELS[g]} were not asked {counts[g]} of the items, about things they "
            "cannot see from where they work with the pair: for them those items are not "
            "applicable, not missing."
            for g in ANONYMOUS
            if counts.get(g)
        ]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PairingReport:
        report = cls(
            meta=dict(data.get("meta", {})),
            comments={k: list(v) for k, v in (data.get("comments") or {}).items()},
            notices=list(data.get("notices") or []),
            open_answers=[dict(q) for q in data.get("open_answers") or []],
        )
        report._stored = {name: without_unshown(data.get(name) or []) for name in cls._frames}
        return report


@dataclass
class CouncilOverview:
    meta: dict[str, Any]
    heatmap: pd.DataFrame
    distribution: pd.DataFrame
    solace: pd.DataFrame
    response_rates: pd.DataFrame
    findings: list[str] = field(default_factory=list)

    _frames = ("heatmap", "distribution", "solace", "response_rates")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"meta": {k: _plain(v) for k, v in self.meta.items()}}
        for name in self._frames:
            out[name] = _records(getattr(self, name))
        out["findings"] = list(self.findings)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CouncilOverview:
        frames = {name: _frame(data.get(name), name) for name in cls._frames}
        return cls(
            meta=dict(data.get("meta", {})), findings=list(data.get("findings") or []), **frames
        )


# --- loading (one query per kind of data) -----------------------------------------------------


def _cycle(session: Session, cycle_id: int) -> Cycle:
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound("That feedback cycle does not exist (it may have been deleted).")
    return cycle


def _label(member: str, officer: str, portfolio: str) -> str:
    return f"{member} & {officer}" + (f" ({portfolio})" if portfolio else "")


def _pairings(session: Session, cycle_id: int, pairing_id: int | None) -> pd.DataFrame:
    member, officer = aliased(Person), aliased(Person)
    query = (
        select(
            Pairing.id,
            Pairing.kind,
            Pairing.portfolio,
            Pairing.member_id,
            Pairing.officer_id,
            member.full_name,
            member.title,
            officer.full_name,
            officer.title,
        )
        .join(CyclePairing, CyclePairing.pairing_id == Pairing.id)
        .join(member, member.id == Pairing.member_id)
        .join(officer, officer.id == Pairing.officer_id)
        .where(CyclePairing.cycle_id == cycle_id)
        .order_by(Pairing.kind.desc(), Pairing.id)
    )
    if pairing_id is not None:
        query = query.where(Pairing.id == pairing_id)
    columns = [
        "pairing_id",
        "kind",
        "portfolio",
        "member_id",
        "officer_id",
        "member_name",
        "member_title",
        "officer_name",
        "officer_title",
    ]
    frame = pd.DataFrame(session.execute(query).all(), columns=columns)
    frame["pairing_label"] = [
        _label(m, o, p)
        for m, o, p in zip(
            frame["member_name"], frame["officer_name"], frame["portfolio"], strict=True
        )
    ]
    return frame


def _items(session: Session, framework_version_id: int) -> pd.DataFrame:
    target_code = case(
        *((Item.target == name, code) for name, code in TARGET_CODE.items()), else_=-1
    )
    query = (
        select(
            Item.id,
            Item.code,
            Item.text,
            Item.target,
            Item.position,
            Dimension.code,
            Dimension.name,
            func.coalesce(Dimension.position, -1),
            target_code,
            Item.audience,
        )
        .outerjoin(Dimension, Dimension.id == Item.dimension_id)
        .where(Item.framework_version_id == framework_version_id)
        .order_by(Item.position)
    )
    columns = [
        "item_id",
        "item_code",
        "item_text",
        "target",
        "item_position",
        "dimension_code",
        "dimension_name",
        "dimension_position",
        "t",
        "audience",
    ]
    return pd.DataFrame(session.execute(query).all(), columns=columns)


def _submitted_by(cutoffs: dict[int, datetime] | None, column: Any = None) -> Any:
    """SQL condition: the response (or with `column`, the invitation) counts at this
    edition's cut-off (None: no condition)."""
    if not cutoffs:
        return None
    column = Response.submitted_at if column is None else column
    limited = [and_(Invitation.pairing_id == int(pid), column <= at) for pid, at in cutoffs.items()]
    return or_(Invitation.pairing_id.not_in([int(p) for p in cutoffs]), *limited)


def _group_code() -> Any:
    """The rater's group as a small integer, principals split into member and officer."""
    return case(
        (Invitation.rater_group == "members", SRC["members"]),
        (Invitation.rater_group == "officers", SRC["officers"]),
        (Invitation.rater_group == "partners", SRC["partners"]),
        (Invitation.rater_id == Pairing.member_id, SRC["member_view"]),
        else_=SRC["officer_view"],
    )


def _ratings(
    session: Session,
    cycle_id: int,
    pairing_id: int | None,
    cutoffs: dict[int, datetime] | None,
) -> pd.DataFrame:
    """THE ratings query: every submitted answer of the cycle (or of one pairing)."""
    query = (
        select(
            Invitation.pairing_id,
            Response.id,
            _group_code(),
            Rating.item_id,
            Rating.value,
        )
        .join(Pairing, Pairing.id == Invitation.pairing_id)
        .join(Response, Response.invitation_id == Invitation.id)
        .join(Rating, Rating.response_id == Response.id)
        .where(Invitation.cycle_id == cycle_id, Response.status == ResponseStatus.submitted)
    )
    if pairing_id is not None:
        query = query.where(Invitation.pairing_id == pairing_id)
    condition = _submitted_by(cutoffs)
    if condition is not None:
        query = query.where(condition)
    rows = session.execute(query).all()
    frame = pd.DataFrame(rows, columns=["pairing_id", "response_id", "g", "item_id", "value"])
    frame["value"] = frame["value"].astype("float64")
    for column in ("pairing_id", "response_id", "g", "item_id"):
        frame[column] = frame[column].astype("int64")
    return frame


def _invitations(
    session: Session,
    cycle_id: int,
    pairing_id: int | None,
    cutoffs: dict[int, datetime] | None,
) -> pd.DataFrame:
    submitted = Response.status == ResponseStatus.submitted
    invited = Invitation.status != InvitationStatus.revoked
    condition = _submitted_by(cutoffs)
    if condition is not None:
        submitted = and_(submitted, condition)
        invited = and_(invited, _submitted_by(cutoffs, Invitation.created_at))
    query = (
        select(
            Invitation.pairing_id,
            Invitation.rater_group,
            func.sum(case((invited, 1), else_=0)),
            func.sum(case((submitted, 1), else_=0)),
        )
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .where(Invitation.cycle_id == cycle_id)
        .group_by(Invitation.pairing_id, Invitation.rater_group)
    )
    if pairing_id is not None:
        query = query.where(Invitation.pairing_id == pairing_id)
    columns = ["pairing_id", "group", "invited", "responded"]
    return pd.DataFrame(session.execute(query).all(), columns=columns)


def _comments(
    session: Session,
    cycle_id: int,
    pairing_id: int | None,
    cutoffs: dict[int, datetime] | None,
) -> pd.DataFrame:
    query = (
        select(Invitation.pairing_id, Invitation.rater_group, Dimension.code, Comment.text)
        .join(Response, Response.invitation_id == Invitation.id)
        .join(Comment, Comment.response_id == Response.id)
        .join(Dimension, Dimension.id == Comment.dimension_id)
        .where(Invitation.cycle_id == cycle_id, Response.status == ResponseStatus.submitted)
    )
    if pairing_id is not None:
        query = query.where(Invitation.pairing_id == pairing_id)
    condition = _submitted_by(cutoffs)
    if condition is not None:
        query = query.where(condition)
    columns = ["pairing_id", "rater_group", "dimension_code", "text"]
    return pd.DataFrame(session.execute(query).all(), columns=columns)


def _open_answers(
    session: Session,
    cycle_id: int,
    pairing_id: int | None,
    cutoffs: dict[int, datetime] | None,
) -> pd.DataFrame:
    query = (
        select(Invitation.pairing_id, Invitation.rater_group, OpenAnswer.question, OpenAnswer.text)
        .join(Response, Response.invitation_id == Invitation.id)
        .join(OpenAnswer, OpenAnswer.response_id == Response.id)
        .where(Invitation.cycle_id == cycle_id, Response.status == ResponseStatus.submitted)
    )
    if pairing_id is not None:
        query = query.where(Invitation.pairing_id == pairing_id)
    condition = _submitted_by(cutoffs)
    if condition is not None:
        query = query.where(condition)
    columns = ["pairing_id", "rater_group", "question", "text"]
    return pd.DataFrame(session.execute(query).all(), columns=columns)


def _picks(
    session: Session,
    cycle_id: int,
    pairing_id: int | None,
    cutoffs: dict[int, datetime] | None,
) -> pd.DataFrame:
    """Every submitted pick of a dimension that matters most: pairing, response, the
    rater's group code (principals as member_view / officer_view) and the dimension."""
    query = (
        select(Invitation.pairing_id, Response.id, _group_code(), Dimension.code)
        .join(Pairing, Pairing.id == Invitation.pairing_id)
        .join(Response, Response.invitation_id == Invitation.id)
        .join(DimensionPick, DimensionPick.response_id == Response.id)
        .join(Dimension, Dimension.id == DimensionPick.dimension_id)
        .where(Invitation.cycle_id == cycle_id, Response.status == ResponseStatus.submitted)
    )
    if pairing_id is not None:
        query = query.where(Invitation.pairing_id == pairing_id)
    condition = _submitted_by(cutoffs)
    if condition is not None:
        query = query.where(condition)
    columns = ["pairing_id", "response_id", "g", "dimension_code"]
    return pd.DataFrame(session.execute(query).all(), columns=columns)


def _shown_texts(frame: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """THE rule for words raters wrote (comments and open answers): only from groups shown
    (the pair, and anonymous groups with at least the threshold's replies), and in
    alphabetical order, which says nothing about who wrote what."""
    shown = frame[frame["rater_group"].isin(set(groups.loc[groups["shown"], "group"]))]
    if shown.empty:
        return shown
    return shown.assign(_k=shown["text"].str.casefold()).sort_values(["_k", "text"])


GROUP_OF_CODE = {
    SRC["members"]: "members",
    SRC["officers"]: "officers",
    SRC["partners"]: "partners",
    SRC["member_view"]: "principal",
    SRC["officer_view"]: "principal",
}


def _asked_keys(spec: FrameworkSpec, items: pd.DataFrame) -> np.ndarray:
    """item_id * 8 + group code for every item a group is asked (framework 2026.2 asks each
    item only of the groups that can observe it; 2026.1 asks everyone everything)."""
    keys = [
        int(item_id) * 8 + g
        for item_id, code, audience in zip(
            items["item_id"], items["item_code"], items["audience"], strict=True
        )
        for g, group in GROUP_OF_CODE.items()
        if asks(spec, code, audience, group)
    ]
    return np.array(keys, dtype="int64")


# --- the vectorised engine ----------------------------------------------------------------------


def _pack(frame: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
    """One int64 key for several small non-negative integer columns."""
    arrays = [frame[k].to_numpy(dtype="int64") for k in keys]
    sizes = [int(a.max()) + 1 if len(a) else 1 for a in arrays]
    if math.prod(sizes) >= 2**62:  # too wide to pack: number the combinations instead
        key, _uniques = pd.MultiIndex.from_arrays(arrays).factorize()
        return key.astype("int64"), arrays
    key = np.zeros(len(frame), dtype="int64")
    for a, size in zip(arrays, sizes, strict=True):
        key = key * size + a
    return key, arrays


def _group(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """First row of each group and each row's group number, in order of first appearance."""
    _u, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[inverse.reshape(-1)], len(order)


def _agg(values: np.ndarray, inverse: np.ndarray, size: int) -> tuple[np.ndarray, ...]:
    """count, mean and sample sd of the non-missing values per group (two-pass, exact)."""
    valid = ~np.isnan(values)
    filled = np.where(valid, values, 0.0)
    n = np.bincount(inverse, weights=valid, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(inverse, weights=filled, minlength=size) / n
        dev = np.where(valid, values - mean[inverse], 0.0)
        sd = np.sqrt(np.bincount(inverse, weights=dev * dev, minlength=size) / (n - 1))
    sd[n < 2] = np.nan
    return n.astype("int64"), mean, sd


def _stats(frame: pd.DataFrame, keys: list[str], column: str) -> pd.DataFrame:
    """mean, n and sd of `column` per combination of the (small integer) `keys`."""
    if frame.empty:
        return pd.DataFrame({k: pd.Series(dtype="int64") for k in keys}).assign(
            mean=pd.Series(dtype="float64"),
            n=pd.Series(dtype="int64"),
            sd=pd.Series(dtype="float64"),
        )
    key, arrays = _pack(frame, keys)
    first, inverse, size = _group(key)
    n, mean, sd = _agg(frame[column].to_numpy(dtype="float64"), inverse, size)
    out = {k: a[first] for k, a in zip(keys, arrays, strict=True)}
    out.update(mean=mean, n=n, sd=sd)
    result = pd.DataFrame(out)
    return result[result["n"] > 0].reset_index(drop=True)


def _pooled(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """mean and sd of every answer per combination of `keys`; n = distinct raters."""
    stats = _stats(frame, keys, "value")
    if frame.empty:
        return stats
    raters = frame.drop_duplicates([*keys, "response_id"])
    key, _arrays = _pack(raters, keys)
    first, inverse, size = _group(key)
    counts = pd.DataFrame(
        {k: raters[k].to_numpy()[first] for k in keys}
        | {"raters": np.bincount(inverse, minlength=size)}
    )
    merged = stats.merge(counts, on=keys, how="left")
    return merged.assign(n=merged.pop("raters").astype("int64"))


def _count_in_group(frame: pd.DataFrame, keys: list[str], column: str) -> np.ndarray:
    """For each row, how many non-missing `column` values its group has."""
    if frame.empty:
        return np.zeros(0, dtype="int64")
    key, _arrays = _pack(frame, keys)
    _first, inverse, size = _group(key)
    n, _mean, _sd = _agg(frame[column].to_numpy(dtype="float64"), inverse, size)
    return n[inverse]


@dataclass
class _Computed:
    cycle: Cycle
    council_name: str
    threshold: int
    pairings: pd.DataFrame
    items: pd.DataFrame  # item metadata
    groups: pd.DataFrame  # pairing_id, group, label, invited, responded, shown
    item_stats: pd.DataFrame  # pairing_id, item_id, s (source code), mean, n, sd
    dim_stats: pd.DataFrame  # pairing_id, dimension_position, t, s, mean, n, sd
    shown_values: pd.DataFrame  # rating rows counted in a shown cell
    comments: pd.DataFrame
    hidden_cells: pd.DataFrame  # pairing_id, group: shown groups with some suppressed cells
    solace: pd.DataFrame  # principals' Solace answers: pairing_id, item_id, value, g
    dims: pd.DataFrame = field(default_factory=pd.DataFrame)  # dp, dimension_code, name
    spec: FrameworkSpec | None = None
    framework_version: str = ""
    open_answers: pd.DataFrame = field(default_factory=pd.DataFrame)
    picks: pd.DataFrame = field(default_factory=pd.DataFrame)


def _compute(
    session: Session,
    cycle: Cycle,
    pairing_id: int | None = None,
    cutoffs: dict[int, datetime] | None = None,
) -> _Computed:
    threshold = cycle.anonymity_threshold
    council = session.get(Council, cycle.council_id)
    pairings = _pairings(session, cycle.id, pairing_id)
    items = _items(session, cycle.framework_version_id)
    r = _ratings(session, cycle.id, pairing_id, cutoffs)
    invitations = _invitations(session, cycle.id, pairing_id, cutoffs)
    comments = _comments(session, cycle.id, pairing_id, cutoffs)
    version = session.get(FrameworkVersion, cycle.framework_version_id)
    spec = framework_spec(version)
    # An answer to an item the rater's group is not asked is not applicable: it is never
    # counted (the form does not show it and saving refuses it; this holds for any writer).
    asked = _asked_keys(spec, items)
    asked_set = set(asked.tolist())
    r = r[np.isin(r["item_id"].to_numpy(dtype="int64") * 8 + r["g"].to_numpy(), asked)]

    # Groups: invited (not revoked) and responded (submitted, by the cut-off).
    grid = pd.MultiIndex.from_product(
        [pairings["pairing_id"], GROUP_ORDER], names=["pairing_id", "group"]
    ).to_frame(index=False)
    groups = grid.merge(invitations, how="left", on=["pairing_id", "group"])
    groups[["invited", "responded"]] = groups[["invited", "responded"]].fillna(0).astype("int64")
    groups["label"] = groups["group"].map(GROUP_LABELS)
    groups["shown"] = (groups["group"] == "principal") | (groups["responded"] >= threshold)
    shown = groups[groups["shown"] & groups["group"].isin(ANONYMOUS)]
    shown_codes = (
        shown["pairing_id"].astype("int64") * 16 + shown["group"].map(SRC).astype("int64")
    ).to_numpy(dtype="int64")

    # Item metadata by integer lookup (no string merges on the big frame).
    meta = items.set_index("item_id")
    dp = meta["dimension_position"].reindex(r["item_id"]).to_numpy()
    t = meta["t"].reindex(r["item_id"]).to_numpy()
    r = r.assign(dp=dp, t=t)
    principals_solace = (r["dp"] < 0) & (r["g"] >= SRC["member_view"])
    solace = r.loc[principals_solace, ["pairing_id", "item_id", "value", "g"]]
    d = r[r["dp"] >= 0]

    g = d["g"].to_numpy()
    anon = g <= SRC["partners"]
    # Anonymous raters count only if their group is shown.
    group_key = d["pairing_id"].to_numpy() * 16 + g
    keep = ~anon | np.isin(group_key, shown_codes)
    d = d[keep]
    g = d["g"].to_numpy()
    tt = d["t"].to_numpy()
    is_member_view = g == SRC["member_view"]
    principal = g >= SRC["member_view"]
    own = np.where(tt == TARGET_CODE["member"], is_member_view, ~is_member_view)
    named = np.where(
        tt == TARGET_CODE["partnership"], g, np.where(own, SRC["self"], SRC["partner"])
    )
    d = d.assign(s=np.where(principal, named, g))

    # The half-of-the-items rule, per rater, dimension and target. It applies to the item
    # cells as well as the dimension: if a rater's answers counted in an item but not in its
    # dimension, subtracting one from the other would give their answers back. "The items"
    # are those the rater's group is asked: an item not asked of it is not applicable.
    dim_items = items[items["dimension_position"] >= 0]
    totals = np.zeros((int(dim_items["dimension_position"].max()) + 1, 3, 8), dtype="int64")
    for item_id, dpos, target in zip(
        dim_items["item_id"], dim_items["dimension_position"], dim_items["t"], strict=True
    ):
        for g in GROUP_OF_CODE:
            if int(item_id) * 8 + g in asked_set:
                totals[int(dpos), int(target), g] += 1
    answered = _count_in_group(d, ["response_id", "dp", "t"], "value")
    total = totals[
        d["dp"].to_numpy(dtype="int64"), d["t"].to_numpy(dtype="int64"), d["g"].to_numpy()
    ]
    eligible = answered * 2 >= total
    values = d[d["value"].notna().to_numpy() & eligible]
    v_anon = values["s"].between(SRC["members"], SRC["partners"]).to_numpy()

    # Items: named sources always; an anonymous cell only with n >= threshold.
    item_keys = ["pairing_id", "item_id", "s"]
    cell_n = _count_in_group(values, item_keys, "value")
    ok_anon = v_anon & (cell_n >= threshold)
    cells = _stats(values[~v_anon | ok_anon], item_keys, "value")
    others = _stats(values[ok_anon], ["pairing_id", "item_id"], "value").assign(s=SRC["others"])
    views = values["s"].isin(NAMED_VIEWS_CODES).to_numpy()
    partnership_self = _stats(values[views], ["pairing_id", "item_id"], "value").assign(
        s=SRC["self"]
    )
    item_stats = pd.concat(
        [cells[~cells["s"].isin(NAMED_VIEWS_CODES)], partnership_self, others],
        ignore_index=True,
    )
    hidden_items = values.loc[v_anon & ~ok_anon, ["pairing_id", "s"]]
    shown_values = values[~v_anon | ok_anon]

    # Dimensions: every answer in the dimension's shown item cells, pooled; n is the number
    # of raters behind them. Pooled over exactly the answers the item cells show, a
    # dimension figure can be worked out from the item figures and so reveals nothing more.
    cell_keys = ["pairing_id", "dp", "t", "s"]
    s_anon = shown_values["s"].between(SRC["members"], SRC["partners"]).to_numpy()
    s_views = shown_values["s"].isin(NAMED_VIEWS_CODES).to_numpy()
    dcells = _pooled(shown_values, cell_keys)
    d_others = _pooled(shown_values[s_anon], cell_keys[:3]).assign(s=SRC["others"])
    d_self = _pooled(shown_values[s_views], cell_keys[:3]).assign(s=SRC["self"])
    dim_stats = pd.concat([dcells, d_self, d_others], ignore_index=True)
    hidden_dims = hidden_items.iloc[0:0]
    hidden = pd.concat([hidden_items, hidden_dims], ignore_index=True).drop_duplicates()
    hidden = hidden.assign(group=hidden["s"].map(SRC_NAME))[["pairing_id", "group"]]
    return _Computed(
        cycle=cycle,
        council_name=council.name if council else "",
        threshold=threshold,
        pairings=pairings,
        items=items,
        groups=groups,
        item_stats=item_stats,
        dim_stats=dim_stats,
        shown_values=shown_values,
        comments=comments,
        hidden_cells=hidden,
        solace=solace,
        dims=_dims_of(items),
        spec=spec,
        framework_version=version.version,
        open_answers=_open_answers(session, cycle.id, pairing_id, cutoffs),
        picks=_picks(session, cycle.id, pairing_id, cutoffs),
    )


# --- from codes to named, ordered result frames -------------------------------------------------


def _dims_of(items: pd.DataFrame) -> pd.DataFrame:
    dp = items["dimension_position"].to_numpy(dtype="int64")
    keep = dp >= 0
    _u, first = np.unique(dp[keep], return_index=True)
    rows = np.flatnonzero(keep)[first]
    return pd.DataFrame(
        {
            "dp": dp[rows],
            "dimension_code": items["dimension_code"].to_numpy(dtype=object)[rows],
            "dimension_name": items["dimension_name"].to_numpy(dtype=object)[rows],
        }
    )


def _dims_table(c: _Computed) -> pd.DataFrame:
    return c.dims


def _lookup(table: pd.DataFrame, key: str, column: str, values: np.ndarray) -> np.ndarray:
    """table[column] for each of `values` of table[key] (integer keys), as an array."""
    return (
        pd.Series(table[column].to_numpy(dtype=object), index=table[key])
        .reindex(values)
        .to_numpy(dtype=object)
    )


def _named_items(c: _Computed, frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.merge(c.items, on="item_id")
    out["source"] = out["s"].map(SRC_NAME)
    return out.sort_values(["item_position", "s"], kind="stable").reset_index(drop=True)


def _named_dims(c: _Computed, frame: pd.DataFrame) -> pd.DataFrame:
    dp = frame["dp"].to_numpy(dtype="int64")
    t = frame["t"].to_numpy(dtype="int64")
    out = frame.assign(
        dimension_code=_lookup(c.dims, "dp", "dimension_code", dp),
        dimension_name=_lookup(c.dims, "dp", "dimension_name", dp),
        target=np.array(TARGET_ORDER, dtype=object)[t],
    )
    if "s" in frame.columns:
        s = frame["s"].to_numpy(dtype="int64")
        out["source"] = np.array([SRC_NAME[i] for i in range(len(SRC_NAME))], dtype=object)[s]
        order = np.lexsort((s, t, dp))
    else:
        order = np.lexsort((t, dp))
    return out.iloc[order].reset_index(drop=True)


def _gaps(c: _Computed, pairing_id: int | None = None) -> pd.DataFrame:
    """self/partner/others per dimension and target (for every pairing, or one), with the
    gap, its flag and the Johari quadrant."""
    ds = c.dim_stats
    if pairing_id is not None:
        ds = ds[ds["pairing_id"] == pairing_id]
    src = ds["s"].to_numpy(dtype="int64")
    key = (
        ds["pairing_id"].to_numpy(dtype="int64") * 64 + ds["dp"].to_numpy(dtype="int64")
    ) * 4 + ds["t"].to_numpy(dtype="int64")
    wanted = np.isin(src, [SRC["self"], SRC["partner"], SRC["others"]])
    keys = np.unique(key[wanted])
    if len(keys) == 0:
        return pd.DataFrame(columns=["pairing_id", *COLUMNS["gaps"]])

    def column(name: str, field: str) -> np.ndarray:
        m = src == SRC[name]
        values = pd.Series(ds[field].to_numpy(dtype="float64")[m], index=key[m])
        return values.reindex(keys).to_numpy(dtype="float64")

    self_mean, partner_mean = column("self", "mean"), column("partner", "mean")
    others_mean, others_n = column("others", "mean"), column("others", "n")
    gap = self_mean - others_mean
    known = ~np.isnan(gap)
    blind = known & (gap >= GAP_THRESHOLD - 1e-9)
    hidden = known & (gap <= -GAP_THRESHOLD + 1e-9)
    high = ~np.isnan(others_mean) & (others_mean >= HIGH_SCORE)
    out = pd.DataFrame(
        {
            "pairing_id": keys // 256,
            "dp": (keys // 4) % 64,
            "t": keys % 4,
            "self_mean": self_mean,
            "partner_mean": partner_mean,
            "others_mean": others_mean,
            "others_n": pd.array(
                np.where(np.isnan(others_n), 0, others_n).astype("int64"), dtype="Int64"
            ),
            "gap": gap,
            "flag": np.select([blind, hidden], ["blind spot", "hidden strength"], ""),
            "quadrant": np.select(
                [blind, hidden, known & high, known],
                ["blind spot", "hidden strength", "open strength", "development area"],
                "",
            ),
        }
    )
    out.loc[np.isnan(others_n), "others_n"] = pd.NA
    out = _named_dims(c, out)
    return out[["pairing_id", *COLUMNS["gaps"]]]


# --- the pairing report --------------------------------------------------------------------------


def previous_cycle(session: Session, cycle: Cycle, pairing_id: int) -> Cycle | None:
    """The latest earlier closed or published cycle of the same council with this pairing."""
    query = (
        select(Cycle)
        .join(CyclePairing, CyclePairing.cycle_id == Cycle.id)
        .where(
            CyclePairing.pairing_id == pairing_id,
            Cycle.council_id == cycle.council_id,
            Cycle.id != cycle.id,
            Cycle.opens_on < cycle.opens_on,
            Cycle.status.in_(FINISHED),
        )
        .order_by(Cycle.opens_on.desc(), Cycle.id.desc())
        .limit(1)
    )
    return session.execute(query).scalars().first()


def _previous_dimensions(session: Session, previous: Cycle, pairing_id: int) -> pd.DataFrame:
    """The earlier cycle's dimension figures as its readers saw them: from its latest
    published edition if there is one (so nothing unpublished leaks through a comparison),
    otherwise from the engine."""
    # Only this pairing's dimension figures are read out of the stored edition.
    edition = session.execute(
        select(PublishedReport.edition, PublishedPairingReport.content["dimensions"])
        .outerjoin(
            PublishedPairingReport,
            and_(
                PublishedPairingReport.report_id == PublishedReport.id,
                PublishedPairingReport.pairing_id == int(pairing_id),
            ),
        )
        .where(PublishedReport.cycle_id == previous.id)
        .order_by(PublishedReport.edition.desc())
        .limit(1)
    ).first()
    if edition is not None:
        frame = _frame(edition[1] or [], "dimensions")
    else:
        c = _compute(session, previous, pairing_id)
        frame = _named_dims(c, c.dim_stats)
    return frame[["dimension_code", "target", "source", "mean"]]


def _notices(c: _Computed, groups: pd.DataFrame, hidden: pd.DataFrame) -> list[str]:
    notices = []
    for row in groups.itertuples():
        if row.group in ANONYMOUS and row.invited > 0 and not row.shown:
            notices.append(
                f"{row.label}: fewer than {c.threshold} replies, so not shown (their scores "
                "and comments are left out everywhere, including 'everyone else')."
            )
    not_shown = set(groups.loc[~groups["shown"], "group"])
    for group in [g for g in GROUP_ORDER if g in set(hidden["group"]) - not_shown]:
        notices.append(
            f"{GROUP_LABELS[group]}: some questions were answered by fewer than {c.threshold} "
            "of them, so their figure for those questions is not shown."
        )
    return notices


def _pick(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    columns = COLUMNS[name]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    out = frame[columns].reset_index(drop=True)
    for column in ("n", "others_n"):
        if column in out.columns and not out[column].isna().any():
            out[column] = out[column].astype("int64")
    return out


def _mirror(c: _Computed, pairing_id: int) -> pd.DataFrame:
    ds = c.dim_stats
    part = ds[(ds["pairing_id"] == pairing_id) & (ds["t"] == TARGET_CODE["partnership"])]
    if part.empty:
        return pd.DataFrame(columns=COLUMNS["mirror"])
    src = part["s"].to_numpy(dtype="int64")
    dp = part["dp"].to_numpy(dtype="int64")
    dps = np.unique(dp)

    def column(name: str, field: str) -> np.ndarray:
        m = src == SRC[name]
        values = pd.Series(part[field].to_numpy(dtype="float64")[m], index=dp[m])
        return values.reindex(dps).to_numpy(dtype="float64")

    others_n = column("others", "n")
    out = pd.DataFrame(
        {
            "dimension_code": _lookup(c.dims, "dp", "dimension_code", dps),
            "dimension_name": _lookup(c.dims, "dp", "dimension_name", dps),
            "member_view": column("member_view", "mean"),
            "officer_view": column("officer_view", "mean"),
            "others_view": column("others", "mean"),
            "others_n": pd.array(
                np.where(np.isnan(others_n), 0, others_n).astype("int64"), dtype="Int64"
            ),
        }
    )
    out.loc[np.isnan(others_n), "others_n"] = pd.NA
    return out


def _open_answer_sections(
    c: _Computed, pairing: pd.Series, groups: pd.DataFrame
) -> list[dict[str, Any]]:
    """Each open question of the framework with its shown answers (the comments' rule)."""
    questions = c.spec.open_questions if c.spec is not None else None
    if not questions:
        return []
    frame = c.open_answers
    answers = _shown_texts(frame[frame["pairing_id"] == pairing["pairing_id"]], groups)
    return [
        {
            "code": q.code,
            "target": q.target,
            "question": render_item(q.text, pairing["member_name"], pairing["officer_name"]),
            "answers": answers.loc[answers["question"] == q.code, "text"].tolist(),
        }
        for q in questions
    ]


def _matters_most(c: _Computed, pairing_id: int, groups: pd.DataFrame) -> pd.DataFrame:
    """How many chose each dimension as mattering most, per source. The two principals are
    named by design; an anonymous group counts only if it is shown AND at least the
    threshold's number of its raters chose (as an item cell needs that many answers), and
    "others" pools exactly those groups, so no figure can be set against another to find a
    suppressed group's or one rater's choice."""
    picks = c.picks[c.picks["pairing_id"] == pairing_id]
    if picks.empty or c.spec is None or c.spec.matters_most is None:
        return pd.DataFrame(columns=COLUMNS["matters_most"])
    dims = _dims_table(c)
    shown = set(groups.loc[groups["shown"], "group"])
    frames = []

    def counted(rows: pd.DataFrame, source: str) -> None:
        raters = rows["response_id"].nunique()
        picked = rows.groupby("dimension_code")["response_id"].nunique()
        out = dims[["dimension_code", "dimension_name"]].assign(
            source=source,
            picked=dims["dimension_code"].map(picked).fillna(0).astype("int64").to_numpy(),
            raters=raters,
        )
        out["rank"] = (
            out["picked"].where(out["picked"] > 0).rank(method="min", ascending=False)
        ).astype("Int64")
        frames.append(out)

    for view in NAMED_VIEWS:
        rows = picks[picks["g"] == SRC[view]]
        if not rows.empty:
            counted(rows, view)
    eligible = []
    for group in ANONYMOUS:
        rows = picks[picks["g"] == SRC[group]]
        if group in shown and rows["response_id"].nunique() >= c.threshold:
            counted(rows, group)
            eligible.append(rows)
    if eligible:
        counted(pd.concat(eligible), "others")
    if not frames:
        return pd.DataFrame(columns=COLUMNS["matters_most"])
    return pd.concat(frames, ignore_index=True)


def _report_from(
    session: Session, c: _Computed, pairing_id: int, gaps_all: pd.DataFrame | None = None
) -> PairingReport:
    rows = c.pairings[c.pairings["pairing_id"] == pairing_id]
    if rows.empty:
        raise NotFound("That pairing did not take part in this cycle.")
    p = rows.iloc[0]
    previous = previous_cycle(session, c.cycle, pairing_id)
    meta = {
        "cycle_id": c.cycle.id,
        "cycle_name": c.cycle.name,
        "council_name": c.council_name,
        "pairing_id": int(pairing_id),
        "pairing_label": p["pairing_label"],
        "kind": p["kind"],
        "member_name": p["member_name"],
        "member_title": p["member_title"],
        "officer_name": p["officer_name"],
        "officer_title": p["officer_title"],
        "portfolio": p["portfolio"],
        "threshold": c.threshold,
        "edition": None,
        "previous_cycle_name": previous.name if previous is not None else None,
        "framework_version": c.framework_version,
        "previous_framework_version": (
            session.get(FrameworkVersion, previous.framework_version_id).version
            if previous is not None
            else None
        ),
        # Items some anonymous groups were not asked (not applicable to them, not missing).
        "not_asked": c.spec.not_asked() if c.spec is not None else {},
    }
    groups = c.groups[c.groups["pairing_id"] == pairing_id]
    hidden = c.hidden_cells[c.hidden_cells["pairing_id"] == pairing_id]

    items = _named_items(c, c.item_stats[c.item_stats["pairing_id"] == pairing_id])
    if not items.empty:
        items["item_text"] = (
            items["item_text"]
            .str.replace("{member}", p["member_name"], regex=False)
            .str.replace("{officer}", p["officer_name"], regex=False)
        )
    dims = _named_dims(c, c.dim_stats[c.dim_stats["pairing_id"] == pairing_id])
    dims = dims[dims["source"].isin(SOURCE_ORDER)]

    gaps = gaps_all if gaps_all is not None else _gaps(c, pairing_id)
    gaps = gaps[gaps["pairing_id"] == pairing_id]

    ranked = items[items["source"] == "others"].sort_values(
        ["mean", "item_position"], ascending=[False, True], kind="stable"
    )
    top = ranked.head(TOP_N)
    bottom = ranked.sort_values(
        ["mean", "item_position"], ascending=[True, True], kind="stable"
    ).head(TOP_N)

    change = pd.DataFrame(columns=COLUMNS["change"])
    if previous is not None:
        before = _previous_dimensions(session, previous, pairing_id)
        now = dims[dims["source"].isin(["self", "partner", "others"])]
        change = now.merge(
            before.rename(columns={"mean": "previous"}),
            on=["dimension_code", "target", "source"],
        ).rename(columns={"mean": "current"})
        change["previous"] = change["previous"].astype("float64")
        change["current"] = change["current"].astype("float64")
        change["change"] = change["current"] - change["previous"]
        change = change.dropna(subset=["previous", "current"])

    com = _shown_texts(c.comments[c.comments["pairing_id"] == pairing_id], groups)
    comments: dict[str, list[str]] = {}
    if not com.empty:
        for code in _dims_table(c)["dimension_code"]:
            texts = com.loc[com["dimension_code"] == code, "text"].tolist()
            if texts:
                comments[code] = texts

    return PairingReport(
        meta=meta,
        groups=groups[COLUMNS["groups"]].reset_index(drop=True),
        items=_pick(items, "items"),
        dimensions=_pick(dims, "dimensions"),
        gaps=_pick(gaps, "gaps"),
        top_items=_pick(top, "top_items"),
        bottom_items=_pick(bottom, "bottom_items"),
        mirror=_pick(_mirror(c, pairing_id), "mirror"),
        change=_pick(change, "change"),
        matters_most=_pick(_matters_most(c, pairing_id, groups), "matters_most"),
        comments=comments,
        notices=_notices(c, groups, hidden),
        open_answers=_open_answer_sections(c, p, groups),
    )


def pairing_report(
    session: Session,
    cycle_id: int,
    pairing_id: int,
    cutoffs: dict[int, datetime] | None = None,
) -> PairingReport:
    """The suppressed report of one pairing in one cycle, computed live. `cutoffs`
    (pairing id → time) counts only responses submitted by then (used by publication)."""
    cycle = _cycle(session, cycle_id)
    c = _compute(session, cycle, pairing_id, cutoffs)
    return _report_from(session, c, pairing_id)


def dimension_gaps(session: Session, cycle_id: int, pairing_id: int) -> pd.DataFrame:
    """Per dimension and target: self, partner and others' means, the gap, flag and quadrant."""
    cycle = _cycle(session, cycle_id)
    c = _compute(session, cycle, pairing_id)
    gaps = _gaps(c)
    return _pick(gaps[gaps["pairing_id"] == pairing_id], "gaps")


# --- the council overview ------------------------------------------------------------------


def _benchmarks(session: Session, framework_version_ids: list[int] | None = None) -> pd.DataFrame:
    """The Solace-comparable questions' benchmarks, from the stored framework definitions:
    item_code, measure, values (answers that count), national_pct, label."""
    query = select(FrameworkVersion.definition).order_by(FrameworkVersion.id)
    if framework_version_ids is not None:
        query = query.where(FrameworkVersion.id.in_(framework_version_ids))
    rows: dict[str, dict[str, Any]] = {}
    for definition in session.execute(query).scalars():
        for q in (definition or {}).get("solace", []):
            bench = q.get("benchmark") or {}
            rows[q["code"]] = {
                "item_code": q["code"],
                "measure": SOLACE_MEASURES.get(q["code"], q["code"].removeprefix("solace.")),
                "values": list(bench.get("values", [])),
                "national_pct": round(100 * float(bench.get("share", 0)), 1),
                "label": bench.get("label", ""),
            }
    return pd.DataFrame(
        list(rows.values()), columns=["item_code", "measure", "values", "national_pct", "label"]
    )


def _solace_table(c: _Computed, benchmarks: pd.DataFrame) -> pd.DataFrame:
    """The council's figure is the OFFICERS' answers (the chief executive and the directors),
    like for like with Solace, which asked chief executives; the councillors' answers to the
    same questions are given beside it."""
    answers = c.solace.merge(c.items[["item_id", "item_code"]], on="item_id")
    answers = answers[answers["value"].notna()].merge(benchmarks, on="item_code")
    hit = [v in vals for v, vals in zip(answers["value"], answers["values"], strict=True)]
    answers = answers.assign(hit=np.array(hit, dtype=float))
    out = benchmarks
    for side, pct, n in (
        ("officer_view", "council_pct", "n"),
        ("member_view", "members_pct", "members_n"),
    ):
        mine = answers[answers["g"] == SRC[side]]
        agg = mine.groupby("item_code").agg(**{pct: ("hit", "mean"), n: ("hit", "count")})
        agg[pct] = (100 * agg[pct]).round(1)
        out = out.merge(agg.reset_index(), on="item_code", how="left")
        out[n] = out[n].fillna(0).astype("int64")
    return out[COLUMNS["solace"]].reset_index(drop=True)


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def _findings(
    c: _Computed,
    gaps: pd.DataFrame,
    heatmap: pd.DataFrame,
    solace: pd.DataFrame,
    rates: pd.DataFrame,
) -> list[str]:
    """Key findings in plain words, built only from the suppressed figures."""
    out: list[str] = []
    labels = dict(zip(c.pairings["pairing_id"], c.pairings["pairing_label"], strict=True))
    who = {"member": "the councillor", "officer": "the officer", "partnership": "the pair"}
    invited, responded = int(rates["invited"].sum()), int(rates["responded"].sum())
    if invited:
        out.append(
            f"{responded} of {invited} invited people responded "
            f"({round(100 * responded / invited)}%) across {len(labels)} pairings."
        )
    blind = gaps[gaps["flag"] == "blind spot"].sort_values("gap", ascending=False)
    hidden = gaps[gaps["flag"] == "hidden strength"].sort_values("gap")
    out.append(
        f"{len(blind)} blind spots (self rated at least {GAP_THRESHOLD} above everyone else) "
        f"and {len(hidden)} hidden strengths (at least {GAP_THRESHOLD} below)."
    )
    if not blind.empty:
        b = blind.iloc[0]
        out.append(
            f"Largest blind spot: {labels[b['pairing_id']]} — {b['dimension_name']} "
            f"({who[b['target']]}): self {_fmt(b['self_mean'])}, everyone else "
            f"{_fmt(b['others_mean'])}."
        )
    if not hidden.empty:
        h = hidden.iloc[0]
        out.append(
            f"Largest hidden strength: {labels[h['pairing_id']]} — {h['dimension_name']} "
            f"({who[h['target']]}): self {_fmt(h['self_mean'])}, everyone else "
            f"{_fmt(h['others_mean'])}."
        )
    ds = c.dim_stats
    part = ds[ds["t"] == TARGET_CODE["partnership"]]
    views = part[part["s"].isin(NAMED_VIEWS_CODES)].pivot_table(
        index=["pairing_id", "dp"], columns="s", values="mean"
    )
    if {SRC["member_view"], SRC["officer_view"]} <= set(views.columns):
        diff = (views[SRC["member_view"]] - views[SRC["officer_view"]]).dropna()
        if not diff.empty and diff.abs().max() >= GAP_THRESHOLD:
            pid, dp = diff.abs().idxmax()
            name = _dims_table(c).set_index("dp").loc[dp, "dimension_name"]
            out.append(
                f"Widest mirror gap: {labels[pid]} — {name}: the councillor rates the "
                f"partnership {_fmt(views.loc[(pid, dp), SRC['member_view']])}, the officer "
                f"{_fmt(views.loc[(pid, dp), SRC['officer_view']])}."
            )
    if not heatmap.empty:
        by_dim = heatmap.groupby("dimension_name")["score"].mean().sort_values()
        out.append(
            f"Partnerships score lowest on {by_dim.index[0]} ({_fmt(by_dim.iloc[0])}) and "
            f"highest on {by_dim.index[-1]} ({_fmt(by_dim.iloc[-1])}) across the council."
        )
    for row in solace.itertuples():
        if row.n and not pd.isna(row.council_pct):
            members = (
                f"; the councillors of the pairs say {row.members_pct:.0f}%"
                if row.members_n and not pd.isna(row.members_pct)
                else ""
            )
            out.append(
                f"{row.label.capitalize()}: {row.council_pct:.0f}% of the officers here "
                f"({row.n} answers) against {row.national_pct:.0f}% of chief executives "
                f"nationally (Solace){members}."
            )
    return out


def council_overview(
    session: Session, cycle_id: int, cutoffs: dict[int, datetime] | None = None
) -> CouncilOverview:
    """Every pairing of a cycle side by side, after suppression."""
    c = _compute(session, _cycle(session, cycle_id), None, cutoffs)
    return _overview_from(session, c, _gaps(c))


def _overview_from(session: Session, c: _Computed, gaps: pd.DataFrame) -> CouncilOverview:
    cycle = c.cycle
    labels = c.pairings[["pairing_id", "pairing_label"]]

    # Each pairing's partnership score: every shown partnership answer, pooled (as in the
    # pairing report's dimensions), so it is a function of the shown item cells.
    part = c.shown_values[c.shown_values["t"] == TARGET_CODE["partnership"]]
    heat = (
        _pooled(part, ["pairing_id", "dp"])
        .rename(columns={"mean": "score"})
        .drop(columns=["sd"])
        .merge(_dims_table(c), on="dp")
        .merge(labels, on="pairing_id")
    )
    order = {pid: i for i, pid in enumerate(labels["pairing_id"])}
    heat = heat.assign(_o=heat["pairing_id"].map(order)).sort_values(["_o", "dp"])

    dims = _dims_table(c)
    counts = (
        c.shown_values.groupby(["dp", "value"]).size().rename("count").reset_index()
        if not c.shown_values.empty
        else pd.DataFrame(columns=["dp", "value", "count"])
    )
    grid = pd.MultiIndex.from_product(
        [dims["dp"], [1.0, 2.0, 3.0, 4.0, 5.0]], names=["dp", "value"]
    ).to_frame(index=False)
    dist = grid.merge(counts, how="left", on=["dp", "value"]).merge(dims, on="dp")
    dist["count"] = dist["count"].fillna(0).astype("int64")
    dist["rating"] = dist["value"].astype("int64")

    solace = _solace_table(c, _benchmarks(session, [cycle.framework_version_id]))

    rates = c.groups[c.groups["invited"] > 0].merge(labels, on="pairing_id")
    rates = rates.assign(rate=rates["responded"] / rates["invited"])
    meta = {
        "cycle_id": cycle.id,
        "cycle_name": cycle.name,
        "council_name": c.council_name,
        "threshold": c.threshold,
        "edition": None,
    }
    return CouncilOverview(
        meta=meta,
        heatmap=_pick(heat, "heatmap"),
        distribution=_pick(dist, "distribution"),
        solace=solace,
        response_rates=_pick(rates, "response_rates"),
        findings=_findings(c, gaps, heat, solace, rates),
    )


def council_reports(
    session: Session, cycle_id: int, cutoffs: dict[int, datetime] | None = None
) -> tuple[dict[int, PairingReport], CouncilOverview]:
    """Every pairing's report and the overview from one pass of the engine (publication)."""
    cycle = _cycle(session, cycle_id)
    c = _compute(session, cycle, None, cutoffs)
    gaps = _gaps(c)
    reports = {
        int(pid): _report_from(session, c, int(pid), gaps) for pid in c.pairings["pairing_id"]
    }
    return reports, _overview_from(session, c, gaps)


# --- national comparison -------------------------------------------------------------------


def national_comparison(session: Session) -> pd.DataFrame:
    """The two Solace-comparable measures per council (its latest closed or published cycle)
    and for all councils together, in percent of the officers' answers (Solace asked chief
    executives). One aggregate query over the answers."""
    benchmarks = _benchmarks(session)
    if benchmarks.empty:
        return pd.DataFrame(columns=NATIONAL_COLUMNS)
    ranked = select(
        Cycle.id.label("cycle_id"),
        Cycle.council_id.label("council_id"),
        func.row_number()
        .over(partition_by=Cycle.council_id, order_by=(Cycle.opens_on.desc(), Cycle.id.desc()))
        .label("rn"),
    ).where(Cycle.status.in_(FINISHED))
    ranked = ranked.subquery()
    latest = select(ranked.c.cycle_id, ranked.c.council_id).where(ranked.c.rn == 1).subquery()
    query = (
        select(latest.c.council_id, Council.name, Item.code, Rating.value, func.count())
        .select_from(Item)
        .join(Rating, Rating.item_id == Item.id)
        .join(Response, Response.id == Rating.response_id)
        .join(Invitation, Invitation.id == Response.invitation_id)
        .join(latest, latest.c.cycle_id == Invitation.cycle_id)
        .join(Council, Council.id == latest.c.council_id)
        .join(Pairing, Pairing.id == Invitation.pairing_id)
        .where(
            # the officers' answers, like for like with Solace (chief executives)
            Invitation.rater_id == Pairing.officer_id,
            Item.dimension_id.is_(None),
            Item.code.in_(list(benchmarks["item_code"])),
            Rating.value.is_not(None),
            Response.status == ResponseStatus.submitted,
        )
        .group_by(latest.c.council_id, Council.name, Item.code, Rating.value)
    )
    rows = pd.DataFrame(
        session.execute(query).all(),
        columns=["council_id", "council_name", "item_code", "value", "count"],
    )
    if rows.empty:
        return pd.DataFrame(columns=NATIONAL_COLUMNS)
    rows = rows.merge(benchmarks, on="item_code")
    hit = [v in vals for v, vals in zip(rows["value"], rows["values"], strict=True)]
    rows["hits"] = rows["count"] * np.array(hit, dtype="int64")
    per = rows.groupby(["council_id", "council_name", "measure"])[["hits", "count"]].sum()
    total = rows.groupby("measure")[["hits", "count"]].sum()
    total.index = pd.MultiIndex.from_tuples(
        [(0, "All councils", m) for m in total.index], names=per.index.names
    )
    both = pd.concat([per, total])
    both["pct"] = (100 * both["hits"] / both["count"]).round(1)
    wide = both.unstack("measure")
    out = pd.DataFrame(index=wide.index)
    for measure in ("advice", "relationship"):
        has = measure in wide["pct"].columns
        out[f"{measure}_pct"] = wide["pct"][measure] if has else np.nan
        out[f"{measure}_n"] = wide["count"][measure].fillna(0).astype("int64") if has else 0
    out["n"] = out[["advice_n", "relationship_n"]].max(axis=1)
    out = out.reset_index()
    out["council_id"] = out["council_id"].astype("Int64").where(out["council_id"] != 0, pd.NA)
    out["_all"] = out["council_id"].isna()
    out = out.sort_values(["_all", "council_name"]).reset_index(drop=True)
    return out[NATIONAL_COLUMNS]
