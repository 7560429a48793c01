"""Time-based one-time codes (RFC 6238) that work once: which time step a code belongs to, and
the last step each user has used, kept in Redis, so that a code seen over a shoulder or caught
on the wire is worthless once its owner has signed in with it.

A code is accepted for the current 30-second step and the one before or after it (clock drift
between the server and the phone); the step it matched must be later than the last one the user
used. The claim is one atomic script, so two requests racing with one code cannot both win.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
import redis

DRIFT_STEPS = 1
# How long a user's last step is kept: far longer than a code of it could still match.
KEEP_SECONDS = 600
# KEYS: the user's last step. ARGV: the step claimed, seconds to keep it. 1 when claimed.
CLAIM = """
local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


def matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step ``code`` is the code of, within the drift allowed; None if none."""
    totp = pyotp.TOTP(secret)
    now = totp.timecode(at)
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code.strip()):
            return step
    return None


class UsedSteps:
    """The last time step each user signed in with."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._prefix = f"{prefix}:desk:totp-step"
        self._claim = client.register_script(CLAIM)

    def claim(self, user_id: int, step: int) -> bool:
        """Take ``step`` for the user; False when it or a later one was used already."""
        key = f"{self._prefix}:{user_id}"
        return bool(int(self._claim(keys=[key], args=[step, KEEP_SECONDS])))
