"""Tagged PDF for screen readers: a structure tree (headings, paragraphs, lists, tables,
figures with alt text) in reading order, the document's language and title, and the page
furniture (footers, repeated table headings) marked as artifacts.

fpdf2 2.8 tags only images given alt text, as a flat list; its structure tree builder is
internal but small, so `TaggedPdf` replaces it with one that nests (Document > H1/P/L/Table/
Figure …) and marks every piece of text it draws. A paragraph broken over a page is closed
before the page ends and reopened on the next: one element, two marked pieces."""

from __future__ import annotations

import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fpdf import FPDF
from fpdf.output import PDFPage
from fpdf.prefs import ViewerPreferences
from fpdf.structure_tree import StructElem, StructureTreeBuilder
from fpdf.syntax import PDFArray, PDFObject, PDFString
from fpdf.table import Table

LANGUAGE = "en-GB"


class Element(PDFObject):
    """One structure element: its kind (/S), parent, kids (elements or marked content) and,
    for a figure, its alt text."""

    __slots__ = ("_id", "type", "s", "p", "k", "alt", "pg", "a", "_page_number")

    def __init__(
        self,
        kind: str,
        parent: PDFObject,
        page: PDFPage,
        page_number: int,
        alt: str | None = None,
        attributes: str | None = None,
    ) -> None:
        super().__init__()
        self.type = "/StructElem"
        self.s = f"/{kind}"
        self.p = parent
        self.k = PDFArray()
        self.alt = PDFString(alt) if alt else None
        self.pg: PDFPage | None = page
        self.a = attributes
        self._page_number = page_number

    def page_number(self) -> int:
        return self._page_number


class ContentOnPage:
    """A marked-content reference to a page other than the element's own (/Pg)."""

    def __init__(self, page: PDFPage, mcid: int) -> None:
        self.page, self.mcid = page, mcid

    def serialize(self, _security_handler: Any = None, _obj_id: Any = None) -> str:
        return f"<</Type /MCR /Pg {self.page.ref} /MCID {self.mcid}>>"


