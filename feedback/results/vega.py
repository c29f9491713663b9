"""Vega-Lite specs as plain dicts, written the way Altair writes them, for the charts of
feedback.results.charts.

Altair builds a chart as a tree of schema objects, copying the tree at every step and
checking each channel against the Vega-Lite schema: 50–100 ms a chart, most of a pairing
report page's time (11 charts). These builders take the same calls (`Chart(df).mark_point(
...).encode(x=X("mean:Q", ...))`, `layer(...)`, `.properties(...)`, `.configure(...)`) and
give the very spec Altair's `to_dict()` gives (tests/test_vega.py compares the two on
every chart), in well under a millisecond. `Spec.to_dict()` still checks the spec against
the Vega-Lite schema by default, as Altair's does; pages and renderers take it unchecked.
No Streamlit here.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "SCHEMA_URL",
    "Axis",
    "Chart",
    "Color",
    "LayerChart",
    "Order",
    "Scale",
    "Shape",
    "Spec",
    "Text",
    "TitleParams",
    "Tooltip",
    "X",
    "X2",
    "X2Datum",
    "XDatum",
    "Y",
    "Y2",
    "Y2Datum",
    "YDatum",
    "YOffset",
    "condition",
    "datum",
    "layer",
    "value",
]

# The Vega-Lite version Altair (6.x) writes: a spec names the schema it follows.
SCHEMA_URL = "https://vega.github.io/schema/vega-lite/v6.4.1.json"
_TYPES = {"N": "nominal", "Q": "quantitative", "O": "ordinal", "T": "temporal", "G": "geojson"}
_SHORTHAND = re.compile(
    r"^(?:(?P<aggregate>\w+)\((?P<inner>[^)]*)\)|(?P<field>[^:]*))(?::(?P<type>\w))?$"
)


class Spec(dict[str, Any]):
    """A finished chart: its Vega-Lite spec, a dict. `to_dict()` gives a copy, checked
    against the Vega-Lite schema unless `validate=False` (as Altair's does)."""

    def to_dict(self, validate: bool = True) -> dict[str, Any]:
        spec = copy.deepcopy(dict(self))
        if validate:
            from altair.utils.schemapi import validate_jsonschema
            from altair.vegalite.v6.schema import load_schema

            validate_jsonschema(spec, load_schema(), rootschema=load_schema())
        return spec

    def properties(self, **kw: Any) -> Spec:
        """A copy with these top-level settings (as Altair's `properties` on a chart)."""
        return Spec({**self, **{k: _clean(v) for k, v in kw.items()}})


def _clean(value: Any) -> Any:
    """A value as Altair writes it: helper objects as dicts, None kept (it means null)."""
    if isinstance(value, _Part):
        return value.to_dict()
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


class _Part:
    """A piece of a spec given as keyword arguments (an axis, a scale, a title…)."""

    def __init__(self, **kw: Any) -> None:
        self.kw = kw

    def to_dict(self) -> dict[str, Any]:
        return {k: _clean(v) for k, v in self.kw.items()}


class Axis(_Part):
    pass


class Scale(_Part):
    pass


class TitleParams(_Part):
    def __init__(self, text: Any, **kw: Any) -> None:
        super().__init__(text=text, **kw)


def _shorthand(shorthand: str) -> dict[str, Any]:
    if shorthand == "count()":
        return {"aggregate": "count", "type": "quantitative"}
    found = _SHORTHAND.match(shorthand)
    if found is None:
        raise ValueError(f"Not a field shorthand: {shorthand!r}")
    out: dict[str, Any] = {}
    if found["aggregate"]:
        out["aggregate"] = found["aggregate"]
        out["field"] = found["inner"]
    else:
        out["field"] = found["field"]
    if found["type"]:
        out["type"] = _TYPES[found["type"]]
    return out


class _Channel(_Part):
    typed = True  # X2/Y2 take no type

    def __init__(self, shorthand: str | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.shorthand = shorthand

    def to_dict(self) -> dict[str, Any]:
        out = _shorthand(self.shorthand) if self.shorthand is not None else {}
        if not self.typed:
            out.pop("type", None)
        out.update(super().to_dict())
        return out


class X(_Channel):
    pass


class Y(_Channel):
    pass


class X2(_Channel):
    typed = False


class Y2(_Channel):
    typed = False


class YOffset(_Channel):
    pass


class Color(_Channel):
    pass


class Shape(_Channel):
    pass


class Text(_Channel):
    pass


class Order(_Channel):
    pass


class Tooltip(_Channel):
    pass


class _Datum(_Part):
    def __init__(self, value: Any, **kw: Any) -> None:
        super().__init__(datum=value, **kw)


class XDatum(_Datum):
    pass


class YDatum(_Datum):
    pass


class X2Datum(_Datum):
    pass


class Y2Datum(_Datum):
    pass


def datum(value: Any) -> dict[str, Any]:
    return {"datum": value}


def value(value: Any) -> dict[str, Any]:
    return {"value": value}


def condition(test: str, if_true: dict[str, Any], if_false: dict[str, Any]) -> dict[str, Any]:
    return {"condition": {"test": test, **if_true}, **if_false}


_UNTYPED_CHANNELS = {"x2", "y2"}


def _channel(name: str, given: Any) -> Any:
    if isinstance(given, str):
        out = _shorthand(given)
        if name in _UNTYPED_CHANNELS:
            out.pop("type", None)
        return out
    if isinstance(given, list):
        return [_channel(name, g) for g in given]
    return _clean(given)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A table's rows as Altair's sanitising writes them: plain Python numbers and strings,
    None for a missing value (NaN, ±inf, None, NA)."""
    columns: list[list[Any]] = []
    for name in df.columns:
        col = df[name]
        kind = col.dtype
        if kind.kind == "f":
            values = col.to_numpy()
            bad = ~np.isfinite(values)
            listed: list[Any] = values.tolist()
            if bad.any():
                listed = [None if b else v for v, b in zip(listed, bad.tolist(), strict=True)]
        elif kind.kind in "iub":
            listed = col.to_numpy().tolist()
        else:
            listed = [_plain(v) for v in col.tolist()]
        columns.append(listed)
    names = [str(n) for n in df.columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _plain(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float):
        return None if not math.isfinite(v) else v
    if isinstance(v, np.generic):
        v = v.item()
        return None if isinstance(v, float) and not math.isfinite(v) else v
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _dataset_name(values: list[dict[str, Any]]) -> str:
    if values == [{}]:
        return "empty"
    text = json.dumps(values, sort_keys=True, default=str)
    return "data-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _sorted(value: Any) -> Any:
    """Keys in alphabetical order at every depth, as Altair writes a schema object."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _first(value: dict[str, Any], first: str) -> dict[str, Any]:
    return {first: value[first], **{k: value[k] for k in sorted(value) if k != first}}


def _unit_order(body: dict[str, Any], top: bool = False) -> dict[str, Any]:
    """A chart's or layer's keys in the order Altair writes them (the browser's Vega-Lite
    builds a chart's scene in the order it reads the spec, so the order is kept as it
    was): data, mark (its type first), the encoding (channels and their settings in
    alphabetical order), transforms, layers, then the chart's other settings in
    alphabetical order (a title's text first)."""
    out: dict[str, Any] = {}
    if "layer" in body:
        order: tuple[str, ...] = ("layer", "data")
    else:
        order = ("data", "mark") if top else ("data", "mark", "encoding", "transform")
    for key in [k for k in order if k in body] + sorted(k for k in body if k not in order):
        value = body[key]
        if key == "mark" and isinstance(value, dict) and "type" in value:
            value = _first(value, "type")
        elif key == "encoding":
            value = _sorted(value)
        elif key == "layer":
            value = [_unit_order(unit) for unit in value]
        elif key == "title" and isinstance(value, dict) and "text" in value:
            value = _first(value, "text")
        out[key] = value
    return out


class _Data:
    """A table given to a chart, written once (rows and name) however many layers use it."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.values = _records(df)
        self.name = _dataset_name(self.values)


class _Base:
    def __init__(self) -> None:
        self.props: dict[str, Any] = {}

    def _body(self, datasets: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        raise NotImplementedError

    def configure(self, **config: Any) -> Spec:
        """The finished spec, with the chart's `config`."""
        datasets: dict[str, list[dict[str, Any]]] = {}
        body = self._body(datasets)
        # Altair's default theme sets the view's size; the chart's own config comes after.
        config = {"view": {"continuousWidth": 300, "continuousHeight": 300}, **config}
        config = _clean(config)
        config = {"view": config["view"], **{k: config[k] for k in sorted(config) if k != "view"}}
        spec = Spec({"config": config, **_unit_order(body, top=True)})
        spec["$schema"] = SCHEMA_URL
        if datasets:
            spec["datasets"] = datasets
        return spec


class Chart(_Base):
    """One layer: a table (given once, shared by every chart derived from it), transforms,
    a mark and its encoding."""

    def __init__(self, data: pd.DataFrame | _Data | None = None) -> None:
        super().__init__()
        self.data = _Data(data) if isinstance(data, pd.DataFrame) else data
        self.transforms: list[dict[str, Any]] = []
        self.mark: dict[str, Any] | str | None = None
        self.encoding: dict[str, Any] = {}

    def _copy(self) -> Chart:
        out = Chart.__new__(Chart)
        out.data = self.data
        out.transforms = list(self.transforms)
        out.mark = dict(self.mark) if isinstance(self.mark, dict) else self.mark
        out.encoding = dict(self.encoding)
        out.props = dict(self.props)
        return out

    def _with(self, transform: dict[str, Any]) -> Chart:
        out = self._copy()
        out.transforms.append(transform)
        return out

    def transform_calculate(self, **exprs: str) -> Chart:
        out = self._copy()
        out.transforms += [{"calculate": expr, "as": name} for name, expr in exprs.items()]
        return out

    def transform_filter(self, test: str) -> Chart:
        return self._with({"filter": test})

    def transform_fold(self, fold: Sequence[str], as_: Sequence[str]) -> Chart:
        return self._with({"fold": list(fold), "as": list(as_)})

    def transform_aggregate(self, groupby: Sequence[str] | None = None, **ops: str) -> Chart:
        step: dict[str, Any] = {"aggregate": self._ops(ops)}
        if groupby is not None:
            step["groupby"] = list(groupby)
        return self._with(step)

    def transform_joinaggregate(self, groupby: Sequence[str] | None = None, **ops: str) -> Chart:
        step: dict[str, Any] = {"joinaggregate": self._ops(ops)}
        if groupby is not None:
            step["groupby"] = list(groupby)
        return self._with(step)

    @staticmethod
    def _ops(ops: dict[str, str]) -> list[dict[str, Any]]:
        out = []
        for name, op in ops.items():
            found = _shorthand(op)
            entry = {"op": found["aggregate"], "as": name}
            if found.get("field"):
                entry = {"op": found["aggregate"], "field": found["field"], "as": name}
            out.append(entry)
        return out

    def properties(self, **kw: Any) -> Chart:
        out = self._copy()
        out.props.update(kw)
        return out

    def _mark(self, kind: str, **kw: Any) -> Chart:
        out = self._copy()
        out.mark = {"type": kind, **kw}
        return out

    def mark_point(self, **kw: Any) -> Chart:
        return self._mark("point", **kw)

    def mark_rule(self, **kw: Any) -> Chart:
        return self._mark("rule", **kw)

    def mark_text(self, **kw: Any) -> Chart:
        return self._mark("text", **kw)

    def mark_bar(self, **kw: Any) -> Chart:
        return self._mark("bar", **kw)

    def mark_rect(self, **kw: Any) -> Chart:
        return self._mark("rect", **kw)

    def mark_props(self) -> dict[str, Any]:
        """The mark's settings other than its type."""
        mark = self.mark if isinstance(self.mark, dict) else {}
        return {k: v for k, v in mark.items() if k != "type"}

    def encode(self, **channels: Any) -> Chart:
        out = self._copy()
        out.encoding.update(channels)
        return out

    def _unit(self, datasets: dict[str, list[dict[str, Any]]], with_data: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if with_data and self.data is not None:
            datasets.setdefault(self.data.name, self.data.values)
            out["data"] = {"name": self.data.name}
        if self.encoding:
            out["encoding"] = {k: _channel(k, v) for k, v in self.encoding.items()}
        if self.mark is not None:
            out["mark"] = self.mark
        if self.transforms:
            out["transform"] = copy.deepcopy(self.transforms)
        out.update({k: _clean(v) for k, v in self.props.items()})
        return out

    def _body(self, datasets: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        return self._unit(datasets, with_data=True)


class LayerChart(_Base):
    def __init__(self, layers: Sequence[Chart]) -> None:
        super().__init__()
        self.layers = list(layers)
        self.resolve: dict[str, Any] | None = None

    def _copy(self) -> LayerChart:
        out = LayerChart(self.layers)
        out.props = dict(self.props)
        out.resolve = self.resolve
        return out

    def properties(self, **kw: Any) -> LayerChart:
        out = self._copy()
        out.props.update(kw)
        return out

    def resolve_scale(self, **channels: str) -> LayerChart:
        out = self._copy()
        out.resolve = {"scale": dict(channels)}
        return out

    def _body(self, datasets: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        # As Altair: a table every layer shares is given once, at the top.
        first = self.layers[0].data if self.layers else None
        shared = first is not None and all(c.data is first for c in self.layers)
        out: dict[str, Any] = {}
        if shared and first is not None:
            datasets.setdefault(first.name, first.values)
            out["data"] = {"name": first.name}
        out["layer"] = [c._unit(datasets, with_data=not shared) for c in self.layers]
        if self.resolve is not None:
            out["resolve"] = self.resolve
        out.update({k: _clean(v) for k, v in self.props.items()})
        return out


def layer(*charts: Chart) -> LayerChart:
    return LayerChart(charts)
