"""What an AppTest page shows as text, wherever it is drawn: Streamlit's own text elements
and the st.html that ui.text uses for user text (tags dropped, entities decoded)."""

from __future__ import annotations

import html
import re

from streamlit.testing.v1 import AppTest

_ALERT = re.compile(r'data-alert="(\w+)"')


def _text(body: str) -> str:
    body = re.sub(r"<span aria-hidden=\"true\"[^>]*>[^<]*</span>", "", body)  # icons
    return html.unescape(re.sub(r"<[^>]+>", " ", body)).strip()


def html_texts(at: AppTest) -> list[str]:
    return [" ".join(_text(h.value).split()) for h in at.html]


def alerts(at: AppTest, kind: str) -> list[str]:
    """Texts of the alerts of `kind` ("error", "warning", "success", "info"): Streamlit's own
    and ui.text.alert's."""
    native = [str(e.value) for e in getattr(at, kind)]
    drawn = [
        " ".join(_text(h.value).split())
        for h in at.html
        if (m := _ALERT.search(h.value)) and m.group(1) == kind
    ]
    return native + drawn


def shown(at: AppTest) -> str:
    """All the text of the page, one piece a line."""
    parts = [str(m.value) for m in at.markdown] + [str(c.value) for c in at.caption]
    for kind in ("title", "header", "subheader", "error", "warning", "success", "info"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts + html_texts(at))


_LEVELS = {1: "title", 2: "header", 3: "subheader"}


def headings(at: AppTest, level: int) -> list[str]:
    """Headings of `level` (1 title, 2 header, 3 subheader, 4): Streamlit's own and those
    ui.text.show drew."""
    native = [str(e.value) for e in getattr(at, _LEVELS[level])] if level in _LEVELS else []
    drawn = [" ".join(_text(h.value).split()) for h in at.html if h.value.startswith(f"<h{level}")]
    return native + drawn
