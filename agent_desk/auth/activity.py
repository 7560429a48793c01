"""Which requests are their user's activity, the ones that restart the idle timeout.

A desk left open must still time out when nobody is at it, so what a page does by itself does
not count: the live WebSocket (opened and re-checked), the wallboard's refreshes and the team
figures it polls, and any request a page marks as its own (``X-Desk-Background``: the desk's
and the work order page's refreshes). A client can only make its own session end sooner with
the header, never keep it alive longer, so it needs no further check.
"""

from __future__ import annotations

from starlette.types import Scope

BACKGROUND_HEADER = b"x-desk-background"
# Requests only the pages' timers and the live feed make.
BACKGROUND_PATHS = frozenset({"/ws/live", "/api/supervisor/wallboard", "/api/supervisor/team-day"})


def is_user_activity(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["path"] in BACKGROUND_PATHS:
        return False
    return not any(name == BACKGROUND_HEADER for name, _ in scope["headers"])
