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
        env = "CC_" + setting.upper() if setting.isidentifier() else setting
        super().__init__(f"setting {env}: {problem}")


class NotFound(CallCenterError):
    code = "not-found"


class Conflict(CallCenterError):
    code = "conflict"


class Refused(CallCenterError):
    """A business rule refused the request; ``code`` names the rule."""

    code = "refused"
