"""Authentication and authorisation refusals, 401 and 403 in the app."""

from __future__ import annotations

from backend.errors import CallCenterError


class NotAuthenticated(CallCenterError):
    code = "not-authenticated"
    http_status = 401


class LoginFailed(NotAuthenticated):
    code = "login-failed"


class AccountLocked(NotAuthenticated):
    code = "account-locked"


class Forbidden(CallCenterError):
    code = "forbidden"
    http_status = 403
