"""No phone number, ID number or name in any log line (issue 18, item 11).

The whole stack as an operator starts it (`callcenter up`: Asterisk, controller, desk, worker,
beat, each logging to its file), then a citizen's data through the real paths: a call from
a known mobile that keys a known ID number into the 114 flow, an agent phone dialling that
mobile, desk requests carrying the mobile, the ID number and a name in their query strings.
Every log the stack wrote is then searched for them.
"""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.parse
import urllib.request
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from backend import idcard
from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from backend.db import make_engine, make_session_factory
from backend.flows.loader import load_line_flows
from backend.flows.schema import PromptText
from backend.migrate import scratch_database
from backend.models.calls import CallRecord, Direction
from backend.settings import Settings, load_settings
from backend.speech.tts import TtsRenderer
from ivr.journal import ivr_path
from ivr.pbx.instance import AsteriskInstance
from ivr.pbx.simulated import carrier_channel, simulated_call
from tests.conftest import ADMIN_URL
from tests.stack_process import run_cli, stack_environment

pytestmark = pytest.mark.asterisk

PHONE = "13987654321"
NAME = "司马相如"
FIRST17 = "11010519800101123"
ID_NUMBER = FIRST17 + idcard.check_char(FIRST17)
# SendDTMF's 'w' waits half a second: 4 s between groups of keys, for the next node to start.
INTO_NODE = "w" * 8


def welcome_seconds(settings: Settings) -> float:
    """How long the 114 welcome plays (keys pressed meanwhile are lost, as on a real line)."""
    flow = load_line_flows()["114"]
    renderer = TtsRenderer(settings)
    sound = renderer.render(PromptText("114/welcome", flow.prompts["welcome"], flow.voice))
    with wave.open(str(renderer.host_file(sound))) as audio:
        return audio.getnframes() / audio.getframerate()


@pytest.fixture()
def stack(run_id: str, tmp_path: Path) -> Iterator[Settings]:
    """The stack up on its own database, Asterisk instance and ports; down afterwards."""
    with scratch_database(ADMIN_URL, f"cc_logs_{run_id}") as url:
        env = stack_environment(url, tmp_path, f"logs-{run_id}")
        settings = load_settings(**{k.removeprefix("CC_").lower(): v for k, v in env.items()})
        try:
            seeded = run_cli(env, "demo-data")
            assert seeded.returncode == 0, seeded.stderr
            up = run_cli(env, "up")
            assert up.returncode == 0, up.stdout + up.stderr
            yield settings
        finally:
            run_cli(env, "down")


async def call_with_id_number(settings: Settings) -> None:
    """A call from PHONE to the 114 line: 2 (check a booking), the ID number, a code."""
    ami = AmiClient(settings, AmiUser.TOOLS)
    await ami.connect()
    try:
        keys = "2" + INTO_NODE + ID_NUMBER + "#" + INTO_NODE + "1234567890"
        await simulated_call(
            ami,
            carrier_channel(settings.did["114"]),
            caller_id=PHONE,
            dtmf=keys,
            delay=welcome_seconds(settings) + 1.5,
            hold=30,
        )
        # An agent phone's half dials PHONE: [agents] hands it to the outbound route.
        await simulated_call(ami, f"Local/{PHONE}@agents", caller_id="8001", hold=3)
    finally:
        ami.close()


def finished_call(settings: Settings) -> list[tuple[str, str]]:
    """The inbound call once it has ended, with its IVR path (node, outcome)."""
    engine = make_engine(settings, pool_size=1, max_overflow=0)
    deadline = time.monotonic() + 120
    try:
        while True:
            with make_session_factory(engine)() as db:
                call = db.scalars(
                    select(CallRecord).where(CallRecord.direction == Direction.INBOUND)
                ).one_or_none()
                if call is not None and call.ended_at is not None:
                    return [(s.node, s.outcome) for s in ivr_path(db, call.call_id)]
            assert time.monotonic() < deadline, "the call did not end"
            time.sleep(1)
    finally:
        engine.dispose()


def desk_requests(settings: Settings) -> list[int]:
    """The desk asked for PHONE, ID_NUMBER and NAME in query strings (signed in or not)."""
    base = f"http://127.0.0.1:{settings.desk_port}"
    query = urllib.parse.urlencode({"caller_number": PHONE, "id_number": ID_NUMBER, "name": NAME})
    statuses = []
    for path in ("/api/recordings", "/api/public/hospitals", "/healthz"):
        try:
            with urllib.request.urlopen(f"{base}{path}?{query}", timeout=10) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)
    return statuses


def every_log(settings: Settings) -> dict[Path, str]:
    logs = sorted((settings.state_dir / "log").glob("*.log"))
    logs += sorted((AsteriskInstance(settings).dir / "log").rglob("*"))
    return {path: path.read_text(errors="replace") for path in logs if path.is_file()}


def test_no_phone_id_number_or_name_in_any_log(
    stack: Settings,
) -> None:
    settings = stack
    asyncio.run(call_with_id_number(settings))
    statuses = desk_requests(settings)
    assert 200 in statuses, statuses
    steps = finished_call(settings)
    # The ID number reached the booking look-up (through Asterisk and the controller).
    assert ("collect_id", "accepted") in steps, steps
    assert ("booking_lookup", "not_found") in steps, steps
    logs = every_log(settings)
    assert {p.name for p in logs} >= {"controller.log", "desk.log", "messages.log"}
    quoted = urllib.parse.quote(NAME)
    leaks = [
        f"{path.name}: {line}"
        for path, text in logs.items()
        for line in text.splitlines()
        if any(secret in line for secret in (PHONE, ID_NUMBER, NAME, quoted, PHONE[3:]))
    ]
    assert leaks == []
    # The logs still say what happened: the call, the desk requests (path without query).
    assert "refused: not-an-agent-phone" in logs[settings.state_dir / "log" / "controller.log"]
    assert "/api/recordings" in logs[settings.state_dir / "log" / "desk.log"]
