"""Authentication and authorisation refusals, mapped to 401 and 403 by the app."""

from __future__ import annotations

from backend.errors import CallCenterError


class NotAuthenticated(CallCenterError):
    code = "not-authenticated"


class LoginFailed(NotAuthenticated):
    code = "login-failed"


class AccountLocked(NotAuthenticated):
    code = "account-locked"


class Forbidden(CallCenterError):
    code = "forbidden"
