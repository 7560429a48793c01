"""One call's AGI conversation: typed commands over an asyncio stream."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Literal

from backend.metrics.definitions import AGI_COMMAND_SECONDS
from ivr.agi.errors import AgiCommandFailed, AgiCommandTimeout, CallHungUp
from ivr.agi.protocol import AgiReply, HangupNotice, ReplyReader, quote

DEFAULT_TIMEOUT = 10.0
# Commands that wait on the caller get their own wait plus this margin.
MEDIA_MARGIN = 5.0
# A prompt's length is not known in advance; long enough for any menu announcement.
PLAYBACK_TIMEOUT = 180.0
# The keys GET DATA can report ('#' ends the input and is never among them).
KEYPAD = frozenset("0123456789*ABCD")
# Commands that last as long as a prompt or the caller's input: not in the latency figure.
SLOW_COMMANDS = ("STREAM FILE", "GET DATA", "EXEC", "RECORD FILE", "WAIT FOR DIGIT", "SAY ")


@dataclass(frozen=True)
class DigitsResult:
    digits: str
    timed_out: bool


@dataclass(frozen=True)
class Played:
    """How a STREAM FILE ended: the key that stopped it (None: it played to the end) and the
    sample it stopped at (8000 a second), where playing it again can resume."""

    digit: str | None
    endpos: int


@dataclass(frozen=True)
class RecordResult:
    ended_by: Literal["dtmf", "timeout", "hangup", "silence"]
    digit: str | None
    end_position: int


class AgiSession:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        env: dict[str, str],
        *,
        log: logging.LoggerAdapter[logging.Logger] | None = None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._replies = ReplyReader()
        self._lock = asyncio.Lock()
        self.env = env
        self.hung_up = False
        self.log = log or logging.LoggerAdapter(
            logging.getLogger("ivr.agi"), {"call": self.call_id}
        )

    @property
    def call_id(self) -> str:
        return self.env.get("uniqueid", "")

    @property
    def linked_id(self) -> str:
        return self.env.get("linkedid") or self.call_id

    @property
    def script(self) -> str:
        """The path of the agi:// URL without arguments, e.g. ``114``."""
        return self.env.get("network_script", "").split("?", 1)[0].strip("/")

    # Low level -------------------------------------------------------------------------

    async def command(self, line: str, timeout: float = DEFAULT_TIMEOUT) -> AgiReply:
        """Send one command and wait for its reply (one command at a time per call)."""
        async with self._lock:
            if self._writer.is_closing():
                raise CallHungUp("AGI socket closed")
            sent = time.perf_counter()
            self._writer.write((line + "\n").encode())
            try:
                # asyncio.timeout rather than wait_for: no extra task per command, one loop
                # turn less between Asterisk's reply arriving and this call seeing it.
                async with asyncio.timeout(timeout):
                    await self._writer.drain()
                    reply = await self._read_reply()
            except TimeoutError:
                raise AgiCommandTimeout(
                    f"no reply to {line.split()[0:2]} in {timeout:.0f} s"
                ) from None
            except (ConnectionError, asyncio.IncompleteReadError):
                self.hung_up = True
                raise CallHungUp("AGI socket closed") from None
        # Only quick commands: a prompt's playback or a key's wait is the caller's time.
        if not line.startswith(SLOW_COMMANDS):
            AGI_COMMAND_SECONDS.observe(time.perf_counter() - sent)
        if reply.code == 511:
            self.hung_up = True
            raise CallHungUp(reply.data)
        if reply.code in (510, 520):
            raise AgiCommandFailed(f"{line!r}: {reply.data}")
        return reply

    async def _read_reply(self) -> AgiReply:
        while True:
            raw = await self._reader.readline()
            if not raw:
                self.hung_up = True
                raise CallHungUp("AGI socket closed")
            item = self._replies.feed_line(raw.decode("utf-8", "replace"))
            if isinstance(item, HangupNotice):
                # The reply to the running command still follows; note the hangup and go on.
                self.hung_up = True
                continue
            if item is not None:
                return item

    def _media_reply(self, reply: AgiReply) -> AgiReply:
        if reply.result_int == -1:
            self.hung_up = True
            raise CallHungUp("channel hung up during media")
        return reply

    # Commands --------------------------------------------------------------------------

    async def answer(self) -> None:
        self._media_reply(await self.command("ANSWER"))

    async def hangup(self) -> None:
        if not self.hung_up:
            await self.command("HANGUP")
            self.hung_up = True

    async def stream_file(self, sound: str, escape_digits: str = "") -> str | None:
        return (await self.play(sound, escape_digits)).digit

    async def play(self, sound: str, escape_digits: str = "", offset: int = 0) -> Played:
        """STREAM FILE from sample ``offset``: the key that stopped it and where it stopped."""
        line = f"STREAM FILE {quote(sound)} {quote(escape_digits)}"
        if offset > 0:
            line += f" {offset}"
        reply = self._media_reply(await self.command(line, PLAYBACK_TIMEOUT))
        return Played(reply.digit, int(reply.extra.get("endpos", "0") or 0))

    async def get_data(self, sound: str, timeout_ms: int, max_digits: int) -> DigitsResult:
        reply = await self.command(
            f"GET DATA {quote(sound)} {timeout_ms} {max_digits}",
            PLAYBACK_TIMEOUT + timeout_ms * max(max_digits, 1) / 1000,
        )
        self._media_reply(reply)
        # The result is the keys themselves, '*' included: an ID number ending in X is keyed
        # with '*' (one resident in eleven), so a digits-only test would lose the whole entry.
        keys = reply.result if set(reply.result) <= KEYPAD else ""
        return DigitsResult(keys, reply.data == "timeout")

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        reply = await self.command(f"WAIT FOR DIGIT {timeout_ms}", timeout_ms / 1000 + MEDIA_MARGIN)
        return self._media_reply(reply).digit

    async def record_file(
        self,
        path: str,
        fmt: str = "wav",
        escape_digits: str = "#",
        timeout_ms: int = 10000,
        silence_seconds: int | None = 2,
        beep: bool = False,
    ) -> RecordResult:
        parts = [f"RECORD FILE {quote(path)} {fmt} {quote(escape_digits)} {timeout_ms}"]
        if beep:
            parts.append("BEEP")
        if silence_seconds:
            parts.append(f"s={silence_seconds}")
        reply = await self.command(" ".join(parts), timeout_ms / 1000 + MEDIA_MARGIN)
        end = int(reply.extra.get("endpos", "0") or 0)
        if reply.result_int == -1 or reply.data == "hangup":
            self.hung_up = True
            return RecordResult("hangup", None, end)
        if reply.data == "dtmf":
            return RecordResult("dtmf", reply.digit, end)
        ended_by: Literal["timeout", "silence"] = (
            "silence" if reply.data == "silence" else "timeout"
        )
        return RecordResult(ended_by, None, end)

    async def set_variable(self, name: str, value: str) -> None:
        await self.command(f"SET VARIABLE {name} {quote(value)}")

    async def get_variable(self, name: str) -> str | None:
        reply = await self.command(f"GET VARIABLE {quote(name)}")
        return reply.data if reply.result_int == 1 else None

    async def exec(self, app: str, *args: str, timeout: float = 3600.0) -> int:
        """Run a dialplan application (Dial, MusicOnHold…). Returns its result code."""
        reply = await self.command(f"EXEC {app} {quote(','.join(args))}", timeout)
        if reply.result_int == -2:
            raise AgiCommandFailed(f"application {app} is not loaded")
        return reply.result_int

    async def verbose(self, message: str, level: int = 1) -> None:
        await self.command(f"VERBOSE {quote(message)} {level}")

    async def goto(self, context: str, extension: str, priority: int = 1) -> None:
        """Where the dialplan continues once the AGI returns."""
        await self.command(f"SET CONTEXT {context}")
        await self.command(f"SET EXTENSION {extension}")
        await self.command(f"SET PRIORITY {priority}")

    async def close(self) -> None:
        if not self._writer.is_closing():
            self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()
