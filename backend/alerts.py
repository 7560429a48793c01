"""Alerts for the supervisors: conditions a process found that people must act on (a disk
filling up), shown on the wallboard until the process that raised them clears them.

They live in one Redis hash (``<prefix>:alerts``, CC_DESK_REDIS_PREFIX), field = the alert's
code, so any process may raise one and the desk shows them all. An alert raised again keeps
the time it was first raised; one whose process died stays up, which is the safe side.
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import redis


class AlertLevel(enum.StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Alert:
    code: str  # what it is about, e.g. "disk:recordings"
    level: AlertLevel
    message: str  # for the supervisor, in the desk's language
    since: float  # epoch seconds it was first raised at this level


class SystemAlerts:
    def __init__(
        self, client: redis.Redis, prefix: str, *, now: Callable[[], float] = time.time
    ) -> None:
        self._redis = client
        self._key = f"{prefix}:alerts"
        self._now = now

    def raise_alert(self, code: str, level: AlertLevel, message: str) -> Alert:
        existing = self.get(code)
        since = existing.since if existing and existing.level == level else self._now()
        alert = Alert(code, level, message, since)
        self._redis.hset(self._key, code, json.dumps(asdict(alert), ensure_ascii=False))
        return alert

    def clear(self, code: str) -> bool:
        return bool(self._redis.hdel(self._key, code))

    def get(self, code: str) -> Alert | None:
        raw = self._redis.hget(self._key, code)
        return _alert(raw) if raw else None

    def active(self) -> list[Alert]:
        """Every alert up now, critical ones first, oldest first within a level."""
        alerts = [_alert(raw) for raw in self._redis.hvals(self._key)]
        return sorted(alerts, key=lambda a: (a.level != AlertLevel.CRITICAL, a.since, a.code))


def _alert(raw: str | bytes) -> Alert:
    data = json.loads(raw)
    return Alert(data["code"], AlertLevel(data["level"]), data["message"], float(data["since"]))
