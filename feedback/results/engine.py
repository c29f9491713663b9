"""The engine: perception gaps, findings and the overview's parts, vectorised numpy and
pandas over the answers feedback/results/loading.py read (no queries, no actor: access is
checked in feedback/results/publication.py). Confidentiality is applied HERE, so no page,
chart, export or command can go around it:

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
  (see feedback/results/publication.py).

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
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from core.vocabulary import GROUP_LABELS, TOP_KINDS
from feedback.models import Cycle
from feedback.results.tables import (
    ANONYMOUS,
    COLUMNS,
    EPS,
    FINDING_GAP,
    GROUP_OF_CODE,
    GROUP_ORDER,
    HIGH_SCORE,
    MIN_FLAG_ITEMS,
    MIRROR_THRESHOLD,
    NAMED_VIEWS,
    NAMED_VIEWS_CODES,
    NEW_PAIRING_MONTHS,
    SRC,
    SRC_NAME,
    TARGET_CODE,
    TARGET_ORDER,
    min_others,
)
from feedback.setup.framework import FrameworkSpec, asks

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass
class Inputs:
    """What the engine reads of one cycle (or one pairing of it): feedback/results/loading.py."""

    cycle: Cycle
    council_name: str
    pairings: pd.DataFrame  # pairing_id, kind, names, titles, portfolio, started_on, label
    items: pd.DataFrame  # item metadata
    ratings: pd.DataFrame  # pairing_id, response_id, g (group code), item_id, value
    invitations: pd.DataFrame  # pairing_id, group, invited, responded
    # pairing_id, rater_group, dimension_code, text, response_id, language (en / cy)
    comments: pd.DataFrame
    responses: pd.DataFrame  # pairing_id, group, response_id
    open_answers: pd.DataFrame  # pairing_id, rater_group, question, text, response_id
    picks: pd.DataFrame  # pairing_id, response_id, g, dimension_code
    spec: FrameworkSpec
    framework_version: str
    solace_benchmarks: pd.DataFrame


def shown_texts(frame: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """THE rule for words raters wrote (comments and open answers): only from groups shown
    (the pair, and anonymous groups with at least the threshold's replies), and in
    alphabetical order, which says nothing about who wrote what."""
    shown = frame[frame["rater_group"].isin(set(groups.loc[groups["shown"], "group"]))]
    if shown.empty:
        return shown
    return shown.assign(_k=shown["text"].str.casefold()).sort_values(["_k", "text"])


def comment_languages(shown: pd.DataFrame, threshold: int) -> pd.Series:
    """THE rule for saying which language a comment was written in (Cymraeg): for one
    pairing's comments as `shown_texts` shows them, each comment's language ("en" / "cy"),
    or "" for none — every label is shown, or none is.

    Only groups shown at all reach here (the existing suppression rule). But a shown group
    can still hold one Welsh writer among many, and a label would point at them (a council
    knows who writes in Welsh); labelling only the other language would point at them by
    elimination. So labels appear only when the comments hold more than one language and,
    for every language they hold, at least `threshold` (the cycle's anonymity threshold,
    never a new one) different anonymous raters wrote in it. The pair's own comments are
    labelled with the rest but never counted: they know what they wrote, so counting them
    would let them subtract themselves down to one."""
    none = pd.Series("", index=shown.index, dtype="object")
    if shown.empty or "language" not in shown:
        return none
    languages = shown["language"].fillna("en").astype(str)
    if languages.nunique() < 2:
        return none
    anonymous = shown["rater_group"].isin(ANONYMOUS)
    writers = (shown.loc[anonymous, "response_id"].groupby(languages[anonymous]).nunique()).reindex(
        languages.unique(), fill_value=0
    )
    return languages if bool((writers >= threshold).all()) else none


def _asked_keys(spec: FrameworkSpec, items: pd.DataFrame) -> Ints:
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


def _pack(frame: pd.DataFrame, keys: list[str]) -> tuple[Ints, list[Ints]]:
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


def _group(key: Ints) -> tuple[Ints, Ints, int]:
    """First row of each group and each row's group number, in order of first appearance."""
    _u, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[inverse.reshape(-1)], len(order)


def _agg(values: Floats, inverse: Ints, size: int) -> tuple[Ints, Floats, Floats]:
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
    out: dict[str, npt.NDArray[Any]] = {k: a[first] for k, a in zip(keys, arrays, strict=True)}
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


def _count_in_group(frame: pd.DataFrame, keys: list[str], column: str) -> Ints:
    """For each row, how many non-missing `column` values its group has."""
    if frame.empty:
        return np.zeros(0, dtype="int64")
    key, _arrays = _pack(frame, keys)
    _first, inverse, size = _group(key)
    n, _mean, _sd = _agg(frame[column].to_numpy(dtype="float64"), inverse, size)
    return n[inverse]


@dataclass
class Computed:
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
    item_totals: Ints = field(default_factory=lambda: np.zeros((0, 3), dtype="int64"))
    spec: FrameworkSpec | None = None
    framework_version: str = ""
    open_answers: pd.DataFrame = field(default_factory=pd.DataFrame)
    picks: pd.DataFrame = field(default_factory=pd.DataFrame)
    # pairing_id, group: shown groups with cells withheld by `withheld` (a pulse's figures
    # too close in who answered to the full cycle's: feedback/results/publication.py)
    withheld_cells: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["pairing_id", "group"])
    )
    withheld_threshold: int = 0  # the number of people that rule asked for

    def labels(self) -> dict[int, str]:
        """Each pairing's label by id, in display order."""
        return {
            int(p): str(label)
            for p, label in zip(
                self.pairings["pairing_id"], self.pairings["pairing_label"], strict=True
            )
        }


