"""A call record is never lost to a PostgreSQL outage: the controller's call lifecycle spools
the open and the close it could not write (``ivr.record_spool``), and the supervised replay
loop writes them, in order and once, when the server is back. The server is a private
cluster (``tests.private_servers``), stopped and started for real."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.db import make_engine, make_session_factory
from backend.models.calls import CallRecord, Recording
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings, load_settings
from backend.supervision import Supervisor
from ivr.call_lifecycle import CallLifecycle
from ivr.flows.ports import CallInfo
from ivr.record_spool import RecordSpool, spool_path
from recordings.index import RecordingIndex
from tests.private_servers import PrivatePostgres, private_postgres

WAIT_SECONDS = 30.0  # for the replay once the server is back (it tries every 2 s)


def lifecycle(factory: sessionmaker[Session], settings: Settings, state: Path) -> CallLifecycle:
    return CallLifecycle(
        factory,
        RecordingIndex(factory, settings),
        PersonalDataCipher(settings.data_key.get_secret_value()),
        spool_path(state),
    )


def records(factory: sessionmaker[Session], call_id: str) -> list[CallRecord]:
    with factory() as session:
        return list(session.scalars(select(CallRecord).where(CallRecord.call_id == call_id)))


async def outage_then_replay(
    server: PrivatePostgres, factory: sessionmaker[Session], settings: Settings, state: Path
) -> tuple[CallInfo, CallInfo, CallLifecycle]:
    before = CallInfo(*[f"spool-a-{uuid.uuid4().hex[:8]}"] * 2, "114", "13800138000", did="")
    during = CallInfo(*[f"spool-b-{uuid.uuid4().hex[:8]}"] * 2, "114", "13900139000", did="")
    first = lifecycle(factory, settings, state)
    await asyncio.to_thread(first.open_record, before)  # written at once
    await asyncio.to_thread(server.stop)
    await first.ended(before)  # its close spooled
    await asyncio.to_thread(first.open_record, during)  # its open spooled
    # Its recording, registered as the call starts (Asterisk's path, as the dialplan sets it).
    path = f"{settings.effective_asterisk_recordings_dir}/{during.call_id}.wav"
    await asyncio.to_thread(first.spool.recording, during.call_id, path, during.line)
    await first.ended(during)  # and its close behind it
    await first.drain()
    assert first.spool.pending() == 4
    (state / "spooled-copy.jsonl").write_bytes(spool_path(state).read_bytes())
    # The controller restarts meanwhile: the spool is a file, the new one replays it.
    second = lifecycle(factory, settings, state)
    supervisor, stop = Supervisor("controller-test"), asyncio.Event()
    supervisor.start("record-spool", lambda: second.spool.run(stop, every=0.5), stop)
    await asyncio.sleep(1.0)  # a replay or two against the stopped server
    assert second.spool.pending() == 4
    await asyncio.to_thread(server.start)
    for _ in range(int(WAIT_SECONDS / 0.5)):
        if second.spool.pending() == 0:
            break
        await asyncio.sleep(0.5)
    stop.set()
    await supervisor.wait()
    return before, during, second


def test_records_written_during_an_outage_appear_closed_once(
    settings: Settings, run_id: str, tmp_path: Path
) -> None:
    with private_postgres(f"cc_spool_{run_id}") as (server, url):
        engine = make_engine(load_settings(database_url=url), pool_size=2)
        factory: sessionmaker[Session] = make_session_factory(engine)
        before, during, controller = asyncio.run(
            outage_then_replay(server, factory, settings, tmp_path / "state")
        )
        assert controller.spool.pending() == 0, "the spool was not replayed"
        for call in (before, during):
            rows = records(factory, call.call_id)
            assert len(rows) == 1, call.call_id
            assert rows[0].ended_at is not None, f"{call.call_id} left open"
            assert rows[0].ended_at >= rows[0].started_at
        # The number as every call stores it: masked, encrypted, hashed; never in clear.
        spooled = records(factory, during.call_id)[0]
        assert spooled.caller_enc and spooled.caller_hash
        assert "13900139000" not in spooled.caller_number
        assert spooled.recording_id is not None, "the spooled recording was not indexed"
        # The same writes replayed again (a crash before the spool was emptied) change
        # nothing: insert-if-absent, close-if-open.
        ended = {c.call_id: records(factory, c.call_id)[0].ended_at for c in (before, during)}
        recordings = RecordingIndex(factory, settings)
        again = RecordSpool(factory, recordings, tmp_path / "state" / "spooled-copy.jsonl")
        assert again.replay() == 4 and again.pending() == 0
        with factory() as session:
            count = session.scalar(
                select(func.count()).select_from(CallRecord).where(CallRecord.call_id.in_(ended))
            )
        assert count == 2
        assert {c: records(factory, c)[0].ended_at for c in ended} == ended
        with factory() as session:
            paths = session.scalar(
                select(func.count()).select_from(Recording).where(Recording.call_id.in_(ended))
            )
        assert paths == 1
        engine.dispose()
