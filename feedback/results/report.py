"""Reports built from the engine's figures: the pairing report (with the change since the
previous cycle's published edition), the council overview and the national comparison
with Solace. Confidentiality is the engine's (feedback/results/engine.py); access, and
holding a pairing back against what was shown before, are feedback/results/publication.py's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlmodel import Session, col

from core.errors import NotFound
from core.models import Council
from core.vocabulary import (
    FULL_WITHHELD,
    GROUP_LABELS,
    PULSE_WITHHELD,
    TOP_KINDS,
    CycleKind,
    ResponseStatus,
)
from feedback.models import (
    Cycle,
    CyclePairing,
    FrameworkVersion,
    Invitation,
    Item,
    Pairing,
    Rating,
    Response,
)
from feedback.results.engine import (
    Computed,
    compute,
    gap_table,
    matters_most_table,
    mirror_tables,
    named_dims,
    named_items,
    overview_parts,
)
from feedback.results.loading import (
    load,
    load_cycle,
    previous_cycles,
    previous_published_dimensions,
    previous_published_dimensions_of,
    solace_benchmarks,
    stored_id,
)
from feedback.results.tables import (
    ANONYMOUS,
    COLUMNS,
    FINDING_GAP,
    FINISHED,
    GROUP_ORDER,
    MIN_FLAG_ITEMS,
    MIRROR_THRESHOLD,
    NATIONAL_COLUMNS,
    NEW_PAIRING_MONTHS,
    SOURCE_ORDER,
    TOP_N,
    CouncilOverview,
    OverviewMeta,
    PairingReport,
    ReportMeta,
    min_others,
    plain_records,
    plain_value,
    solace_source,
    table_frame,
)
from feedback.setup.framework import render_item

CHANGE_SOURCES = ("self", "partner", "others")


def compute_cycle(
    session: Session,
    cycle: Cycle,
    pairing_id: int | None = None,
    cutoffs: dict[int, datetime] | None = None,
    withheld: frozenset[int] = frozenset(),
) -> Computed:
    """The engine's figures for a cycle (or one pairing of it), by the cut-offs, with the
    `withheld` item cells left out (engine.compute)."""
    return compute(load(session, cycle, pairing_id, cutoffs), withheld)


def change_since(
    session: Session, previous: Cycle | None, pairing_id: int, dimensions: pd.DataFrame
) -> tuple[str | None, pd.DataFrame]:
    """THE change since the previous cycle: (the previous cycle's name, or None when it
    gives no comparison; the change table), against the previous cycle AS PUBLISHED — its
    latest edition's dimension table for this pairing — never figures computed live, which
    could show a cycle never published or a reply its edition held back. `dimensions` is
    the report's own dimension table."""
    records = previous_published_dimensions(session, previous, pairing_id) if previous else None
    name = previous.name if previous is not None and records is not None else None
    return name, _change_table(records, dimensions)[1]


def _change_table(
    records: list[dict[str, Any]] | None, dimensions: pd.DataFrame
) -> tuple[None, pd.DataFrame]:
    empty = pd.DataFrame(columns=COLUMNS["change"])
    if not records:
        return None, empty
    before = pd.DataFrame(records)
    keys = ["dimension_code", "target", "source"]
    if not {*keys, "mean"} <= set(before.columns):
        return None, empty
    now = dimensions[dimensions["source"].isin(CHANGE_SOURCES)]
    change = now.merge(
        before[[*keys, "mean"]].rename(columns={"mean": "previous"}), on=keys
    ).rename(columns={"mean": "current"})
    change["previous"] = change["previous"].astype("float64")
    change["current"] = change["current"].astype("float64")
    change["change"] = change["current"] - change["previous"]
    change = change.dropna(subset=["previous", "current"])
    return None, empty if change.empty else change[COLUMNS["change"]].reset_index(drop=True)


