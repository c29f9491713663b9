"""The accessibility statement page (Public Sector Bodies Accessibility Regulations 2018)
through AppTest: open before signing in, in every signed-in menu, its words from
data/accessibility_statement.yaml with the contact address from the settings and the
organisation's name shown as text, never as Markdown."""

from __future__ import annotations

import pytest
import streamlit as st
from shown import headings, html_texts
from signing_in import sign_in
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from core.db import session_scope
from core.errors import Invalid
from core.roles import ACCOUNT_ROLES, SYSTEM
from core.settings import load_settings
from governance.accessibility import accessibility_statement
from governance.accounts import create_user
from ui.menu import STATEMENT_SCREEN

APP = "../app.py"
MODEL_SECTIONS = [
    "How accessible this service is",
    "Feedback and contact information",
    "Reporting accessibility problems with this service",
    "Enforcement procedure",
    "Technical information about this service's accessibility",
    "Non-compliance with the accessibility regulations",
    "How we tested this service",
]


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def demo(demo_url, demo_engine, monkeypatch):
    monkeypatch.setenv("TANDEM_DATABASE_URL", demo_url)
    monkeypatch.setenv("TANDEM_ACCESSIBILITY_CONTACT", "access@kingsmere.example.gov.uk")
    with session_scope(demo_engine) as s:
        create_user(s, SYSTEM, "statement-admin", "admin", "Statement-test-password-1")
    return demo_engine


def _statement_text(at: AppTest) -> str:
    return "\n".join(html_texts(at))


def test_the_statement_opens_before_signing_in_with_the_model_sections(demo) -> None:
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert headings(at, 1) == ["Sign in to Tandem"]  # signed out: the sign-in form…
    assert any(link.label == "Accessibility statement" for link in at.get("page_link"))
    at.switch_page("pages/accessibility.py").run()  # …and the statement, without an account
    assert not at.exception
    assert headings(at, 1) == ["Accessibility statement for Tandem"]
    assert set(MODEL_SECTIONS) <= set(headings(at, 3))
    text = _statement_text(at)
    assert "access@kingsmere.example.gov.uk" in text
    assert "Kingsmere Borough Council" in text  # the only council, named when unset
    assert "Equality Advisory and Support Service" in text
    assert "Equality Commission for Northern Ireland" in text
    assert "{" not in text  # every placeholder filled
    # What does not yet meet the standard, from the data file, and when it was tested.
    assert "section headings" in text and "3 December 2026" in text


def test_the_statement_is_in_every_signed_in_menu(demo) -> None:
    assert STATEMENT_SCREEN.path == "pages/accessibility.py"
    assert set(ACCOUNT_ROLES) <= set(STATEMENT_SCREEN.roles)  # every role's menu has it
    at = AppTest.from_file(APP, default_timeout=30)
    with Session(demo) as s:
        sign_in(at, s, role="admin")
    at.run()
    at.switch_page("pages/accessibility.py").run()
    assert not at.exception
    assert headings(at, 1) == ["Accessibility statement for Tandem"]


def test_an_organisation_name_is_shown_as_text_not_markdown(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TANDEM_ORGANISATION", "[Click me](https://evil.example) <b>Council</b>")
    monkeypatch.setenv("TANDEM_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    at = AppTest.from_file("../pages/accessibility.py", default_timeout=30).run()
    assert not at.exception
    bodies = [h.value for h in at.html]
    assert not any('evil.example"' in b or "<b>Council</b>" in b for b in bodies)
    assert any("[Click me](https://evil.example) &lt;b&gt;Council&lt;/b&gt;" in b for b in bodies)


def test_a_broken_statement_file_says_what_to_fix(tmp_path) -> None:
    broken = tmp_path / "statement.yaml"
    broken.write_text(
        "title: T\ntested_on: 2026-12-03\nprepared_on: 2026-12-03\nnot_yet: []\n"
        "sections:\n  - heading: H\n    body: 'Email {contct}'\n"
    )
    with pytest.raises(Invalid, match="names in braces"):
        accessibility_statement(None, load_settings({}), broken)
    statement = accessibility_statement(None, load_settings({"TANDEM_SMTP_SENDER": "a@b.example"}))
    assert statement.contact == "a@b.example" and statement.organisation == "the council"
    assert "a@b.example" in statement.markdown() and "{contact}" not in statement.markdown()


def test_tandem_prints_the_same_statement(demo) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    result = CliRunner().invoke(app, ["accessibility-statement"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# Accessibility statement for Tandem")
    assert "access@kingsmere.example.gov.uk" in result.output
    assert "## Enforcement procedure" in result.output
