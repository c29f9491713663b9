"""The framework item bank: a readable YAML file in data/framework/, validated strictly.

A framework is stored in the database the first time a cycle uses it; that stored copy is
what the cycle keeps, whatever later happens to the file. A file whose content changes
must also change its version, or Tandem refuses to load it.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlmodel import Session, col, select

from core.db import DATA_DIR, TandemError
from core.models import stored_id
from core.vocabulary import RaterGroup, Target
from feedback.models import Dimension, FrameworkVersion, Item

FRAMEWORK_DIR = DATA_DIR / "framework"
# New cycles use the current version; cycles that already ran keep the version they ran
# with (the stored copy), and the demo keeps 2026.1 so that its designed findings hold.
FRAMEWORK_2026_1 = FRAMEWORK_DIR / "tandem-core-2026.1.yaml"
DEFAULT_FRAMEWORK_FILE = FRAMEWORK_DIR / "tandem-core-2026.2.yaml"
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
ALLOWED_PLACEHOLDERS = {"member", "officer"}
SOLACE_SCALES = {"advice_frequency", "relationship"}
# Who may be asked an item (the file's `audience`): the pair themselves and the three
# anonymous groups, named as the invitations name them (feedback.models.RaterGroup).
AUDIENCE_GROUPS = ("principals", "members", "officers", "partners")
GROUP_OF_AUDIENCE = {
    "principals": "principal",
    "members": "members",
    "officers": "officers",
    "partners": "partners",
}


class FrameworkFileError(TandemError):
    """A framework file that cannot be used; `problems` lists each one with its place."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"The framework file {self.path} cannot be used:\n{listed}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- Welsh beside the English (Cymraeg; left out of the checksum) ----------------------


class WelshStatus(_Strict):
    """Where a file's Welsh came from. Machine-drafted text stays marked unchecked until a
    Welsh speaker checks it; the Cycles page warns staff of a Welsh cycle that uses it."""

    drafted_by: Literal["machine", "translator"]
    checked: bool = False
    checked_by: str = ""


class WelshLabel(_Strict):
    label: str = Field(min_length=1)


class WelshDimension(_Strict):
    name: str = Field(min_length=1)
    description: str = ""


class WelshWording(_Strict):
    """An item's or question's Welsh: the same placeholders as its English."""

    text: str | None = Field(default=None, min_length=5, max_length=400)
    self_text: str | None = Field(default=None, min_length=5, max_length=400)
    member_text: str | None = Field(default=None, min_length=5, max_length=400)

    @field_validator("text", "self_text", "member_text")
    @classmethod
    def _placeholders(cls, text: str | None) -> str | None:
        return _check_placeholders(text, frozenset({"member", "officer", "partner"}))


class ScalePoint(_Strict):
    value: int = Field(ge=1, le=5)
    label: str = Field(min_length=1)
    cy: str | None = Field(default=None, min_length=1)


class Scale(_Strict):
    label: str = Field(min_length=1)
    cy: WelshLabel | None = None
    allows_cant_say: bool = True
    points: list[ScalePoint] = Field(min_length=2)

    @field_validator("points")
    @classmethod
    def _ascending(cls, points: list[ScalePoint]) -> list[ScalePoint]:
        values = [p.value for p in points]
        if values != list(range(1, len(values) + 1)):
            raise ValueError(f"point values must run 1, 2, 3… in order; found {values}")
        return points


def _check_placeholders(
    text: str | None, allowed: frozenset[str] = frozenset(ALLOWED_PLACEHOLDERS)
) -> str | None:
    if text is None:  # an optional wording (2026.2) that a file leaves out
        return None
    unknown = set(PLACEHOLDER.findall(text)) - allowed
    if unknown:
        names = " and ".join("{" + a + "}" for a in sorted(allowed))
        raise ValueError(
            f"unknown placeholder(s) {', '.join('{' + u + '}' for u in sorted(unknown))}; "
            f"only {names} can be used"
        )
    # A brace left over once the placeholders are taken out is a half-typed one, such as
    # "{member" — it would be shown to raters as it stands.
    if "{" in PLACEHOLDER.sub("", text) or "}" in PLACEHOLDER.sub("", text):
        raise ValueError(
            "a { or } without its pair; write {member} or {officer} in full, with both braces"
        )
    return text