def _published_groups(groups: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The groups table as published: a group too small to show says "fewer than N"
    replies, not how many (the count would tell a principal who replied late)."""
    out = groups[COLUMNS["groups"]].reset_index(drop=True)
    hidden = out["group"].isin(ANONYMOUS).to_numpy() & ~out["shown"].to_numpy(dtype=bool)
    responded = out["responded"].astype(object)
    responded[hidden] = f"fewer than {threshold}"
    return out.assign(responded=responded)


def _pick(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    columns = COLUMNS[name]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    out = frame[columns].reset_index(drop=True)
    for column in ("n", "others_n"):
        if column in out.columns and not out[column].isna().any():
            out[column] = out[column].astype("int64")
    return out


def _pf(x: float) -> str:
    return f"{float(x):.1f}"


def _pulse_notice(
    session: Session, c: Computed, pairing_id: int, previous: Cycle | None
) -> list[str]:
    """What a 90-day pulse asked and what its change is against: like with like, the same
    dimensions and questions only (none for a full cycle)."""
    if c.cycle.kind != CycleKind.pulse:
        return []
    place = session.get(CyclePairing, (stored_id(c.cycle), int(pairing_id)))
    focus = set(place.focus_dimensions or []) if place is not None else set()
    names = c.dims.loc[c.dims["dimension_code"].isin(focus), "dimension_name"].tolist()
    asked = ", ".join(names) if names else "none"
    against = (
        f"Change is shown against '{previous.name}' for those dimensions and questions only "
        "(like with like); everything else in that cycle's report was not asked again."
        if previous is not None
        else "There is no full cycle to compare it with."
    )
    return [
        f"This is a 90-day pulse: it asked only the plan's focus dimensions ({asked}) and "
        f"the questions about the partnership in every dimension. {against}"
    ]


def _framework_version(session: Session, cycle: Cycle | None) -> str | None:
    version = session.get(FrameworkVersion, cycle.framework_version_id) if cycle else None
    return version.version if version is not None else None


def pairing_report_from(
    session: Session, c: Computed, pairing_id: int, gaps_all: pd.DataFrame | None = None
) -> PairingReport:
    """One pairing's report from the engine's figures (`gaps_all`: the gap table of every
    pairing, when the caller has it), its change against the previous cycle as published."""
    section = _sections(session, c, [int(pairing_id)], gaps_all, frames=True)[int(pairing_id)]
    tables = {name: section.pop(name) for name in PairingReport.TABLES}
    return PairingReport(**section, **tables)


def _change_records(
    records: list[dict[str, Any]] | None, dimensions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The change table's records (`change_since`) from the previous edition's dimension
    records and this report's."""
    if not records:
        return []
    frame = table_frame(dimensions, "dimensions")
    _name, change = _change_table(records, frame)
    return plain_records(change)


# --- every pairing's report of a cycle in one pass ----------------------------------------------


def _plain_column(series: pd.Series) -> list[Any]:
    """A column as JSON-safe Python values (missing: None), as `plain_records` gives them."""
    values = series.to_numpy(dtype=object)
    missing = series.isna().to_numpy(dtype=bool)
    if missing.any():
        values = values.copy()
        values[missing] = None
    out = values.tolist()
    if series.dtype == object:
        out = [plain_value(v) for v in out]
    return out


def _split(frame: pd.DataFrame, name: str, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """A table of every pairing (with pairing_id) as each pairing's records, in order, each
    with the table's columns only; a count column becomes whole numbers wherever a
    pairing's column has no gap (as `_pick` does for one pairing)."""
    columns = COLUMNS[name]
    out: dict[int, list[dict[str, Any]]] = {pid: [] for pid in ids}
    if frame.empty:
        return out
    pid = frame["pairing_id"].to_numpy(dtype="int64")
    order = np.argsort(pid, kind="stable")  # each pairing's rows together, in their order
    ordered = frame.iloc[order]
    lists = [_plain_column(ordered[c]) for c in columns]
    records = [dict(zip(columns, values, strict=True)) for values in zip(*lists, strict=True)]
    pid = pid[order]
    starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]])
    ends = np.r_[starts[1:], len(pid)]
    for p, a, b in zip(pid[starts].tolist(), starts.tolist(), ends.tolist(), strict=True):
        if p in out:
            out[p] = records[a:b]
    for column in ("n", "others_n"):
        if column in columns and frame[column].dtype.kind not in "iu":
            for rows in out.values():
                if rows and all(r[column] is not None for r in rows):
                    for r in rows:
                        r[column] = int(r[column])
    return out


