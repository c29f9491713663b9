"""Which screens exist and who sees them in the menu. The menu is a convenience: every page
and every function behind it checks access again in feedback/ and planning/."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.roles import ACCOUNT_ROLES, Actor, Role, is_admin

ADMIN = (Role.admin,)
STAFF = (Role.admin, Role.facilitator)
EVERYONE = ACCOUNT_ROLES


@dataclass(frozen=True)
class Screen:
    path: str
    title: str
    icon: str
    section: str
    roles: tuple[Role, ...]
    help: str
    default: bool = False
    public: bool = False  # open before signing in too (the accessibility statement)


# Add a screen here (one line) when you add a file to pages/.
SCREENS: list[Screen] = [
    Screen(
        "pages/home.py",
        "Home",
        ":material/home:",
        "",
        EVERYONE,
        "Councils, their feedback cycles and pairings, with response counts.",
        default=True,
    ),
    Screen(
        "pages/people.py",
        "People",
        ":material/groups:",
        "Set-up",
        STAFF,
        "Councils and the people in them: add, edit, import from a spreadsheet.",
    ),
    Screen(
        "pages/pairings.py",
        "Pairings",
        ":material/handshake:",
        "Set-up",
        STAFF,
        "Member–officer pairings: leader, mayor or convener and chief executive; cabinet "
        "member or committee chair and director.",
    ),
    Screen(
        "pages/cycles.py",
        "Cycles",
        ":material/event_repeat:",
        "Set-up",
        STAFF,
        "Feedback cycles: dates, raters, invitations, reminders and response tracking.",
    ),
    Screen(
        "pages/report.py",
        "Pairing report",
        ":material/compare_arrows:",
        "Results",
        EVERYONE,
        "One pairing's results: scores, perception gaps, the mirror, change and comments.",
    ),
    Screen(
        "pages/council.py",
        "Council overview",
        ":material/grid_view:",
        "Results",
        STAFF,
        "Every pairing's partnership scores, the national comparison and response rates.",
    ),
    Screen(
        "pages/present.py",
        "Presentation",
        ":material/slideshow:",
        "Results",
        STAFF,
        "Full-screen slides of the key findings and each pairing, for a peer-challenge session.",
    ),
    Screen(
        "pages/plan.py",
        "Development plan",
        ":material/flag:",
        "Plans",
        EVERYONE,
        "The pairing's joint plan: suggestions, goals, actions, check-ins, agreement, Excel.",
    ),
    Screen(
        "pages/users.py",
        "Users",
        ":material/manage_accounts:",
        "Administration",
        ADMIN,
        "Accounts, roles, facilitators' councils and principals' links; unlock, switch off.",
    ),
    Screen(
        "pages/audit.py",
        "Audit log",
        ":material/history:",
        "Administration",
        ADMIN,
        "Who did what, when, on which record. Never answers.",
    ),
    Screen(
        "pages/data_protection.py",
        "Data protection",
        ":material/shield:",
        "Administration",
        STAFF,
        "Retention period per council, purge, and subject access exports.",
    ),
    Screen(
        "pages/accessibility.py",
        "Accessibility statement",
        ":material/accessibility_new:",
        "Help",
        EVERYONE,
        "How accessible Tandem is, what does not yet meet the standard, and how to ask for "
        "another format or report a problem.",
        public=True,
    ),
]

# The statement every page links to (the regulations ask for it to be easy to find).
STATEMENT_SCREEN = next(screen for screen in SCREENS if screen.public)

# The page a rater's link opens.
RATER_SCREEN = Screen(
    "pages/questionnaire.py",
    "Your feedback",
    ":material/rate_review:",
    "",
    (),
    "The rater's questionnaire.",
)


def _page(screen: Screen, visibility: str = "visible") -> st.Page:
    return st.Page(
        screen.path,
        title=screen.title,
        icon=screen.icon,
        default=screen.default,
        help=screen.help,
        visibility="hidden" if visibility == "hidden" else "visible",
    )


def public_pages() -> list[st.Page]:
    """The pages open to a visitor who has not signed in, beside the sign-in form."""
    return [_page(screen, "hidden") for screen in SCREENS if screen.public]


def pages_for(
    actor: Actor | None, rater_link: bool = False
) -> dict[str, list[st.Page]] | list[st.Page]:
    if rater_link:
        # Never a staff page: a link opens nothing but its form.
        return [_page(RATER_SCREEN)]
    if actor is None:
        raise ValueError("Only a rater's link opens Tandem without an actor.")
    # The command line's `system` actor is an administrator here.
    role = Role.admin if is_admin(actor) else actor.role
    sections: dict[str, list[st.Page]] = {}
    for screen in SCREENS:
        if role in screen.roles:
            sections.setdefault(screen.section, []).append(_page(screen))
    return sections
