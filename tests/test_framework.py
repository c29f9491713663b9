"""The framework item bank: the shipped file is valid, and each kind of bad file is refused
with a message that says where the problem is."""

from __future__ import annotations

import pytest
import yaml
from sqlmodel import select

from feedback.models import Dimension, FrameworkVersion, Item
from feedback.setup.framework import (
    DEFAULT_FRAMEWORK_FILE,
    FRAMEWORK_2026_1,
    FrameworkFileError,
    load_framework_file,
    parse_framework,
    store_framework,
    wording_problems,
)

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


@pytest.mark.parametrize("path", [FRAMEWORK_2026_1, DEFAULT_FRAMEWORK_FILE], ids=lambda p: p.stem)
def test_the_shipped_framework_is_valid_and_complete(path) -> None:
    spec = load_framework_file(path)
    assert [d.code for d in spec.dimensions] == NINE
    for dim in spec.dimensions:
        targets = {i.target for i in dim.items}
        assert targets == {"member", "officer", "partnership"}, dim.code
    assert 30 <= spec.item_count <= 56
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


# --- framework 2026.2 (issue 14, point 5) ------------------------------------------------

ISSUE_14_NAMED = {
    "respect.partnership.1",  # double-barrelled
    "habits.partnership.1",  # double-barrelled
    "neutrality.member.1",  # "never" on an agreement scale
    "disagreement.member.2",  # "never" on an agreement scale
    "habits.member.2",  # a feeling ("trusts")
    "advice.member.1",  # "big decisions"
}


def test_the_new_cycles_framework_is_2026_2_and_2026_1_is_kept_exactly() -> None:
    new, old = load_framework_file(), load_framework_file(FRAMEWORK_2026_1)
    assert DEFAULT_FRAMEWORK_FILE.name == "tandem-core-2026.2.yaml"
    assert (old.version, new.version) == ("2026.1", "2026.2")
    assert new.key == old.key
    # What Tandem stored for every 2026.1 cycle: a different checksum would refuse the file.
    assert old.checksum() == "57867d57263b08bb5128155f095640cde50b6d08078c6b9399628ea51c04b0cd"
    # The nine dimensions keep their codes, so reports compare the versions by dimension.
    assert [d.code for d in new.dimensions] == [d.code for d in old.dimensions] == NINE


def test_the_wording_rules_catch_what_issue_14_names_in_2026_1_and_pass_2026_2() -> None:
    flagged = {p.split(":")[0] for p in wording_problems(load_framework_file(FRAMEWORK_2026_1))}
    assert flagged >= ISSUE_14_NAMED
    assert wording_problems(load_framework_file()) == []


def test_every_2026_2_item_is_one_behaviour_with_a_target_an_audience_and_a_you_wording() -> None:
    spec = load_framework_file()
    items = [i for d in spec.dimensions for i in d.items]
    for item in items:
        assert item.target in {"member", "officer", "partnership"}, item.code
        assert item.audience and "principals" in item.audience, item.code
        assert item.self_text and item.self_text.startswith("You "), item.code
        assert "{" + item.target + "}" not in item.self_text, item.code
        assert item.text.count(".") == 1 and item.text.endswith("."), item.code  # one sentence
    # Twins: the seeds' rules for disagreement apply to both sides.
    texts = {i.code: i.text for i in items}
    for words in ("through the agreed route", "does not criticise", "replies to messages"):
        sides = {i.target for i in items if words in i.text}
        assert sides == {"member", "officer"}, words
    # New behaviours the seeds and council practice imply.
    wanted = {
        "genuine options, including ones they would not recommend": "officer",
        "public responsibility for the council's decisions rather than blaming officers": "member",
        "monitoring officer and the section 151": "member",
        "political commitment before announcing it": "member",
        "other councillors and senior officers rather than settling everything": "partnership",
        "scrutiny and opposition councillors included": "officer",
        "leaves operational detail to officers rather than directing staff below": "member",
    }
    for words, target in wanted.items():
        found = [i for i in items if words in i.text]
        assert len(found) == 1 and found[0].target == target, words
    assert not any("big decision" in t for t in texts.values())
    # External partners are not asked about internal briefing habits.
    habits = next(d for d in spec.dimensions if d.code == "habits")
    assert all(not i.asks("partners") for i in habits.items)
    assert all(i.asks("principal") for i in items)


