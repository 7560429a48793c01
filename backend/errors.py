"""Errors that carry a stable machine id, shown to people as one clear line."""

from __future__ import annotations

from typing import ClassVar


class CallCenterError(Exception):
    """Base class: ``code`` is a stable id (``no-such-slot``), ``message`` is for people.

    ``http_status`` is what the web app answers when the error reaches it (one handler,
    ``agent_desk.errors``); each kind of error declares its own where it is defined."""

    code = "error"
    http_status: ClassVar[int] = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def response_headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides the error body (``Retry-After``...)."""
        return {}


class ConfigError(CallCenterError):
    """A setting is wrong. The message names the environment variable to fix."""

    code = "bad-setting"

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        # A field of Settings ("desk_port") or a variable named in full ("CC_BOOKING_QUOTA_DAY").
        named_in_full = setting.startswith("CC_") or not setting.isidentifier()
        env = setting if named_in_full else "CC_" + setting.upper()
        super().__init__(f"setting {env}: {problem}")


class InvalidValue(ValueError):
    """A value a domain object refuses (raised in its ``__post_init__``): which field, and
    why. Settings name the variable of a sub-model's field from it (CC_BOOKING_QUOTA_DAY)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field
        self.problem = problem


class NotFound(CallCenterError):
    code = "not-found"
    http_status = 404


class Conflict(CallCenterError):
    code = "conflict"
    http_status = 409


class Refused(CallCenterError):
    """A business rule refused the request; ``code`` names the rule."""

    code = "refused"
    http_status = 422


class ServiceUnavailable(CallCenterError):
    """A system the request depends on (the PBX, Redis, PostgreSQL) cannot be reached right
    now. The answer says when to try again (``Retry-After``, seconds)."""

    code = "unavailable"
    http_status = 503
    retry_after: ClassVar[int] = 5

    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
