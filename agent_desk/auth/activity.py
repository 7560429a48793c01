"""Which requests are their user's activity, the ones that restart the idle timeout.

A desk left open must still time out when nobody is at it, so what a page does by itself does
not count: the live WebSocket (opened and re-checked), the wallboard's refreshes and the team
figures it polls, and any request a page marks as its own (``X-Desk-Background``: the desk's
and the work order page's refreshes). A client can only make its own session end sooner with
the header, never keep it alive longer, so it needs no further check.

One exception, ``feed_keeps_alive``: an agent waiting for calls. The ACD routes calls to an
agent who is ready (or already on a call, or in wrap-up) whether or not anyone clicks; a
quiet night shift must not end that agent's session while calls keep being put through to a
desk that can no longer show them. So while such an agent's live feed is open, the ACD state
counts as the activity; an agent who has gone not-ready or signed out gets no calls and times
out as before, and so do all other roles (supervisors, administrators, auditors…), whose
pages read recordings and personal data without taking calls, even when they also have an
agent seat. The shift limit (sessions.MAX_HOURS) still ends every session.
"""

from __future__ import annotations

from starlette.types import Scope

from backend.acd.states import AgentState
from backend.models.users import Role

BACKGROUND_HEADER = b"x-desk-background"
# Requests only the pages' timers and the live feed make.
BACKGROUND_PATHS = frozenset({"/ws/live", "/api/supervisor/wallboard", "/api/supervisor/team-day"})


def is_user_activity(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["path"] in BACKGROUND_PATHS:
        return False
    return not any(name == BACKGROUND_HEADER for name, _ in scope["headers"])


# The states in which the ACD offers, rings or holds a call for the agent (or will, at once).
TAKING_CALLS = frozenset(
    {
        AgentState.READY,
        AgentState.RESERVED,
        AgentState.RINGING,
        AgentState.ON_CALL,
        AgentState.ON_HOLD,
        AgentState.WRAP_UP,
    }
)


def feed_keeps_alive(role: Role, acd_state: AgentState | None) -> bool:
    """Whether an open live feed restarts the idle timer: only an agent taking calls."""
    return role is Role.AGENT and acd_state in TAKING_CALLS
