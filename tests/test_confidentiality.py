"""The attacker: random small cycles are published, then everything published is searched
for a way back to a suppressed group or to one rater's answers (hypothesis)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from analysis_builder import add_rater, small_cycle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from feedback.access import SYSTEM
from feedback.analysis import ANONYMOUS
from feedback.models import PublishedReport
from feedback.publication import publish_cycle

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
    max_examples=30,
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


def _build(session: Session, data: dict) -> tuple:  # noqa: ANN201
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


def _eligible(s, values: dict[str, int | None], code: str) -> bool:  # noqa: ANN001
    """The half-items rule: a rater counts for an item only if they answered at least half
    of its dimension's items for its target."""
    item = s.items[code]
    same = [c for c, i in s.items.items()
            if i.dimension_id == item.dimension_id and i.target == item.target]  # fmt: skip
    answered = sum(1 for c in same if values.get(c) is not None)
    return answered * 2 >= len(same)


def _shown_cells(truth, threshold: int, code: str, s) -> dict[str, list[int]]:  # noqa: ANN001
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
) -> None:  # noqa: ANN001
    with Session(sqlite_engine, expire_on_commit=False) as session:
        s, truth, dim_items = _build(session, data)
        edition = publish_cycle(session, SYSTEM, s.cycle_id)
        session.commit()
        content = edition.content
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
def test_republishing_after_one_late_reply_changes_nothing(sqlite_engine, data, late, spec) -> None:  # noqa: ANN001
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
        a = first.content["pairings"][str(s.pairing_id)]
        b = second.content["pairings"][str(s.pairing_id)]
        for name in FIGURES:
            assert a[name] == b[name], name
        assert a["comments"] == b["comments"]
        assert text not in json.dumps(second.content)
        for name in ("heatmap", "distribution", "solace", "response_rates"):
            assert first.content["overview"][name] == second.content["overview"][name]