Audience = Literal["principals", "members", "officers", "partners"]
SELF_WORD = re.compile(r"\b(you|your)\b", re.IGNORECASE)


def _check_self_text(text: str | None, target: str) -> str | None:
    """What the person rated reads about themselves: "You …", never their own name. For a
    partnership item both of the pair read it, so it names the other one as {partner}."""
    if text is None:
        return None
    allowed = {
        "member": frozenset({"officer"}),
        "officer": frozenset({"member"}),
        "partnership": frozenset({"partner"}),
    }[target]
    _check_placeholders(text, allowed)
    if not SELF_WORD.search(text):
        raise ValueError('self_text speaks to the person answering: use "you" or "your"')
    return text


class ItemSpec(_Strict):
    code: str = Field(pattern=r"^[a-z0-9_.\-]+$")
    target: Literal["member", "officer", "partnership"]
    text: str = Field(min_length=5, max_length=300)
    scale: str = "agreement"
    # Added in 2026.2; absent (None) in 2026.1, where everyone was asked everything in the
    # third person. None values are left out of the checksum, so 2026.1 keeps its own.
    audience: list[Audience] | None = None
    self_text: str | None = Field(default=None, min_length=5, max_length=300)
    cy: WelshWording | None = None

    _placeholders = field_validator("text")(_check_placeholders)

    @model_validator(mode="after")
    def _audience_and_self(self) -> ItemSpec:
        if self.audience is not None:
            if len(set(self.audience)) != len(self.audience):
                raise ValueError("audience names a group twice")
            if "principals" not in self.audience:
                # Every gap and the mirror set the pair's own view against others'.
                raise ValueError("audience must include principals (the pair rate every item)")
        _check_self_text(self.self_text, self.target)
        return self

    def asks(self, group: str) -> bool:
        """Whether raters of `group` (an invitation's rater group) are asked this item."""
        if self.audience is None:
            return True
        return any(GROUP_OF_AUDIENCE[a] == group for a in self.audience)


class OpenQuestionSpec(_Strict):
    """A question answered in words ("keep doing", "focus on"), with the comments' rules."""

    code: str = Field(pattern=r"^[a-z0-9_.\-]+$")
    target: Literal["member", "officer", "partnership"]
    text: str = Field(min_length=5, max_length=300)
    self_text: str | None = Field(default=None, min_length=5, max_length=300)
    cy: WelshWording | None = None

    _placeholders = field_validator("text")(_check_placeholders)

    @model_validator(mode="after")
    def _self(self) -> OpenQuestionSpec:
        _check_self_text(self.self_text, self.target)
        return self


class MattersMostSpec(_Strict):
    """Raters pick up to `pick` dimensions that matter most for the pairing."""

    pick: int = Field(default=3, ge=1, le=5)
    text: str = Field(min_length=5, max_length=300)
    self_text: str | None = Field(default=None, min_length=5, max_length=300)
    cy: WelshWording | None = None

    _placeholders = field_validator("text")(_check_placeholders)

    @field_validator("self_text")
    @classmethod
    def _self(cls, text: str | None) -> str | None:
        return _check_self_text(text, "partnership")


class DimensionSpec(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_\-]*$")
    name: str = Field(min_length=1)
    description: str = ""
    cy: WelshDimension | None = None
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
    # `text` is what the officer answers (about the member: like for like with Solace);
    # `member_text` (2026.2) is the member's own wording of the same question.
    text: str = Field(min_length=5, max_length=300)
    member_text: str | None = Field(default=None, min_length=5, max_length=300)
    cy: WelshWording | None = None
    benchmark: Benchmark

    _placeholders = field_validator("text", "member_text")(_check_placeholders)


