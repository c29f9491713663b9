"""The development guide per dimension: what good looks like for the member, the officer and
the pair, and practical actions — from the action library (`data/action_library.yaml`,
which grew into it: `looks_like` beside its `actions`), with the peer challenge elements
each dimension speaks to (`data/bridges.yaml`). Shown on the report and plan pages."""

from __future__ import annotations

from dataclasses import dataclass

from feedback.results.bridges import elements_of
from planning.library import load_action_library

OWNER_WORDS = {"member": "the member", "officer": "the officer", "joint": "both"}


@dataclass(frozen=True)
class GuideEntry:
    code: str
    name: str
    member: str  # what good looks like for the member ("" if the library has none)
    officer: str
    pair: str
    actions: tuple[str, ...]  # practical actions, names filled in, owner in brackets
    elements: tuple[str, ...]  # the peer challenge elements it speaks to


def development_guide(
    names: dict[str, str], member: str = "the member", officer: str = "the officer"
) -> list[GuideEntry]:
    """One entry per dimension of `names` (code → name, in the framework's order) that the
    library covers; names fill the library's {member} and {officer}."""
    dims = load_action_library().get("dimensions") or {}

    def fill(text: str) -> str:
        return (text or "").replace("{member}", member).replace("{officer}", officer)

    out = []
    for code, name in names.items():
        entry = dims.get(code)
        if not entry:
            continue
        good = entry.get("looks_like") or {}
        out.append(
            GuideEntry(
                code=code,
                name=name,
                member=fill(good.get("member", "")),
                officer=fill(good.get("officer", "")),
                pair=fill(good.get("pair", "")),
                actions=tuple(
                    f"{fill(a['text'])} ({OWNER_WORDS.get(a.get('owner', ''), 'both')})"
                    for a in entry.get("actions") or []
                ),
                elements=tuple(elements_of(code)),
            )
        )
    return out
