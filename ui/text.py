"""Text someone typed (names of councils, people, pairings, portfolios and cycles; comments,
goals, actions, notes, measures; error messages that quote an upload) shown on a page as
text, exactly as typed, and never as a link or markup.

Why not Markdown with escapes: Streamlit's browser renderer (react-markdown with remark-gfm)
turns web addresses, ``www.`` names and email addresses into links *after* it has undone
the escapes, so no escaping can stop "https://evil.example" becoming a link in st.markdown,
st.caption, st.title/header/subheader, alerts (st.error, st.info…), expander, tab, radio,
checkbox, metric and progress labels. Text elements are the only safe places:

- `show` / `alert` here: HTML written in the code, with every piece of user text
  HTML-escaped, drawn by st.html (sanitised, no Markdown at all) in Streamlit's own look;
- st.text, st.dataframe / st.table cells, selectbox and multiselect options (format_func)
  and text-input values, which Streamlit shows as plain text.

So user text never goes into a Markdown string or a widget label: a label names the field
("Goal", "Withdraw") and the user's words are shown beside it with `show`.
tests/browser/test_hostile_text.py checks every page in Chromium.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any, Literal

import streamlit as st

Kind = Literal["text", "caption", "strong", "quote", "title", "header", "subheader", "h4"]
AlertKind = Literal["error", "warning", "success", "info"]

_HEADING = "line-height:1.2;margin:0"
# white-space: pre-wrap keeps line breaks, runs of spaces and leading tabs as typed.
_KINDS: dict[str, tuple[str, str]] = {
    "text": ("p", "margin:0"),
    "strong": ("p", "margin:0;font-weight:600"),
    # A comment, set off as Streamlit draws a Markdown block quote.
    "quote": (
        "blockquote",
        "margin:0;padding:0.25rem 0 0.25rem 1rem;border-left:0.25rem solid rgba(126,140,148,0.6)",
    ),
    # Streamlit's caption: 0.875rem at 60% opacity (the theme keeps that at 4.5:1 contrast).
    "caption": ("p", "margin:0;font-size:0.875rem;line-height:1.6;opacity:0.6"),
    # Streamlit's own heading sizes and weights (st.title, st.header, st.subheader).
    "title": ("h1", f"font-size:2.75rem;font-weight:700;{_HEADING};padding:1.25rem 0 1rem"),
    "header": ("h2", f"font-size:2.25rem;font-weight:600;{_HEADING};padding:1rem 0"),
    "subheader": ("h3", f"font-size:1.75rem;font-weight:600;{_HEADING};padding:0.75rem 0 1rem"),
    "h4": ("h4", f"font-size:1.25rem;font-weight:600;{_HEADING};padding:0.5rem 0"),
}
# Streamlit's alert colours in the light theme Tandem ships (measured in Chromium).
_ALERTS: dict[str, tuple[str, str, str, str]] = {
    "error": ("rgb(255,241,242)", "rgb(158,48,59)", "error", "alert"),
    "warning": ("rgb(255,250,229)", "rgb(149,107,15)", "warning", "alert"),
    "success": ("rgb(241,251,246)", "rgb(12,90,68)", "check_circle", "status"),
    "info": ("rgb(237,245,255)", "rgb(36,79,180)", "info", "status"),
}


def escaped(text: object) -> str:
    """`text` HTML-escaped (quotes too); None becomes ""."""
    return "" if text is None else html.escape(str(text), quote=True)


def fill(template: str, /, *args: object, **values: object) -> str:
    """`template` is HTML written in the code (trusted); every argument is user text and is
    escaped before it goes in: ``fill("<b>{}</b> has agreed.", name)``."""
    return template.format(*map(escaped, args), **{k: escaped(v) for k, v in values.items()})


def bullets(items: Iterable[object]) -> str:
    """User text as an HTML list, each item escaped."""
    rows = "".join(f"<li>{escaped(item)}</li>" for item in items)
    return f'<ul style="margin:0;padding-left:1.5rem">{rows}</ul>'


def _icon(icon: str | None) -> str:
    if not icon:
        return ""
    name = escaped(icon.removeprefix(":material/").removesuffix(":"))
    return (
        '<span aria-hidden="true" style="font-family:\'Material Symbols Rounded\';'
        'font-size:1.25em;vertical-align:-0.25em;margin-right:0.4em;user-select:none">'
        f"{name}</span>"
    )


def _draw(body: str, into: Any) -> None:
    (into or st).html(body)


def show(
    template: str = "{}",
    /,
    *args: object,
    kind: Kind = "text",
    icon: str | None = None,
    into: Any = None,
    **values: object,
) -> None:
    """Show user text as text: ``show(name, kind="header")`` or
    ``show("Added {}.", name)`` or ``show("<b>{}</b> has agreed.", name)`` (the template is
    trusted HTML, the arguments are escaped). `icon` is a Material Symbols name put before
    the text; `into` is a column or container (default: the current place on the page)."""
    if not args and not values:
        args, template = (template,), "{}"
    tag, style = _KINDS[kind]
    body = _icon(icon) + fill(template, *args, **values)
    _draw(f'<{tag} style="{style};white-space:pre-wrap">{body}</{tag}>', into)


def show_html(body: str, *, kind: Kind = "text", into: Any = None) -> None:
    """Show HTML already made with `fill`/`bullets`/`escaped` in the given style."""
    tag, style = _KINDS[kind]
    tag = "div" if tag == "p" else tag
    _draw(f'<{tag} style="{style};white-space:pre-wrap">{body}</{tag}>', into)


def alert(
    kind: AlertKind,
    template: str = "{}",
    /,
    *args: object,
    icon: str | None = None,
    details: Iterable[object] = (),
    into: Any = None,
    **values: object,
) -> None:
    """An st.error/st.warning/st.success/st.info look-alike whose text is user text (or quotes
    it), shown as text. `icon` is a Material Symbols name ("lock" or ":material/lock:");
    `details` are further lines (such as the problems of an upload), listed inside the box."""
    if not args and not values:
        args, template = (template,), "{}"
    background, colour, default_icon, role = _ALERTS[kind]
    listed = list(details)
    more = bullets(listed) if listed else ""
    _draw(
        f'<div role="{role}" data-alert="{kind}" style="display:flex;gap:0.75rem;'
        f"align-items:flex-start;padding:1rem;border-radius:0.5rem;background:{background};color:{colour};"
        f'line-height:1.5">'
        f"{_icon(icon or default_icon)}"
        f'<div style="white-space:pre-wrap;min-width:0;overflow-wrap:anywhere">'
        f"{fill(template, *args, **values)}{more}</div></div>",
        into,
    )
