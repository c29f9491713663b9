"""The accessibility statement (Public Sector Bodies Accessibility Regulations 2018). Open to
everyone, signed in or not: a rater reads it from the questionnaire, a visitor from the
sign-in page. Its words are data/accessibility_statement.yaml, which a council may edit."""

import streamlit as st
from markdown_it import MarkdownIt

from governance.accessibility import accessibility_statement
from ui.errors import friendly_errors
from ui.state import unit_of_work
from ui.text import fill, show

with friendly_errors():
    with unit_of_work() as session:
        statement = accessibility_statement(session)
    show(statement.title, kind="title")
    render = MarkdownIt("commonmark", {"html": False}).enable("table")
    for section in statement.sections:
        show(section.heading, kind="subheader")
        # The file's Markdown made HTML (its own HTML refused); then the organisation and
        # the contact address go in as escaped text, never as Markdown.
        body = fill(
            render.render(section.body),
            organisation=statement.organisation,
            contact=statement.contact,
        )
        st.html(f'<div class="tandem-statement">{body}</div>')
