"""A chart in words for a screen reader (a PDF figure's alt text): the chart's own
description, then every value it draws, read from the rows inside the chart's spec — the
rows the chart was given after suppression, and nothing else."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from core.vocabulary import GROUP_LABELS
from feedback.results.charts import MIRROR_VIEWS, SOURCE_LABELS, TARGET_LABELS


def _one(value: Any, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "none"
    return f"{float(value):+.1f}" if signed else f"{float(value):.1f}"


def _rows(spec: dict[str, Any]) -> pd.DataFrame:
    datasets = spec.get("datasets") or {}
    name = (spec.get("data") or {}).get("name")
    rows = datasets.get(name) if name else next(iter(datasets.values()), None)
    return pd.DataFrame(rows if rows is not None else [])


def _grouped(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    """Rows by the value of `key`, in the order the chart draws them."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row[key]), []).append(row)
    return groups


def _sentences(df: pd.DataFrame, threshold: int | None) -> list[str]:
    cols = {str(c) for c in df.columns}
    rows: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in df.to_dict("records")]
    if not rows:
        return []
    if {"source", "mean"} <= cols:
        label = "item_text" if "item_text" in cols else "dimension_name"
        return [
            f"{name}: "
            + ", ".join(
                f"{SOURCE_LABELS.get(str(r['source']), r['source'])} {_one(r['mean'])}" for r in g
            )
            + "."
            for name, g in _grouped(rows, label).items()
        ]
    if {"gap", "flag", "self_mean", "others_mean"} <= cols:
        multi = len({r["target"] for r in rows}) > 1
        return [
            f"{r['dimension_name']}"
            + (f" ({TARGET_LABELS.get(str(r['target']), r['target'])})" if multi else "")
            + f": gap {_one(r['gap'], signed=True)} (self {_one(r['self_mean'])}, everyone "
            f"else {_one(r['others_mean'])})" + (f", {r['flag']}" if r["flag"] else "") + "."
            for r in rows
        ]
    if {"quadrant", "self_mean", "others_mean"} <= cols:
        return [
            f"{r['dimension_name']}: self {_one(r['self_mean'])}, everyone else "
            f"{_one(r['others_mean'])}, {r['quadrant']}."
            for r in rows
        ]
    if set(MIRROR_VIEWS) <= cols:
        return [
            f"{r['dimension_name']}: "
            + ", ".join(f"{MIRROR_VIEWS[v][0].lower()} {_one(r[v])}" for v in MIRROR_VIEWS)
            + "."
            for r in rows
        ]
    if {"previous", "current", "change"} <= cols:
        return [
            f"{r['dimension_name']}: {_one(r['previous'])} then {_one(r['current'])} "
            f"({_one(r['change'], signed=True)})."
            for r in rows
        ]
    if {"pairing_label", "score"} <= cols:
        return [
            f"{label}: " + ", ".join(f"{r['dimension_name']} {_one(r['score'])}" for r in g) + "."
            for label, g in _grouped(rows, "pairing_label").items()
        ]
    if {"pairing_label", "group", "rate", "responded"} <= cols:
        return [
            f"{label}: " + ", ".join(_rate(r, threshold) for r in g) + "."
            for label, g in _grouped(rows, "pairing_label").items()
        ]
    return []


def _rate(row: dict[str, Any], threshold: int | None) -> str:
    group = GROUP_LABELS.get(str(row["group"]), str(row["group"]))
    # As the report's "Who responded" says it: a group too small to show has no exact count.
    if threshold and row["group"] not in ("self", "partner") and row["responded"] < threshold:
        return f"{group} fewer than {threshold} ({int(row['invited'])} invited)"
    return f"{group} {int(row['responded'])} of {int(row['invited'])} ({float(row['rate']):.0%})"


def figure_words(chart: Any, threshold: int | None = None) -> str:
    """The alt text of `chart` (an Altair chart or its spec): what it shows, then its values.
    `threshold` (the anonymity threshold) keeps a small group's reply count out of words."""
    spec = chart if isinstance(chart, dict) else chart.to_dict()
    described = str(spec.get("description") or "").strip()
    values = _sentences(_rows(spec), threshold)
    if not values:
        return described or "A chart with nothing to show."
    return f"{described} The values shown: {' '.join(values)}".strip()
