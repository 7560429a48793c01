"""Errors that carry a stable machine id, shown to people as one clear line."""

from __future__ import annotations


class CallCenterError(Exception):
    """Base class: ``code`` is a stable id (``no-such-slot``), ``message`` is for people."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ConfigError(CallCenterError):
    """A setting is wrong. The message names the environment variable to fix."""

    code = "bad-setting"

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        # A field of Settings ("desk_port") or a variable named in full ("CC_BOOKING_QUOTA_DAY").
        named_in_full = setting.startswith("CC_") or not setting.isidentifier()
        env = setting if named_in_full else "CC_" + setting.upper()
        super().__init__(f"setting {env}: {problem}")


class NotFound(CallCenterError):
    code = "not-found"


class Conflict(CallCenterError):
    code = "conflict"


class Refused(CallCenterError):
    """A business rule refused the request; ``code`` names the rule."""

    code = "refused"
