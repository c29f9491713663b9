"""Text someone typed (names, titles, council and cycle names, comments, anything read from
the database or an upload), made safe to put into anything Streamlit renders as Markdown:
st.markdown/st.write/st.caption/st.title/st.header/st.subheader, st.info/success/warning/
error, expander and button labels, widget labels and help, radio options, progress text.

Streamlit escapes raw HTML itself but interprets Markdown, so a name such as
``Cllr [Re-enter your password](https://evil.example)`` would render as a link,
``![x](https://evil.example/t.png)`` as a remote image and ``:red[**URGENT**]`` as styled
text. ``plain`` backslash-escapes every character that can start Markdown syntax (CommonMark
lets any ASCII punctuation be escaped, and the escape is invisible on screen), so the text is
shown exactly as written.

Not for plain-text places (st.text, st.code, dataframe cells, st.selectbox and
st.multiselect options, text-input values): there the backslashes would show.
"""

from __future__ import annotations

import re

NBSP = "\u00a0"

# Always escaped: links and images ([ ] !), emphasis and strikethrough (* _ ~), code (`),
# headings (#), quotes and HTML/autolinks (< >), tables (|), maths ($) and the escape itself.
# Parentheses are left alone: without an unescaped "]" before them they never make a link
# (a ")" opening a line, as in "1) …", is escaped below), so "cycle(s)" stays as typed.
_ALWAYS = r"\\`*_\[\]!~#|<>$"
_INLINE = re.compile(
    rf"(?P<char>[{_ALWAYS}])"
    r"|(?P<colon>:)"  # Streamlit directives (:red[..], :material/..:), emoji, URL schemes
    r"|(?P<entity>&(?=#?\w+;))"  # &amp; &#91; …: shown as typed, not decoded
    r"|(?P<www>(?<=[Ww]{3})\.)"  # GFM autolinks www.example.org
    r"|(?P<icon>(?<=material)/)"  # Streamlit rewrites ":material/" before parsing
)
# A colon right after ":word" closes an emoji shortcode (:smile:), which Streamlit looks for
# in the raw text before parsing, so it is escaped even at the end of a word.
_SHORTCODE_OPEN = re.compile(r":[\w+-]+$")
# At the start of a line: list items (- + 1. 1)), setext underlines (= -), thematic breaks.
_LINE_START = re.compile(r"([-+=])|(\d{1,9})(?=[.)])")


def _inline(text: str) -> str:
    def escape(m: re.Match[str]) -> str:
        if m.group("colon") is not None:
            after = text[m.end() : m.end() + 1]
            if after and not after.isspace():
                return "\\:"
            if _SHORTCODE_OPEN.search(text, 0, m.start()):
                return "\\:"
            return ":"
        return "\\" + m.group(0)

    return _INLINE.sub(escape, text)


def _line(line: str) -> str:
    body = line.lstrip(" \t")
    # Leading spaces would make an indented code block: keep them as non-breaking spaces.
    indent = line[: len(line) - len(body)].replace("\t", NBSP * 4).replace(" ", NBSP)
    marker = _LINE_START.match(body)
    if marker is None:
        return indent + _inline(body)
    if marker.group(1):
        return indent + "\\" + marker.group(1) + _inline(body[1:])
    digits = marker.group(2)
    rest = body[len(digits) :]
    return indent + digits + "\\" + rest[0] + _inline(rest[1:])


def plain(text: object) -> str:
    """`text` escaped so that Streamlit's Markdown shows it literally; line breaks are kept
    (as Markdown hard breaks). None becomes ""."""
    if text is None:
        return ""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "  \n".join(_line(line) for line in lines)
