"""Calls the desk asks the controller to place, handed over through Redis.

The desk rings the agent's own phone (AMI Originate into the controller's ``outbound`` AGI
script with a token as its argument); once the agent answers, the controller takes the
request by that token and dials the citizen. A request:

* lives only as long as the agent's phone may ring (plus a margin), then expires;
* is taken once (GETDEL): a replayed or repeated AGI never dials the citizen twice;
* holds the citizen's number only encrypted (the desk and the controller share the key);
* is the agent's only one until taken: a second click while his phone rings for the first is
  refused (two identical requests at once ring him once).

Keys: ``<prefix>:outbound:request:<token>`` (a JSON string) and
``<prefix>:outbound:agent:<agent id>`` (the token of his request not taken yet).
"""

from __future__ import annotations

import enum
import json
import secrets
from dataclasses import asdict, dataclass

from redis.asyncio import Redis

from backend.errors import Conflict
from backend.personal_data import PersonalDataCipher


class DialInProgress(Conflict):
    code = "dial-in-progress"


class Purpose(enum.StrEnum):
    DIAL = "dial"  # a number typed in the desk's dial box
    REVISIT = "revisit"  # 回访 of a work order waiting for its callback


@dataclass(frozen=True)
class DialRequest:
    agent_id: int
    number: str  # personal data: encrypted in Redis, never logged
    line: str
    purpose: Purpose = Purpose.DIAL
    order_id: int | None = None
    actor: str = ""  # the desk user who asked, for the order's timeline


class DialRequests:
    def __init__(
        self, redis: Redis, prefix: str, cipher: PersonalDataCipher, ttl_seconds: int = 120
    ) -> None:
        if not redis.connection_pool.connection_kwargs.get("decode_responses"):
            raise ValueError("dial requests need a Redis client with decode_responses")
        self._redis = redis
        self._prefix = f"{prefix}:outbound"
        self._cipher = cipher
        self._ttl = ttl_seconds

    def _request_key(self, token: str) -> str:
        return f"{self._prefix}:request:{token}"

    def _agent_key(self, agent_id: int) -> str:
        return f"{self._prefix}:agent:{agent_id}"

    async def put(self, request: DialRequest) -> str:
        """Store the request; DialInProgress while the agent has one not taken yet."""
        token = secrets.token_hex(16)
        agent_key = self._agent_key(request.agent_id)
        if not await self._redis.set(agent_key, token, nx=True, ex=self._ttl):
            raise DialInProgress("正在呼叫您的话机，请先接听或稍候再拨")
        fields = asdict(request)
        fields["number"] = self._cipher.encrypt(request.number)
        await self._redis.set(self._request_key(token), json.dumps(fields), ex=self._ttl)
        return token

    async def take(self, token: str) -> DialRequest | None:
        """The request, once; None when unknown, expired or already taken."""
        if not token.isalnum():
            return None
        raw = await self._redis.getdel(self._request_key(token))
        if raw is None:
            return None
        fields = json.loads(raw)
        await self._release(int(fields["agent_id"]), token)
        fields["number"] = self._cipher.decrypt(fields["number"])
        fields["purpose"] = Purpose(fields["purpose"])
        return DialRequest(**fields)

    async def forget(self, agent_id: int, token: str) -> None:
        """Drop a request whose originate could not be sent."""
        await self._redis.delete(self._request_key(token))
        await self._release(agent_id, token)

    async def _release(self, agent_id: int, token: str) -> None:
        key = self._agent_key(agent_id)
        if await self._redis.get(key) == token:
            await self._redis.delete(key)
