"""What can end a call's AGI work early."""

from __future__ import annotations


class AgiError(Exception):
    """Base class for AGI failures."""


class CallHungUp(AgiError):
    """The caller hung up (HANGUP notice, result=-1, 511 on a dead channel, or socket closed)."""


class AgiCommandTimeout(AgiError):
    """Asterisk did not answer a command in time."""


class AgiCommandFailed(AgiError):
    """Asterisk rejected a command (510 unknown command, 520 bad syntax)."""
