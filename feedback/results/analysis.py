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

Findings (README "How each finding is computed" says the same in plain words). On the
1–5 agreement scale, FINDING_GAP = a third of the scale's range (4/3 ≈ 1.33 points):

* Blind spot / hidden strength (a principal's dimension, member or officer target): self
  at least FINDING_GAP above (blind spot) or below (hidden strength) everyone else, with
  at least MIN_OTHERS raters behind "everyone else" (or the cycle's threshold if larger),
  at least MIN_FLAG_ITEMS items of the dimension compared, and every compared item
  pointing the same way. For the partnership, both principals' views must each be that far
  from everyone else in the same direction (the pair's average alone would turn a mirror
  into a "hidden strength").
* Mirror: the member's and the officer's views of their partnership on a dimension at
  least FINDING_GAP apart, every partnership item they both answered pointing the same way.
* Johari quadrant per dimension: the flag when there is one; otherwise "open strength" if
  others' mean ≥ HIGH_SCORE (3.5, between neutral and agree), "development area" below.
* Agreement among an anonymous group (see `agreement_band`): "raters agree" / "mixed
  views" / "split", only where no answer set can be pinned down from it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from core.errors import NotFound
from core.models import Council
from core.vocabulary import GROUP_LABELS, TOP_KINDS, CycleStatus, InvitationStatus, ResponseStatus
from feedback.models import (
    Comment,
    Cycle,
    CyclePairing,
    Dimension,
    DimensionPick,
    FrameworkVersion,
    Invitation,
    Item,
    OpenAnswer,
    Pairing,
    Person,
    PublishedPairingReport,
    PublishedReport,
    Rating,
    Response,
)
from feedback.setup.framework import FrameworkSpec, asks, framework_spec, render_item

SCALE_LOW, SCALE_HIGH = 1, 5  # the agreement scale every dimension item uses
FINDING_SHARE = 1 / 3  # a finding needs a gap of a third of the scale's range
FINDING_GAP: float = (SCALE_HIGH - SCALE_LOW) * FINDING_SHARE
GAP_THRESHOLD: float = FINDING_GAP  # (older name, used by the pages and charts)
MIRROR_THRESHOLD: float = FINDING_GAP
MIN_OTHERS = 5  # raters behind "everyone else" for a flag (or the threshold if larger)
MIN_FLAG_ITEMS = 2  # items of the dimension compared for a flag
HIGH_SCORE: float = 3.5
EPS = 1e-9
TOP_N = 5

ANONYMOUS = ("members", "officers", "partners")
NAMED_VIEWS = ("member_view", "officer_view")  # the principals' partnership answers
SOURCE_ORDER = ["self", "partner", "members", "officers", "partners", "others"]
TARGET_ORDER = ["member", "officer", "partnership"]
GROUP_ORDER = ["principal", "members", "officers", "partners"]
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
LEADER_CE = "leader–chief executive"
NEW_PAIRING_MONTHS = 12
# Where the national figures come from. The IESE seed quotes the Solace research without
# its year or sample size, and neither could be confirmed from a public source, so the
# text says so rather than invent them. A framework's benchmark may carry `year` and
# `sample`; when it does, they are used instead.
SOLACE_SOURCE = (
    "Solace (the Society of Local Authority Chief Executives) research on the relationship "
    "between council chief executives and their leaders, as quoted by IESE in “Officer + "
    "Councillor Relationships”"
)
SOLACE_UNCONFIRMED = (
    "the year of that research and how many chief executives answered could not be "
    "confirmed from a public source, so treat the national figures as indicative"
)
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
    "dimensions": [
        "dimension_code",
        "dimension_name",
        "target",
        "source",
        "mean",
        "n",
        "agreement",
    ],
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
        "gap",
        "flag",
    ],
    "findings": [
        "kind",
        "dimension_code",
        "dimension_name",
        "target",
        "first",
        "second",
        "gap",
        "text",
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
    "solace": [
        "measure",
        "label",
        "council_pct",
        "national_pct",
        "n",
        "members_pct",
        "members_n",
        "new_pct",
        "new_n",
        "source",
    ],
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
        "findings",
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
    findings = _Table()
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
            Pairing.started_on,
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
        "started_on",
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


def _submitted_frame(
    session: Session,
    query: Any,
    cycle_id: int,
    pairing_id: int | None,
    cutoffs: dict[int, datetime] | None,
    columns: list[str],
) -> pd.DataFrame:
    """`query` (joined to Invitation and Response) kept to the cycle's submitted responses —
    of one pairing if given, and by each pairing's cut-off — as a frame of `columns`."""
    query = query.where(
        Invitation.cycle_id == cycle_id, Response.status == ResponseStatus.submitted
    )
    if pairing_id is not None:
        query = query.where(Invitation.pairing_id == pairing_id)
    condition = _submitted_by(cutoffs)
    if condition is not None:
        query = query.where(condition)
    return pd.DataFrame(session.execute(query).all(), columns=columns)


def _comments(
    session: Session,
    cycle_id: int,
    pairing_id: int | None,
    cutoffs: dict[int, datetime] | None,
) -> pd.DataFrame:
    query = (
        select(
            Invitation.pairing_id,
            Invitation.rater_group,
            Dimension.code,
            Comment.text,
            Response.id,
        )
        .join(Response, Response.invitation_id == Invitation.id)
        .join(Comment, Comment.response_id == Response.id)
        .join(Dimension, Dimension.id == Comment.dimension_id)
    )
    return _submitted_frame(
        session,
        query,
        cycle_id,
        pairing_id,
        cutoffs,
        ["pairing_id", "rater_group", "dimension_code", "text", "response_id"],
    )


def _responses(
    session: Session,
    cycle_id: int,
    pairing_id: int | None,
    cutoffs: dict[int, datetime] | None,
) -> pd.DataFrame:
    """Every submitted response (by the cut-off): pairing_id, group, response_id."""
    query = select(Invitation.pairing_id, Invitation.rater_group, Response.id).join(
        Response, Response.invitation_id == Invitation.id
    )
    return _submitted_frame(
        session, query, cycle_id, pairing_id, cutoffs, ["pairing_id", "group", "response_id"]
    )


def _open_answers(
    session: Session,
    cycle_id: int,
    pairing_id: int | None,
    cutoffs: dict[int, datetime] | None,
) -> pd.DataFrame:
    query = (
        select(
            Invitation.pairing_id,
            Invitation.rater_group,
            OpenAnswer.question,
            OpenAnswer.text,
            Response.id,
        )
        .join(Response, Response.invitation_id == Invitation.id)
        .join(OpenAnswer, OpenAnswer.response_id == Response.id)
    )
    return _submitted_frame(
        session,
        query,
        cycle_id,
        pairing_id,
        cutoffs,
        ["pairing_id", "rater_group", "question", "text", "response_id"],
    )


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
    )
    return _submitted_frame(
        session,
        query,
        cycle_id,
        pairing_id,
        cutoffs,
        ["pairing_id", "response_id", "g", "dimension_code"],
    )


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
    responses: pd.DataFrame = field(default_factory=pd.DataFrame)  # pairing_id, group, id
    solace_benchmarks: pd.DataFrame = field(default_factory=pd.DataFrame)
    view_items: pd.DataFrame = field(default_factory=pd.DataFrame)  # principals' partnership
    item_totals: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype="int64"))
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
    responses = _responses(session, cycle.id, pairing_id, cutoffs)
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
    view_items = cells[cells["s"].isin(NAMED_VIEWS_CODES)]
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
    dim_stats = _with_bands(dim_stats, shown_values[s_anon], cell_keys)
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
        responses=responses,
        solace_benchmarks=_benchmarks(session, [cycle.framework_version_id]),
        view_items=view_items,
        item_totals=totals,
        spec=spec,
        framework_version=version.version,
        open_answers=_open_answers(session, cycle.id, pairing_id, cutoffs),
        picks=_picks(session, cycle.id, pairing_id, cutoffs),
    )


