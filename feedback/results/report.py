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
    comment_languages,
    compute,
    gap_table,
    matters_most_table,
    mirror_table,
    named_dims,
    named_items,
    overview_parts,
    shown_texts,
)
from feedback.results.loading import (
    load,
    load_cycle,
    previous_cycle,
    previous_published_dimensions,
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
    solace_source,
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
    empty = pd.DataFrame(columns=COLUMNS["change"])
    if not records:
        return name, empty
    before = pd.DataFrame(records)
    keys = ["dimension_code", "target", "source"]
    if not {*keys, "mean"} <= set(before.columns):
        return name, empty
    now = dimensions[dimensions["source"].isin(CHANGE_SOURCES)]
    change = now.merge(
        before[[*keys, "mean"]].rename(columns={"mean": "previous"}), on=keys
    ).rename(columns={"mean": "current"})
    change["previous"] = change["previous"].astype("float64")
    change["current"] = change["current"].astype("float64")
    change["change"] = change["current"] - change["previous"]
    change = change.dropna(subset=["previous", "current"])
    return name, empty if change.empty else change[COLUMNS["change"]].reset_index(drop=True)


def _notices(c: Computed, groups: pd.DataFrame, hidden: pd.DataFrame) -> list[str]:
    notices = []
    for row in groups.to_dict("records"):
        if row["group"] in ANONYMOUS and row["invited"] > 0 and not row["shown"]:
            notices.append(
                f"{row['label']}: fewer than {c.threshold} replies, so not shown (their scores "
                "and comments are left out everywhere, including 'everyone else')."
            )
    not_shown = set(groups.loc[~groups["shown"], "group"])
    withheld = c.withheld_cells
    held = set(withheld.loc[withheld["pairing_id"].isin(groups["pairing_id"]), "group"])
    for group in [g for g in GROUP_ORDER if g in held - not_shown]:
        notices.append(
            f"{GROUP_LABELS[group]}: "
            + (PULSE_WITHHELD if c.cycle.kind == CycleKind.pulse else FULL_WITHHELD).format(
                threshold=max(c.threshold, c.withheld_threshold)
            )
        )
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
    c: Computed, pairing: pd.Series, groups: pd.DataFrame
) -> list[dict[str, Any]]:
    """Each open question of the framework with its shown answers (the comments' rule)."""
    questions = c.spec.open_questions if c.spec is not None else None
    if not questions:
        return []
    frame = c.open_answers
    answers = shown_texts(frame[frame["pairing_id"] == pairing["pairing_id"]], groups)
    return [
        {
            "code": q.code,
            "target": q.target,
            "question": render_item(q.text, pairing["member_name"], pairing["officer_name"]),
            "answers": answers.loc[answers["question"] == q.code, "text"].tolist(),
        }
        for q in questions
    ]


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
    rows = c.pairings[c.pairings["pairing_id"] == pairing_id]
    if rows.empty:
        raise NotFound("That pairing did not take part in this cycle.")
    p = rows.iloc[0]
    previous = previous_cycle(session, c.cycle, pairing_id)
    meta: ReportMeta = {
        "cycle_id": stored_id(c.cycle),
        "cycle_name": c.cycle.name,
        "council_name": c.council_name,
        "pairing_id": int(pairing_id),
        "pairing_label": str(p["pairing_label"]),
        "kind": str(p["kind"]),
        "member_name": str(p["member_name"]),
        "member_title": str(p["member_title"]),
        "officer_name": str(p["officer_name"]),
        "officer_title": str(p["officer_title"]),
        "portfolio": str(p["portfolio"]),
        "threshold": c.threshold,
        "edition": None,
        "previous_cycle_name": previous.name if previous is not None else None,
        "framework_version": c.framework_version,
        "previous_framework_version": _framework_version(session, previous),
        # Items some anonymous groups were not asked (not applicable to them, not missing).
        "not_asked": c.spec.not_asked() if c.spec is not None else {},
    }
    groups = c.groups[c.groups["pairing_id"] == pairing_id]
    hidden = c.hidden_cells[c.hidden_cells["pairing_id"] == pairing_id]

    items = named_items(c, c.item_stats[c.item_stats["pairing_id"] == pairing_id])
    if not items.empty:
        items["item_text"] = (
            items["item_text"]
            .str.replace("{member}", p["member_name"], regex=False)
            .str.replace("{officer}", p["officer_name"], regex=False)
        )
    dims = named_dims(c, c.dim_stats[c.dim_stats["pairing_id"] == pairing_id])
    dims = dims[dims["source"].isin(SOURCE_ORDER)]

    gaps = gaps_all if gaps_all is not None else gap_table(c, pairing_id)
    gaps = gaps[gaps["pairing_id"] == pairing_id]

    ranked = items[items["source"] == "others"].sort_values(
        ["mean", "item_position"], ascending=[False, True], kind="stable"
    )
    top = ranked.head(TOP_N)
    bottom = ranked.sort_values(
        ["mean", "item_position"], ascending=[True, True], kind="stable"
    ).head(TOP_N)

    dimensions = _pick(dims, "dimensions")
    meta["previous_cycle_name"], change = change_since(session, previous, pairing_id, dimensions)
    pulse = _pulse_notice(session, c, pairing_id, previous)

    com = shown_texts(c.comments[c.comments["pairing_id"] == pairing_id], groups)
    comments: dict[str, list[str]] = {}
    # Each comment's language beside it, or nothing at all (engine.comment_languages).
    languages: dict[str, list[str]] = {}
    if not com.empty:
        said = comment_languages(com, c.threshold)
        for code in c.dims["dimension_code"]:
            here = com["dimension_code"] == code
            texts = com.loc[here, "text"].tolist()
            if texts:
                comments[code] = texts
                if said.any():
                    languages[code] = said[here].tolist()

    mirror = mirror_table(c, pairing_id)
    meta["finding_gap"] = FINDING_GAP
    meta["mirror_threshold"] = MIRROR_THRESHOLD
    meta["min_others"] = min_others(c.threshold)
    meta["min_flag_items"] = MIN_FLAG_ITEMS
    return PairingReport(
        meta=meta,
        groups=_published_groups(groups, c.threshold),
        items=_pick(items, "items"),
        dimensions=dimensions,
        gaps=_pick(gaps, "gaps"),
        top_items=_pick(top, "top_items"),
        bottom_items=_pick(bottom, "bottom_items"),
        mirror=_pick(mirror, "mirror"),
        change=change,
        findings=report_findings(gaps, mirror, str(p["member_name"]), str(p["officer_name"])),
        matters_most=_pick(matters_most_table(c, pairing_id, groups), "matters_most"),
        comments=comments,
        comment_languages=languages,
        notices=pulse + _notices(c, groups, hidden),
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
    gaps = gap_table(c)
    sections = {
        int(pid): pairing_report_from(session, c, int(pid), gaps).to_dict()
        for pid in c.pairings["pairing_id"]
    }
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
