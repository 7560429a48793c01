"""Booking errors: each refusal names the rule that refused, by a stable code."""

from __future__ import annotations

from backend.errors import CallCenterError, Conflict, NotFound, Refused


class BookingRefused(Refused):
    """A booking rule said no. ``code`` is the rule: ``quota-day``, ``blacklisted``, ..."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


class BookingNotFound(NotFound):
    pass


class IdempotencyConflict(Conflict):
    """The same Idempotency-Key is still being worked on (HTTP 409)."""

    code = "idempotency-in-progress"


class IdempotencyKeyReused(Refused):
    """The same Idempotency-Key came with another request body (HTTP 422)."""

    code = "idempotency-key-reused"


class BadBookingInput(CallCenterError):
    """Input that no rule could accept: a malformed phone number, an empty name (HTTP 400)."""

    code = "bad-input"


class Unauthorized(CallCenterError):
    """No account token, or one that is unknown or replaced (HTTP 401)."""

    code = "unauthorized"
    http_status = 401


def invalid_token() -> Unauthorized:
    return Unauthorized("账户令牌无效或已失效，请重新登录")