# --- agreement among raters ------------------------------------------------------------------
# A band, not a spread: how an anonymous group's answers on a dimension fall either side of
# the agreement scale's midpoint (3): L answers below it (1–2), M at it, H above it (4–5).
#   "split":        at least a quarter of the answers on each side (4L ≥ n and 4H ≥ n);
#   "raters agree": at least four in five answers on one side, or at the midpoint;
#   "mixed views":  otherwise.
# Shown only where it cannot pin an answer set down: for a cell's number of answers n and
# their sum (both follow from the published means and counts), EVERY band must be
# consistent with no multiset of answers or with at least two. That test uses only what is
# published, so leaving a band out says nothing either. tests/test_confidentiality.py
# checks every published band by brute force.
BANDS = ("raters agree", "mixed views", "split")


def _band_code(low: np.ndarray, mid: np.ndarray, high: np.ndarray) -> np.ndarray:
    n = low + mid + high
    split = (4 * low >= n) & (4 * high >= n)
    agree = 5 * np.maximum(np.maximum(low, mid), high) >= 4 * n
    return np.where(split, 2, np.where(agree, 0, 1))


def agreement_band(answers: list[int]) -> str:
    """The band of a list of answers on the 1–5 scale (the same rule as the engine's)."""
    a = np.asarray(answers)
    code = _band_code(
        np.array([(a <= 2).sum()]), np.array([(a == 3).sum()]), np.array([(a >= 4).sum()])
    )
    return BANDS[int(code[0])]


@functools.cache
def _safe_sums(n: int) -> frozenset[int]:
    """Sums of n answers (1–5) at which no band is consistent with exactly one multiset.
    For L below, M at and H above the midpoint, the low answers sum to L..2L (one way
    each: the number of 2s) and the high ones to 4H..5H (the number of 5s), so the ways to
    reach sum s are the ways to write s − (L + 3M + 4H) as a + b with a ≤ L, b ≤ H."""
    if n <= 0:
        return frozenset()
    low, high = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    ok = low + high <= n
    low, high = low[ok], high[ok]
    mid = n - low - high
    band = _band_code(low, mid, high)
    base = low + 3 * mid + 4 * high
    width = low + high
    reps = width + 1
    k = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    ways = (
        np.minimum.reduce(
            [k, np.repeat(low, reps), np.repeat(high, reps), np.repeat(width, reps) - k]
        )
        + 1
    )
    counts = np.zeros((len(BANDS), 5 * n + 1), dtype="int64")
    np.add.at(counts, (np.repeat(band, reps), np.repeat(base, reps) + k), ways)
    unique = (counts == 1).any(axis=0)
    return frozenset(int(x) for x in np.flatnonzero(~unique)[n:])


