"""Bridges from Tandem's framework to the LGA corporate peer challenge and the chief
executive development framework (`data/bridges.yaml`), and the anonymised evidence summary
a council pack gives the peer team.

The summary is built only from what the pairings' reports already show (each read through
`feedback.results.publication`, so every figure rests on groups at or above the anonymity
threshold): per dimension, how the people around the pairings rate the partnerships, and in
how many pairings a blind spot, a hidden strength or the mirror finding shows. No comment,
no pairing and no rater is named.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from core.db import DATA_DIR
from feedback.results.tables import PairingReport

BRIDGES = DATA_DIR / "bridges.yaml"
STRENGTH = 4.0  # "agree": a median partnership score at or above it is a shared strength
CONCERN = 3.5  # below it, an area for development across the council
SPREAD = 1.0  # pairings this far apart are "mixed"


@functools.cache
def _bridges_cached(path: str, mtime: float) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return data


def load_bridges(path: Path = BRIDGES) -> dict[str, Any]:
    return _bridges_cached(str(path), path.stat().st_mtime)


def elements_of(code: str, bridges: dict[str, Any] | None = None) -> list[str]:
    """The peer challenge elements a dimension maps to, by name (and the chief executive
    framework's theme where it applies)."""
    data = bridges or load_bridges()
    entry = (data.get("dimensions") or {}).get(code) or {}
    names = [data["elements"][e] for e in entry.get("elements", [])]
    if entry.get("political_interface"):
        names.append(f"CE framework: {data['political_interface']}")
    return names


def sources_line(bridges: dict[str, Any] | None = None) -> str:
    data = bridges or load_bridges()
    return " · ".join(f"{s['title']} ({s['year']})" for s in data["sources"].values())


def _pattern(median: float, low: float, high: float) -> str:
    if median >= STRENGTH:
        return "a strength across the council"
    if median < CONCERN:
        return "an area for development across the council"
    if high - low >= SPREAD:
        return "mixed: strong in some pairings, weak in others"
    return "middling across the council"


def _count(frames: list[pd.DataFrame], flag: str) -> pd.Series:
    rows = [f.loc[f["flag"].eq(flag), ["pairing", "dimension_code"]] for f in frames if len(f)]
    if not rows:
        return pd.Series(dtype=int)
    return pd.concat(rows).drop_duplicates().groupby("dimension_code").size()


def evidence_summary(
    reports: Iterable[PairingReport], bridges: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Per dimension: the partnership as the people around each pairing see it (only the
    groups each report shows), summarised across pairings, the number of pairings with each
    finding there, the pattern in words and the peer challenge elements it maps to."""
    data = bridges or load_bridges()
    scores: list[pd.DataFrame] = []
    gaps: list[pd.DataFrame] = []
    mirrors: list[pd.DataFrame] = []
    for n, report in enumerate(reports):
        dims = report.dimensions
        if not dims.empty:
            seen = dims[(dims["target"] == "partnership") & (dims["source"] == "others")]
            scores.append(seen[["dimension_code", "dimension_name", "mean"]].assign(pairing=n))
        for frame, into in ((report.gaps, gaps), (report.mirror, mirrors)):
            if not frame.empty and "flag" in frame.columns:
                into.append(frame[["dimension_code", "flag"]].assign(pairing=n))
    columns = ["dimension_code", "dimension_name", "pairings", "median", "lowest", "highest"]
    columns += ["blind_spots", "hidden_strengths", "mirror", "pattern", "elements"]
    if not scores:
        return pd.DataFrame(columns=columns)
    all_scores = pd.concat(scores).dropna(subset=["mean"])
    if all_scores.empty:
        return pd.DataFrame(columns=columns)
    out = (
        all_scores.groupby(["dimension_code", "dimension_name"], sort=False)["mean"]
        .agg(pairings="count", median="median", lowest="min", highest="max")
        .reset_index()
    )
    for name, frames, flag in (
        ("blind_spots", gaps, "blind spot"),
        ("hidden_strengths", gaps, "hidden strength"),
        ("mirror", mirrors, "mirror"),
    ):
        out[name] = out["dimension_code"].map(_count(frames, flag)).fillna(0).astype(int)
    out["pattern"] = [
        _pattern(m, lo, hi)
        for m, lo, hi in zip(out["median"], out["lowest"], out["highest"], strict=True)
    ]
    out["elements"] = [elements_of(c, data) for c in out["dimension_code"]]
    result: pd.DataFrame = out[columns]
    return result


def evidence_sentence(row: Mapping[Any, Any]) -> str:
    """One dimension's evidence in words, for the pack."""
    n = int(row["pairings"])
    text = (
        f"{str(row['pattern']).capitalize()}: partnership scored {row['median']:.1f} out of 5 "
        f"(median of {n} pairing{'s' * (n != 1)}"
        + (f", from {row['lowest']:.1f} to {row['highest']:.1f}" if n > 1 else "")
        + ")."
    )
    found = [
        f"{int(row[key])} with {words}"
        for key, words in (
            ("blind_spots", "a blind spot"),
            ("hidden_strengths", "a hidden strength"),
            ("mirror", "the member and officer seeing their partnership differently"),
        )
        if int(row[key])
    ]
    if found:
        text += " Pairings " + "; ".join(found) + "."
    return text
