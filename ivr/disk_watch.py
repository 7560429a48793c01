"""The controller's disk watch: the recordings' disk and PostgreSQL's, every
CC_DISK_CHECK_SECONDS.

Below CC_DISK_WARN_FREE_MB free the supervisors get a warning on the wallboard
(``backend.alerts``); below CC_DISK_REFUSE_FREE_MB on the recordings' disk, recordings are
paused (``recordings.pause``): new calls still go through, unrecorded and flagged so, and the
alert turns critical. Both end by themselves once space is freed. The controller runs it
because it runs wherever calls are recorded; a PostgreSQL on another machine is that
machine's monitoring's to watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import redis
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from backend.alerts import AlertLevel, SystemAlerts
from backend.disk_space import MB, DiskLevel, DiskReading, DiskThresholds, read_disk
from backend.metrics.definitions import DISK_FREE_BYTES
from backend.settings import Settings
from recordings.pause import pause_recordings, resume_recordings

log = logging.getLogger("ivr.disk_watch")

RECORDINGS = "recordings"
POSTGRESQL = "postgresql"
LABELS = {RECORDINGS: "录音磁盘", POSTGRESQL: "数据库磁盘"}


def alert_code(disk: str) -> str:
    return f"disk:{disk}"


def postgres_data_dir(settings: Settings, sessions: sessionmaker[Session]) -> Path | None:
    """PostgreSQL's data directory when it is on this machine: the setting, else asked of
    PostgreSQL (which tells only a superuser or pg_read_all_settings member)."""
    if settings.postgres_data_dir is not None:
        return settings.postgres_data_dir
    try:
        with sessions() as session:
            found = session.execute(text("SHOW data_directory")).scalar_one()
    except SQLAlchemyError as exc:
        log.info("PostgreSQL's disk not watched (set CC_POSTGRES_DATA_DIR): %s", exc)
        return None
    path = Path(str(found))
    if not path.is_dir():
        log.info("PostgreSQL's data directory %s is not on this machine: not watched", path)
        return None
    return path


class DiskWatch:
    def __init__(
        self, settings: Settings, alerts: SystemAlerts, postgres_dir: Path | None = None
    ) -> None:
        self._recordings = settings.effective_recordings_dir
        self._disks = {RECORDINGS: self._recordings}
        if postgres_dir is not None:
            self._disks[POSTGRESQL] = postgres_dir
        self._thresholds = DiskThresholds.in_megabytes(
            settings.disk_warn_free_mb, settings.disk_refuse_free_mb
        )
        self._period = settings.disk_check_seconds
        self._alerts = alerts
        self._levels: dict[str, DiskLevel] = {}

    def check(self) -> list[DiskReading]:
        """Measure every disk, pause or resume recordings, raise or clear the alerts."""
        readings = []
        for name, path in self._disks.items():
            try:
                readings.append(read_disk(name, path, self._thresholds))
            except OSError as exc:
                log.error("%s disk at %s not measured: %s", name, path, exc)
        for reading in readings:
            if reading.name == RECORDINGS:  # first: the pause must not wait on Redis
                self._pause_or_resume(reading)
        for reading in readings:
            DISK_FREE_BYTES.labels(reading.name).set(reading.free_bytes)
            self._log_change(reading)
            self._alert(reading)
        return readings

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.check)
            except (OSError, redis.RedisError) as exc:
                log.warning("disk watch: %s (trying again)", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._period)

    def _pause_or_resume(self, reading: DiskReading) -> None:
        if reading.level is DiskLevel.FULL:
            if pause_recordings(self._recordings):
                log.error("recordings paused: %s", reading.describe())
        elif resume_recordings(self._recordings):
            log.warning("recordings resumed: %s", reading.describe())

    def _log_change(self, reading: DiskReading) -> None:
        before = self._levels.get(reading.name, DiskLevel.OK)
        self._levels[reading.name] = reading.level
        if reading.level is not before:
            log.warning("%s: %s (was %s)", reading.describe(), reading.level, before)

    def _alert(self, reading: DiskReading) -> None:
        code = alert_code(reading.name)
        if reading.level is DiskLevel.OK:
            self._alerts.clear(code)
            return
        self._alerts.raise_alert(code, *self._message(reading))

    def _message(self, reading: DiskReading) -> tuple[AlertLevel, str]:
        label = LABELS.get(reading.name, reading.name)
        free = reading.free_bytes // MB
        if reading.level is DiskLevel.LOW:
            limit = self._thresholds.warn_free_bytes // MB
            return (
                AlertLevel.WARNING,
                f"{label}剩余 {free} MB，低于预警值 {limit} MB，请尽快清理或扩容。",
            )
        limit = self._thresholds.refuse_free_bytes // MB
        if reading.name == RECORDINGS:
            consequence = "新来电暂停录音（通话照常接通，记为“未录音”）"
        else:
            consequence = "数据库即将无法写入"
        return (
            AlertLevel.CRITICAL,
            f"{label}剩余 {free} MB，低于 {limit} MB：{consequence}，请立即清理或扩容。",
        )