def cell_code(pairing_id: Any, item_id: Any, s: Any) -> Any:
    """One int per (pairing, item, source) item cell: how `withheld` names the cells."""
    return (
        (np.asarray(pairing_id, dtype="int64") << 36)
        | (np.asarray(item_id, dtype="int64") << 4)
        | np.asarray(s, dtype="int64")
    )


def compute(inputs: Inputs, withheld: frozenset[int] = frozenset()) -> Computed:
    """The suppressed figures of a cycle (or one pairing) from its loaded answers.
    `withheld` (`cell_code`s) names anonymous item cells also left out, as if too few
    had answered them: the rule deciding which is feedback/results/publication.py's."""
    cycle = inputs.cycle
    pairings, items, r = inputs.pairings, inputs.items, inputs.ratings
    invitations, comments, responses = inputs.invitations, inputs.comments, inputs.responses
    spec = inputs.spec
    threshold = cycle.anonymity_threshold
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
        for code in GROUP_OF_CODE:
            if int(item_id) * 8 + code in asked_set:
                totals[int(dpos), int(target), code] += 1
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
    held = np.zeros(len(values), dtype=bool)
    if withheld:
        codes = cell_code(values["pairing_id"], values["item_id"], values["s"])
        held = np.isin(codes, np.fromiter(withheld, dtype="int64"))
    big_enough = v_anon & (cell_n >= threshold)
    ok_anon = big_enough & ~held
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
    hidden_items = values.loc[v_anon & ~big_enough, ["pairing_id", "s"]]
    withheld_items = values.loc[big_enough & held, ["pairing_id", "s"]].drop_duplicates()
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
    return Computed(
        cycle=cycle,
        council_name=inputs.council_name,
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
        solace_benchmarks=inputs.solace_benchmarks,
        view_items=view_items,
        item_totals=totals,
        spec=spec,
        framework_version=inputs.framework_version,
        open_answers=inputs.open_answers,
        picks=inputs.picks,
        withheld_cells=withheld_items.assign(group=withheld_items["s"].map(SRC_NAME))[
            ["pairing_id", "group"]
        ].reset_index(drop=True),
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


def _band_code(low: Ints, mid: Ints, high: Ints) -> Ints:
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
def safe_sums(n: int) -> frozenset[int]:
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
    counts = {
        "low": (v <= 2).astype("int64"),
        "mid": (v == 3).astype("int64"),
        "high": (v >= 4).astype("int64"),
        "total": v.astype("int64"),
    }

    def summed(by: list[str]) -> pd.DataFrame:
        key, arrays = _pack(anon, by)
        first, inverse, size = _group(key)
        out: dict[str, npt.NDArray[Any]] = {k: a[first] for k, a in zip(by, arrays, strict=True)}
        for name, values in counts.items():
            out[name] = np.bincount(inverse, weights=values, minlength=size).astype("int64")
        return pd.DataFrame(out)

    per = summed(keys)
    everyone = summed(keys[:3]).assign(s=SRC["others"])
    both = pd.concat([per, everyone[per.columns]], ignore_index=True)
    n = (both["low"] + both["mid"] + both["high"]).to_numpy()
    code = _band_code(both["low"].to_numpy(), both["mid"].to_numpy(), both["high"].to_numpy())
    total = both["total"].to_numpy(dtype="int64")
    safe = np.zeros(len(both), dtype=bool)
    for size in np.unique(n):  # one check per distinct number of answers, not per cell
        at = n == size
        safe[at] = np.isin(total[at], list(safe_sums(int(size))))
    bands = np.array(BANDS, dtype=object)[code]
    bands[~safe] = None
    both["agreement"] = bands
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


def _lookup(
    table: pd.DataFrame, key: str, column: str, values: npt.NDArray[Any]
) -> npt.NDArray[np.object_]:
    """table[column] for each of `values` of table[key] (integer keys), as an array."""
    return (
        pd.Series(table[column].to_numpy(dtype=object), index=table[key])
        .reindex(values)
        .to_numpy(dtype=object)
    )


def named_items(c: Computed, frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.merge(c.items, on="item_id")
    out["source"] = out["s"].map(SRC_NAME)
    return out.sort_values(["item_position", "s"], kind="stable").reset_index(drop=True)


def named_dims(c: Computed, frame: pd.DataFrame) -> pd.DataFrame:
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


def _gap_key(pairing_id: Ints, dp: Ints, t: Ints) -> Ints:
    return (pairing_id.astype(np.int64) * 64 + dp.astype(np.int64)) * 4 + t.astype(np.int64)


def _directions(c: Computed, a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
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


def _consistent(directions: pd.DataFrame, keys: Ints, up: Bools, min_items: int) -> Bools:
    """For each key: at least `min_items` items compared, and every one of them pointing
    the way of the dimension's gap (up: above; otherwise below)."""
    d = directions.reindex(keys, fill_value=0)
    compared = d["compared"].to_numpy()
    same = np.where(up, d["above"].to_numpy(), d["below"].to_numpy())
    ok: Bools = (compared >= min_items) & (same == compared)
    return ok


def gap_table(c: Computed, pairing_id: int | None = None) -> pd.DataFrame:
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

    def column(name: str, field: str) -> Floats:
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
    out = named_dims(c, out)
    return out[["pairing_id", *COLUMNS["gaps"]]]


def mirror_table(c: Computed, pairing_id: int) -> pd.DataFrame:
    """The member's and the officer's views of their partnership per dimension, everyone
    else's beside them, and the mirror finding: the two views at least MIRROR_THRESHOLD
    apart, with every partnership item both answered pointing the same way."""
    out = mirror_tables(c, pairing_id)
    return out.drop(columns="pairing_id")


def mirror_tables(c: Computed, pairing_id: int | None = None) -> pd.DataFrame:
    """`mirror_table` for every pairing at once (or one), with pairing_id, each pairing's
    dimensions in order."""
    ds = c.dim_stats
    part = ds[ds["t"] == TARGET_CODE["partnership"]]
    if pairing_id is not None:
        part = part[part["pairing_id"] == pairing_id]
    if part.empty:
        return pd.DataFrame(columns=["pairing_id", *COLUMNS["mirror"]])
    src = part["s"].to_numpy(dtype="int64")
    key = _gap_key(
        part["pairing_id"].to_numpy(dtype="int64"),
        part["dp"].to_numpy(dtype="int64"),
        np.full(len(part), TARGET_CODE["partnership"], dtype="int64"),
    )
    keys = np.unique(key)
    pids = keys // 256
    dps = (keys // 4) % 64

    def column(name: str, field: str) -> Floats:
        m = src == SRC[name]
        values = pd.Series(part[field].to_numpy(dtype="float64")[m], index=key[m])
        return values.reindex(keys).to_numpy(dtype="float64")

    others_n = column("others", "n")
    member_view, officer_view = column("member_view", "mean"), column("officer_view", "mean")
    gap = member_view - officer_view
    views = c.view_items
    if pairing_id is not None:
        views = views[views["pairing_id"] == pairing_id]
    directions = _directions(
        c, views[views["s"] == SRC["member_view"]], views[views["s"] == SRC["officer_view"]]
    )
    consistent = _consistent(directions, keys, gap > 0, 1)
    flagged = ~np.isnan(gap) & consistent & (np.abs(gap) >= MIRROR_THRESHOLD - EPS)
    out = pd.DataFrame(
        {
            "pairing_id": pids,
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


def matters_most_table(c: Computed, pairing_id: int, groups: pd.DataFrame) -> pd.DataFrame:
    """How many chose each dimension as mattering most, per source. The two principals are
    named by design; an anonymous group counts only if it is shown AND at least the
    threshold's number of its raters chose (as an item cell needs that many answers), and
    "others" pools exactly those groups, so no figure can be set against another to find a
    suppressed group's or one rater's choice."""
    picks = c.picks[c.picks["pairing_id"] == pairing_id]
    if picks.empty or c.spec is None or c.spec.matters_most is None:
        return pd.DataFrame(columns=COLUMNS["matters_most"])
    dims = c.dims
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


def is_new_pairing(started_on: pd.Series, on: Any) -> pd.Series:
    """True where a pairing had worked together for under NEW_PAIRING_MONTHS on `on` (the
    cycle's opening day); a pairing with no start date recorded counts as established."""
    since = pd.Timestamp(on) - pd.DateOffset(months=NEW_PAIRING_MONTHS)
    started = pd.to_datetime(started_on, errors="coerce")
    return (started > since).fillna(False).astype(bool)


def overview_parts(c: Computed) -> dict[int, dict[str, Any]]:
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
    heat = _pooled(part, ["pairing_id", "dp"]).merge(c.dims, on="dp")
    heat = heat.sort_values(["pairing_id", "dp"])
    for pid, code, name, score, n in zip(
        heat["pairing_id"].tolist(),
        heat["dimension_code"].tolist(),
        heat["dimension_name"].tolist(),
        heat["mean"].tolist(),
        heat["n"].tolist(),
        strict=True,
    ):
        out[int(pid)]["heat"].append(
            {"dimension_code": code, "dimension_name": name, "score": float(score), "n": int(n)}
        )
    if not c.shown_values.empty:
        counts = c.shown_values.groupby(["pairing_id", "dp", "value"]).size().reset_index()
        codes = dict(zip(c.dims["dp"].tolist(), c.dims["dimension_code"].tolist(), strict=True))
        for pid, dp, value, n in zip(
            counts["pairing_id"].tolist(),
            counts["dp"].tolist(),
            counts["value"].tolist(),
            counts[0].tolist(),
            strict=True,
        ):
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
        for pid, item_code, g, value, values in zip(
            answers["pairing_id"].astype(int).tolist(),
            answers["item_code"].tolist(),
            answers["g"].tolist(),
            answers["value"].tolist(),
            answers["values"].tolist(),
            strict=True,
        ):
            out[pid]["solace"].append(
                {
                    "item_code": item_code,
                    "side": SRC_NAME[int(g)],
                    "hit": int(value in values),
                    "leader_ce": bool(leader_ce.get(pid, False)),
                    "new": bool(new.get(pid, False)),
                }
            )
    invited = c.groups[c.groups["invited"] > 0]
    for pid, group, n_invited, responded in zip(
        invited["pairing_id"].tolist(),
        invited["group"].tolist(),
        invited["invited"].tolist(),
        invited["responded"].tolist(),
        strict=True,
    ):
        out[int(pid)]["rates"].append(
            {"group": group, "invited": int(n_invited), "responded": int(responded)}
        )
    return out


def contributors(c: Computed) -> dict[int, dict[str, list[int]]]:
    """Per pairing, which responses stand behind each anonymous figure: each item and
    dimension cell of each shown group and of "everyone else", each shown group's replies
    and comments per dimension ("all": every response counted). Kept server-side with
    each snapshot and never served: two snapshots can then be compared by WHO stands
    behind a figure, not only how many (a reply added and another erased keeps n)."""
    sets: dict[int, dict[str, set[int]]] = {int(p): {} for p in c.pairings["pairing_id"]}
    figures: dict[int, dict[str, list[int]]] = {pid: {} for pid in sets}
    v = c.shown_values
    anon = v[v["s"].between(SRC["members"], SRC["partners"]).to_numpy()]
    pid = anon["pairing_id"].to_numpy(dtype="int64")
    rid = anon["response_id"].to_numpy(dtype="int64")
    item = anon["item_id"].to_numpy(dtype="int64")
    s = anon["s"].to_numpy(dtype="int64")
    dp = anon["dp"].to_numpy(dtype="int64")
    t = anon["t"].to_numpy(dtype="int64")
    item_code = dict(zip(c.items["item_id"].tolist(), c.items["item_code"].tolist(), strict=True))
    dim_code = dict(zip(c.dims["dp"].tolist(), c.dims["dimension_code"].tolist(), strict=True))

    # Each figure's responses, grouped by sorting (no loop over the answers): an item cell
    # of a group and of everyone else, a dimension cell of a group and of everyone else.
    def name(kind: str, k: list[int]) -> str:
        if kind == "item":
            return f"item|{item_code[k[0]]}|{SRC_NAME[k[1]]}"
        if kind == "item others":
            return f"item|{item_code[k[0]]}|others"
        if kind == "dim":
            return f"dim|{dim_code[k[0]]}|{TARGET_ORDER[k[1]]}|{SRC_NAME[k[2]]}"
        return f"dim|{dim_code[k[0]]}|{TARGET_ORDER[k[1]]}|others"

    for kind, parts in (
        ("item", [item, s]),
        ("item others", [item]),
        ("dim", [dp, t, s]),
        ("dim others", [dp, t]),
    ):
        for (p, *key), rids in _by_figure(pid, parts, rid):
            figures[p][name(kind, key)] = rids
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
    return {
        pid: {**figures[pid], **{k: sorted(ids) for k, ids in d.items()}} for pid, d in sets.items()
    }


def _by_figure(pid: Ints, parts: list[Ints], rid: Ints) -> list[tuple[tuple[int, ...], list[int]]]:
    """(pairing, *parts) → the distinct response ids with those values, ascending."""
    if len(pid) == 0:
        return []
    order = np.lexsort((rid, *reversed(parts), pid))
    cols = [pid[order], *(a[order] for a in parts)]
    r = rid[order]
    new_key = np.zeros(len(r), dtype=bool)
    new_key[0] = True
    for a in cols:
        new_key[1:] |= a[1:] != a[:-1]
    keep = new_key.copy()
    keep[1:] |= r[1:] != r[:-1]
    cols = [a[keep] for a in cols]
    r, new_key = r[keep], new_key[keep]
    starts = np.flatnonzero(new_key)
    ends = np.append(starts[1:], len(r))
    keys = list(zip(*(a[starts].tolist() for a in cols), strict=True))
    rids = r.tolist()
    return [(k, rids[a:b]) for k, a, b in zip(keys, starts.tolist(), ends.tolist(), strict=True)]
