"""What a result is: the pairing report and the council overview as tables, their JSON
(what an edition stores) and the words every screen, PDF and the CLI use for them.

No queries and no arithmetic on answers here: feedback/results/engine.py computes the
figures, feedback/results/report.py puts them into these tables.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, TypedDict, cast

import numpy as np
import pandas as pd

from core.vocabulary import COMMENT_LANGUAGE_LABELS, GROUP_LABELS, CycleStatus

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
GROUP_OF_CODE = {
    SRC["members"]: "members",
    SRC["officers"]: "officers",
    SRC["partners"]: "partners",
    SRC["member_view"]: "principal",
    SRC["officer_view"]: "principal",
}
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
    if isinstance(value, list) and _flat_served(value):
        return list(value)  # a table's records with nothing to remove: not rebuilt
    if isinstance(value, dict):
        return {k: without_unshown(v) for k, v in value.items() if k not in NOT_SERVED}
    if isinstance(value, list):
        return [without_unshown(v) for v in value]
    return value


def _flat_served(records: list[Any]) -> bool:
    """Whether these are flat records (plain values only) holding no NOT_SERVED key: the
    common case, checked far quicker than rebuilding every record."""
    nested = (dict, list)
    return all(
        type(r) is dict
        and NOT_SERVED.isdisjoint(r)
        and not any(isinstance(v, nested) for v in r.values())
        for r in records
    )


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


def plain_value(value: Any) -> Any:
    """A value as JSON-safe Python: numpy scalars unwrapped, missing as None, times in ISO."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    return value


def plain_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A table's rows as JSON-safe dicts (`plain_value`)."""
    return [{str(k): plain_value(v) for k, v in row.items()} for row in frame.to_dict("records")]


def table_frame(records: list[dict[str, Any]] | None, name: str) -> pd.DataFrame:
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


# --- what a report says about itself -----------------------------------------------------------


class ReportMeta(TypedDict, total=False):
    """A pairing report's metadata, as stored in an edition (JSON): an edition published
    before a key was added lacks it, so every key may be missing."""

    cycle_id: int
    cycle_name: str
    council_name: str
    pairing_id: int
    pairing_label: str
    kind: str
    member_name: str
    member_title: str
    officer_name: str
    officer_title: str
    portfolio: str
    threshold: int
    edition: int | None  # None: computed live (a staff read before publication)
    published_at: str  # ISO time, editions only
    previous_cycle_name: str | None  # None: no change table (no published previous cycle)
    framework_version: str
    previous_framework_version: str | None
    not_asked: dict[str, list[str]]  # item code → the anonymous groups not asked it
    finding_gap: float
    mirror_threshold: float
    min_others: int
    min_flag_items: int


class OverviewMeta(TypedDict, total=False):
    """The council overview's metadata, as stored in an edition (JSON)."""

    cycle_id: int
    cycle_name: str
    council_name: str
    threshold: int
    edition: int | None


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
        frame = table_frame(report._stored.pop(self.name, None), self.name)
        report.__dict__[self.name] = frame  # set once; later reads skip this descriptor
        return frame


class PairingReport:
    """One pairing's results: what the report page, the CLI, plans and exports show."""

    TABLES: ClassVar[tuple[str, ...]] = (
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
        meta: ReportMeta,
        comments: dict[str, list[str]] | None = None,
        notices: list[str] | None = None,
        open_answers: list[dict[str, Any]] | None = None,
        comment_languages: dict[str, list[str]] | None = None,
        **frames: pd.DataFrame,
    ) -> None:
        unknown = set(frames) - set(self.TABLES)
        if unknown:
            raise TypeError(f"unknown report tables: {sorted(unknown)}")
        self.meta = meta
        self.comments = comments if comments is not None else {}
        # Each comment's language ("en" / "cy"), in the comments' order, for the dimensions
        # whose comments may say it (engine.comment_languages); absent: none is said.
        self.comment_languages = comment_languages if comment_languages is not None else {}
        self.notices = notices if notices is not None else []
        # Framework 2026.2: each open question ({code, target, question, answers}), its
        # answers under the comments' rules (shown groups only, unattributed, alphabetical).
        self.open_answers = open_answers if open_answers is not None else []
        self._stored: dict[str, list[dict[str, Any]]] = {}
        for name, frame in frames.items():
            setattr(self, name, frame)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"meta": {k: plain_value(v) for k, v in self.meta.items()}}
        for name in self.TABLES:
            if name in self.__dict__:
                out[name] = plain_records(self.__dict__[name])
            else:  # never made into a DataFrame: the stored records are the answer
                out[name] = [dict(r) for r in self._stored.get(name) or []]
        out["comments"] = {k: list(v) for k, v in self.comments.items()}
        out["comment_languages"] = {k: list(v) for k, v in self.comment_languages.items()}
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

    def comment_sections_with_languages(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """`comment_sections` with each comment's language beside it ("" where the rule
        says nothing): what the report page lists under "Comments"."""
        dims = self.dimensions.drop_duplicates("dimension_code")
        names = dict(zip(dims["dimension_code"], dims["dimension_name"], strict=True))
        return [
            (
                str(names.get(code, code)),
                [(text, self.comment_language(code, i)) for i, text in enumerate(texts)],
            )
            for code, texts in self.comments.items()
            if texts
        ]

    def comment_language(self, code: str, index: int) -> str:
        """The words naming comment `index` of dimension `code`'s language ("Cymraeg",
        "English"), or "" where the rule says nothing (engine.comment_languages)."""
        said = self.comment_languages.get(code) or []
        language = said[index] if index < len(said) else ""
        return COMMENT_LANGUAGE_LABELS.get(language, "")

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
            meta=cast(ReportMeta, dict(data.get("meta", {}))),
            comments={k: list(v) for k, v in (data.get("comments") or {}).items()},
            comment_languages={
                k: list(v) for k, v in (data.get("comment_languages") or {}).items()
            },
            notices=list(data.get("notices") or []),
            open_answers=[dict(q) for q in data.get("open_answers") or []],
        )
        report._stored = {name: without_unshown(data.get(name) or []) for name in cls.TABLES}
        return report


@dataclass
class CouncilOverview:
    meta: OverviewMeta
    heatmap: pd.DataFrame
    distribution: pd.DataFrame
    solace: pd.DataFrame
    response_rates: pd.DataFrame
    findings: list[str] = field(default_factory=list)

    TABLES: ClassVar[tuple[str, ...]] = ("heatmap", "distribution", "solace", "response_rates")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"meta": {k: plain_value(v) for k, v in self.meta.items()}}
        for name in self.TABLES:
            out[name] = plain_records(getattr(self, name))
        out["findings"] = list(self.findings)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CouncilOverview:
        frames = {name: table_frame(data.get(name), name) for name in cls.TABLES}
        return cls(
            meta=cast(OverviewMeta, dict(data.get("meta", {}))),
            findings=list(data.get("findings") or []),
            **frames,
        )


def min_others(threshold: int) -> int:
    """Raters behind "everyone else" for a blind spot or hidden strength."""
    return max(MIN_OTHERS, int(threshold))


def replies_text(responded: int | str, invited: int) -> str:
    """A group's replies as every screen, PDF and the CLI say them: "3 of 4", or for a
    group too small to show, "fewer than 3 (2 invited)"."""
    if isinstance(responded, str):
        return f"{responded} ({int(invited)} invited)"
    return f"{int(responded)} of {int(invited)}"


def finding_rule(meta: ReportMeta | Mapping[str, Any]) -> str:
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