class Structure(StructureTreeBuilder):
    """The document's structure tree, built in reading order as the document is drawn."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self.owners: dict[int, list[Element]] = {}  # page number -> element of each MCID

    def add(
        self,
        kind: str,
        parent: PDFObject | None,
        page: PDFPage,
        page_number: int,
        alt: str | None = None,
        attributes: str | None = None,
    ) -> Element:
        parent = parent if parent is not None else self.doc_struct_elem
        element = Element(kind, parent, page, page_number, alt, attributes)
        assert isinstance(parent, (Element, StructElem))
        parent.k.append(element)
        self.elements.append(element)
        return element

    def mark(self, element: Element, page: PDFPage, page_number: int) -> tuple[int, int]:
        """The next marked-content id on the page, owned by `element`; and the page's key in
        the parent tree."""
        owners = self.owners.setdefault(page_number, [])
        mcid = len(owners)
        owners.append(element)
        spid = self.spid_per_page_number.setdefault(page_number, len(self.spid_per_page_number))
        self.struct_tree_root.parent_tree.nums[spid].append(element)
        element.k.append(mcid if element.pg is page else ContentOnPage(page, mcid))
        return mcid, spid

    # fpdf2's own tagging (an image's or a link's alt text) would bypass the tree's nesting.
    def add_marked_content(self, *args: Any, **kwargs: Any) -> tuple[StructElem, int]:
        raise NotImplementedError("Tag through TaggedPdf.tagged, not fpdf2's alt_text.")

    def next_mcid_for_page(self, page_number: int) -> int:
        return len(self.owners.get(page_number, []))

    def empty(self) -> bool:
        return not self.elements

    def __iter__(self) -> Iterator[PDFObject]:
        yield self.struct_tree_root
        yield self.doc_struct_elem
        yield self.struct_tree_root.parent_tree
        yield from self.elements


class TaggedPdf(FPDF):
    """An FPDF whose every drawn piece of text is either tagged or an artifact."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.structure = Structure()
        self.struct_builder = self.structure
        self.set_lang(LANGUAGE)
        self.viewer_preferences = ViewerPreferences(display_doc_title=True)
        self._containers: list[Element] = []
        self._open: Element | None = None  # the element whose content is being drawn
        self._list: Element | None = None  # the list the last bullet went into
        self.in_artifact = False

    def _writing(self) -> bool:
        # fpdf2 measures by drawing with output switched off; nothing is tagged then.
        return isinstance(self._out, types.MethodType)

    def _new(self, kind: str, alt: str | None, attributes: str | None) -> Element:
        parent = self._containers[-1] if self._containers else None
        return self.structure.add(kind, parent, self.pages[self.page], self.page, alt, attributes)

    def _begin(self, element: Element) -> None:
        page = self.pages[self.page]
        mcid, spid = self.structure.mark(element, page, self.page)
        page.struct_parents = spid
        kind = str(element.s).lstrip("/")
        self._out(f"/{kind} <</MCID {mcid}>> BDC")

    @contextmanager
    def grouped(self, kind: str) -> Iterator[Element]:
        """An element holding other elements (Table, TR, L, Sect), in reading order."""
        if kind not in ("L", "LI"):
            self._list = None
        element = self._new(kind, None, None)
        self._containers.append(element)
        try:
            yield element
        finally:
            self._containers.pop()

    @contextmanager
    def tagged(
        self, kind: str, alt: str | None = None, attributes: str | None = None
    ) -> Iterator[None]:
        """What is drawn inside is the content of one new element of `kind` (H1, P, Figure,
        TD …); over a page break it continues as a second marked piece on the next page."""
        if not self._writing() or self.in_artifact:
            yield
            return
        assert self._open is None, "tagged content cannot nest"
        if kind != "LBody":
            self._list = None
        element = self._new(kind, alt, attributes)
        self._begin(element)
        self._open = element
        try:
            yield
        finally:
            self._open = None
            self._out("EMC")

    @contextmanager
    def artifact(self, kind: str = "") -> Iterator[None]:
        """Drawn content that is not the document's (a footer, a repeated table heading)."""
        properties = f"<</Type /{kind}>> BDC" if kind else "BMC"
        self._out(f"/Artifact {properties}")
        was, self.in_artifact = self.in_artifact, True
        try:
            yield
        finally:
            self.in_artifact = was
            self._out("EMC")

    @contextmanager
    def list_item(self) -> Iterator[None]:
        """One bullet: an item of the list the bullets just before it are in."""
        if self._list is None:
            with self.grouped("L") as made:
                pass
            self._list = made
        self._containers.append(self._list)
        try:
            with self.grouped("LI"), self.tagged("LBody"):
                yield
        finally:
            self._containers.pop()

    def add_page(self, *args: Any, **kwargs: Any) -> None:
        # Marked content never spans pages: close it here and open it again on the next.
        open_element = self._open if self._writing() else None
        if open_element is not None:
            self._out("EMC")
            self._open = None
        super().add_page(*args, **kwargs)
        if open_element is not None:
            self._begin(open_element)
            self._open = open_element

    def figure_box(self, x: float, y: float, w: float, h: float) -> str:
        """A figure's layout attribute: where it sits on the page, in points."""
        k = self.k
        box = (x * k, (self.h - y - h) * k, (x + w) * k, (self.h - y) * k)
        return "<</O /Layout /BBox [" + " ".join(f"{v:.2f}" for v in box) + "]>>"


class TaggedTable(Table):
    """fpdf2's table, tagged Table > TR > TH/TD; a heading row repeated at the top of a new
    page is an artifact (a screen reader hears it once)."""

    def __init__(self, pdf: TaggedPdf, *args: Any, **kwargs: Any) -> None:
        super().__init__(pdf, *args, **kwargs)
        self._pdf = pdf
        self._drawn_headings: set[int] = set()

    def render(self) -> None:
        with self._pdf.grouped("Table"):
            super().render()

    def _render_table_row(self, i: int, *args: Any, **kwargs: Any) -> None:
        heading = i < self._num_heading_rows
        if heading and i in self._drawn_headings:
            with self._pdf.artifact("Pagination"):
                super()._render_table_row(i, *args, **kwargs)
            return
        if heading:
            self._drawn_headings.add(i)
        with self._pdf.grouped("TR"):
            super()._render_table_row(i, *args, **kwargs)

    def _render_table_cell(self, i: int, j: int, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("cell_height_info") is None:  # measuring, not drawing
            return super()._render_table_cell(i, j, *args, **kwargs)
        heading = i < self._num_heading_rows
        scope = "<</O /Table /Scope /Column>>" if heading else None
        with self._pdf.tagged("TH" if heading else "TD", attributes=scope):
            return super()._render_table_cell(i, j, *args, **kwargs)
