"""The recordings' disk at its threshold, for real: an Asterisk of its own records onto a
small tmpfs. Calls go on unrecorded and flagged so, the supervisors are alerted on the
wallboard, the recordings report tells the call from a lost recording, and recordings resume
once space is freed."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.alerts import AlertLevel, SystemAlerts
from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from backend.models.calls import CallRecord
from backend.models.users import Role
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from ivr.agi.server import AgiServer
from ivr.disk_watch import DiskWatch, alert_code
from ivr.main import build_controller
from ivr.pbx.instance import AsteriskInstance
from ivr.pbx.simulated import carrier_channel, simulated_call
from recordings.pause import MARKER
from reports.periods import ReportFilter
from reports.recording_report import build_recording_report
from tests.asterisk_fixtures import DID_114
from tests.conftest import free_port
from tests.controller_support import DialplanFallbackQueue
from tests.desk_support import login, make_user

pytestmark = pytest.mark.asterisk
pytest_plugins = ["tests.desk_support"]

DISK_MB = 8  # the tmpfs the recordings go to; warn below 6 MB free, refuse below 4 MB


@dataclass
class SmallDisk:
    settings: Settings  # the Asterisk of its own, recording onto the tmpfs
    recordings: Path  # the tmpfs, as Python sees it
    ami: AmiClient


@pytest.fixture(scope="module")
def small_disk_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "asterisk_instance": f"{settings.asterisk_instance}-disk",
            "ami_port": free_port(),
            "sip_port": free_port(),
            "agi_port": free_port(),
            "asterisk_http_port": free_port(),
            "disk_warn_free_mb": 6,
            "disk_refuse_free_mb": 4,
            "disk_check_seconds": 0.2,
        }
    )


@pytest.fixture(scope="module")
def small_disk_asterisk(small_disk_settings: Settings) -> Iterator[Path]:
    instance = AsteriskInstance(small_disk_settings)
    instance.prepare()
    recordings = small_disk_settings.effective_recordings_dir
    mount = ["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(recordings)]
    subprocess.run(mount, check=True)
    try:
        instance.start()
        yield recordings
    finally:
        instance.stop()
        subprocess.run(["umount", str(recordings)], check=True)
        shutil.rmtree(instance.dir, ignore_errors=True)


@pytest.fixture()
async def small_disk(
    small_disk_settings: Settings,
    small_disk_asterisk: Path,
    session_factory: sessionmaker[Session],
) -> AsyncIterator[SmallDisk]:
    controller = build_controller(small_disk_settings, session_factory, DialplanFallbackQueue())
    s = small_disk_settings
    server = AgiServer(
        {"114": controller.handler("114")}, s.agi_bind, s.agi_port, permit=s.agi_peers
    )
    await server.start()
    ami = AmiClient(small_disk_settings, AmiUser.TOOLS)
    await ami.connect()
    yield SmallDisk(small_disk_settings, small_disk_asterisk, ami)
    ami.close()
    await server.stop()


async def call_record(
    factory: sessionmaker[Session], caller_hash: str, timeout: float = 30
) -> CallRecord:
    """The caller's call record once the controller has closed it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        with factory() as db:
            record = db.scalar(select(CallRecord).where(CallRecord.caller_hash == caller_hash))
        if record is not None and record.ended_at is not None:
            return record
        await asyncio.sleep(0.3)
    raise AssertionError("the call was not recorded as ended")


async def until(predicate, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "the disk watch did not act in time"
        await asyncio.sleep(0.1)


async def test_a_nearly_full_recordings_disk_keeps_calls_going_unrecorded_flagged_and_alerted(
    small_disk: SmallDisk,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    redis_namespace: str,
    desk_client: TestClient,
) -> None:
    alerts = SystemAlerts(redis_client, redis_namespace)
    watch = DiskWatch(small_disk.settings, alerts)
    stop = asyncio.Event()
    watching = asyncio.create_task(watch.run(stop))
    cipher = PersonalDataCipher(small_disk.settings.data_key.get_secret_value())
    filler = small_disk.recordings / "filler.bin"
    try:
        # Something else filled the disk: 5 of its 8 MB, 3 MB left, below the 4 MB threshold.
        filler.write_bytes(b"\0" * (5 * 1024 * 1024))
        await until(lambda: (small_disk.recordings / MARKER).exists())
        unrecorded = "13700007701"
        await simulated_call(
            small_disk.ami, carrier_channel(DID_114), caller_id=unrecorded, delay=1, hold=3
        )
        record = await call_record(session_factory, cipher.lookup_hash(unrecorded))

        # The call went through the controller's menu, with no recording, flagged so.
        assert record.disposition == "abandoned_ivr"
        assert (record.recording_id, record.unrecorded) == (None, "disk_full")
        assert not list(small_disk.recordings.rglob("*.wav"))
        alert = alerts.get(alert_code("recordings"))
        assert alert is not None and alert.level is AlertLevel.CRITICAL
        assert "暂停录音" in alert.message

        login(desk_client, make_user(session_factory, Role.SUPERVISOR))
        board = desk_client.get("/api/supervisor/wallboard").json()
        assert [a["code"] for a in board["alerts"]] == ["disk:recordings"]

        today = datetime.now(ZoneInfo(small_disk.settings.timezone)).date()
        with session_factory() as db:
            report = build_recording_report(db, ReportFilter(today, today))
        rows = {r[0]: r for r in report.table("缺少录音的通话").rows}
        assert str(rows[record.call_id][5]).startswith("未录音：磁盘空间不足")

        # Space is freed: recordings resume by themselves and the alert goes.
        filler.unlink()
        await until(lambda: not (small_disk.recordings / MARKER).exists())
        await until(lambda: alerts.get(alert_code("recordings")) is None)
        recorded = "13700007702"
        await simulated_call(
            small_disk.ami, carrier_channel(DID_114), caller_id=recorded, delay=1, hold=3
        )
        record = await call_record(session_factory, cipher.lookup_hash(recorded))
        assert record.recording_id is not None and record.unrecorded == ""
        assert len(list(small_disk.recordings.rglob("*.wav"))) == 1
    finally:
        stop.set()
        await watching
