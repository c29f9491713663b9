"""The report PDF and the council pack are tagged for screen readers: read back with pypdf,
the structure tree has the report's headings in order, paragraphs, tables with column
headings, a figure with alt text naming its values for every chart, every marked piece of
the pages in the tree and all text either tagged or an artifact; the document says it is
en-GB and shows its title. A group too small to show is in no alt text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream, DictionaryObject
from sqlmodel import Session
from test_deck import SECRET, _cycle

from core.roles import SYSTEM
from feedback.results.pack import council_pack
from feedback.results.publication import publish_cycle, read_pairing_report
from feedback.results.report_pdf import pairing_report_pdf


@dataclass
class Node:
    kind: str
    alt: str = ""
    actual: str = ""
    attributes: Any = None
    marks: list[tuple[int, int]] = field(default_factory=list)  # (page index, MCID)
    kids: list[Node] = field(default_factory=list)
    text: str = ""


def _page_texts(reader: PdfReader) -> dict[tuple[int, int], str]:
    """The text of each marked piece of each page, by (page index, MCID)."""
    out: dict[tuple[int, int], str] = {}
    for index, page in enumerate(reader.pages):
        _marked_texts(page, index, out)
    return out


def _marked_texts(page: Any, index: int, out: dict[tuple[int, int], str]) -> None:
    """Each marked piece's text on one page, added to `out` by (page index, MCID)."""
    stack: list[int | None] = []

    def before(op: bytes, args: Any, cm: Any, tm: Any) -> None:
        if op == b"BDC":
            props = args[1]
            stack.append(props.get("/MCID") if isinstance(props, DictionaryObject) else None)
        elif op == b"BMC":
            stack.append(None)
        elif op == b"EMC":
            stack.pop()

    def text(t: str, *_: Any) -> None:
        if t and stack and stack[-1] is not None:
            key = (index, int(stack[-1]))
            out[key] = out.get(key, "") + t

    page.extract_text(visitor_operand_before=before, visitor_text=text)


def read_tree(data: bytes) -> tuple[PdfReader, Node]:
    reader = PdfReader(BytesIO(data))
    pages = {page.indirect_reference.idnum: i for i, page in enumerate(reader.pages)}
    texts = _page_texts(reader)

    def walk(obj: Any, page: int | None) -> Node:
        d = obj.get_object()
        node = Node(
            kind=str(d["/S"]),
            alt=str(d.get("/Alt", "")),
            actual=str(d.get("/ActualText", "")),
            attributes=d.get("/A"),
        )
        if "/Pg" in d:
            page = pages[d.raw_get("/Pg").idnum]
        kids = d.get("/K", [])
        for kid in kids if isinstance(kids, list) else [kids]:
            if isinstance(kid, int):
                assert page is not None
                node.marks.append((page, int(kid)))
            elif kid.get_object().get("/Type") == "/MCR":
                mcr = kid.get_object()
                node.marks.append((pages[mcr.raw_get("/Pg").idnum], int(mcr["/MCID"])))
            else:
                node.kids.append(walk(kid, page))
        node.text = " ".join(
            " ".join(texts.get(m, "") for m in node.marks).split()
            + [k.text for k in node.kids if k.text]
        )
        return node

    root = reader.trailer["/Root"]["/StructTreeRoot"]
    kids = root["/K"]
    [document] = [walk(k, None) for k in (kids if isinstance(kids, list) else [kids])]
    return reader, document


def flat(node: Node) -> list[Node]:
    return [node, *(n for k in node.kids for n in flat(k))]


def check_structure(data: bytes, title: str) -> tuple[PdfReader, Node]:
    """What every tagged PDF of Tandem must hold, whatever it reports."""
    reader, document = read_tree(data)
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) and root["/MarkInfo"]["/Marked"] == True  # noqa: E712
    assert root["/Lang"] == "en-GB"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
    assert reader.metadata is not None and reader.metadata.title == title
    assert document.kind == "/Document"
    nodes = flat(document)

    # Every marked piece on the pages belongs to exactly one element, in the parent tree too;
    # no text is drawn outside marked content (tagged, or an artifact such as the footer).
    in_tree = [m for n in nodes for m in n.marks]
    assert len(in_tree) == len(set(in_tree))
    parent_tree = root["/StructTreeRoot"]["/ParentTree"]["/Nums"]
    owners = {int(parent_tree[i]): parent_tree[i + 1] for i in range(0, len(parent_tree), 2)}
    on_pages = []
    for index, page in enumerate(reader.pages):
        depth, loose = 0, 0
        for args, op in ContentStream(page.get_contents(), reader).operations:
            if op in (b"BDC", b"BMC"):
                depth += 1
                if op == b"BDC" and isinstance(args[1], DictionaryObject) and "/MCID" in args[1]:
                    on_pages.append((index, int(args[1]["/MCID"])))
            elif op == b"EMC":
                depth -= 1
            elif op in (b"Tj", b"TJ", b"Do") and depth == 0:
                loose += 1
        assert depth == 0 and loose == 0, f"page {index + 1}: {loose} pieces not marked"
        mcids = [m for p, m in on_pages if p == index]
        if mcids:
            assert mcids == list(range(len(mcids)))
            assert len(owners[int(page["/StructParents"])]) == len(mcids)
    assert sorted(on_pages) == sorted(in_tree)

    # Figures: one per image drawn, each with words.
    figures = [n for n in nodes if n.kind == "/Figure"]
    assert len(figures) == sum(len(page.images) for page in reader.pages) > 0
    assert all(len(f.alt) > 40 for f in figures)
    assert all("/BBox" in f.attributes for f in figures)
    # Tables: rows of cells, the first row column headings.
    for table in (n for n in nodes if n.kind == "/Table"):
        assert table.kids and all(row.kind == "/TR" for row in table.kids)
        head, *body = table.kids
        assert all(c.kind == "/TH" and c.attributes["/Scope"] == "/Column" for c in head.kids)
        assert all(c.kind == "/TD" for row in body for c in row.kids)
    # A list holds items holding bodies.
    for lst in (n for n in nodes if n.kind == "/L"):
        assert lst.kids and all(i.kind == "/LI" and i.kids[0].kind == "/LBody" for i in lst.kids)
    return reader, document