def _with_bands(dim_stats: pd.DataFrame, anon: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """dim_stats with an `agreement` band for each anonymous group's and everyone else's
    dimension cell, where it is safe to show (None elsewhere)."""
    out = dim_stats.assign(agreement=None)
    if anon.empty:
        return out
    v = anon["value"].to_numpy()
    frame = anon[keys].assign(
        low=(v <= 2).astype("int64"), mid=(v == 3).astype("int64"), high=(v >= 4).astype("int64")
    )
    frame = frame.assign(total=v.astype("int64"))
    cols = ["low", "mid", "high", "total"]
    per = frame.groupby(keys)[cols].sum()
    everyone = frame.groupby(keys[:3])[cols].sum().assign(s=SRC["others"])
    everyone = everyone.set_index("s", append=True)
    both = pd.concat([per, everyone]).reset_index()
    n = (both["low"] + both["mid"] + both["high"]).to_numpy()
    code = _band_code(both["low"].to_numpy(), both["mid"].to_numpy(), both["high"].to_numpy())
    total = both["total"].to_numpy(dtype="int64")
    safe = np.zeros(len(both), dtype=bool)
    for size in np.unique(n):  # one check per distinct number of answers, not per cell
        at = n == size
        safe[at] = np.isin(total[at], list(_safe_sums(int(size))))
    both["agreement"] = np.where(safe, np.array(BANDS, dtype=object)[code], None)
    merged = out.drop(columns="agreement").merge(both[[*keys, "agreement"]], on=keys, how="left")
    merged["agreement"] = merged["agreement"].astype(object).where(merged["agreement"].notna())
    merged.loc[merged["agreement"].isna(), "agreement"] = None
    return merged


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


def _gap_key(pairing_id: np.ndarray, dp: np.ndarray, t: np.ndarray) -> np.ndarray:
    return (pairing_id.astype("int64") * 64 + dp.astype("int64")) * 4 + t.astype("int64")


def _directions(c: _Computed, a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Item by item, source a against source b (item figures: pairing_id, item_id, mean):
    per dimension cell (key), how many items both have a figure for, and on how many a is
    above b and below b. This is the "every item points the same way" test of a finding."""
    m = a[["pairing_id", "item_id", "mean"]].merge(
        b[["pairing_id", "item_id", "mean"]], on=["pairing_id", "item_id"], suffixes=("_a", "_b")
    )
    diff = (m["mean_a"] - m["mean_b"]).to_numpy(dtype="float64")
    ids = m["item_id"].to_numpy(dtype="int64")
    dp = _lookup(c.items, "item_id", "dimension_position", ids).astype("int64")
    t = _lookup(c.items, "item_id", "t", ids).astype("int64")
    frame = pd.DataFrame(
        {
            "key": _gap_key(m["pairing_id"].to_numpy(), dp, t),
            "compared": 1,
            "above": (diff > EPS).astype("int64"),
            "below": (diff < -EPS).astype("int64"),
        }
    )
    return frame.groupby("key")[["compared", "above", "below"]].sum()


def _consistent(
    directions: pd.DataFrame, keys: np.ndarray, up: np.ndarray, min_items: int
) -> np.ndarray:
    """For each key: at least `min_items` items compared, and every one of them pointing
    the way of the dimension's gap (up: above; otherwise below)."""
    d = directions.reindex(keys, fill_value=0)
    compared = d["compared"].to_numpy()
    same = np.where(up, d["above"].to_numpy(), d["below"].to_numpy())
    return (compared >= min_items) & (same == compared)


def min_others(threshold: int) -> int:
    """Raters behind "everyone else" for a blind spot or hidden strength."""
    return max(MIN_OTHERS, int(threshold))


def _gaps(c: _Computed, pairing_id: int | None = None) -> pd.DataFrame:
    """self/partner/others per dimension and target (for every pairing, or one), with the
    gap, its flag (the finding rule in the module docstring) and the Johari quadrant."""
    ds = c.dim_stats
    if pairing_id is not None:
        ds = ds[ds["pairing_id"] == pairing_id]
    src = ds["s"].to_numpy(dtype="int64")
    key = _gap_key(ds["pairing_id"].to_numpy(), ds["dp"].to_numpy(), ds["t"].to_numpy())
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
    # The partnership's "self" is the pair's average: it is a finding only when BOTH
    # principals' views stand that far from everyone else, the same way (else: a mirror).
    is_part = keys % 4 == TARGET_CODE["partnership"]
    to_member = column("member_view", "mean") - others_mean
    to_officer = column("officer_view", "mean") - others_mean
    together = np.sign(to_member) == np.sign(to_officer)
    nearest = np.sign(to_member) * np.minimum(np.abs(to_member), np.abs(to_officer))
    flag_gap = np.where(is_part, np.where(together, nearest, 0.0), gap)
    enough = np.nan_to_num(others_n) >= min_others(c.threshold)
    items = c.item_stats
    if pairing_id is not None:
        items = items[items["pairing_id"] == pairing_id]
    directions = _directions(
        c, items[items["s"] == SRC["self"]], items[items["s"] == SRC["others"]]
    )
    up = _consistent(directions, keys, np.ones(len(keys), bool), MIN_FLAG_ITEMS)
    down = _consistent(directions, keys, np.zeros(len(keys), bool), MIN_FLAG_ITEMS)
    blind = known & enough & up & (flag_gap >= FINDING_GAP - EPS)
    hidden = known & enough & down & (flag_gap <= -FINDING_GAP + EPS)
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


def _published_groups(groups: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The groups table as published: a group too small to show says "fewer than N"
    replies, not how many (the count would tell a principal who replied late)."""
    out = groups[COLUMNS["groups"]].reset_index(drop=True)
    hidden = out["group"].isin(ANONYMOUS).to_numpy() & ~out["shown"].to_numpy(dtype=bool)
    responded = out["responded"].astype(object)
    responded[hidden] = f"fewer than {threshold}"
    return out.assign(responded=responded)


def replies_text(responded: int | str, invited: int) -> str:
    """A group's replies as every screen, PDF and the CLI say them: "3 of 4", or for a
    group too small to show, "fewer than 3 (2 invited)"."""
    if isinstance(responded, str):
        return f"{responded} ({int(invited)} invited)"
    return f"{int(responded)} of {int(invited)}"


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
    """The member's and the officer's views of their partnership per dimension, everyone
    else's beside them, and the mirror finding: the two views at least MIRROR_THRESHOLD
    apart, with every partnership item both answered pointing the same way."""
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
    member_view, officer_view = column("member_view", "mean"), column("officer_view", "mean")
    gap = member_view - officer_view
    views = c.view_items[c.view_items["pairing_id"] == pairing_id]
    directions = _directions(
        c, views[views["s"] == SRC["member_view"]], views[views["s"] == SRC["officer_view"]]
    )
    keys = _gap_key(np.full(len(dps), pairing_id), dps, np.full(len(dps), 2))
    consistent = _consistent(directions, keys, gap > 0, 1)
    flagged = ~np.isnan(gap) & consistent & (np.abs(gap) >= MIRROR_THRESHOLD - EPS)
    out = pd.DataFrame(
        {
            "dimension_code": _lookup(c.dims, "dp", "dimension_code", dps),
            "dimension_name": _lookup(c.dims, "dp", "dimension_name", dps),
            "member_view": member_view,
            "officer_view": officer_view,
            "others_view": column("others", "mean"),
            "others_n": pd.array(
                np.where(np.isnan(others_n), 0, others_n).astype("int64"), dtype="Int64"
            ),
            "gap": gap,
            "flag": np.where(flagged, "mirror", ""),
        }
    )
    out.loc[np.isnan(others_n), "others_n"] = pd.NA
    return out


def finding_rule(meta: dict[str, Any]) -> str:
    """The finding rule in one plain sentence, with the thresholds this report used."""
    gap = float(meta.get("finding_gap") or FINDING_GAP)
    others = int(meta.get("min_others") or MIN_OTHERS)
    items = int(meta.get("min_flag_items") or MIN_FLAG_ITEMS)
    return (
        f"A finding needs a gap of at least {gap:.2f} points (a third of the 1–5 scale). A "
        f"blind spot or hidden strength also needs at least {others} people behind "
        f"'everyone else' and at least {items} items of the dimension, every one pointing the "
        "same way; the mirror compares the councillor's and the officer's own views of "
        "their partnership, item by item."
    )


def _pf(x: float) -> str:
    return f"{float(x):.1f}"


def report_findings(
    gaps: pd.DataFrame, mirror: pd.DataFrame, member: str, officer: str
) -> pd.DataFrame:
    """The pairing's findings, the mirror first (the finding this product exists for),
    then blind spots and hidden strengths, each in one plain sentence. Built only from the
    report's own gaps and mirror tables."""
    who = {"member": member, "officer": officer, "partnership": f"{member} and {officer}"}
    m = mirror[mirror["flag"] == "mirror"] if "flag" in mirror.columns else mirror.iloc[0:0]
    m = m.assign(_size=m["gap"].astype("float64").abs()).sort_values(
        "_size", ascending=False, kind="stable"
    )
    mirrors = pd.DataFrame(
        {
            "kind": "mirror",
            "dimension_code": m["dimension_code"],
            "dimension_name": m["dimension_name"],
            "target": "partnership",
            "first": m["member_view"].astype("float64"),
            "second": m["officer_view"].astype("float64"),
            "gap": m["gap"].astype("float64"),
            "text": [
                f"{name}: {member} rates the partnership {_pf(a)} and {officer} rates it "
                f"{_pf(b)} — they see it differently and could agree what each can expect "
                "of the other."
                for name, a, b in zip(
                    m["dimension_name"], m["member_view"], m["officer_view"], strict=True
                )
            ],
        }
    )
    f = gaps[gaps["flag"].isin(["blind spot", "hidden strength"])]
    f = f.assign(
        _k=(f["flag"] == "hidden strength").astype(int), _size=-f["gap"].astype(float).abs()
    ).sort_values(["_k", "_size"], kind="stable")
    flags = pd.DataFrame(
        {
            "kind": f["flag"],
            "dimension_code": f["dimension_code"],
            "dimension_name": f["dimension_name"],
            "target": f["target"],
            "first": f["self_mean"].astype("float64"),
            "second": f["others_mean"].astype("float64"),
            "gap": f["gap"].astype("float64"),
            "text": [
                f"{name}: {who.get(t, t)}'s own rating {_pf(a)}, everyone else's {_pf(b)} "
                f"({int(n)} raters) — a {flag}."
                for name, t, a, b, n, flag in zip(
                    f["dimension_name"],
                    f["target"],
                    f["self_mean"],
                    f["others_mean"],
                    f["others_n"],
                    f["flag"],
                    strict=True,
                )
            ],
        }
    )
    out = pd.concat([mirrors, flags], ignore_index=True)
    return out[COLUMNS["findings"]] if not out.empty else pd.DataFrame(columns=COLUMNS["findings"])


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

    mirror = _mirror(c, pairing_id)
    meta.update(
        finding_gap=FINDING_GAP,
        mirror_threshold=MIRROR_THRESHOLD,
        min_others=min_others(c.threshold),
        min_flag_items=MIN_FLAG_ITEMS,
    )
    return PairingReport(
        meta=meta,
        groups=_published_groups(groups, c.threshold),
        items=_pick(items, "items"),
        dimensions=_pick(dims, "dimensions"),
        gaps=_pick(gaps, "gaps"),
        top_items=_pick(top, "top_items"),
        bottom_items=_pick(bottom, "bottom_items"),
        mirror=_pick(mirror, "mirror"),
        change=_pick(change, "change"),
        findings=report_findings(gaps, mirror, str(p["member_name"]), str(p["officer_name"])),
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
                "source": solace_source(bench.get("year"), bench.get("sample")),
            }
    return pd.DataFrame(
        list(rows.values()),
        columns=["item_code", "measure", "values", "national_pct", "label", "source"],
    )


def national_source(solace: pd.DataFrame) -> str:
    """The national figures' source as a Solace table gives it (an edition published before
    the source was stored gives the standing sentence)."""
    given = solace["source"].dropna() if "source" in solace.columns else pd.Series(dtype=object)
    return str(given.iloc[0]) if len(given) else solace_source()


def solace_source(year: Any = None, sample: Any = None) -> str:
    """The national figures' source in one sentence, with its year and sample where known."""
    if year and sample:
        return f"{SOLACE_SOURCE} ({year}; {sample} chief executives answered)."
    if year:
        return f"{SOLACE_SOURCE} ({year}); how many chief executives answered is not confirmed."
    return f"{SOLACE_SOURCE}; {SOLACE_UNCONFIRMED}."


def _solace_table(
    parts: list[dict[str, Any]], benchmarks: pd.DataFrame, threshold: int
) -> pd.DataFrame:
    """Like for like with Solace, which asked chief executives about their leaders: the
    council's figure is the chief executives' answers about their leaders — leader–chief
    executive pairings only, never directors about cabinet members — from pairings of 12
    months or more; pairings under 12 months old are counted apart (new_pct), and the
    leaders' own answers are given beside (members_pct). Every percentage needs at least
    the cycle's threshold of answers behind it (with one leader–chief executive pairing it
    would be one person's answer), so it is often not given at all."""
    rows = [r for part in parts for r in part.get("solace", [])]
    answers = pd.DataFrame(rows, columns=["item_code", "side", "hit", "leader_ce", "new"])
    answers = answers[answers["leader_ce"].fillna(False).astype(bool)]
    new = answers["new"].fillna(False).astype(bool)
    out = benchmarks
    for mine, pct, n in (
        (answers[(answers["side"] == "officer_view") & ~new], "council_pct", "n"),
        (answers[(answers["side"] == "member_view") & ~new], "members_pct", "members_n"),
        (answers[(answers["side"] == "officer_view") & new], "new_pct", "new_n"),
    ):
        mine = mine.astype({"hit": "float64"})
        agg = mine.groupby("item_code").agg(**{pct: ("hit", "mean"), n: ("hit", "count")})
        agg[pct] = (100 * agg[pct]).round(1)
        out = out.merge(agg.reset_index(), on="item_code", how="left")
        out[n] = out[n].fillna(0).astype("int64")
        out[pct] = out[pct].astype("float64").where(out[n] >= threshold)
    if "source" not in out.columns:
        out = out.assign(source=solace_source())
    return out[COLUMNS["solace"]].reset_index(drop=True)


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def _findings(
    labels: dict[int, str],
    findings: pd.DataFrame,
    heatmap: pd.DataFrame,
    solace: pd.DataFrame,
    rates: pd.DataFrame,
    threshold: int,
) -> list[str]:
    """Key findings in plain words, the robust ones first: each pairing's mirror findings
    (where the two principals see their partnership differently), then its blind spots and
    hidden strengths — each already past the finding rule in its own report — then the
    council-wide picture and the gated Solace figures. Built only from the pairings'
    published findings and the gated council figures."""
    out: list[str] = []
    kinds = findings["kind"] if "kind" in findings.columns else pd.Series(dtype=object)
    for kind, heading in (
        ("mirror", "The pair see their partnership differently"),
        ("blind spot", "Blind spot"),
        ("hidden strength", "Hidden strength"),
    ):
        for row in findings[kinds == kind].itertuples(index=False):
            out.append(f"{heading} — {labels[int(row.pairing_id)]}: {row.text}")
    if not out:
        out.append(
            "No pairing shows a mirror, a blind spot or a hidden strength that passes the "
            f"rule (a gap of at least {FINDING_GAP:.2f} points, every item the same way)."
        )
    invited, responded = int(rates["invited"].sum()), int(rates["responded"].sum())
    if invited:
        out.append(
            f"{responded} of {invited} invited people responded "
            f"({round(100 * responded / invited)}%) across {len(labels)} pairings."
        )
    if not heatmap.empty:
        by_dim = heatmap.groupby("dimension_name")["score"].mean().sort_values()
        out.append(
            f"Partnerships score lowest on {by_dim.index[0]} ({_fmt(by_dim.iloc[0])}) and "
            f"highest on {by_dim.index[-1]} ({_fmt(by_dim.iloc[-1])}) across the council."
        )
    for row in solace.itertuples():
        if row.n and not pd.isna(row.council_pct):
            leaders = (
                f"; the leaders themselves say {row.members_pct:.0f}%"
                if row.members_n and not pd.isna(row.members_pct)
                else ""
            )
            out.append(
                f"{row.label.capitalize()}: {row.council_pct:.0f}% of the chief executives' "
                f"answers about their leaders here ({row.n} answers) against "
                f"{row.national_pct:.0f}% of chief executives nationally (Solace){leaders}."
            )
    return out


def council_overview(
    session: Session, cycle_id: int, cutoffs: dict[int, datetime] | None = None
) -> CouncilOverview:
    """Every pairing of a cycle side by side, after suppression."""
    _reports, overview = council_reports(session, cycle_id, cutoffs)
    return overview


def is_new_pairing(started_on: pd.Series, on: Any) -> pd.Series:
    """True where a pairing had worked together for under NEW_PAIRING_MONTHS on `on` (the
    cycle's opening day); a pairing with no start date recorded counts as established."""
    since = pd.Timestamp(on) - pd.DateOffset(months=NEW_PAIRING_MONTHS)
    started = pd.to_datetime(started_on, errors="coerce")
    return (started > since).fillna(False).astype(bool)


def overview_parts(c: _Computed) -> dict[int, dict[str, Any]]:
    """Each pairing's part of the council overview (kept server-side with each snapshot, so
    that the overview is put together from exactly the pairings' results as served):
    heat (partnership score per dimension), distribution (answers per rating), the
    principals' Solace answers (hit or not) and the response rates."""
    ids = [int(p) for p in c.pairings["pairing_id"]]
    out: dict[int, dict[str, Any]] = {
        pid: {"heat": [], "distribution": [], "solace": [], "rates": []} for pid in ids
    }
    # Each pairing's partnership score: every shown partnership answer, pooled (as in the
    # pairing report's dimensions), so it is a function of the shown item cells.
    part = c.shown_values[c.shown_values["t"] == TARGET_CODE["partnership"]]
    heat = _pooled(part, ["pairing_id", "dp"]).merge(_dims_table(c), on="dp")
    for row in heat.sort_values(["pairing_id", "dp"]).itertuples():
        out[int(row.pairing_id)]["heat"].append(
            {
                "dimension_code": row.dimension_code,
                "dimension_name": row.dimension_name,
                "score": float(row.mean),
                "n": int(row.n),
            }
        )
    if not c.shown_values.empty:
        counts = c.shown_values.groupby(["pairing_id", "dp", "value"]).size()
        codes = dict(zip(c.dims["dp"], c.dims["dimension_code"], strict=True))
        for (pid, dp, value), n in counts.items():
            out[int(pid)]["distribution"].append(
                {"dimension_code": codes[int(dp)], "rating": int(value), "count": int(n)}
            )
    benchmarks = c.solace_benchmarks
    if not c.solace.empty and not benchmarks.empty:
        answers = c.solace.merge(c.items[["item_id", "item_code"]], on="item_id")
        answers = answers[answers["value"].notna()].merge(benchmarks, on="item_code")
        kinds = c.pairings.set_index("pairing_id")
        # the top pairings: leader, elected mayor or convener with the chief executive
        leader_ce = kinds["kind"].isin(TOP_KINDS)
        new = is_new_pairing(kinds["started_on"], c.cycle.opens_on)
        for row in answers.itertuples():
            pid = int(row.pairing_id)
            out[pid]["solace"].append(
                {
                    "item_code": row.item_code,
                    "side": SRC_NAME[int(row.g)],
                    "hit": int(row.value in row.values),
                    "leader_ce": bool(leader_ce.get(pid, False)),
                    "new": bool(new.get(pid, False)),
                }
            )
    for row in c.groups[c.groups["invited"] > 0].itertuples():
        out[int(row.pairing_id)]["rates"].append(
            {"group": row.group, "invited": int(row.invited), "responded": int(row.responded)}
        )
    return out


def contributors(c: _Computed) -> dict[int, dict[str, list[int]]]:
    """Per pairing, which responses stand behind each anonymous figure: each item and
    dimension cell of each shown group and of "everyone else", each shown group's replies
    and comments per dimension ("all": every response counted). Kept server-side with
    each snapshot and never served: two snapshots can then be compared by WHO stands
    behind a figure, not only how many (a reply added and another erased keeps n)."""
    sets: dict[int, dict[str, set[int]]] = {int(p): {} for p in c.pairings["pairing_id"]}
    v = c.shown_values
    anon = v[v["s"].between(SRC["members"], SRC["partners"]).to_numpy()]
    columns = (
        anon["pairing_id"].to_numpy(dtype="int64"),
        anon["response_id"].to_numpy(dtype="int64"),
        anon["s"].map(SRC_NAME).to_numpy(dtype=object),
        _lookup(c.items, "item_id", "item_code", anon["item_id"].to_numpy()),
        _lookup(c.dims, "dp", "dimension_code", anon["dp"].to_numpy()),
        np.array(TARGET_ORDER, dtype=object)[anon["t"].to_numpy(dtype="int64")],
    )
    for pid, rid, source, item, dim, target in zip(*columns, strict=True):
        mine = sets[int(pid)]
        for key in (
            f"item|{item}|{source}",
            f"item|{item}|others",
            f"dim|{dim}|{target}|{source}",
            f"dim|{dim}|{target}|others",
        ):
            mine.setdefault(key, set()).add(int(rid))
    shown = c.groups[c.groups["shown"] & c.groups["group"].isin(ANONYMOUS)]
    shown_keys = set(zip(shown["pairing_id"].astype(int), shown["group"], strict=True))
    resp = c.responses
    for pid, group, rid in zip(resp["pairing_id"], resp["group"], resp["response_id"], strict=True):
        mine = sets[int(pid)]
        mine.setdefault("all", set()).add(int(rid))
        if (int(pid), group) in shown_keys:
            mine.setdefault(f"replies|{group}", set()).add(int(rid))
    com = c.comments
    for pid, group, code, rid in zip(
        com["pairing_id"],
        com["rater_group"],
        com["dimension_code"],
        com["response_id"],
        strict=True,
    ):
        if (int(pid), group) in shown_keys:
            sets[int(pid)].setdefault(f"comments|{group}|{code}", set()).add(int(rid))
    # Open answers and choices of what matters most are held like comments (framework 2026.2).
    opened = c.open_answers
    for pid, group, question, rid in zip(
        opened.get("pairing_id", ()),
        opened.get("rater_group", ()),
        opened.get("question", ()),
        opened.get("response_id", ()),
        strict=True,
    ):
        if (int(pid), group) in shown_keys:
            sets[int(pid)].setdefault(f"comments|{group}|open:{question}", set()).add(int(rid))
    picks = c.picks
    for pid, g, code, rid in zip(
        picks.get("pairing_id", ()),
        picks.get("g", ()),
        picks.get("dimension_code", ()),
        picks.get("response_id", ()),
        strict=True,
    ):
        group = SRC_NAME.get(int(g))
        if (int(pid), group) in shown_keys:
            sets[int(pid)].setdefault(f"comments|{group}|pick:{code}", set()).add(int(rid))
    return {pid: {k: sorted(ids) for k, ids in d.items()} for pid, d in sets.items()}


def assemble_overview(
    cycle: Cycle,
    council_name: str,
    labels: dict[int, str],
    dims: pd.DataFrame,
    benchmarks: pd.DataFrame,
    parts: dict[int, dict[str, Any]],
    sections: dict[int, dict[str, Any]],
) -> CouncilOverview:
    """The council overview put together from each pairing's part and its report as
    served (`labels` in display order; dims: dimension_code, dimension_name in order).
    Nothing is computed from the answers here, so the overview moves only when a
    pairing's served results move."""
    heat_rows = [
        {"pairing_id": pid, "pairing_label": labels[pid], **r}
        for pid in labels
        for r in parts.get(pid, {}).get("heat", [])
    ]
    heat = pd.DataFrame(heat_rows, columns=COLUMNS["heatmap"])
    counts: dict[tuple[str, int], int] = {}
    for pid in labels:
        for r in parts.get(pid, {}).get("distribution", []):
            key = (r["dimension_code"], int(r["rating"]))
            counts[key] = counts.get(key, 0) + int(r["count"])
    dist = pd.DataFrame(
        [
            {
                "dimension_code": code,
                "dimension_name": name,
                "rating": rating,
                "count": counts.get((code, rating), 0),
            }
            for code, name in zip(dims["dimension_code"], dims["dimension_name"], strict=True)
            for rating in range(1, 6)
        ],
        columns=COLUMNS["distribution"],
    )
    solace = _solace_table(
        [parts.get(pid, {}) for pid in labels], benchmarks, cycle.anonymity_threshold
    )
    rate_rows = [
        {"pairing_id": pid, "pairing_label": labels[pid], **r}
        for pid in labels
        for r in parts.get(pid, {}).get("rates", [])
    ]
    rates = pd.DataFrame(rate_rows, columns=COLUMNS["response_rates"][:-1])
    rates = rates.assign(rate=rates["responded"] / rates["invited"])[COLUMNS["response_rates"]]

    def table(name: str, columns: list[str]) -> pd.DataFrame:
        rows = [
            {**r, "pairing_id": pid}
            for pid in labels
            for r in (sections.get(pid) or {}).get(name) or []
        ]
        return pd.DataFrame(rows, columns=["pairing_id", *columns])

    meta = {
        "cycle_id": cycle.id,
        "cycle_name": cycle.name,
        "council_name": council_name,
        "threshold": cycle.anonymity_threshold,
        "edition": None,
    }
    findings = _findings(
        labels,
        table("findings", COLUMNS["findings"]),
        heat,
        solace,
        rates,
        cycle.anonymity_threshold,
    )
    return CouncilOverview(
        meta=meta,
        heatmap=_pick(heat, "heatmap"),
        distribution=_pick(dist, "distribution"),
        solace=solace,
        response_rates=_pick(rates, "response_rates"),
        findings=findings,
    )


def _overview_from(
    session: Session,
    c: _Computed,
    reports: dict[int, PairingReport],
) -> CouncilOverview:
    labels = {
        int(p): str(label)
        for p, label in zip(c.pairings["pairing_id"], c.pairings["pairing_label"], strict=True)
    }
    return assemble_overview(
        c.cycle,
        c.council_name,
        labels,
        c.dims,
        c.solace_benchmarks,
        overview_parts(c),
        {pid: r.to_dict() for pid, r in reports.items()},
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
    return reports, _overview_from(session, c, reports)


# --- national comparison -------------------------------------------------------------------


def national_comparison(session: Session) -> pd.DataFrame:
    """The two Solace-comparable measures per council (its latest closed or published cycle)
    and for all councils together, in percent of the chief executives' answers about their
    leaders (leader–chief executive pairings of 12 months or more, like for like with
    Solace). One aggregate query over the answers."""
    benchmarks = _benchmarks(session)
    if benchmarks.empty:
        return pd.DataFrame(columns=NATIONAL_COLUMNS)
    ranked = select(
        Cycle.id.label("cycle_id"),
        Cycle.council_id.label("council_id"),
        Cycle.anonymity_threshold.label("threshold"),
        Cycle.opens_on.label("opens_on"),
        func.row_number()
        .over(partition_by=Cycle.council_id, order_by=(Cycle.opens_on.desc(), Cycle.id.desc()))
        .label("rn"),
    ).where(Cycle.status.in_(FINISHED))
    ranked = ranked.subquery()
    latest = (
        select(ranked.c.cycle_id, ranked.c.council_id, ranked.c.threshold, ranked.c.opens_on)
        .where(ranked.c.rn == 1)
        .subquery()
    )
    query = (
        select(
            latest.c.council_id,
            Council.name,
            latest.c.threshold,
            latest.c.opens_on,
            Pairing.started_on,
            Item.code,
            Rating.value,
            func.count(),
        )
        .select_from(Item)
        .join(Rating, Rating.item_id == Item.id)
        .join(Response, Response.id == Rating.response_id)
        .join(Invitation, Invitation.id == Response.invitation_id)
        .join(latest, latest.c.cycle_id == Invitation.cycle_id)
        .join(Council, Council.id == latest.c.council_id)
        .join(Pairing, Pairing.id == Invitation.pairing_id)
        .where(
            # the chief executives' answers about their leaders, like for like with Solace
            Invitation.rater_id == Pairing.officer_id,
            Pairing.kind.in_(TOP_KINDS),
            Item.dimension_id.is_(None),
            Item.code.in_(list(benchmarks["item_code"])),
            Rating.value.is_not(None),
            Response.status == ResponseStatus.submitted,
        )
        .group_by(
            latest.c.council_id,
            Council.name,
            latest.c.threshold,
            latest.c.opens_on,
            Pairing.started_on,
            Item.code,
            Rating.value,
        )
    )
    rows = pd.DataFrame(
        session.execute(query).all(),
        columns=[
            "council_id",
            "council_name",
            "threshold",
            "opens_on",
            "started_on",
            "item_code",
            "value",
            "count",
        ],
    )
    # Pairings under 12 months old are left out: "still developing" is where they start.
    since = pd.to_datetime(rows["opens_on"]) - pd.DateOffset(months=NEW_PAIRING_MONTHS)
    rows = rows[~(pd.to_datetime(rows["started_on"], errors="coerce") > since).to_numpy()]
    if rows.empty:
        return pd.DataFrame(columns=NATIONAL_COLUMNS)
    rows = rows.merge(benchmarks, on="item_code")
    hit = [v in vals for v, vals in zip(rows["value"], rows["values"], strict=True)]
    rows["hits"] = rows["count"] * np.array(hit, dtype="int64")
    per = rows.groupby(["council_id", "council_name", "measure"])[["hits", "count"]].sum()
    # A council's figure needs at least its cycle's threshold of answers (with one chief
    # executive per council, it is usually not shown). "All councils" pools the councils
    # shown, and the hidden ones too when together they have at least the largest threshold
    # of answers: set against the councils shown, the total then gives back only a figure
    # of that many answers, never one council's.
    needs = rows.groupby(["council_id", "council_name", "measure"])["threshold"].max()
    shown = per["count"] >= needs
    hidden_count = per[~shown].groupby(level="measure")["count"].sum()
    enough = hidden_count >= int(rows["threshold"].max())
    pooled = shown | per.index.get_level_values("measure").map(enough).fillna(False).to_numpy(
        dtype=bool
    )
    total = per[pooled].groupby(level="measure")[["hits", "count"]].sum()
    per["hits"] = per["hits"].where(shown, 0)
    total = total.reindex(sorted(set(rows["measure"])), fill_value=0)
    total.index = pd.MultiIndex.from_tuples(
        [(0, "All councils", m) for m in total.index], names=per.index.names
    )
    both = pd.concat([per, total])
    both["pct"] = (100 * both["hits"] / both["count"]).round(1)
    both.loc[both.index.isin(per.index[~shown]), "pct"] = np.nan
    total_n = both.index.get_level_values("council_id") == 0
    both.loc[total_n & (both["count"] == 0).to_numpy(), "pct"] = np.nan
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
