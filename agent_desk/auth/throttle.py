"""The login throttle: failed sign-ins counted per client address and per user name in Redis,
and checked before anything else a sign-in does.

Checked before the account is read or a password hashed, so a guess past the limit costs the
server no Argon2 work and tells the guesser nothing (the same answer whether the name exists,
whether the password was right). Every attempt takes a place in both counts atomically as it
starts, and a successful sign-in gives its places back: parallel guesses cannot slip past the
limit between a check and a count, and the call centre's agents signing in together behind one
address at the start of a shift use up nothing.

The account lockout (``policy.LockoutPolicy``) stays: it holds an account whatever the address;
this holds an address trying many names and a name tried from many addresses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import redis

from backend.errors import CallCenterError

# KEYS: address count, name count, address refusal noted, name refusal noted.
# ARGV: address limit, name limit, window seconds. Returns {0} when the attempt is counted, or
# {which (1 address, 2 name), seconds to wait, 1 when this is the window's first refusal}.
RESERVE = """
local limits = {tonumber(ARGV[1]), tonumber(ARGV[2])}
for i = 1, 2 do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count >= limits[i] then
    local ttl = math.max(redis.call('TTL', KEYS[i]), 1)
    local first = redis.call('SET', KEYS[i + 2], '1', 'NX', 'EX', ttl)
    return {i, ttl, first and 1 or 0}
  end
end
for i = 1, 2 do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], ARGV[3]) end
end
return {0}
"""

RELEASE = """
for i = 1, 2 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
"""


class LoginThrottled(CallCenterError):
    code = "login-throttled"
    http_status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"登录尝试过于频繁，请{retry_after}秒后再试")
        self.retry_after = retry_after

    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


@dataclass(frozen=True)
class Refusal:
    """A throttled attempt: by which count, how long to wait, and whether it is the first
    refusal of this window (the one that is audited: an attacker's flood of refused attempts
    must not become a flood of audit records)."""

    by: str  # "address" or "username"
    retry_after: int
    first: bool


class LoginThrottle:
    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        *,
        per_address: int,
        per_username: int,
        window_seconds: int,
    ) -> None:
        self._redis = client
        self._prefix = f"{prefix}:desk:login-throttle"
        self._limits = (per_address, per_username)
        self._window = window_seconds
        self._reserve = client.register_script(RESERVE)
        self._release = client.register_script(RELEASE)

    def _keys(self, address: str, username: str) -> list[str]:
        # The name hashed: whatever a guesser types, the key stays short and holds no name.
        name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        counts = [f"{self._prefix}:address:{address}", f"{self._prefix}:username:{name}"]
        return counts + [f"{key}:refused" for key in counts]

    def reserve(self, address: str, username: str) -> Refusal | None:
        """Count this attempt, or the refusal when a count is at its limit."""
        reply = self._reserve(
            keys=self._keys(address, username), args=[*self._limits, self._window]
        )
        if int(reply[0]) == 0:
            return None
        by = "address" if int(reply[0]) == 1 else "username"
        return Refusal(by, int(reply[1]), bool(int(reply[2])))

    def release(self, address: str, username: str) -> None:
        """Give back a successful sign-in's places: only failures stay counted."""
        self._release(keys=self._keys(address, username)[:2])
