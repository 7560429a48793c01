"""One-time links for a user's first TOTP enrolment, issued by an administrator (or, for the
first administrator, from the server's shell: ``callcenter totp-link``).

Without a link a user with no second factor yet cannot get one: the password alone never
binds an authenticator (a stolen password would otherwise bind the thief's). A link is a
random token for one user, kept in Redis only as a hash, for ``LINK_HOURS``; it is used up
by the first sign-in that presents it, and issuing a new one voids the old.
"""

from __future__ import annotations

import hashlib
import secrets

import redis

LINK_HOURS = 24
# KEYS: the link's key. ARGV: the user id. 1 when the link was the user's and is now used up.
REDEEM = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""


def link_path(token: str) -> str:
    """Where the link sends its user: the sign-in page, which keeps the token for the code step."""
    return f"/login?enrol={token}"


class EnrolmentLinks:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = f"{prefix}:desk:totp-link"
        self._redeem = client.register_script(REDEEM)

    def _key(self, token: str) -> str:
        return f"{self._prefix}:{hashlib.sha256(token.encode()).hexdigest()}"

    def issue(self, user_id: int) -> str:
        """A new link token for the user; the user's previous link stops working."""
        token = secrets.token_urlsafe(24)
        latest = f"{self._prefix}:user:{user_id}"
        previous = self._redis.get(latest)
        pipe = self._redis.pipeline()
        if previous:
            pipe.delete(f"{self._prefix}:{previous}")
        digest = self._key(token).rsplit(":", 1)[1]
        pipe.set(self._key(token), str(user_id), ex=LINK_HOURS * 3600)
        pipe.set(latest, digest, ex=LINK_HOURS * 3600)
        pipe.execute()
        return token

    def redeem(self, token: str, user_id: int) -> bool:
        """Use the link up if it is the user's and still valid."""
        return bool(int(self._redeem(keys=[self._key(token)], args=[str(user_id)])))