def headings(document: Node) -> list[tuple[int, str]]:
    return [(int(n.kind[2:]), n.text) for n in flat(document) if re.fullmatch(r"/H\d", n.kind)]


@pytest.mark.slow
def test_the_report_pdf_reads_back_as_a_tagged_document(session: Session) -> None:
    a = _cycle(session)  # external partners (2) too few to show; their remark is SECRET
    publish_cycle(session, SYSTEM, a.cycle_id)
    session.commit()
    report = read_pairing_report(session, SYSTEM, a.cycle_id, a.pairing_id)
    member, officer = report.meta["member_name"], report.meta["officer_name"]
    data = pairing_report_pdf(report)
    reader, document = check_structure(data, f"Pairing report: {member} and {officer}")
    nodes = flat(document)

    found = headings(document)
    assert found[0] == (1, f"{member} and {officer}")
    assert [level for level, _ in found[1:]] and all(level in (2, 3) for level, _ in found[1:])
    sections = [text for level, text in found if level == 2]
    expected = ["Findings", "Who responded", "How each source rates each dimension",
                "Gaps: blind spots and hidden strengths", "Comments"]  # fmt: skip
    assert [s for s in sections if s in expected] == expected
    # Reading order is the page's order: the headings as the text runs.
    page_text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    at = [page_text.index(text) for _, text in found[:6]]
    assert at == sorted(at)

    # The "Who responded" table: its headings, and the suppressed group said as such.
    who = next(n for n in nodes if n.kind == "/Table")
    assert [c.text for c in who.kids[0].kids] == ["Group", "Replies", "Shown"]
    assert any(r.kids[0].text == "External partners" and r.kids[2].text.startswith("no")
               for r in who.kids[1:])  # fmt: skip
    assert any(n.kind == "/P" and "Groups other than the pair" in n.text for n in nodes)

    # The scores chart says every value it draws: each dimension and everyone else's score.
    figures = [n for n in nodes if n.kind == "/Figure"]
    scores = next(f for f in figures if f.alt.startswith("Dot chart of average ratings"))
    rows = report.dimensions
    shown = rows[(rows["target"] == "member") & rows["mean"].notna()]
    assert len(shown) >= 9
    for r in shown.itertuples(index=False):
        label = {"self": "Self", "partner": "Partner", "others": "Everyone else"}.get(r.source)
        if label:
            assert f"{r.dimension_name}: " in scores.alt
            assert f"{label} {float(r.mean):.1f}" in scores.alt
    assert any(f.alt.startswith("Bar chart of the gap") and "gap " in f.alt for f in figures)

    # The attacker: the suppressed group is in no alt text, nor its remark anywhere.
    groups = report.groups.set_index("group")
    assert not bool(groups.loc["partners", "shown"])
    words = " ".join(n.alt + " " + n.actual for n in nodes)
    assert "External partners" not in words and "partners" not in words.lower().replace(
        "partnership", ""
    )
    assert SECRET not in words and SECRET not in document.text
    # The others' scores are the shown groups' (councillors 4, 4, 3; officers 3, 4, 4 on
    # every item): the partners' 1s folded in would bring everyone else's down to 3.0.
    assert "Everyone else 3.7" in scores.alt and "Everyone else 3.0" not in scores.alt


@pytest.mark.slow
def test_the_council_pack_nests_each_report_under_the_council(session: Session) -> None:
    a = _cycle(session)
    publish_cycle(session, SYSTEM, a.cycle_id)
    session.commit()
    data = council_pack(session, SYSTEM, a.cycle_id)
    report = read_pairing_report(session, SYSTEM, a.cycle_id, a.pairing_id)
    council, cycle = report.meta["council_name"], report.meta["cycle_name"]
    _reader, document = check_structure(data, f"{council}: results pack, {cycle}")
    found = headings(document)
    assert found[0] == (1, council)
    member, officer = report.meta["member_name"], report.meta["officer_name"]
    assert (2, f"{member} and {officer}") in found
    assert (3, "Findings") in found and (1, f"{member} and {officer}") not in found
    # Each report is a section of the document.
    sect = next(n for n in document.kids if n.kind == "/Sect")
    assert sect.kids[0].kind == "/H2" and sect.kids[0].text == f"{member} and {officer}"
    # The response rates say a small group's replies as the report does: no exact count.
    nodes = flat(document)
    rates = next(n for n in nodes if n.kind == "/Figure" and "response rates" in n.alt)
    assert "External partners fewer than 3 (2 invited)" in rates.alt
    assert not re.search(r"External partners \d", " ".join(n.alt for n in nodes))
    assert SECRET not in " ".join(n.alt + n.actual + n.text for n in nodes)
