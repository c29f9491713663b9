"""The framework item bank: the shipped file is valid, and each kind of bad file is refused
with a message that says where the problem is."""

from __future__ import annotations

import pytest
import yaml
from sqlmodel import select

from feedback.framework import (
    DEFAULT_FRAMEWORK_FILE,
    FrameworkFileError,
    load_framework_file,
    parse_framework,
    store_framework,
)
from feedback.models import Dimension, FrameworkVersion, Item

NINE = [
    "roles",
    "respect",
    "advice",
    "priorities",
    "neutrality",
    "disagreement",
    "habits",
    "credit",
    "culture",
]


def test_the_shipped_framework_is_valid_and_complete() -> None:
    spec = load_framework_file()
    assert [d.code for d in spec.dimensions] == NINE
    for dim in spec.dimensions:
        targets = {i.target for i in dim.items}
        assert targets == {"member", "officer", "partnership"}, dim.code
    assert 30 <= spec.item_count <= 50
    assert [q.code for q in spec.solace] == ["solace.advice", "solace.relationship"]
    assert spec.solace[0].benchmark.share == 0.70
    assert spec.solace[1].benchmark.share == 0.17
    labels = [p.label for p in spec.scales["relationship"].points]
    assert labels == ["Unsatisfactory", "Still developing", "Good", "Excellent"]


def _shipped() -> dict:
    return yaml.safe_load(DEFAULT_FRAMEWORK_FILE.read_text(encoding="utf-8"))


def _problems(data_or_text) -> list[str]:
    text = (
        data_or_text
        if isinstance(data_or_text, str)
        else yaml.safe_dump(data_or_text, sort_keys=False, allow_unicode=True)
    )
    with pytest.raises(FrameworkFileError) as err:
        parse_framework(text, "bad.yaml")
    assert "bad.yaml" in str(err.value)
    return err.value.problems


def test_broken_yaml_names_the_line() -> None:
    problems = _problems("key: tandem\nversion: '1'\ndimensions: [\n  - code: x\n")
    assert "line" in problems[0] and "not valid YAML" in problems[0]


def test_an_unknown_target_is_located() -> None:
    data = _shipped()
    data["dimensions"][2]["items"][0]["target"] = "mayor"
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    problems = _problems(text)
    assert any("dimensions[2].items[0].target" in p for p in problems)
    line = next(p for p in problems if "target" in p).split(":")[0]
    number = int(line.removeprefix("line "))
    assert "mayor" in text.splitlines()[number - 1]


def test_a_misspelt_key_is_reported_as_unknown() -> None:
    data = _shipped()
    data["dimensions"][0]["itemz"] = data["dimensions"][0].pop("items")
    problems = _problems(data)
    assert any("itemz" in p and "unknown key" in p for p in problems)
    assert any("dimensions[0].items" in p and "missing" in p for p in problems)


def test_duplicate_codes_and_unknown_scales_and_placeholders() -> None:
    data = _shipped()
    data["dimensions"][1]["items"][0]["code"] = data["dimensions"][0]["items"][0]["code"]
    data["dimensions"][3]["items"][0]["scale"] = "stars"
    problems = " | ".join(_problems(data))
    assert "used twice" in problems
    assert "no scale called 'stars'" in problems
    data = _shipped()
    data["dimensions"][4]["items"][0]["text"] = "{leader} always listens to {officer}"
    problems = " | ".join(_problems(data))
    assert "dimensions[4].items[0].text" in problems and "{leader}" in problems
    for half_typed in ("{member always listens", "{officer} listens to them}", "{{member}}"):
        data = _shipped()
        data["dimensions"][2]["items"][1]["text"] = half_typed
        problems = " | ".join(_problems(data))
        assert "dimensions[2].items[1].text" in problems, half_typed
        assert "without its pair" in problems, half_typed


def test_scale_points_must_run_in_order() -> None:
    data = _shipped()
    data["scales"]["agreement"]["points"][1]["value"] = 7
    assert any("scales.agreement.points" in p for p in _problems(data))


def test_missing_file_is_reported(tmp_path) -> None:
    with pytest.raises(FrameworkFileError, match="does not exist"):
        load_framework_file(tmp_path / "nope.yaml")


def test_a_stored_version_keeps_its_wording_and_changed_content_needs_a_new_version(
    session,
) -> None:
    spec = load_framework_file()
    stored = store_framework(session, spec)
    assert store_framework(session, spec).id == stored.id  # loading twice is harmless
    items = session.exec(select(Item).where(Item.framework_version_id == stored.id)).all()
    assert len(items) == spec.item_count
    assert len(session.exec(select(Dimension)).all()) == 9

    data = _shipped()
    original = data["dimensions"][0]["items"][0]["text"]
    data["dimensions"][0]["items"][0]["text"] = "{member} reads every report in full."
    edited = parse_framework(yaml.safe_dump(data, allow_unicode=True), "edited.yaml")
    with pytest.raises(FrameworkFileError, match="new version"):
        store_framework(session, edited)
    data["version"] = spec.version + "-kingsmere"
    renamed = parse_framework(yaml.safe_dump(data, allow_unicode=True), "edited.yaml")
    new = store_framework(session, renamed)
    assert new.id != stored.id
    first = session.exec(
        select(Item).where(Item.framework_version_id == stored.id, Item.position == 0)
    ).one()
    assert first.text == original
    assert len(session.exec(select(FrameworkVersion)).all()) == 2
