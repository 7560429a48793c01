"""Which numbers the system calls back, and how often: every callback is admitted here first.

A callback (a caller in the queue pressing the callback key, a message left out of hours or
instead of waiting) dials the number the network presented as the caller ID, which anybody
with a SIP trunk can forge. Unchecked, the hotline becomes a tool to ring a stranger again and
again, or to run up charges on international and premium numbers. So:

* only the numbers a citizen of the area calls from are called back: mainland mobiles and the
  local area's fixed lines (Beijing, 010), with or without the 0 / +86 / 0086 prefixes, read
  by the dial policy (``dial_policy.py``). International numbers, other areas' fixed lines,
  400/800, short and emergency numbers and withheld numbers are refused
  (``callback-number-refused``);
* at most ``CC_CALLBACK_DAILY_CAP`` callbacks per number per local day, whatever asked for
  them; the next is refused (``callback-daily-cap``);
* every refusal is audited (``callback.refused``: the masked number and its look-up hash,
  never the number itself);
* an admitted number leaves the gate only encrypted (it is kept in Redis while the callback
  waits); the day's counter is keyed by the look-up hash.

Counter keys: ``<prefix>:callback:day:<YYYYMMDD>:<look-up hash>``, gone after two days.
Redis and PostgreSQL are used synchronously (the message sink runs in a worker thread; the
queue calls :meth:`CallbackGate.admit_async`), so one gate serves every event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from sqlalchemy.orm import Session, sessionmaker

from backend.audit import Actor, record_audit
from backend.db import transaction
from backend.errors import Refused
from backend.localtime import zone
from backend.personal_data import PersonalDataCipher, mask_phone, normalize_number
from backend.settings import Settings
from backend.telephony.dial_policy import DialPolicy, DialRefused, DialTarget, NumberKind

NUMBER_REFUSED = "callback-number-refused"
DAILY_CAP = "callback-daily-cap"
AUDIT_ACTION = "callback.refused"
AUDIT_ACTOR = Actor("system")
COUNTER_TTL_SECONDS = 2 * 24 * 3600


class CallbackRefused(Refused):
    """The number may not be called back; ``code`` says why."""

    code = NUMBER_REFUSED


@dataclass(frozen=True)
class AdmittedCallback:
    number_enc: str  # the national form, encrypted: what the queue keeps
    number_hash: str  # its look-up hash


def callback_target(policy: DialPolicy, raw: str) -> DialTarget:
    """The number as the dial policy reads it, when it is one the system calls back."""
    try:
        target = policy.classify(raw)
    except DialRefused:
        target = None
    if target is not None:
        local_line = target.kind in (NumberKind.LANDLINE, NumberKind.LOCAL)
        if target.kind is NumberKind.MOBILE or (
            local_line and target.national.startswith(policy.local_area_code)
        ):
            return target
    raise CallbackRefused("您的来电号码不是境内手机或本地固定电话，无法为您回电")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CallbackGate:
    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        cipher: PersonalDataCipher,
        session_factory: sessionmaker[Session],
        *,
        policy: DialPolicy,
        daily_cap: int,
        timezone: str,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._redis = client
        self._prefix = f"{prefix}:callback:day"
        self._cipher = cipher
        self._sessions = session_factory
        self.policy = policy
        self.daily_cap = daily_cap
        self._zone = zone(timezone)
        self._clock = clock

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        session_factory: sessionmaker[Session],
        clock: Callable[[], datetime] = _utcnow,
    ) -> CallbackGate:
        return cls(
            redis.Redis.from_url(settings.redis_url, decode_responses=True),
            settings.desk_redis_prefix,
            PersonalDataCipher.of(settings),
            session_factory,
            policy=settings.dial_policy,
            daily_cap=settings.callback_daily_cap,
            timezone=settings.timezone,
            clock=clock,
        )

    def offered(self, raw: str) -> bool:
        """Whether to offer a callback to this caller at all (the day's count not asked)."""
        try:
            callback_target(self.policy, raw)
        except CallbackRefused:
            return False
        return True

    def admit(self, raw: str, *, call_id: str, line: str) -> AdmittedCallback:
        """Count the callback against the number's day; CallbackRefused (audited) when the
        number is not one we call back or its day is full."""
        number = normalize_number(raw)
        try:
            number = callback_target(self.policy, raw).national
            number_hash = self._cipher.lookup_hash(number)
            if self._count(number_hash) > self.daily_cap:
                raise CallbackRefused(
                    f"这个号码今天已登记 {self.daily_cap} 次回电，已达上限，无法再为您回电",
                    code=DAILY_CAP,
                )
        except CallbackRefused as refusal:
            self._audit(refusal, number, call_id=call_id, line=line)
            raise
        return AdmittedCallback(self._cipher.encrypt(number), number_hash)

    async def admit_async(self, raw: str, *, call_id: str, line: str) -> AdmittedCallback:
        return await asyncio.to_thread(self.admit, raw, call_id=call_id, line=line)

    def _count(self, number_hash: str) -> int:
        day = self._clock().astimezone(self._zone).strftime("%Y%m%d")
        key = f"{self._prefix}:{day}:{number_hash}"
        with self._redis.pipeline() as pipe:
            pipe.incr(key)
            pipe.expire(key, COUNTER_TTL_SECONDS)
            count, _ = pipe.execute()
        return int(count)

    def _audit(self, refusal: CallbackRefused, number: str, *, call_id: str, line: str) -> None:
        details: dict[str, object] = {"reason": refusal.code, "line": line}
        if number:
            details["number"] = mask_phone(number)
            details["number_hash"] = self._cipher.lookup_hash(number)
        with transaction(self._sessions) as db:
            record_audit(db, AUDIT_ACTOR, AUDIT_ACTION, f"call:{call_id}", self._clock(), details)
