"""A desk phone for the tests: Debian's baresip 1.0.0, registered with an agent's credentials.

    phone = await BaresipPhone.start(workdir, number="1050", password=secret,
                                     registrar=(settings.sip_bind, settings.sip_port),
                                     tone_hz=1500, auto_answer=True)
    await phone.registered()
    await phone.dial("13812345678")            # through the agents' dialplan
    await phone.wait_event("CALL_ESTABLISHED")
    await phone.hangup()
    heard = phone.heard_wav()                  # what it received, decoded (sndfile module)
    await phone.stop()

The phone plays a tone WAV as its microphone (aufile), throws away its speaker (aubridge),
and writes each call's audio both ways to WAV files (sndfile). It is driven over ctrl_tcp
(netstring JSON): commands ``dial``, ``accept``, ``hangup``; events such as REGISTER_OK,
CALL_INCOMING, CALL_ESTABLISHED, CALL_CLOSED are collected as they come. Everything is on
loopback: SIP on its own port, RTP in a small range of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.sip.addresses import PHONE_HOST
from tests.sip.netstring import NetstringReader, encode
from tests.sip.processes import free_sip_port, free_tcp_port, stop_session
from tests.sip.tones import sine_wav

BARESIP = "baresip"
MODULES = ("g711.so", "aufile.so", "aubridge.so", "sndfile.so", "account.so", "ctrl_tcp.so")
TONE_SECONDS = 600  # aufile stops at the end of its file: longer than any test call
RTP_PORTS = 20  # baresip picks each call's RTP port from its own range


class BaresipMissing(AssertionError):
    pass


def config_text(
    *,
    sip_port: int,
    ctrl_port: int,
    tone: Path,
    dumps: Path,
    rtp: int,
    tls_ca: Path | None = None,
    srtp: bool = False,
) -> str:
    # baresip binds SIP over TLS on sip_port + 1 as well: the ctrl port is chosen apart.
    modules = (*MODULES, "srtp.so") if srtp else MODULES
    lines = [
        ("poll_method", "epoll"),
        # Without it baresip takes the first network interface's address for Contact and SDP.
        ("net_interface", PHONE_HOST),
        ("sip_listen", f"{PHONE_HOST}:{sip_port}"),
        ("call_local_timeout", "120"),
        ("audio_player", "aubridge,nil"),
        ("audio_source", f"aufile,{tone}"),
        ("audio_alert", "aubridge,nil"),
        ("rtp_ports", f"{rtp}-{rtp + RTP_PORTS - 1}"),
        ("rtp_timeout", "0"),
        ("module_path", "/usr/lib/baresip/modules"),
        *(("module", name) for name in modules),
        ("module_app", "menu.so"),
        ("ctrl_tcp_listen", f"{PHONE_HOST}:{ctrl_port}"),
        ("snd_path", str(dumps)),
        # The certificate Asterisk's TLS transport presents (self-signed in the tests).
        *((("sip_cafile", str(tls_ca)),) if tls_ca else ()),
    ]
    return "".join(f"{key}\t\t{value}\n" for key, value in lines)


def account_line(
    number: str,
    password: str,
    registrar: tuple[str, int],
    *,
    auto_answer: bool,
    tls: bool = False,
    srtp: bool = False,
) -> str:
    params = [f"auth_pass={password}", "regint=300", "audio_codecs=PCMA,PCMU"]
    params.append("answermode=auto" if auto_answer else "answermode=manual")
    if srtp:
        params.append("mediaenc=srtp")  # SDES offered in every call, plain RTP accepted
    return f"<{sip_uri(number, registrar, tls)}>;" + ";".join(params) + "\n"


def sip_uri(user: str, registrar: tuple[str, int], tls: bool) -> str:
    host, port = registrar
    return f"sip:{user}@{host}:{port}" + (";transport=tls" if tls else "")


@dataclass
class BaresipPhone:
    number: str
    registrar: tuple[str, int]
    workdir: Path
    process: subprocess.Popen[bytes]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    events: list[dict[str, Any]] = field(default_factory=list)
    responses: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    _listener: asyncio.Task[None] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    tls: bool = False

    @classmethod
    async def start(
        cls,
        workdir: Path,
        *,
        number: str,
        password: str,
        registrar: tuple[str, int],
        tone_hz: float = 1500,
        auto_answer: bool = False,
        tls_ca: Path | None = None,
        srtp: bool = False,
    ) -> BaresipPhone:
        """With ``tls_ca``, the phone registers over TLS to ``registrar`` (Asterisk's TLS
        port) trusting that certificate; with ``srtp`` it offers SRTP keys (SDES)."""
        binary = shutil.which(BARESIP)
        if binary is None:
            raise BaresipMissing("baresip is not installed: run 'make setup' (Debian package)")
        workdir.mkdir(parents=True, exist_ok=True)
        dumps = workdir / "audio"
        dumps.mkdir(exist_ok=True)
        tone = sine_wav(workdir / "microphone.wav", tone_hz, seconds=TONE_SECONDS)
        process, reader, writer = await _launch(
            binary, workdir, tone, dumps, tls_ca=tls_ca, srtp=srtp
        )
        phone = cls(number, registrar, workdir, process, reader, writer, tls=tls_ca is not None)
        phone._listener = asyncio.create_task(phone._listen())
        account = account_line(
            number, password, registrar, auto_answer=auto_answer, tls=phone.tls, srtp=srtp
        )
        await phone.command("uanew", account.strip())
        return phone

    async def _listen(self) -> None:
        framing = NetstringReader()
        while data := await self.reader.read(65536):
            for message in framing.feed(data):
                if message.get("event"):
                    self.events.append(message)
                    self._changed.set()
                elif message.get("response"):
                    await self.responses.put(message)

    async def command(self, command: str, params: str = "", timeout: float = 10.0) -> str:
        """Run one baresip command; its text reply (``ok`` false fails the test)."""
        self.writer.write(encode({"command": command, "params": params, "token": command}))
        await self.writer.drain()
        reply = await asyncio.wait_for(self.responses.get(), timeout)
        if not reply.get("ok"):
            raise AssertionError(f"baresip {command} {params!r} failed: {reply}; {self.log_tail()}")
        return str(reply.get("data", ""))

    async def wait_event(
        self, kind: str, timeout: float = 30.0, *, after: int = 0
    ) -> dict[str, Any]:
        """The first event of ``kind`` (REGISTER_OK, CALL_ESTABLISHED ...) from index ``after``."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events[after:]:
                if event.get("type") == kind:
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                seen = [e.get("type") for e in self.events]
                raise AssertionError(
                    f"baresip {self.number}: no {kind} within {timeout:g} s (events: {seen}); "
                    f"{self.log_tail()}"
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def registered(self, timeout: float = 15.0) -> None:
        await self.wait_event("REGISTER_OK", timeout)

    async def dial(self, number: str) -> None:
        await self.command("dial", sip_uri(number, self.registrar, self.tls))

    async def answer(self) -> None:
        await self.command("accept")

    async def hangup(self) -> None:
        await self.command("hangup")

    def heard_wav(self) -> Path:
        """The newest call's received audio as baresip decoded it (sndfile's ``-dec.wav``)."""
        dumps = sorted((self.workdir / "audio").glob("*-dec.wav"), key=os.path.getmtime)
        if not dumps:
            raise AssertionError(
                f"baresip {self.number} wrote no received audio; {self.log_tail()}"
            )
        return dumps[-1]

    def log_tail(self) -> str:
        log = self.workdir / "baresip.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return f"baresip log ...{text[-1500:]}"

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        self.writer.close()
        stop_session(self.process)


async def _launch(
    binary: str,
    workdir: Path,
    tone: Path,
    dumps: Path,
    *,
    tls_ca: Path | None,
    srtp: bool,
) -> tuple[subprocess.Popen[bytes], asyncio.StreamReader, asyncio.StreamWriter]:
    """Start baresip on fresh ports and connect to its control port. A port found free can be
    taken by another process before baresip binds it (a client's outgoing connection): then
    baresip exits at start, and it is started again on other ports."""
    for attempt in range(3):
        ctrl_port = free_tcp_port(PHONE_HOST)
        sip_port = free_sip_port(PHONE_HOST)
        rtp = random.randrange(61000, 65000 - RTP_PORTS, 2)
        config = config_text(
            sip_port=sip_port, ctrl_port=ctrl_port, tone=tone, dumps=dumps, rtp=rtp,
            tls_ca=tls_ca, srtp=srtp,
        )  # fmt: skip
        (workdir / "config").write_text(config)
        # The account is added once the control connection is up (uanew), so its
        # REGISTER_OK cannot come before anyone listens for events.
        (workdir / "accounts").write_text("")
        (workdir / "contacts").write_text("")
        with open(workdir / "baresip.log", "wb") as log:
            process = subprocess.Popen(
                [binary, "-f", str(workdir)],
                cwd=dumps,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            reader, writer = await _connect(process, ctrl_port, workdir / "baresip.log")
        except AssertionError as failure:
            stop_session(process)
            if "Address already in use" in str(failure) and attempt < 2:
                continue
            raise
        except BaseException:
            stop_session(process)
            raise
        return process, reader, writer
    raise AssertionError("unreachable")


async def _connect(
    process: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 10.0
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError(f"baresip exited at start: {log.read_text(errors='replace')}")
        try:
            return await asyncio.open_connection(PHONE_HOST, port)
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"baresip's ctrl_tcp did not listen within {timeout:g} s"
                ) from None
            await asyncio.sleep(0.1)
