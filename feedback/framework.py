"""The framework item bank: a readable YAML file in data/framework/, validated strictly.

A framework is stored in the database the first time a cycle uses it; that stored copy is
what the cycle keeps, whatever later happens to the file. A file whose content changes
must also change its version, or Tandem refuses to load it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlmodel import Session, select

from feedback.db import DATA_DIR, TandemError
from feedback.models import Dimension, FrameworkVersion, Item

FRAMEWORK_DIR = DATA_DIR / "framework"
DEFAULT_FRAMEWORK_FILE = FRAMEWORK_DIR / "tandem-core-2026.1.yaml"
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
ALLOWED_PLACEHOLDERS = {"member", "officer"}
SOLACE_SCALES = {"advice_frequency", "relationship"}


class FrameworkFileError(TandemError):
    """A framework file that cannot be used; `problems` lists each one with its place."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"The framework file {self.path} cannot be used:\n{listed}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ScalePoint(_Strict):
    value: int = Field(ge=1, le=5)
    label: str = Field(min_length=1)


class Scale(_Strict):
    label: str = Field(min_length=1)
    allows_cant_say: bool = True
    points: list[ScalePoint] = Field(min_length=2)

    @field_validator("points")
    @classmethod
    def _ascending(cls, points: list[ScalePoint]) -> list[ScalePoint]:
        values = [p.value for p in points]
        if values != list(range(1, len(values) + 1)):
            raise ValueError(f"point values must run 1, 2, 3… in order; found {values}")
        return points


def _check_placeholders(text: str) -> str:
    unknown = set(PLACEHOLDER.findall(text)) - ALLOWED_PLACEHOLDERS
    if unknown:
        raise ValueError(
            f"unknown placeholder(s) {', '.join('{' + u + '}' for u in sorted(unknown))}; "
            "only {member} and {officer} can be used"
        )
    # A brace left over once the placeholders are taken out is a half-typed one, such as
    # "{member" — it would be shown to raters as it stands.
    if "{" in PLACEHOLDER.sub("", text) or "}" in PLACEHOLDER.sub("", text):
        raise ValueError(
            "a { or } without its pair; write {member} or {officer} in full, with both braces"
        )
    return text


class ItemSpec(_Strict):
    code: str = Field(pattern=r"^[a-z0-9_.\-]+$")
    target: Literal["member", "officer", "partnership"]
    text: str = Field(min_length=5, max_length=300)
    scale: str = "agreement"

    _placeholders = field_validator("text")(_check_placeholders)


class DimensionSpec(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_\-]*$")
    name: str = Field(min_length=1)
    description: str = ""
    items: list[ItemSpec] = Field(min_length=1)


class Benchmark(_Strict):
    share: float = Field(ge=0, le=1)
    values: list[int] = Field(min_length=1)
    label: str
    source: str = ""


class SolaceSpec(_Strict):
    code: str = Field(pattern=r"^[a-z0-9_.\-]+$")
    target: Literal["partnership"] = "partnership"
    scale: str
    audience: Literal["principals", "everyone"] = "principals"
    text: str = Field(min_length=5, max_length=300)
    benchmark: Benchmark

    _placeholders = field_validator("text")(_check_placeholders)


