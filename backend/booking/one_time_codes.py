"""One-time SMS codes: issued to a phone, redeemed once, in Redis.

A code is six random digits. Redis keeps only its keyed hash (the personal-data look-up key,
so a copy of Redis cannot be brute-forced offline), for ``code_ttl_seconds``. A wrong code
counts a try; at ``code_max_attempts`` the code is destroyed. The right code is deleted as it
is read (one Lua script: two requests racing with it get one success). Sending is limited
per code subject (one code per ``code_resend_seconds``, until one is used), per destination phone and per client
address (``codes_per_phone_hour``, ``codes_per_address_hour``).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

from backend.booking.errors import BadBookingInput
from backend.booking.rules import BookingRules
from backend.errors import CallCenterError, Refused, ServiceUnavailable
from backend.sms import SmsGateway, SmsMessage, SmsSendFailed

HOUR = 3600

REDEEM = """
local digest = redis.call('HGET', KEYS[1], 'digest')
if not digest then return {'missing', ''} end
if digest == ARGV[1] then
  local payload = redis.call('HGET', KEYS[1], 'payload') or ''
  redis.call('DEL', KEYS[1], KEYS[2])
  return {'ok', payload}
end
local tries = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
local left = tonumber(ARGV[2]) - tries
if left <= 0 then redis.call('DEL', KEYS[1]) end
return {'wrong', tostring(left)}
"""


class CodeRefused(Refused):
    """A code that does not open: ``sms-code-expired`` (none outstanding, or too old) or
    ``sms-code-wrong`` (the message says how many tries are left)."""


class CodesLimited(CallCenterError):
    """Too many codes, or too many wrong tries (``sms-code-too-soon``, ``sms-code-limit``,
    ``sms-code-locked``): HTTP 429, with ``Retry-After`` when waiting helps."""

    http_status = 429

    def __init__(self, code: str, message: str, retry_after: int = 0) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after

    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


@dataclass(frozen=True)
class CodeRequest:
    purpose: str  # "account", "patient": codes of one purpose never open another
    subject: str  # what the code opens, already hashed (a phone's or a link's look-up hash)
    phone: str | None  # where the code goes; None: send nothing (the answer is the same)
    phone_hash: str  # the destination counted against ``codes_per_phone_hour``
    address: str  # the client's address, counted against ``codes_per_address_hour``
    text: Callable[[str], str]  # the message, given the code
    payload: str = ""  # handed back by ``redeem`` (what the code was issued for)


class OneTimeCodes:
    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        rules: BookingRules,
        digest: Callable[[str], str],
        gateway: SmsGateway,
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._rules = rules
        self._digest = digest
        self._gateway = gateway
        self._redeem = client.register_script(REDEEM)

    def _key(self, purpose: str, subject: str) -> str:
        return f"{self._prefix}otp:{purpose}:{subject}"

    def _hash(self, purpose: str, subject: str, code: str) -> str:
        return self._digest(f"otp:{purpose}:{subject}:{code}")

    def issue(self, request: CodeRequest) -> int:
        """Store a new code (replacing an older one) and send it; the seconds it is valid."""
        self._check_limits(request)
        code = f"{secrets.randbelow(10**6):06d}"
        key = self._key(request.purpose, request.subject)
        record: dict[str | bytes, str | int] = {
            "digest": self._hash(request.purpose, request.subject, code),
            "attempts": 0,
            "payload": request.payload,
        }
        pipe = self._redis.pipeline()
        pipe.delete(key)
        pipe.hset(key, mapping=record)
        pipe.expire(key, self._rules.code_ttl_seconds)
        pipe.execute()
        if request.phone is not None:
            message = SmsMessage(request.phone, request.text(code), f"{request.purpose}-code")
            try:
                self._gateway.send(message)
            except SmsSendFailed as exc:
                self._redis.delete(key, self._wait_key(request.purpose, request.subject))
                raise ServiceUnavailable(
                    "短信暂时发送失败，请稍后再试", code="sms-unavailable"
                ) from exc
        return self._rules.code_ttl_seconds

    def _wait_key(self, purpose: str, subject: str) -> str:
        return f"{self._prefix}otp-wait:{purpose}:{subject}"

    def _check_limits(self, request: CodeRequest) -> None:
        rules = self._rules
        wait_key = self._wait_key(request.purpose, request.subject)
        resend = rules.code_resend_seconds
        if resend and not self._redis.set(wait_key, 1, nx=True, ex=resend):
            wait = max(1, int(self._redis.ttl(wait_key)))
            raise CodesLimited("sms-code-too-soon", f"验证码已发送，请{wait}秒后再获取", wait)
        hour = int(time.time() // HOUR)
        counted = (
            (f"phone:{request.phone_hash}", rules.codes_per_phone_hour),
            (f"address:{request.address or 'unknown'}", rules.codes_per_address_hour),
        )
        for name, limit in counted:
            key = f"{self._prefix}otp-count:{name}:{hour}"
            pipe = self._redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, 2 * HOUR)
            count = int(pipe.execute()[0])
            if count > limit:
                retry = max(1, int((hour + 1) * HOUR - time.time()))
                raise CodesLimited(
                    "sms-code-limit", f"获取验证码过于频繁，请{retry // 60 + 1}分钟后再试", retry
                )

    def redeem(self, purpose: str, subject: str, code: str) -> str:
        """The payload the code was issued with; the code is used up. ``CodeRefused`` or
        ``CodesLimited`` (``sms-code-locked``: that was the last try) when it does not open."""
        code = code.strip()
        if len(code) != 6 or not code.isdigit():
            raise BadBookingInput("验证码应为6位数字", code="bad-sms-code")
        digest = self._hash(purpose, subject, code)
        # Used up, the code no longer holds back the next one (the resend interval's key).
        keys = [self._key(purpose, subject), self._wait_key(purpose, subject)]
        verdict, value = (_text(v) for v in self._redeem(keys=keys, args=[digest, self._tries]))
        if verdict == "ok":
            return value
        if verdict == "missing":
            raise CodeRefused("验证码已过期或未获取，请重新获取", code="sms-code-expired")
        if int(value) <= 0:
            raise CodesLimited("sms-code-locked", "验证码错误次数过多，已失效，请重新获取")
        raise CodeRefused(f"验证码不正确，还可再试{value}次", code="sms-code-wrong")

    @property
    def _tries(self) -> int:
        return max(1, self._rules.code_max_attempts)


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
