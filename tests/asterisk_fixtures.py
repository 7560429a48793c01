"""Fixtures for tests on the real Asterisk: the instance, an AMI client, a FastAGI server
whose routes each test sets, and simulated callers and agents (Local/ channels).

The Asterisk is started once per test session from the built-in root, as an instance of its
own (own directory and free ports), so that parallel runs on one machine do not collide.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import wave
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from backend.personal_data import PersonalDataCipher
from backend.settings import DEV_DATA_KEY, Settings
from ivr.agi.server import AgiServer, Handler
from ivr.pbx import rootfs
from ivr.pbx.instance import AsteriskInstance
from ivr.pbx.simulated import carrier_channel, simulated_call
from recordings.sealed import MAGIC, MasterKey, SealedReader
from recordings.wavfile import HEAD_BYTES, NotAWavFile, parse_layout
from tests.conftest import DID_114, DID_HOTLINE

__all__ = ["DID_114", "DID_HOTLINE"]

# The tests' settings keep the development data key (the master key of sealed recordings).
TEST_MASTER_KEY = PersonalDataCipher(DEV_DATA_KEY)


@pytest.fixture(scope="session")
def asterisk(settings: Settings) -> Iterator[AsteriskInstance]:
    # A missing root is built here (about 30 s), never skipped: the test needs the real thing.
    rootfs.build(settings.asterisk_root)
    instance = AsteriskInstance(settings)
    instance.start()
    yield instance
    instance.stop()
    shutil.rmtree(instance.dir, ignore_errors=True)


@pytest.fixture(scope="session")
async def ami(asterisk: AsteriskInstance, settings: Settings) -> AsyncIterator[AmiClient]:
    client = AmiClient(settings, AmiUser.TOOLS)
    await client.connect()
    yield client
    client.close()


class AgiRoutes:
    """The handlers the session's FastAGI server dispatches to; tests replace them."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}

    def set(self, script: str, handler: Handler) -> None:
        self.handlers[script] = handler


@pytest.fixture(scope="session")
async def agi_server(settings: Settings) -> AsyncIterator[tuple[AgiServer, AgiRoutes]]:
    routes = AgiRoutes()

    def dispatcher(script: str) -> Handler:
        async def dispatch(session):  # type: ignore[no-untyped-def]
            handler = routes.handlers.get(script)
            if handler is None:
                raise LookupError(f"no test handler for AGI script {script!r}")
            await handler(session)

        return dispatch

    server = AgiServer(
        {script: dispatcher(script) for script in ("114", "hotline", "transfer")},
        settings.agi_bind,
        settings.agi_port,
        permit=settings.agi_peers,
    )
    await server.start()
    yield server, routes
    await server.stop()


@pytest.fixture()
def agi_routes(agi_server: tuple[AgiServer, AgiRoutes]) -> Iterator[AgiRoutes]:
    _, routes = agi_server
    yield routes
    routes.handlers.clear()


@dataclass
class SimulatedCaller:
    """A caller placed with AMI Originate of ``Local/<DID>@from-carrier``.

    The Local channel's ;2 half is the call Asterisk serves; the ;1 half is the phone, which
    runs [sim-caller]: waits ``delay`` s, sends ``dtmf`` ('w' = 0.5 s pause), plays ``play``,
    stays ``hold`` s and hangs up.
    """

    ami: AmiClient

    async def call(
        self,
        did: str,
        *,
        caller_id: str = "13800138000",
        dtmf: str = "",
        play: str = "",
        delay: float = 1.0,
        hold: float = 5.0,
    ) -> str:
        return await simulated_call(
            self.ami,
            carrier_channel(did),
            caller_id=caller_id,
            dtmf=dtmf,
            play=play,
            delay=delay,
            hold=hold,
        )


@pytest.fixture()
def simulated_caller(ami: AmiClient) -> SimulatedCaller:
    return SimulatedCaller(ami)


@dataclass
class SimulatedAgents:
    """Agents dialled as ``Local/<name>@sim-agent``; ring and talk times live in AstDB."""

    ami: AmiClient

    async def configure(self, name: str, *, ring: float = 1, talk: float = 5) -> str:
        await self.ami.db_put("simagent", f"{name}/ring", f"{ring:g}")
        await self.ami.db_put("simagent", f"{name}/talk", f"{talk:g}")
        return f"Local/{name}@sim-agent"


@pytest.fixture()
def simulated_agents(ami: AmiClient) -> SimulatedAgents:
    return SimulatedAgents(ami)


async def wait_for_recording(path: Path, timeout: float = 10.0) -> Path:
    """Wait until Asterisk has closed the recording (its WAV header sizes are filled in), and
    give the recording as recorded: a plaintext copy outside the spool, decrypted when the
    recordings index has sealed the file already (it does that as soon as it is closed)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if path.exists():
            audio = await asyncio.to_thread(recorded_audio, path)
            if audio is not None:
                copy = Path(tempfile.mkdtemp(prefix="heard-")) / path.name
                copy.write_bytes(audio)
                return copy
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} was not a complete recording within {timeout} s")


def recorded_audio(path: Path, master: MasterKey = TEST_MASTER_KEY) -> bytes | None:
    """The recording's WAV (decrypted if sealed), or None while Asterisk is still writing."""
    with open(path, "rb") as f:  # one read: a rename by the sealer cannot split it
        data = f.read()
    if data.startswith(MAGIC):
        return SealedReader(path, master).read_all()
    try:
        return data if parse_layout(data[:HEAD_BYTES], len(data), path).complete else None
    except NotAWavFile:
        return None  # header not written yet


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()