class FrameworkSpec(_Strict):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    version: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str = ""
    scales: dict[str, Scale]
    dimensions: list[DimensionSpec] = Field(min_length=1)
    solace: list[SolaceSpec] = []

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_text(cls, value: Any) -> Any:
        # "2026.1" unquoted in YAML is a float: accept it, but keep its written form.
        return str(value) if isinstance(value, int | float) else value

    @model_validator(mode="after")
    def _cross_checks(self) -> FrameworkSpec:
        problems: list[str] = []
        if "agreement" not in self.scales:
            problems.append("scales: an 'agreement' scale is required")
        seen_dims: set[str] = set()
        seen_items: set[str] = set()
        for d, dim in enumerate(self.dimensions):
            if dim.code in seen_dims:
                problems.append(f"dimensions[{d}].code: '{dim.code}' is used twice")
            seen_dims.add(dim.code)
            for i, item in enumerate(dim.items):
                where = f"dimensions[{d}].items[{i}]"
                if item.code in seen_items:
                    problems.append(f"{where}.code: '{item.code}' is used twice")
                seen_items.add(item.code)
                if item.scale not in self.scales:
                    problems.append(f"{where}.scale: no scale called '{item.scale}'")
        for s, q in enumerate(self.solace):
            if q.code in seen_items:
                problems.append(f"solace[{s}].code: '{q.code}' is used twice")
            seen_items.add(q.code)
            if q.scale not in self.scales:
                problems.append(f"solace[{s}].scale: no scale called '{q.scale}'")
            else:
                top = len(self.scales[q.scale].points)
                bad = [v for v in q.benchmark.values if not 1 <= v <= top]
                if bad:
                    problems.append(f"solace[{s}].benchmark.values: {bad} are not on the scale")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def item_count(self) -> int:
        return sum(len(d.items) for d in self.dimensions) + len(self.solace)

    def checksum(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


# --- loading with located errors --------------------------------------------------------


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Follow a pydantic error location through the YAML node tree to a line number."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == part), None)
            if nxt is None:  # an unknown key: point at the key itself
                key = next((k for k, _ in node.value if k.value == part), None)
                return key.start_mark.line + 1 if key is not None else line
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_framework(text: str, source: str = "<framework>") -> FrameworkSpec:
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise FrameworkFileError(source, [f"{at}not valid YAML ({problem})"]) from exc
    if not isinstance(data, dict):
        raise FrameworkFileError(source, ["the file must be a mapping with key, version, …"])
    try:
        return FrameworkSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            line = _line_of(node, loc)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling)"
            elif err["type"] == "missing":
                msg = "required but missing"
            at = f"line {line}: " if line else ""
            problems.append(f"{at}{_where(loc)}: {msg}")
        raise FrameworkFileError(source, problems) from exc


def load_framework_file(path: Path | str = DEFAULT_FRAMEWORK_FILE) -> FrameworkSpec:
    path = Path(path)
    if not path.exists():
        raise FrameworkFileError(path, ["the file does not exist"])
    return parse_framework(path.read_text(encoding="utf-8"), str(path))


def store_framework(session: Session, spec: FrameworkSpec) -> FrameworkVersion:
    """Store a framework version once; the same version with other content is refused."""
    existing = session.exec(
        select(FrameworkVersion).where(
            FrameworkVersion.key == spec.key, FrameworkVersion.version == spec.version
        )
    ).first()
    checksum = spec.checksum()
    if existing is not None:
        if existing.checksum != checksum:
            raise FrameworkFileError(
                f"{spec.key} {spec.version}",
                [
                    f"version {spec.version} is already stored with different content; cycles "
                    "that ran with it keep the stored wording. Give the edited file a new "
                    "version (for example "
                    f"{spec.version}-1) and load that instead"
                ],
            )
        return existing
    version = FrameworkVersion(
        key=spec.key,
        version=spec.version,
        title=spec.title,
        checksum=checksum,
        definition=spec.model_dump(mode="json"),
    )
    session.add(version)
    session.flush()
    position = 0
    for d, dim in enumerate(spec.dimensions):
        row = Dimension(
            framework_version_id=version.id,
            code=dim.code,
            name=dim.name,
            description=dim.description,
            position=d,
        )
        session.add(row)
        session.flush()
        for item in dim.items:
            session.add(
                Item(
                    framework_version_id=version.id,
                    dimension_id=row.id,
                    code=item.code,
                    target=item.target,
                    scale=item.scale,
                    text=item.text,
                    position=position,
                )
            )
            position += 1
    for q in spec.solace:
        session.add(
            Item(
                framework_version_id=version.id,
                dimension_id=None,
                code=q.code,
                target=q.target,
                scale=q.scale,
                text=q.text,
                audience=q.audience,
                position=position,
            )
        )
        position += 1
    session.flush()
    return version


def ensure_default_framework(session: Session) -> FrameworkVersion:
    return store_framework(session, load_framework_file(DEFAULT_FRAMEWORK_FILE))


def framework_spec(version: FrameworkVersion) -> FrameworkSpec:
    """The framework exactly as stored for a cycle."""
    return FrameworkSpec.model_validate(version.definition)


def render_item(text: str, member: str, officer: str) -> str:
    """Put the pairing's names into an item's wording."""
    return text.replace("{member}", member).replace("{officer}", officer)
