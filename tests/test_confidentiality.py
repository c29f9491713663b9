"""The attacker: random small cycles are published, then everything published is searched
for a way back to a suppressed group or to one rater's answers (hypothesis)."""

from __future__ import annotations

import functools
import json
from collections import Counter
from dataclasses import dataclass
from datetime import date

import numpy as np
import pytest
from analysis_builder import add_rater, small_cycle
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from quick import examples
from sqlmodel import Session, select

from core.roles import SYSTEM
from feedback.models import PublishedReport
from feedback.results.engine import BANDS
from feedback.results.publication import edition_content, publish_cycle, read_pairing_report
from feedback.results.tables import ANONYMOUS

FIGURES = ("groups", "items", "dimensions", "gaps", "top_items", "bottom_items", "mirror")


@dataclass(frozen=True)
class RaterSpec:
    base: int  # 1..5
    step: int  # how answers vary from item to item
    cant_say_every: int  # every n-th item "can't say" (0: never)
    comments: bool


raters = st.builds(
    RaterSpec,
    base=st.integers(1, 5),
    step=st.integers(0, 4),
    cant_say_every=st.sampled_from([0, 0, 2, 3, 5]),
    comments=st.booleans(),
)
cycles = st.fixed_dictionaries(
    {
        "threshold": st.sampled_from([2, 3]),
        "members": st.lists(raters, max_size=5),
        "officers": st.lists(raters, max_size=5),
        "partners": st.lists(raters, max_size=4),
        "principals": st.tuples(raters, raters),
    }
)
SETTINGS = settings(
    max_examples=examples(30),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _answers(spec: RaterSpec, item_codes: list[str]) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for i, code in enumerate(item_codes):
        if spec.cant_say_every and i % spec.cant_say_every == 0:
            out[code] = None
        else:
            out[code] = (spec.base - 1 + i * spec.step) % 5 + 1
    return out


def _build(session: Session, data: dict) -> tuple:
    s = small_cycle(session, threshold=data["threshold"])
    dim_items = [c for c, i in s.items.items() if i.dimension_id is not None]
    dim_items.sort(key=lambda c: s.items[c].position)
    truth: dict[str, list[tuple[dict[str, int | None], str | None]]] = {}
    for who, spec in zip(("member", "officer"), data["principals"], strict=True):
        add_rater(session, s, who, _answers(spec, dim_items), default=None)
    for group in ANONYMOUS:
        truth[group] = []
        for n, spec in enumerate(data[group]):
            values = _answers(spec, dim_items)
            text = f"SECRET-{group}-{n}-{s.cycle_id}" if spec.comments else None
            add_rater(session, s, group, values, default=None,
                      comments={"advice": text} if text else None)  # fmt: skip
            truth[group].append((values, text))
    session.commit()
    return s, truth, dim_items


def _eligible(s, values: dict[str, int | None], code: str) -> bool:
    """The half-items rule: a rater counts for an item only if they answered at least half
    of its dimension's items for its target."""
    item = s.items[code]
    same = [c for c, i in s.items.items()
            if i.dimension_id == item.dimension_id and i.target == item.target]  # fmt: skip
    answered = sum(1 for c in same if values.get(c) is not None)
    return answered * 2 >= len(same)


def _shown_cells(truth, threshold: int, code: str, s) -> dict[str, list[int]]:
    """Ground truth: each group's answers to one item, for the groups whose cell may be shown."""
    out = {}
    for group, rows in truth.items():
        if len(rows) < threshold:
            continue  # the whole group is below the threshold
        answers = [v[code] for v, _ in rows if v[code] is not None and _eligible(s, v, code)]
        if len(answers) >= threshold:
            out[group] = answers
    return out


@given(data=cycles)
@SETTINGS
def test_nothing_published_leads_back_to_a_suppressed_group_or_one_rater(
    sqlite_engine, data
) -> None:
    with Session(sqlite_engine, expire_on_commit=False) as session:
        s, truth, dim_items = _build(session, data)
        edition = publish_cycle(session, SYSTEM, s.cycle_id)
        session.commit()
        content = edition_content(session, edition)
        published = json.dumps(content)
        section = content["pairings"][str(s.pairing_id)]
        threshold = s.threshold

        # Comments of a suppressed group appear nowhere (report, overview, anything).
        for group, rows in truth.items():
            for _values, text in rows:
                if text is None:
                    continue
                assert (text in published) == (len(rows) >= threshold), (group, text)
        for texts in section["comments"].values():
            assert texts == sorted(texts, key=lambda t: (t.casefold(), t))

        # Every anonymous figure stands on at least `threshold` raters.
        for row in section["items"] + section["dimensions"]:
            if row["source"] in (*ANONYMOUS, "others"):
                assert row["n"] >= threshold, row
        for row in section["gaps"]:
            assert row["others_n"] is None or row["others_n"] >= threshold

        # "Everyone else" is exactly the shown cells: subtracting the shown groups from it
        # leaves nothing, so no suppressed group or cell can be reconstructed from it.
        items = {(r["item_code"], r["source"]): r for r in section["items"]}
        for code in dim_items:
            cells = _shown_cells(truth, threshold, code, s)
            others = items.get((code, "others"))
            pooled = [a for answers in cells.values() for a in answers]
            if not pooled:
                assert others is None
                continue
            assert others["n"] == len(pooled)
            assert others["mean"] * others["n"] == pytest.approx(sum(pooled))
            for group in ANONYMOUS:
                row = items.get((code, group))
                assert (row is not None) == (group in cells)
                if row is not None:
                    assert row["mean"] * row["n"] == pytest.approx(sum(cells[group]))
            residue = others["mean"] * others["n"] - sum(
                items[(code, g)]["mean"] * items[(code, g)]["n"] for g in cells
            )
            assert residue == pytest.approx(0, abs=1e-6)

        # A dimension pools exactly the answers of its shown item cells, so it can be worked
        # out from them and reveals nothing more (for the groups and for "everyone else").
        for row in section["dimensions"]:
            if row["source"] not in (*ANONYMOUS, "others"):
                continue
            cells = [r for r in section["items"]
                     if (r["dimension_code"], r["target"], r["source"])
                     == (row["dimension_code"], row["target"], row["source"])]  # fmt: skip
            total = sum(r["n"] for r in cells)
            assert total > 0, row
            assert row["mean"] == pytest.approx(sum(r["mean"] * r["n"] for r in cells) / total)
            assert row["n"] <= total

        # The council overview counts only what the report shows.
        shown_total = sum(
            len(a) for code in dim_items for a in _shown_cells(truth, threshold, code, s).values()
        )
        principal_total = sum(
            1
            for spec in data["principals"]
            for values in [_answers(spec, dim_items)]
            for code, v in values.items()
            if v is not None and _eligible(s, values, code)
        )
        counted = sum(r["count"] for r in content["overview"]["distribution"])
        assert counted == shown_total + principal_total


@given(data=cycles, late=st.sampled_from(ANONYMOUS), spec=raters)
@SETTINGS
def test_republishing_after_one_late_reply_changes_nothing(sqlite_engine, data, late, spec) -> None:
    with Session(sqlite_engine, expire_on_commit=False) as session:
        s, _truth, dim_items = _build(session, data)
        publish_cycle(session, SYSTEM, s.cycle_id)
        session.commit()
        text = f"LATE-{s.cycle_id}"
        add_rater(session, s, late, _answers(spec, dim_items), default=None,
                  comments={"advice": text})  # fmt: skip
        session.commit()
        publish_cycle(session, SYSTEM, s.cycle_id)
        session.commit()
        first, second = session.exec(
            select(PublishedReport)
            .where(PublishedReport.cycle_id == s.cycle_id)
            .order_by(PublishedReport.edition)
        ).all()
        a = edition_content(session, first)["pairings"][str(s.pairing_id)]
        b = edition_content(session, second)["pairings"][str(s.pairing_id)]
        shown = [{g["group"] for g in x["groups"] if g["shown"]} for x in (a, b)]
        if late not in shown[0] and late in shown[1]:
            # The late reply completes a group shown for the first time, with at least the
            # threshold of replies: nothing earlier can be subtracted from it.
            (group,) = [g for g in b["groups"] if g["group"] == late]
            assert group["responded"] >= s.threshold
            return
        for name in FIGURES:
            if name != "groups":
                assert a[name] == b[name], name
        # Who was *invited* may change (a nomination is not an answer); nothing answered may.
        assert [{**g, "invited": None} for g in a["groups"]] == [
            {**g, "invited": None} for g in b["groups"]
        ]
        assert a["comments"] == b["comments"]
        assert text not in json.dumps(edition_content(session, second))
        # Figures drawn from answers do not move. (Response rates are staff tracking — staff
        # see who has responded by design — and the overview is for staff only.)
        for name in ("heatmap", "distribution", "solace"):
            assert (
                edition_content(session, first)["overview"][name]
                == edition_content(session, second)["overview"][name]
            ), name


# --- the attacker with every edition -----------------------------------------------------------

CELLS = (*ANONYMOUS, "others")
late_batches = st.lists(
    st.lists(st.tuples(st.sampled_from(ANONYMOUS), raters), min_size=1, max_size=5),
    min_size=1,
    max_size=2,
)


def _cell_ns(section: dict) -> dict[tuple, tuple[int, float]]:
    out = {}
    for r in section["items"]:
        if r["source"] in CELLS:
            out[("item", r["item_code"], r["source"])] = (r["n"], r["mean"])
    for r in section["dimensions"]:
        if r["source"] in CELLS:
            out[("dimension", r["dimension_code"], r["target"], r["source"])] = (r["n"], r["mean"])
    for r in section["groups"]:
        # A group too small to show says "fewer than N", not its count: nothing to subtract.
        if r["group"] in ANONYMOUS and not isinstance(r["responded"], str):
            out[("replies", r["group"])] = (r["responded"], 0.0)
    return out


def _differences_reveal_nothing(
    a: dict, b: dict, author: dict[str, str], threshold: int, neighbours: bool = True
) -> None:
    """What an attacker gets from two editions of one pairing's report: every cell shown in
    both (or in the first only) moves by 0 or by at least `threshold` answers, and each
    shown group's comments per dimension grow by 0 or by at least `threshold`."""
    before, after = _cell_ns(a), _cell_ns(b)
    for key, (n, mean) in before.items():
        m, new_mean = after.get(key, (0, 0.0))
        moved = m - n
        assert moved == 0 or abs(moved) >= threshold, (key, n, m)
        if moved == 0:
            assert new_mean == pytest.approx(mean), key
    shown_before = {g["group"] for g in a["groups"] if g["group"] in ANONYMOUS and g["shown"]}
    for code in set(a["comments"]) | set(b["comments"]):
        old, new = a["comments"].get(code, []), b["comments"].get(code, [])
        assert not Counter(old) - Counter(new), "a comment disappeared"
        added = Counter(author.get(t, "?") for t in (Counter(new) - Counter(old)).elements())
        for group in shown_before:
            assert added[group] == 0 or added[group] >= threshold, (code, group, added)
    # A held edition repeats the one just before it (not necessarily any earlier one).
    if neighbours and any("stay as they were" in n for n in b["notices"]):
        for name in FIGURES:
            assert a[name] == b[name], name
        assert a["comments"] == b["comments"]


@given(data=cycles, batches=late_batches)
@SETTINGS
def test_differencing_editions_never_gives_back_a_late_reply(sqlite_engine, data, batches) -> None:
    with Session(sqlite_engine, expire_on_commit=False) as session:
        s, truth, dim_items = _build(session, data)
        author = {text: group for group, rows in truth.items() for _v, text in rows if text}
        publish_cycle(session, SYSTEM, s.cycle_id)
        session.commit()
        late_texts = []
        for b, batch in enumerate(batches):
            for n, (group, spec) in enumerate(batch):
                text = f"LATE-{group}-{b}-{n}-{s.cycle_id}" if spec.comments else None
                add_rater(session, s, group, _answers(spec, dim_items), default=None,
                          comments={"advice": text} if text else None)  # fmt: skip
                if text:
                    author[text] = group
                    late_texts.append(text)
            session.commit()
            publish_cycle(session, SYSTEM, s.cycle_id)
            session.commit()
        editions = session.exec(
            select(PublishedReport)
            .where(PublishedReport.cycle_id == s.cycle_id)
            .order_by(PublishedReport.edition)
        ).all()
        key = str(s.pairing_id)
        sections = [edition_content(session, e)["pairings"][key] for e in editions]
        for i, a in enumerate(sections):  # every pair of editions, not only neighbours
            for j, b in enumerate(sections[i + 1 :], start=i + 1):
                _differences_reveal_nothing(a, b, author, s.threshold, neighbours=j == i + 1)
        overviews = [edition_content(session, e)["overview"] for e in editions]
        heat = [{r["dimension_code"]: r["n"] for r in o["heatmap"]} for o in overviews]
        for i, a in enumerate(heat):
            for b in heat[i + 1 :]:
                for code, n in a.items():
                    moved = b.get(code, 0) - n
                    assert moved == 0 or abs(moved) >= s.threshold, (code, n, b.get(code))
        # A late comment is published only together with enough others of its group.
        last = json.dumps(edition_content(session, editions[-1]))
        for text in late_texts:
            if text in last:
                group = author[text]
                published = [t for t in late_texts if author[t] == group and t in last]
                assert len(published) >= s.threshold or not any(
                    g["group"] == group and g["shown"] for g in sections[0]["groups"]
                ), (text, published)


# --- change since the previous cycle ------------------------------------------------------------


def _means(rows: list[dict]) -> dict[tuple, float | None]:
    return {(r["dimension_code"], r["target"], r["source"]): r["mean"] for r in rows}


@given(
    previous=st.lists(st.tuples(st.sampled_from(ANONYMOUS), raters), max_size=8),
    current=st.lists(st.tuples(st.sampled_from(ANONYMOUS), raters), max_size=8),
    principals=st.tuples(raters, raters),
    published=st.booleans(),
    late=st.booleans(),
)
@SETTINGS
def test_change_never_shows_an_unpublished_previous_cycle(
    sqlite_engine, previous, current, principals, published, late
) -> None:
    with Session(sqlite_engine, expire_on_commit=False) as session:
        before = small_cycle(session, threshold=2, opens_on=date(2026, 1, 5))
        dim_items = sorted((c for c, i in before.items.items() if i.dimension_id is not None),
                           key=lambda c: before.items[c].position)  # fmt: skip
        after = small_cycle(session, threshold=2, council_id=before.council_id,
                            member_id=before.member_id, officer_id=before.officer_id,
                            pairing_id=before.pairing_id)  # fmt: skip
        for s, raters_ in ((before, previous), (after, current)):
            for who, spec in zip(("member", "officer"), principals, strict=True):
                add_rater(session, s, who, _answers(spec, dim_items), default=None)
            for group, spec in raters_:
                add_rater(session, s, group, _answers(spec, dim_items), default=None)
        session.commit()
        if published:
            publish_cycle(session, SYSTEM, before.cycle_id)
            if late:  # one late reply: the previous cycle's republication holds it back
                add_rater(session, before, "officers", 1, default=None)
                publish_cycle(session, SYSTEM, before.cycle_id)
            session.commit()
        elif late:
            add_rater(session, before, "officers", 1, default=None)
            session.commit()
        live = read_pairing_report(session, SYSTEM, after.cycle_id, after.pairing_id).to_dict()
        section = edition_content(session, publish_cycle(session, SYSTEM, after.cycle_id))[
            "pairings"
        ][str(after.pairing_id)]
        for report in (live, section):
            if not published:
                assert report["change"] == []
                assert report["meta"]["previous_cycle_name"] is None
                continue
            latest = session.exec(
                select(PublishedReport)
                .where(PublishedReport.cycle_id == before.cycle_id)
                .order_by(PublishedReport.edition.desc())
            ).first()
            was = _means(
                edition_content(session, latest)["pairings"][str(before.pairing_id)]["dimensions"]
            )
            now = _means(report["dimensions"])
            for row in report["change"]:
                k = (row["dimension_code"], row["target"], row["source"])
                assert row["previous"] == pytest.approx(was[k]), k
                assert row["current"] == pytest.approx(now[k]), k
            expected = {k for k in set(was) & set(now)
                        if k[2] in ("self", "partner", "others")
                        and was[k] is not None and now[k] is not None}  # fmt: skip
            got = {(r["dimension_code"], r["target"], r["source"]) for r in report["change"]}
            assert got == expected


# --- the staff attacker ------------------------------------------------------------------------
# A facilitator can close, read, reopen, let one named rater in, close and read again; raise
# the threshold; withdraw invitations; publish and republish; and a response may be erased.
# Every staff-readable view at every step (the report, every pairing's report as the CLI
# reads them, the council overview) is then set against every other: no pair may let the
# attacker solve for one rater's answer, even knowing exactly who stood behind each figure.

staff_steps = st.lists(
    st.one_of(
        st.tuples(st.just("read")),
        st.tuples(st.just("late"), st.sampled_from(ANONYMOUS), raters),
        st.tuples(st.just("publish")),
        st.tuples(st.just("threshold")),
        st.tuples(st.just("erase"), st.integers(0, 20)),
        st.tuples(st.just("withdraw"), st.sampled_from(ANONYMOUS)),
    ),
    min_size=1,
    max_size=8,
)


@dataclass
class _Live:
    """Ground truth: the responses counted now and the threshold in force."""

    raters: dict[int, tuple[str, dict[str, int | None], str | None]]  # response id → …
    threshold: int


def _expected_cells(state: _Live, s, dim_items: list[str]) -> dict[tuple, frozenset[int]]:
    """Which responses stand behind each anonymous item cell the rules let through."""
    by_group: dict[str, list[tuple[int, dict]]] = {g: [] for g in ANONYMOUS}
    for rid, (group, values, _text) in state.raters.items():
        by_group[group].append((rid, values))
    out: dict[tuple, frozenset[int]] = {}
    for code in dim_items:
        pooled: set[int] = set()
        for group, rows in by_group.items():
            if len(rows) < state.threshold:
                continue
            ids = {rid for rid, v in rows if v[code] is not None and _eligible(s, v, code)}
            if len(ids) >= state.threshold:
                out[(code, group)] = frozenset(ids)
                pooled |= ids
        if pooled:
            out[(code, "others")] = frozenset(pooled)
    return out


def _sums(section: dict) -> dict[tuple, tuple[int, float]]:
    return {
        (r["item_code"], r["source"]): (r["n"], r["mean"] * r["n"])
        for r in section["items"]
        if r["source"] in CELLS
    }


def _which_state(section: dict, states: list[_Live], s, dim_items, values) -> dict:
    """The (latest) state of the world a view shows: its anonymous item cells must be
    exactly those of some state, figure for figure."""
    shown = _sums(section)
    for state in reversed(states):
        cells = _expected_cells(state, s, dim_items)
        if set(cells) != set(shown):
            continue
        if all(
            len(ids) == shown[key][0]
            and sum(values[r][key[0]] for r in ids) == pytest.approx(shown[key][1])
            for key, ids in cells.items()
        ):
            return cells
    raise AssertionError("a view shows figures that no set of replies explains")


def _solves_one(rows: list[frozenset[int]]) -> int | None:
    """A rater whose answer is a combination of the known sums over these sets, if any."""
    import numpy as np

    people = sorted(set().union(*rows)) if rows else []
    if not people:
        return None
    m = np.array([[1.0 if p in r else 0.0 for p in people] for r in rows])
    rank = np.linalg.matrix_rank(m)
    for i, p in enumerate(people):
        unit = np.zeros(len(people))
        unit[i] = 1.0
        if np.linalg.matrix_rank(np.vstack([m, unit])) == rank:
            return p
    return None


# Found by Hypothesis: a raised threshold drops two councillors as three partners come in,
# so a partnership score's count moves by one while five people changed (not a leak).
_R = RaterSpec


@given(data=cycles, steps=staff_steps)
@example(  # a raised threshold hides cells: the partnership score pools the pair's answers
    data={
        "threshold": 2,
        "partners": [],
        "members": [],
        "officers": [_R(2, 0, 5, False), _R(4, 0, 5, False), _R(1, 0, 2, False),
                     _R(4, 0, 2, False), _R(1, 0, 0, False)],
        "principals": (_R(1, 0, 0, False), _R(1, 0, 0, False)),
    },
    steps=[("threshold",), ("threshold",)],
)  # fmt: skip
@example(
    data={
        "threshold": 2,
        "partners": [],
        "officers": [_R(5, 0, 0, False), _R(3, 0, 0, True), _R(1, 0, 0, True)],
        "members": [
            _R(5, 0, 0, False),
            _R(3, 0, 3, False),
            _R(4, 0, 3, True),
            _R(3, 0, 0, True),
            _R(3, 0, 3, True),
        ],  # fmt: skip
        "principals": (_R(5, 0, 0, False), _R(3, 0, 0, False)),
    },
    steps=[
        ("read",),
        ("late", "partners", _R(3, 2, 2, False)),
        ("withdraw", "officers"),
        ("read",),
        ("late", "partners", _R(5, 0, 2, True)),
        ("withdraw", "partners"),
        ("threshold",),
        ("late", "partners", _R(5, 0, 2, True)),
    ],  # fmt: skip
)
@SETTINGS
def test_no_sequence_of_staff_reads_gives_back_one_raters_answers(
    sqlite_engine, data, steps
) -> None:
    from sqlalchemy import delete

    from feedback.collection.invitations import revoke_invitation
    from feedback.models import Cycle, Response
    from feedback.results.publication import read_all_pairing_reports, read_council_overview
    from feedback.setup.cycles import cycle_settings, set_cycle_status, update_cycle

    with Session(sqlite_engine, expire_on_commit=False) as session:
        s, truth, dim_items = _build(session, data)
        values: dict[int, dict[str, int | None]] = {}
        live = _Live({}, s.threshold)
        author: dict[str, tuple[str, int]] = {}

        def response_of(invitation_id: int) -> int:
            return session.exec(
                select(Response.id).where(Response.invitation_id == invitation_id)
            ).one()

        anonymous = [i for i in s.raters[2:]]  # after the two principals
        for inv, (group, (v, text)) in zip(
            anonymous, [(g, row) for g in ANONYMOUS for row in truth[g]], strict=True
        ):
            rid = response_of(inv)
            live.raters[rid] = (group, v, text)
            values[rid] = v
            if text:
                author[text] = (group, rid)
        states = [_Live(dict(live.raters), live.threshold)]
        views: list[tuple[str, dict]] = []

        def status() -> str:
            session.expire_all()
            return session.get(Cycle, s.cycle_id).status

        def read() -> None:
            views.append(
                ("report", read_pairing_report(session, SYSTEM, s.cycle_id, s.pairing_id).to_dict())
            )
            views.append(
                (
                    "report",
                    read_all_pairing_reports(session, SYSTEM, s.cycle_id)[s.pairing_id].to_dict(),
                )
            )
            views.append(("overview", read_council_overview(session, SYSTEM, s.cycle_id).to_dict()))
            session.commit()

        def reopen() -> None:
            if status() == "published":
                set_cycle_status(session, SYSTEM, s.cycle_id, "closed")
            set_cycle_status(session, SYSTEM, s.cycle_id, "open")

        def changed() -> None:
            states.append(_Live(dict(live.raters), live.threshold))

        read()
        for n, step in enumerate(steps):
            kind = step[0]
            if kind == "read":
                read()
            elif kind == "late":
                _kind, group, spec = step
                reopen()
                text = f"LATE-{group}-{n}-{s.cycle_id}" if spec.comments else None
                v = _answers(spec, dim_items)
                inv = add_rater(session, s, group, v, default=None,
                                comments={"advice": text} if text else None)  # fmt: skip
                set_cycle_status(session, SYSTEM, s.cycle_id, "closed")
                session.commit()
                rid = response_of(inv)
                live.raters[rid], values[rid] = (group, v, text), v
                if text:
                    author[text] = (group, rid)
                changed()
            elif kind == "publish":
                if status() == "closed":
                    set_cycle_status(session, SYSTEM, s.cycle_id, "published")
                else:
                    publish_cycle(session, SYSTEM, s.cycle_id)
                session.commit()
                read()
            elif kind == "threshold" and live.threshold < 5:
                if status() == "published":
                    set_cycle_status(session, SYSTEM, s.cycle_id, "closed")
                cycle = session.get(Cycle, s.cycle_id)
                now = cycle_settings(cycle)
                update_cycle(session, SYSTEM, s.cycle_id, now["name"], now["opens_on"],
                             now["closes_on"], live.threshold + 1)  # fmt: skip
                session.commit()
                live.threshold += 1
                changed()
            elif kind == "erase" and live.raters:
                rid = sorted(live.raters)[step[1] % len(live.raters)]
                session.exec(delete(Response).where(Response.id == rid))
                session.commit()
                del live.raters[rid]
                changed()
            elif kind == "withdraw":
                reopen()
                inv = add_rater(session, s, step[1], 3, submit=False)
                revoke_invitation(session, SYSTEM, inv)
                set_cycle_status(session, SYSTEM, s.cycle_id, "closed")
                session.commit()
        read()

        reports = [v for k, v in views if k == "report"]
        mapped = [_which_state(r, states, s, dim_items, values) for r in reports]
        for i, a in enumerate(mapped):
            for j in range(i + 1, len(mapped)):
                b = mapped[j]
                for code in dim_items:
                    rows = [ids for (c, _src), ids in (*a.items(), *b.items()) if c == code]
                    who = _solves_one(rows)
                    assert who is None, (
                        f"views {i} and {j} give back response {who}'s answer to {code}"
                    )
                # Comments: each shown group's comments move by 0 or at least the threshold.
                ra, rb = reports[i], reports[j]
                shown = {
                    g["group"] for g in ra["groups"] if g["group"] in ANONYMOUS and g["shown"]
                } & {g["group"] for g in rb["groups"] if g["group"] in ANONYMOUS and g["shown"]}
                for dim in set(ra["comments"]) | set(rb["comments"]):
                    old = set(ra["comments"].get(dim, []))
                    new = set(rb["comments"].get(dim, []))
                    for group in shown:
                        moved = [t for t in old ^ new if author.get(t, ("?",))[0] == group]
                        assert len(moved) == 0 or len(moved) >= min(
                            ra["meta"]["threshold"], rb["meta"]["threshold"]
                        ), (group, moved)
        # The overview moves only with the pairing's served results (each read takes two reports
        # and then the overview): reads showing the same replies behind every anonymous figure
        # show the same partnership scores, and a score's count moves only when the replies
        # behind the shown figures moved by at least the threshold's number of people, or the
        # figures shown are other ones. (A count alone can move by one while five people
        # changed: two councillors dropped below a raised threshold as three partners reached
        # it. And a raised threshold hides officers' partnership items that some answered
        # "can't say", so the score pools only the pair's own two answers — the same five
        # officers still behind every other figure. The score is pooled from the cells the
        # report shows, which the rank check above already holds to account.)
        overviews = [v for k, v in views if k == "overview"]
        before = [mapped[2 * k + 1] for k in range(len(overviews))]  # read() takes two reports
        assert len(mapped) == 2 * len(overviews)
        heat = [
            {r["dimension_code"]: (r["n"], r["score"]) for r in o["heatmap"]} for o in overviews
        ]
        behind = [frozenset().union(*m.values()) for m in before]
        for i, a in enumerate(heat):
            for j in range(i + 1, len(heat)):
                b = heat[j]
                if before[i] == before[j]:
                    assert a == b, f"reads {i} and {j} show the same replies, other scores"
                same_cells = set(before[i]) == set(before[j])
                for code in set(a) & set(b):
                    moved = abs(b[code][0] - a[code][0])
                    assert (
                        moved == 0 or len(behind[i] ^ behind[j]) >= s.threshold or not same_cells
                    ), (code, a[code], b[code])


@functools.cache
def _multisets(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every multiset of n answers on the 1–5 scale, as counts of 1s..5s: (sums, bands),
    by brute force (independent of the engine's own arithmetic)."""
    grids = np.meshgrid(*[np.arange(n + 1)] * 4, indexing="ij")
    c1, c2, c3, c4 = (g.ravel() for g in grids)
    c5 = n - c1 - c2 - c3 - c4
    ok = c5 >= 0
    c1, c2, c3, c4, c5 = c1[ok], c2[ok], c3[ok], c4[ok], c5[ok]
    sums = c1 + 2 * c2 + 3 * c3 + 4 * c4 + 5 * c5
    low, mid, high = c1 + c2, c3, c4 + c5
    split = (4 * low >= n) & (4 * high >= n)
    agree = 5 * np.maximum(np.maximum(low, mid), high) >= 4 * n
    return sums, np.where(split, 2, np.where(agree, 0, 1))


@given(data=cycles)
@SETTINGS
def test_an_agreement_band_never_pins_down_an_answer_set(sqlite_engine, data) -> None:
    """For every published (mean, answers, band) of an anonymous dimension cell, at least
    two different multisets of answers are consistent with it, so the band and the mean
    together never tell anyone what the group answered."""
    with Session(sqlite_engine, expire_on_commit=False) as session:
        s, _truth, _dim_items = _build(session, data)
        edition = publish_cycle(session, SYSTEM, s.cycle_id)
        session.commit()
        section = edition_content(session, edition)["pairings"][str(s.pairing_id)]
        for row in section["dimensions"]:
            if row.get("agreement") is None:
                continue
            assert row["source"] in (*ANONYMOUS, "others"), row  # never a named source
            assert row["n"] >= s.threshold
            cells = [r for r in section["items"]
                     if (r["dimension_code"], r["target"], r["source"])
                     == (row["dimension_code"], row["target"], row["source"])]  # fmt: skip
            answers = sum(r["n"] for r in cells)  # what the published item counts say
            total = round(row["mean"] * answers)
            sums, bands = _multisets(answers)
            band = BANDS.index(row["agreement"])
            assert int(((sums == total) & (bands == band)).sum()) >= 2, row
