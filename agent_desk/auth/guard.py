"""Route dependencies: the current session, and ``require(permission)`` for every route.

A refusal is audited (who tried what, from where) before the 403 goes out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request
from starlette.requests import HTTPConnection

from agent_desk.auth.activity import is_user_activity
from agent_desk.auth.audit import audit_now
from agent_desk.auth.errors import Forbidden, NotAuthenticated
from agent_desk.auth.permissions import ADMIN_PERMISSIONS, Permission, allowed
from agent_desk.auth.policy import ip_allowed
from agent_desk.auth.sessions import DeskSession
from agent_desk.state import AppState, state_of
from backend.audit import Actor

COOKIE = "cc_desk"


def peer_ip(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else ""


@dataclass(frozen=True)
class Caller:
    """The logged-in person making this request."""

    token: str
    session: DeskSession
    ip: str

    @property
    def username(self) -> str:
        return self.session.username

    @property
    def actor(self) -> Actor:
        """Who acts, for the domain services' audit records."""
        return Actor(self.session.username, self.ip)


def current_caller(request: Request) -> Caller:
    return caller_of(request)


@dataclass(frozen=True)
class LookedUp:
    """The session the middleware found for this request's token (None: no such session)."""

    token: str
    session: DeskSession | None


def caller_of(conn: HTTPConnection) -> Caller:
    token = conn.cookies.get(COOKIE, "")
    looked_up = getattr(conn.state, "desk_session", None)
    if isinstance(looked_up, LookedUp) and looked_up.token == token:
        session = looked_up.session
    else:  # a websocket, or an app without the session middleware
        session = state_of(conn).auth.sessions.get(token, touch=is_user_activity(conn.scope))
    if session is None:
        raise NotAuthenticated("请先登录（会话不存在或已过期）")
    return Caller(token, session, peer_ip(conn))


def check_permission(state: AppState, caller: Caller, permission: Permission, path: str) -> None:
    """Raise Forbidden (audited) unless the caller may use ``permission`` from here."""
    reason = ""
    if not caller.session.ready:
        reason = "login-incomplete"
    elif not allowed(caller.session.role, permission):
        reason = "role"
    elif permission in ADMIN_PERMISSIONS and not ip_allowed(caller.ip, state.admin_networks):
        reason = "ip-not-allowed"
    if not reason:
        return
    audit_now(
        state.session_factory,
        caller.username,
        "auth.denied",
        target=path[:128],
        source_ip=caller.ip,
        details={
            "permission": permission.value,
            "reason": reason,
            "role": caller.session.role.value,
        },
    )
    messages = {
        "login-incomplete": "请先完成登录（动态口令或修改初始密码）",
        "role": "您的角色无权访问此功能",
        "ip-not-allowed": "管理功能只允许从许可的网络地址访问",
    }
    raise Forbidden(messages[reason], code=f"forbidden-{reason}")


def require(permission: Permission) -> Callable[[Request], Caller]:
    def dependency(request: Request) -> Caller:
        caller = caller_of(request)
        check_permission(state_of(request), caller, permission, request.url.path)
        return caller

    dependency.__name__ = f"require_{permission.name.lower()}"
    return dependency