class FrameworkSpec(_Strict):
    welsh: WelshStatus | None = None  # the file carries Welsh (`cy`) beside its English
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    version: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str = ""
    scales: dict[str, Scale]
    dimensions: list[DimensionSpec] = Field(min_length=1)
    solace: list[SolaceSpec] = []
    open_questions: list[OpenQuestionSpec] | None = None  # 2026.2
    matters_most: MattersMostSpec | None = None  # 2026.2

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
                if self.per_item_audience and item.audience is None:
                    problems.append(
                        f"{where}.audience: required, as other items name theirs (list the "
                        "groups that can see this behaviour)"
                    )
                if self.per_item_audience and item.self_text is None:
                    problems.append(
                        f"{where}.self_text: required with audiences: the person rated "
                        'reads the item addressed to them ("You …")'
                    )
        for o, q in enumerate(self.open_questions or []):
            if q.code in seen_items:
                problems.append(f"open_questions[{o}].code: '{q.code}' is used twice")
            seen_items.add(q.code)
        for s, sq in enumerate(self.solace):
            if sq.code in seen_items:
                problems.append(f"solace[{s}].code: '{sq.code}' is used twice")
            seen_items.add(sq.code)
            if sq.scale not in self.scales:
                problems.append(f"solace[{s}].scale: no scale called '{sq.scale}'")
            else:
                top = len(self.scales[sq.scale].points)
                bad = [v for v in sq.benchmark.values if not 1 <= v <= top]
                if bad:
                    problems.append(f"solace[{s}].benchmark.values: {bad} are not on the scale")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def item_count(self) -> int:
        return sum(len(d.items) for d in self.dimensions) + len(self.solace)

    @property
    def per_item_audience(self) -> bool:
        """2026.2 onwards: items name who is asked them (and then all of them must)."""
        return any(i.audience is not None for d in self.dimensions for i in d.items)

    def item_specs(self) -> dict[str, ItemSpec]:
        return {i.code: i for d in self.dimensions for i in d.items}

    def not_asked(self) -> dict[str, list[str]]:
        """Item code → the anonymous rater groups NOT asked it (not applicable to them)."""
        out: dict[str, list[str]] = {}
        for code, item in self.item_specs().items():
            missing = [g for g in ("members", "officers", "partners") if not item.asks(g)]
            if missing:
                out[code] = missing
        return out

    def checksum(self) -> str:
        # None (a key added in 2026.2 and not used) is left out, so a 2026.1 file keeps the
        # checksum it was stored with and loads again beside the cycles that ran with it.
        # The Welsh (`cy`, `welsh`) is left out too: a translation a Welsh speaker corrects
        # changes no English wording, so it needs no new version.
        canonical = json.dumps(
            _without_welsh(self.model_dump(mode="json", exclude_none=True)),
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def _without_welsh(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_welsh(v) for k, v in data.items() if k not in ("cy", "welsh")}
    if isinstance(data, list):
        return [_without_welsh(v) for v in data]
    return data


def missing_welsh(spec: FrameworkSpec) -> list[str]:
    """Every place a rater would read English in a Welsh cycle: each dimension, item,
    question and scale label without its Welsh wording (empty: all of it is there)."""
    gaps: list[str] = []
    for name, scale in spec.scales.items():
        if scale.cy is None:
            gaps.append(f"scales.{name}.label")
        gaps += [f"scales.{name}.points[{p.value}]" for p in scale.points if not p.cy]
    for dim in spec.dimensions:
        if dim.cy is None or (dim.description and not dim.cy.description):
            gaps.append(f"dimension {dim.code}")
        for item in dim.items:
            if item.cy is None or not item.cy.text or (item.self_text and not item.cy.self_text):
                gaps.append(f"item {item.code}")
    for q in spec.solace:
        if q.cy is None or not q.cy.text or (q.member_text and not q.cy.member_text):
            gaps.append(f"question {q.code}")
    for o in spec.open_questions or []:
        if o.cy is None or not o.cy.text or (o.self_text and not o.cy.self_text):
            gaps.append(f"open question {o.code}")
    mm = spec.matters_most
    if mm is not None and (
        mm.cy is None or not mm.cy.text or (mm.self_text and not mm.cy.self_text)
    ):
        gaps.append("matters_most")
    return gaps


def welsh_notice(spec: FrameworkSpec) -> str | None:
    """What staff are told before running this framework in Welsh; None when its Welsh is
    complete and checked by a Welsh speaker."""
    missing = missing_welsh(spec)
    if missing:
        return (
            f"The framework {spec.key} {spec.version} has no Welsh for {len(missing)} of its "
            "wordings (for example " + ", ".join(missing[:3]) + "): Welsh-speaking raters "
            "would read those in English."
        )
    if spec.welsh is None or not spec.welsh.checked:
        drafted = spec.welsh.drafted_by if spec.welsh is not None else "unknown"
        return (
            f"The Welsh of framework {spec.key} {spec.version} was drafted by {drafted} and "
            "has not been checked by a Welsh speaker. Ask one to check it (data/framework, "
            "`welsh: checked`) before raters read it."
        )
    return None


def welsh_name(spec: FrameworkSpec, dimension_code: str, english: str) -> str:
    """A dimension's Welsh name (its English one where the file has none)."""
    dim = next((d for d in spec.dimensions if d.code == dimension_code), None)
    return dim.cy.name if dim is not None and dim.cy is not None else english


def welsh_description(spec: FrameworkSpec, dimension_code: str, english: str) -> str:
    dim = next((d for d in spec.dimensions if d.code == dimension_code), None)
    return dim.cy.description if dim is not None and dim.cy is not None else english


def scale_labels(spec: FrameworkSpec, scale: str, language: str) -> list[tuple[int, str]]:
    """(value, label) of a scale's points in `language` (English where Welsh is missing)."""
    points = spec.scales[scale].points
    if language == "cy":
        return [(p.value, p.cy or p.label) for p in points]
    return [(p.value, p.label) for p in points]


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
    version_id = stored_id(version.id)
    position = 0
    for d, dim in enumerate(spec.dimensions):
        row = Dimension(
            framework_version_id=version_id,
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
                    framework_version_id=version_id,
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
                framework_version_id=version_id,
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
    """The framework new cycles use (2026.2), stored once."""
    return store_framework(session, load_framework_file(DEFAULT_FRAMEWORK_FILE))


def ensure_framework_file(session: Session, path: Path | str) -> FrameworkVersion:
    """Any framework file (for example FRAMEWORK_2026_1, which the demo keeps), stored once."""
    return store_framework(session, load_framework_file(path))


def framework_spec(version: FrameworkVersion) -> FrameworkSpec:
    """The framework exactly as stored for a cycle."""
    return FrameworkSpec.model_validate(version.definition)


# --- a stored version, parsed once per process ----------------------------------------


@dataclass(frozen=True)
class StoredDimension:
    id: int
    code: str
    name: str
    description: str
    position: int


@dataclass(frozen=True)
class StoredItem:
    id: int
    dimension_id: int | None  # None: a Solace-comparable question
    code: str
    target: str
    scale: str
    text: str
    audience: str
    position: int


@dataclass(frozen=True)
class StoredFramework:
    """A framework version as stored (its parsed definition, dimensions and items). Stored
    versions never change (a changed file needs a new version: `store_framework`), so one
    copy per process serves every rater of every cycle that runs it."""

    version_id: int
    checksum: str
    spec: FrameworkSpec
    dimensions: tuple[StoredDimension, ...]
    items: tuple[StoredItem, ...]
    # items_for's answers: a stored version never changes, and every save of every rater
    # asks it again (asking `asks` of each item in turn costs more than the save's writes).
    _asked: dict[tuple[str, tuple[str, ...] | None], tuple[StoredItem, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def items_for(self, group: str, focus: Collection[str] | None = None) -> list[StoredItem]:
        """The items raters of `group` answer, in order (the rule is `asks`); in a 90-day
        pulse (`focus`: the pairing's asked dimension codes) only the pulse's items."""
        key = (group, None if focus is None else tuple(sorted(focus)))
        found = self._asked.get(key)
        if found is None:
            asked = [i for i in self.items if asks(self.spec, i.code, i.audience, group)]
            if focus is not None:
                asked = [i for i in asked if self.in_pulse(i, focus)]
            found = self._asked.setdefault(key, tuple(asked))
        return list(found)

    def in_pulse(self, item: StoredItem, focus: Collection[str]) -> bool:
        """THE rule for a pulse's questions: every item of a focus dimension, and the mirror
        items of every dimension (about the partnership, answered by both principals);
        never the national comparison questions, which belong to no dimension."""
        if item.dimension_id is None:
            return False
        code = next((d.code for d in self.dimensions if d.id == item.dimension_id), None)
        if code in focus:
            return True
        return item.target == Target.partnership and asks(
            self.spec, item.code, item.audience, RaterGroup.principal
        )

    def pulse_dimensions(self, focus: Collection[str]) -> list[StoredDimension]:
        """The dimensions a pulse asks anything of, in the framework's order."""
        ids = {i.dimension_id for i in self.items if self.in_pulse(i, focus)}
        return [d for d in self.dimensions if d.id in ids]


_STORED: dict[tuple[str, int, str], StoredFramework] = {}
_STORED_LOCK = threading.Lock()
_STORED_MAX = 64  # versions kept; a process sees a handful


def stored_framework(session: Session, version_id: int, checksum: str) -> StoredFramework:
    """The stored framework version `version_id`, parsed once per process and database.
    `checksum` is the one the caller read with its row: a copy is reused only for the same
    database, version and checksum, so the cache can never serve other content."""
    key = (str(session.get_bind().engine.url), version_id, checksum)
    found = _STORED.get(key)
    if found is not None:
        return found
    version = session.get(FrameworkVersion, version_id)
    if version is None:
        raise TandemError(f"Framework version {version_id} is not stored.")
    dimensions = session.exec(
        select(Dimension)
        .where(Dimension.framework_version_id == version_id)
        .order_by(col(Dimension.position))
    ).all()
    items = session.exec(
        select(Item).where(Item.framework_version_id == version_id).order_by(col(Item.position))
    ).all()
    loaded = StoredFramework(
        version_id=version_id,
        checksum=version.checksum,
        spec=with_file_welsh(framework_spec(version)),
        dimensions=tuple(
            StoredDimension(d.id or 0, d.code, d.name, d.description, d.position)
            for d in dimensions
        ),
        items=tuple(
            StoredItem(
                i.id or 0,
                i.dimension_id,
                i.code,
                i.target,
                i.scale,
                i.text,
                i.audience,
                i.position,
            )
            for i in items
        ),
    )
    if version.checksum != checksum:
        return loaded  # changed under the caller (never in practice): not kept
    with _STORED_LOCK:
        if len(_STORED) >= _STORED_MAX:
            _STORED.clear()
        _STORED[key] = loaded
    return loaded


def with_file_welsh(spec: FrameworkSpec) -> FrameworkSpec:
    """A stored framework stored before its file carried Welsh: the Welsh of the file of
    the same key, version and checksum (the same English, word for word), if there is one."""
    if spec.welsh is not None:
        return spec
    checksum = spec.checksum()
    for path in sorted(FRAMEWORK_DIR.glob("*.yaml")):
        try:
            found = load_framework_file(path)
        except FrameworkFileError:
            continue
        if (found.key, found.version) == (spec.key, spec.version) and found.welsh is not None:
            return found if found.checksum() == checksum else spec
    return spec


def render_item(text: str, member: str, officer: str, partner: str = "") -> str:
    """Put the pairing's names into an item's wording."""
    return (
        text.replace("{member}", member).replace("{officer}", officer).replace("{partner}", partner)
    )


def wording_for(
    spec: FrameworkSpec,
    code: str,
    text: str,
    target: str,
    side: str | None,
    language: str = "en",
) -> tuple[str, bool]:
    """`_wording_for` in `language`: the Welsh of the same wording where the file has it
    (English where it has none: `missing_welsh` lists those, and staff are warned)."""
    english, mine = _wording_for(spec, code, text, target, side)
    if language != "cy":
        return english, mine
    others: list[SolaceSpec | OpenQuestionSpec] = [*spec.solace, *(spec.open_questions or [])]
    entry: Any = spec.item_specs().get(code) or next((q for q in others if q.code == code), None)
    welsh: WelshWording | None = entry.cy if entry is not None else None
    if welsh is None:
        return english, mine
    for name in ("self_text", "member_text"):
        if english == getattr(entry, name, None):
            return getattr(welsh, name) or english, mine
    return welsh.text or english, mine


def _wording_for(
    spec: FrameworkSpec, code: str, text: str, target: str, side: str | None
) -> tuple[str, bool]:
    """The wording a rater reads for the item, open question or Solace question `code`
    (whose third-person text is `text`), and whether it is addressed to them. `side` is
    "member" / "officer" for one of the pair, None for anyone else. One of the pair reads an
    item about themselves, or about their partnership, as "You …" where the framework gives
    that wording (2026.2); the member reads the Solace questions in their own words."""
    if side is None:
        return text, False
    for q in spec.solace:
        if q.code == code:
            if side == "member" and q.member_text:
                return q.member_text, True
            return text, side == "officer" and q.member_text is not None
    entry: Any = spec.item_specs().get(code)
    if entry is None:
        entry = next((q for q in spec.open_questions or [] if q.code == code), None)
    own = target == "partnership" or target == side
    if entry is not None and own and entry.self_text:
        return entry.self_text, True
    return text, False


def asks(spec: FrameworkSpec, code: str, audience: str, group: str) -> bool:
    """THE rule for whether raters of `group` (an invitation's rater group) are asked the
    stored item `code` (whose `Item.audience` column is `audience`): the Solace questions go
    to the pair unless marked for everyone; a rated item to the groups its file names
    (2026.1 names none: everyone). An item a group is not asked is not applicable to that
    group: not shown on its form, and never counted as missing or "can't say"."""
    if audience != "everyone" and group != "principal":
        return False
    item = spec.item_specs().get(code)
    return item is None or item.asks(group)


# --- wording checks (the style rules of a framework's items) ----------------------------

ABSOLUTES = re.compile(r"\b(never|always)\b", re.IGNORECASE)
FEELINGS = re.compile(r"\b(trusts?|feels?|believes?|likes?|values)\b", re.IGNORECASE)
RECIPROCAL = re.compile(r"\beach other(?:'s)?\b", re.IGNORECASE)
SUBJECTS = {
    "member": "{member} ",
    "officer": "{officer} ",
    "partnership": "{member} and {officer} ",
}


def wording_problems(spec: FrameworkSpec) -> list[str]:
    """Items that break the rules of a good 360 item, one sentence each naming the item:
    one person's one observable behaviour, rated on agreement without absolutes.

    - an item about the member (officer) has the member (officer) as its subject, and a
      partnership item has both: "{member} and {officer} …";
    - no "each other": that is two people's behaviours in one item (double-barrelled);
    - no "never" or "always" on the agreement scale: nobody can agree with an absolute;
    - no feelings ("trusts", "feels", …): raters can see what someone does, not what they
      feel;
    - "key decisions", not "big decisions" (the statutory term).
    """
    out: list[str] = []
    for dim in spec.dimensions:
        for item in dim.items:
            text = item.text
            if not text.startswith(SUBJECTS[item.target]):
                out.append(
                    f"{item.code}: an item about the {item.target} starts with "
                    f'"{SUBJECTS[item.target].strip()}", the person whose behaviour it is'
                )
            if RECIPROCAL.search(text):
                out.append(
                    f'{item.code}: "each other" asks about two people\'s behaviour at once; '
                    "ask about each of them in a twin item"
                )
            absolute = ABSOLUTES.search(text)
            if item.scale == "agreement" and absolute:
                out.append(
                    f'{item.code}: an absolute ("{absolute.group(0)}") cannot be '
                    "agreed with on a scale; describe the behaviour positively"
                )
            feeling = FEELINGS.search(text)
            if feeling:
                out.append(
                    f'{item.code}: "{feeling.group(0)}" is a feeling raters cannot '
                    "see; describe what the person does"
                )
            if "big decision" in text.lower():
                out.append(f'{item.code}: say "key decisions", not "big decisions"')
    return out