def test_the_solace_questions_are_worded_for_the_person_answering() -> None:
    spec = load_framework_file()
    questions = {q.code: q for q in spec.solace}
    assert list(questions) == ["solace.advice", "solace.relationship"]
    advice, relationship = questions["solace.advice"], questions["solace.relationship"]
    assert advice.text == "How often does {member} ask for your advice?"
    assert relationship.text == "How would you describe your working relationship with {member}?"
    assert advice.member_text and relationship.member_text  # the member's own, beside it
    assert {advice.audience, relationship.audience} == {"principals"}
    assert [p.label for p in spec.scales[advice.scale].points] == [
        "Never", "Rarely", "Sometimes", "Mostly", "Always"
    ]  # fmt: skip
    assert [p.label for p in spec.scales[relationship.scale].points] == [
        "Unsatisfactory", "Still developing", "Good", "Excellent"
    ]  # fmt: skip
    assert (advice.benchmark.share, relationship.benchmark.share) == (0.70, 0.17)


def test_open_questions_and_matters_most_are_declared() -> None:
    spec = load_framework_file()
    codes = {q.code: q.target for q in spec.open_questions}
    assert codes == {
        "open.member.keep": "member",
        "open.member.focus": "member",
        "open.officer.keep": "officer",
        "open.officer.focus": "officer",
        "open.partnership": "partnership",
    }
    assert spec.matters_most.pick == 3
    assert load_framework_file(FRAMEWORK_2026_1).open_questions is None


def _new() -> dict:
    return yaml.safe_load(DEFAULT_FRAMEWORK_FILE.read_text(encoding="utf-8"))


def test_a_2026_2_style_file_is_checked_for_audiences_and_self_wording() -> None:
    data = _new()
    del data["dimensions"][0]["items"][0]["audience"]
    assert any("dimensions[0].items[0].audience" in p and "required" in p for p in _problems(data))
    data = _new()
    data["dimensions"][0]["items"][1]["audience"] = ["members", "officers"]
    assert any("must include principals" in p for p in _problems(data))
    data = _new()
    data["dimensions"][1]["items"][0]["audience"] = ["principals", "councillors"]
    assert any("dimensions[1].items[0].audience" in p for p in _problems(data))
    data = _new()
    data["dimensions"][2]["items"][0]["self_text"] = "{member} asks for advice."
    problems = " | ".join(_problems(data))
    assert "dimensions[2].items[0]" in problems and "{member}" in problems
    data = _new()
    data["dimensions"][2]["items"][0]["self_text"] = "Asks for advice before key decisions."
    assert any('"you"' in p for p in _problems(data))
    data = _new()
    data["open_questions"][0]["code"] = data["open_questions"][1]["code"]
    assert any("used twice" in p for p in _problems(data))
    data = _new()
    del data["dimensions"][3]["items"][2]["self_text"]
    assert any("dimensions[3].items[2].self_text" in p for p in _problems(data))


def test_2026_1_still_loads_beside_2026_2_and_each_keeps_its_items(session) -> None:
    old = store_framework(session, load_framework_file(FRAMEWORK_2026_1))
    new = store_framework(session, load_framework_file())
    assert old.id != new.id
    assert store_framework(session, load_framework_file(FRAMEWORK_2026_1)).id == old.id
    count = {
        fv.version: len(session.exec(select(Item).where(Item.framework_version_id == fv.id)).all())
        for fv in (old, new)
    }
    assert count == {
        "2026.1": load_framework_file(FRAMEWORK_2026_1).item_count,
        "2026.2": load_framework_file().item_count,
    }
    assert count["2026.1"] != count["2026.2"]
