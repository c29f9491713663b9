"""Signing an AppTest session in (issue 6), shared by the page tests.

Not in conftest.py: tests/browser has its own conftest, and `from conftest import`
would pick whichever pytest loaded first."""

from __future__ import annotations

import uuid

from sqlmodel import Session

# --- signing in for AppTest page tests (issue 6) ------------------------------------------

TEST_PASSWORD = "correct horse battery staple"


def sign_in(
    at,
    session: Session,
    role: str = "admin",
    council_ids: list[int] | None = None,
    person_id: int | None = None,
    username: str | None = None,
):
    """Create an account (committed) and sign `at` in as it before its next run.

    Once any account exists, the app shows only the sign-in page to visitors who have not
    signed in; this puts the account's id where the sign-in form would. Facilitators need
    `council_ids`, principals `person_id`. Returns the account's Actor."""
    from core.roles import SYSTEM
    from governance.accounts import actor_for, create_user

    user = create_user(
        session,
        SYSTEM,
        username or f"{role}-{uuid.uuid4().hex[:8]}@example.org",
        role,
        TEST_PASSWORD,
        council_ids=council_ids,
        person_id=person_id,
    )
    session.commit()
    at.session_state["user_id"] = user.id
    return actor_for(session, user)