def _shown_texts_all(frame: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """`shown_texts` for every pairing at once (each pairing's shown groups only): the
    same order within each pairing."""
    if frame.empty:
        return frame
    shown = groups[groups["shown"]]
    keys = set(zip(shown["pairing_id"].astype("int64").tolist(), shown["group"], strict=True))
    pids = frame["pairing_id"].to_numpy(dtype="int64").tolist()
    keep = [(p, g) in keys for p, g in zip(pids, frame["rater_group"], strict=True)]
    out = frame[np.array(keep, dtype=bool)]
    if out.empty:
        return out
    return out.assign(_k=out["text"].str.casefold()).sort_values(["_k", "text"])


def _labelled_pairings(com: pd.DataFrame, threshold: int) -> set[int]:
    """The pairings whose shown comments may each say their language
    (engine.comment_languages, for every pairing at once)."""
    if com.empty or "language" not in com:
        return set()
    frame = pd.DataFrame(
        {
            "pairing_id": com["pairing_id"].to_numpy(dtype="int64"),
            "language": com["language"].fillna("en").astype(str).to_numpy(dtype=object),
            "anonymous": com["rater_group"].isin(ANONYMOUS).to_numpy(dtype=bool),
            "response_id": com["response_id"].to_numpy(),
        }
    )
    count = frame.groupby("pairing_id")["language"].nunique()
    several = set(count[count >= 2].index.astype("int64").tolist())
    if not several:
        return set()
    present = frame[["pairing_id", "language"]].drop_duplicates()
    anon = frame[frame["anonymous"]]
    writers = anon.groupby(["pairing_id", "language"])["response_id"].nunique()
    got = writers.reindex(pd.MultiIndex.from_frame(present), fill_value=0)
    enough = (got >= threshold).groupby(level="pairing_id").all()
    return {int(p) for p in enough[enough].index if int(p) in several}


def _findings_all(gaps: pd.DataFrame, mirror: pd.DataFrame, pairings: pd.DataFrame) -> pd.DataFrame:
    """`report_findings` for every pairing at once (with pairing_id), in each pairing's order."""
    names = pairings.set_index("pairing_id")
    member_of = names["member_name"].astype(str).to_dict()
    officer_of = names["officer_name"].astype(str).to_dict()
    m = mirror[mirror["flag"] == "mirror"] if "flag" in mirror.columns else mirror.iloc[0:0]
    mp = m["pairing_id"].to_numpy(dtype="int64").tolist()
    mirrors = pd.DataFrame(
        {
            "pairing_id": m["pairing_id"].to_numpy(dtype="int64"),
            "_part": 0,
            "_k": 0,
            "_size": -m["gap"].astype("float64").abs().to_numpy(),
            "kind": "mirror",
            "dimension_code": m["dimension_code"].to_numpy(dtype=object),
            "dimension_name": m["dimension_name"].to_numpy(dtype=object),
            "target": "partnership",
            "first": m["member_view"].astype("float64").to_numpy(),
            "second": m["officer_view"].astype("float64").to_numpy(),
            "gap": m["gap"].astype("float64").to_numpy(),
            "text": [
                f"{name}: {member_of[p]} rates the partnership {_pf(a)} and {officer_of[p]} "
                f"rates it {_pf(b)} — they see it differently and could agree what each can "
                "expect of the other."
                for p, name, a, b in zip(
                    mp, m["dimension_name"], m["member_view"], m["officer_view"], strict=True
                )
            ],
        }
    )
    f = gaps[gaps["flag"].isin(["blind spot", "hidden strength"])]
    fp = f["pairing_id"].to_numpy(dtype="int64").tolist()

    def who(p: int, t: str) -> str:
        member, officer = member_of[p], officer_of[p]
        return {"member": member, "officer": officer, "partnership": f"{member} and {officer}"}.get(
            t, t
        )

    flags = pd.DataFrame(
        {
            "pairing_id": f["pairing_id"].to_numpy(dtype="int64"),
            "_part": 1,
            "_k": (f["flag"] == "hidden strength").astype(int).to_numpy(),
            "_size": -f["gap"].astype(float).abs().to_numpy(),
            "kind": f["flag"].to_numpy(dtype=object),
            "dimension_code": f["dimension_code"].to_numpy(dtype=object),
            "dimension_name": f["dimension_name"].to_numpy(dtype=object),
            "target": f["target"].to_numpy(dtype=object),
            "first": f["self_mean"].astype("float64").to_numpy(),
            "second": f["others_mean"].astype("float64").to_numpy(),
            "gap": f["gap"].astype("float64").to_numpy(),
            "text": [
                f"{name}: {who(p, t)}'s own rating {_pf(a)}, everyone else's {_pf(b)} "
                f"({int(n)} raters) — a {flag}."
                for p, name, t, a, b, n, flag in zip(
                    fp,
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
    if out.empty:
        return pd.DataFrame(columns=["pairing_id", *COLUMNS["findings"]])
    out = out.sort_values(["pairing_id", "_part", "_k", "_size"], kind="stable")
    return out[["pairing_id", *COLUMNS["findings"]]]


def _notices_of(
    c: Computed,
    groups: list[dict[str, Any]],
    held: set[str],
    hidden: set[str],
) -> list[str]:
    """`_notices` from one pairing's group records (as computed, before publishing)."""
    notices = []
    for row in groups:
        if row["group"] in ANONYMOUS and row["invited"] > 0 and not row["shown"]:
            notices.append(
                f"{row['label']}: fewer than {c.threshold} replies, so not shown (their scores "
                "and comments are left out everywhere, including 'everyone else')."
            )
    not_shown = {row["group"] for row in groups if not row["shown"]}
    for group in [g for g in GROUP_ORDER if g in held - not_shown]:
        notices.append(
            f"{GROUP_LABELS[group]}: "
            + (PULSE_WITHHELD if c.cycle.kind == CycleKind.pulse else FULL_WITHHELD).format(
                threshold=max(c.threshold, c.withheld_threshold)
            )
        )
    for group in [g for g in GROUP_ORDER if g in hidden - not_shown]:
        notices.append(
            f"{GROUP_LABELS[group]}: some questions were answered by fewer than {c.threshold} "
            "of them, so their figure for those questions is not shown."
        )
    return notices


def _groups_by_pairing(frame: pd.DataFrame, ids: list[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {pid: set() for pid in ids}
    for pid, group in zip(frame["pairing_id"].tolist(), frame["group"].tolist(), strict=True):
        if int(pid) in out:
            out[int(pid)].add(str(group))
    return out


def pairing_sections(
    session: Session,
    c: Computed,
    ids: list[int] | None = None,
    gaps_all: pd.DataFrame | None = None,
) -> dict[int, dict[str, Any]]:
    """Every pairing's report (or those of `ids`) from the engine's figures in one pass over
    the cycle, each as PairingReport.to_dict gives it (what an edition stores), with its
    change against the previous cycle as published. THE way a pairing report is made."""
    return _sections(session, c, ids, gaps_all, frames=False)


def _sections(
    session: Session,
    c: Computed,
    ids: list[int] | None,
    gaps_all: pd.DataFrame | None,
    frames: bool,
) -> dict[int, dict[str, Any]]:
    """`pairing_sections`; with `frames`, each table is the pairing's DataFrame (one
    pairing's report as the engine computed it, for `pairing_report_from`)."""
    known = [int(p) for p in c.pairings["pairing_id"]]
    ids = known if ids is None else [int(p) for p in ids]
    missing = set(ids) - set(known)
    if missing:
        raise NotFound("That pairing did not take part in this cycle.")
    if not ids:
        return {}
    wanted = set(ids)

    def mine(frame: pd.DataFrame) -> pd.DataFrame:
        if len(wanted) == len(known) or frame.empty:
            return frame
        return frame[frame["pairing_id"].isin(wanted).to_numpy()]

    pairings = c.pairings.set_index("pairing_id")
    groups = mine(c.groups)
    published = _published_groups(groups, c.threshold).assign(
        pairing_id=groups["pairing_id"].to_numpy()
    )
    group_rows: dict[int, Any] = _split(published, "groups", ids)
    computed_groups = _split(groups.assign(responded=groups["responded"]), "groups", ids)

    items = named_items(c, mine(c.item_stats))
    if not items.empty:
        pids = items["pairing_id"].to_numpy(dtype="int64").tolist()
        member = pairings["member_name"].astype(str).to_dict()
        officer = pairings["officer_name"].astype(str).to_dict()
        items["item_text"] = [
            str(t).replace("{member}", member[p]).replace("{officer}", officer[p])
            for t, p in zip(items["item_text"], pids, strict=True)
        ]
    dims = named_dims(c, mine(c.dim_stats))
    dims = dims[dims["source"].isin(SOURCE_ORDER)]
    gaps = mine(gaps_all if gaps_all is not None else gap_table(c))
    ranked = items[items["source"] == "others"] if not items.empty else items
    top = ranked.sort_values(
        ["pairing_id", "mean", "item_position"], ascending=[True, False, True], kind="stable"
    )
    bottom = ranked.sort_values(
        ["pairing_id", "mean", "item_position"], ascending=[True, True, True], kind="stable"
    )
    if not ranked.empty:
        top = top.groupby("pairing_id", sort=False).head(TOP_N)
        bottom = bottom.groupby("pairing_id", sort=False).head(TOP_N)
    mirror = mine(mirror_tables(c))
    findings = _findings_all(gaps, mirror, c.pairings)

    by_name = {
        "items": items,
        "dimensions": dims,
        "gaps": gaps,
        "top_items": top,
        "bottom_items": bottom,
        "mirror": mirror,
        "findings": findings,
    }
    tables: dict[str, dict[int, Any]] = {}
    for name, frame in by_name.items():
        if frames:
            tables[name] = {
                pid: _pick(frame[frame["pairing_id"] == pid], name)
                if not frame.empty
                else _pick(frame, name)
                for pid in ids
            }
        else:
            tables[name] = _split(frame, name, ids)
    if frames:
        group_rows = {
            pid: _published_groups(groups[groups["pairing_id"] == pid], c.threshold) for pid in ids
        }

    # Comments (and open answers): shown groups only, alphabetical; languages by the rule.
    com = _shown_texts_all(mine(c.comments), c.groups)
    labelled = _labelled_pairings(com, c.threshold)
    said: dict[int, dict[str, list[str]]] = {pid: {} for pid in ids}
    tagged: dict[int, dict[str, list[str]]] = {pid: {} for pid in ids}
    if not com.empty:
        languages = (
            com["language"].fillna("en").astype(str).tolist()
            if "language" in com
            else [""] * len(com)
        )
        for pid, code, text, language in zip(
            com["pairing_id"].to_numpy(dtype="int64").tolist(),
            com["dimension_code"].tolist(),
            com["text"].tolist(),
            languages,
            strict=True,
        ):
            said[pid].setdefault(code, []).append(text)
            if pid in labelled:
                tagged[pid].setdefault(code, []).append(language)
    codes = c.dims["dimension_code"].tolist()

    questions = c.spec.open_questions if c.spec is not None else None
    opened = _shown_texts_all(mine(c.open_answers), c.groups) if questions else None
    answers: dict[tuple[int, str], list[str]] = {}
    if opened is not None and not opened.empty:
        for pid, question, text in zip(
            opened["pairing_id"].to_numpy(dtype="int64").tolist(),
            opened["question"].tolist(),
            opened["text"].tolist(),
            strict=True,
        ):
            answers.setdefault((pid, question), []).append(text)

    held = _groups_by_pairing(c.withheld_cells, ids)
    hidden = _groups_by_pairing(c.hidden_cells, ids)
    previous = previous_cycles(session, c.cycle, ids)
    before = previous_published_dimensions_of(session, previous)
    versions: dict[int, str | None] = {}
    not_asked = c.spec.not_asked() if c.spec is not None else {}
    has_picks = (
        set(c.picks["pairing_id"].astype("int64").tolist())
        if not c.picks.empty and "pairing_id" in c.picks
        else set()
    )

    out: dict[int, dict[str, Any]] = {}
    for pid in ids:
        p = pairings.loc[pid]
        prev = previous.get(pid)
        if prev is not None and stored_id(prev) not in versions:
            versions[stored_id(prev)] = _framework_version(session, prev)
        records = before.get(pid)
        prev_name = prev.name if prev is not None and records is not None else None
        if frames:
            change: Any = _change_table(records, tables["dimensions"][pid])[1]
        else:
            change = _change_records(records, tables["dimensions"][pid])
        meta: ReportMeta = {
            "cycle_id": stored_id(c.cycle),
            "cycle_name": c.cycle.name,
            "council_name": c.council_name,
            "pairing_id": int(pid),
            "pairing_label": str(p["pairing_label"]),
            "kind": str(p["kind"]),
            "member_name": str(p["member_name"]),
            "member_title": str(p["member_title"]),
            "officer_name": str(p["officer_name"]),
            "officer_title": str(p["officer_title"]),
            "portfolio": str(p["portfolio"]),
            "threshold": c.threshold,
            "edition": None,
            "previous_cycle_name": prev_name,
            "framework_version": c.framework_version,
            "previous_framework_version": versions[stored_id(prev)] if prev is not None else None,
            "not_asked": not_asked,
            "finding_gap": FINDING_GAP,
            "mirror_threshold": MIRROR_THRESHOLD,
            "min_others": min_others(c.threshold),
            "min_flag_items": MIN_FLAG_ITEMS,
        }
        if pid in has_picks:
            shown_groups = groups[groups["pairing_id"] == pid]
            matters: Any = _pick(matters_most_table(c, pid, shown_groups), "matters_most")
        else:
            matters = pd.DataFrame(columns=COLUMNS["matters_most"])
        if not frames:
            matters = plain_records(matters)
        pulse = _pulse_notice(session, c, pid, prev)
        comments = {code: said[pid][code] for code in codes if code in said[pid]}
        labels = {code: tagged[pid][code] for code in codes if code in tagged[pid]}
        open_answers = (
            [
                {
                    "code": q.code,
                    "target": q.target,
                    "question": render_item(q.text, str(p["member_name"]), str(p["officer_name"])),
                    "answers": list(answers.get((pid, q.code), [])),
                }
                for q in questions
            ]
            if questions
            else []
        )
        out[pid] = {
            "meta": meta if frames else {k: plain_value(v) for k, v in meta.items()},
            "groups": group_rows[pid],
            "items": tables["items"][pid],
            "dimensions": tables["dimensions"][pid],
            "gaps": tables["gaps"][pid],
            "top_items": tables["top_items"][pid],
            "bottom_items": tables["bottom_items"][pid],
            "mirror": tables["mirror"][pid],
            "change": change,
            "findings": tables["findings"][pid],
            "matters_most": matters,
            "comments": comments,
            "comment_languages": labels,
            "notices": pulse + _notices_of(c, computed_groups[pid], held[pid], hidden[pid]),
            "open_answers": open_answers,
        }
    return out


def pairing_report(
    session: Session,
    cycle_id: int,
    pairing_id: int,
    cutoffs: dict[int, datetime] | None = None,
) -> PairingReport:
    """The suppressed report of one pairing in one cycle, computed live. `cutoffs`
    (pairing id → time) counts only responses submitted by then (used by publication)."""
    cycle = load_cycle(session, cycle_id)
    c = compute_cycle(session, cycle, pairing_id, cutoffs)
    return pairing_report_from(session, c, pairing_id)


def dimension_gaps(session: Session, cycle_id: int, pairing_id: int) -> pd.DataFrame:
    """Per dimension and target: self, partner and others' means, the gap, flag and quadrant."""
    cycle = load_cycle(session, cycle_id)
    c = compute_cycle(session, cycle, pairing_id)
    gaps = gap_table(c)
    return _pick(gaps[gaps["pairing_id"] == pairing_id], "gaps")


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
    # The answers are few (two principals per pairing): tallied in plain Python, the
    # percentages rounded as pandas rounds (numpy's round).
    tally: dict[tuple[str, str], list[int]] = {}
    for part in parts:
        for r in part.get("solace", []):
            if not r.get("leader_ce") or r.get("hit") is None:
                continue
            new, side = bool(r.get("new")), r.get("side")
            if side == "officer_view":
                which = "new" if new else "council"
            elif side == "member_view" and not new:
                which = "members"
            else:
                continue
            hits = tally.setdefault((which, str(r["item_code"])), [0, 0])
            hits[0] += int(r["hit"])
            hits[1] += 1
    out = benchmarks.reset_index(drop=True)
    codes = out["item_code"].astype(str).tolist()
    columns: dict[str, Any] = {}
    for which, pct, n in (
        ("council", "council_pct", "n"),
        ("members", "members_pct", "members_n"),
        ("new", "new_pct", "new_n"),
    ):
        got = [tally.get((which, code), [0, 0]) for code in codes]
        count = np.array([g[1] for g in got], dtype="int64")
        hit = np.array([g[0] for g in got], dtype="float64")
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.round(100 * (hit / count), 1)
        columns[pct] = np.where((count > 0) & (count >= threshold), share, np.nan)
        columns[n] = count
    out = out.assign(**columns)
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
        for row in findings[kinds == kind].to_dict("records"):
            out.append(f"{heading} — {labels[int(row['pairing_id'])]}: {row['text']}")
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
    for row in solace.to_dict("records"):
        if row["n"] and not pd.isna(row["council_pct"]):
            leaders = (
                f"; the leaders themselves say {row['members_pct']:.0f}%"
                if row["members_n"] and not pd.isna(row["members_pct"])
                else ""
            )
            out.append(
                f"{str(row['label']).capitalize()}: {row['council_pct']:.0f}% of the chief "
                f"executives' answers about their leaders here ({row['n']} answers) against "
                f"{row['national_pct']:.0f}% of chief executives nationally (Solace){leaders}."
            )
    return out


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

    meta: OverviewMeta = {
        "cycle_id": stored_id(cycle),
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


def council_overview(
    session: Session, cycle_id: int, cutoffs: dict[int, datetime] | None = None
) -> CouncilOverview:
    """Every pairing of a cycle side by side, after suppression, computed live from one
    pass of the engine (staff and editions read it through feedback/results/publication.py,
    which holds each pairing against what was shown before)."""
    c = compute_cycle(session, load_cycle(session, cycle_id), None, cutoffs)
    sections = pairing_sections(session, c)
    return assemble_overview(
        c.cycle,
        c.council_name,
        c.labels(),
        c.dims,
        c.solace_benchmarks,
        overview_parts(c),
        sections,
    )


# --- national comparison -------------------------------------------------------------------


def national_comparison(session: Session) -> pd.DataFrame:
    """The two Solace-comparable measures per council (its latest closed or published cycle)
    and for all councils together, in percent of the chief executives' answers about their
    leaders (leader–chief executive pairings of 12 months or more, like for like with
    Solace). One aggregate query over the answers."""
    benchmarks = solace_benchmarks(session)
    if benchmarks.empty:
        return pd.DataFrame(columns=NATIONAL_COLUMNS)
    ranked_query = select(
        col(Cycle.id).label("cycle_id"),
        col(Cycle.council_id).label("council_id"),
        col(Cycle.anonymity_threshold).label("threshold"),
        col(Cycle.opens_on).label("opens_on"),
        func.row_number()
        .over(
            partition_by=col(Cycle.council_id),
            order_by=(col(Cycle.opens_on).desc(), col(Cycle.id).desc()),
        )
        .label("rn"),
    ).where(col(Cycle.status).in_(FINISHED))
    ranked = ranked_query.subquery()
    latest = (
        select(ranked.c.cycle_id, ranked.c.council_id, ranked.c.threshold, ranked.c.opens_on)
        .where(ranked.c.rn == 1)
        .subquery()
    )
    query = (
        select(
            latest.c.council_id,
            col(Council.name),
            latest.c.threshold,
            latest.c.opens_on,
            col(Pairing.started_on),
            col(Item.code),
            col(Rating.value),
            func.count(),
        )
        .select_from(Item)
        .join(Rating, col(Rating.item_id) == col(Item.id))
        .join(Response, col(Response.id) == col(Rating.response_id))
        .join(Invitation, col(Invitation.id) == col(Response.invitation_id))
        .join(latest, latest.c.cycle_id == col(Invitation.cycle_id))
        .join(Council, col(Council.id) == latest.c.council_id)
        .join(Pairing, col(Pairing.id) == col(Invitation.pairing_id))
        .where(
            # the chief executives' answers about their leaders, like for like with Solace
            col(Invitation.rater_id) == col(Pairing.officer_id),
            col(Pairing.kind).in_(TOP_KINDS),
            col(Item.dimension_id).is_(None),
            col(Item.code).in_(list(benchmarks["item_code"])),
            col(Rating.value).is_not(None),
            col(Response.status) == ResponseStatus.submitted,
        )
        .group_by(
            latest.c.council_id,
            col(Council.name),
            latest.c.threshold,
            latest.c.opens_on,
            col(Pairing.started_on),
            col(Item.code),
            col(Rating.value),
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
    measures = per.index.get_level_values("measure")
    pooled = shown | measures.map(enough.to_dict()).fillna(False).to_numpy(dtype=bool)
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
    out["council_id"] = out["council_id"].astype("Int64").where(out["council_id"] != 0)
    out["_all"] = out["council_id"].isna()
    out = out.sort_values(["_all", "council_name"]).reset_index(drop=True)
    return out[NATIONAL_COLUMNS]
