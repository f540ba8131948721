"""Staff roles, from least to most trusted, and the dashboard pages each may open.

- ``viewer``: the flow list and each flow's summary figures and charts; the case inbox
  and case pages, read only and without the respondents' words;
- ``analyst``: also the respondents' own words (the comments pages, and on case pages the
  free-text answers, the conversation's texts, the replies and the answers to them), and
  working cases (open, assign, status, notes, links);
- ``admin``: also the alert and webhook deliveries (targets, payload status).

API keys and staff accounts are managed with the ``gateway`` command, not the dashboard.
A page not listed here needs ``admin``: a new page is closed until someone decides.
"""

from __future__ import annotations

from typing import Final

ROLES: Final = ("viewer", "analyst", "admin")

ENDPOINT_ROLES: Final = {
    "dashboard.index": "viewer",
    "dashboard.flow_page": "viewer",
    "dashboard.logout": "viewer",
    "dashboard.comments_page": "analyst",
    "dashboard.themes_page": "viewer",
    "dashboard.theme_comments_page": "analyst",
    "dashboard.correct_comment_themes": "analyst",
    "dashboard.deliveries_page": "admin",
    "dashboard.cases_page": "viewer",
    "dashboard.figures_page": "viewer",
    "dashboard.case_page": "viewer",
    "dashboard.open_case": "analyst",
    "dashboard.case_action": "analyst",
}


#: The page whose readers may read the respondents' own words wherever they are shown.
WORDS_ENDPOINT: Final = "dashboard.comments_page"


def reads_words(role: str) -> bool:
    """Whether ``role`` reads the respondents' own words: as the comments pages allow."""
    return may_open(role, WORDS_ENDPOINT)


def check_role(role: str) -> str:
    """``role`` if it is one of :data:`ROLES`; ValueError naming them otherwise."""
    if role not in ROLES:
        raise ValueError(f"the role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def may_open(role: str, endpoint: str | None) -> bool:
    """Whether a staff member with ``role`` may open the page of ``endpoint``."""
    needed = ENDPOINT_ROLES.get(endpoint or "", "admin")
    if role not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)
