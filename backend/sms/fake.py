"""The local SMS gateway: sends nothing, records every message in Redis.

Tests and the demo use it where a carrier's gateway would be; a test reads what a citizen's
phone would have received through ``messages_to``, as an integrator's test would read its
own phone. Messages are keyed by a hash of the number (not the number) and kept a day.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid

import redis

from backend.sms.port import SmsMessage, SmsSendFailed

KEEP_SECONDS = 24 * 3600


class RecordingSmsGateway:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    def _key(self, phone: str) -> str:
        return f"{self._prefix}fake-sms:{hashlib.sha256(phone.encode()).hexdigest()}"

    def send(self, message: SmsMessage) -> str:
        message_id = uuid.uuid4().hex[:16]
        record = {"text": message.text, "purpose": message.purpose, "at": time.time()}
        record["id"] = message_id
        key = self._key(message.phone)
        pipe = self._redis.pipeline()
        pipe.rpush(key, json.dumps(record, ensure_ascii=False))
        pipe.expire(key, KEEP_SECONDS)
        try:
            pipe.execute()
        except redis.RedisError as exc:
            # The fake's "network": a Redis that cannot be reached is a gateway that is down.
            raise SmsSendFailed(f"fake SMS gateway unreachable: {type(exc).__name__}") from None
        return message_id

    def messages_to(self, phone: str) -> list[str]:
        """The texts sent to ``phone``, oldest first."""
        return [record["text"] for record in self.records_to(phone)]

    def records_to(self, phone: str) -> list[dict[str, str]]:
        """What was sent to ``phone``, oldest first: text, purpose (the event) and id."""
        raw = self._redis.lrange(self._key(phone), 0, -1)
        return [json.loads(item) for item in raw]

    def last_code_to(self, phone: str) -> str:
        """The six-digit code of the newest message to ``phone`` (what a citizen types)."""
        texts = self.messages_to(phone)
        if not texts:
            raise LookupError("no message was sent to this number")
        digits = [word for word in texts[-1].split() if word.isdigit() and len(word) == 6]
        if not digits:
            raise LookupError("the newest message carries no code")
        return digits[0]
