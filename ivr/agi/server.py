"""The asyncio FastAGI server: one coroutine per call, routed by the agi:// script name."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from ivr.agi.errors import AgiError, CallHungUp
from ivr.agi.protocol import parse_environment
from ivr.agi.session import AgiSession

Handler = Callable[[AgiSession], Awaitable[None]]


class SessionHooks(Protocol):
    """Told of every conversation's call as it opens and closes (``ivr/resync/sessions.py``)."""

    async def opened(self, call_id: str) -> None: ...
    async def closed(self, call_id: str) -> None: ...


ENV_TIMEOUT = 5.0
MAX_ENV_LINES = 200
# Where a call goes when its handler fails: the dialplan's apology and fallback agents.
FAILURE_CONTEXT = ("incoming", "fallback")
# Set on the channel when the controller ends the conversation on purpose; see the dialplan's
# [controllers] (asterisk_conf/extensions.conf).
FINISHED_VARIABLE = "CC_AGI_DONE"

# Without a setting, only Asterisk on this host may hand calls over.
LOOPBACK_ONLY = (ipaddress.ip_network("127.0.0.1/32"),)

log = logging.getLogger("ivr.agi.server")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def peer_allowed(peer: object, networks: Sequence[Network]) -> bool:
    """Whether a socket peer (``(host, port, ...)`` as asyncio reports it) is in
    ``networks``. An IPv4 peer on an IPv6 socket arrives mapped (::ffff:a.b.c.d)."""
    if not isinstance(peer, tuple) or not peer:
        return False
    try:
        address = ipaddress.ip_address(str(peer[0]).split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


class AgiServer:
    """Serves FastAGI on ``host:port`` to peers in ``permit`` only: a call handed over
    by anyone else would run our flows (bookings, callbacks) on their say-so."""

    def __init__(
        self,
        handlers: dict[str, Handler],
        host: str,
        port: int,
        *,
        permit: Sequence[Network] = LOOPBACK_ONLY,
        sessions: SessionHooks | None = None,
    ) -> None:
        self._handlers = dict(handlers)
        self._sessions = sessions
        self.host = host
        self.port = port
        self._permit = tuple(permit)
        self._server: asyncio.Server | None = None
        self._calls: set[asyncio.Task[None]] = set()

    def add_route(self, script: str, handler: Handler) -> None:
        if script in self._handlers:
            raise ValueError(f"a handler for {script!r} is already registered")
        self._handlers[script] = handler

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        if self.port == 0:
            self.port = self._server.sockets[0].getsockname()[1]
        log.info("FastAGI listening on %s:%d", self.host, self.port)

    async def stop(self, grace_seconds: float = 2.0) -> None:
        """Stop accepting calls; give calls in progress a moment, then cancel them."""
        if self._server is not None:
            self._server.close()
        calls = list(self._calls)
        if calls:
            _, pending = await asyncio.wait(calls, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        if not peer_allowed(peer, self._permit):
            # Closed before reading: a stranger gets no handled call and no AGI command.
            log.warning("refused a FastAGI connection from %s: not in CC_AGI_PERMIT", _host(peer))
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            return
        task = asyncio.current_task()
        assert task is not None
        self._calls.add(task)
        try:
            await self._serve(reader, writer)
        finally:
            self._calls.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            env = await asyncio.wait_for(_read_environment(reader), ENV_TIMEOUT)
        except (TimeoutError, ConnectionError, ValueError) as exc:
            log.warning("dropped an AGI connection without a valid environment: %s", exc)
            writer.close()
            return
        session = AgiSession(reader, writer, env)
        if self._sessions is not None:
            await self._sessions.opened(session.linked_id)
        try:
            await self._handle(session)
            # Reached only when this controller let the call go on purpose (not when it is
            # cancelled at shutdown or killed): the dialplan sends any other end of the
            # conversation on to the next controller or the fallback agents.
            await _mark_finished(session)
        finally:
            await session.close()
            if self._sessions is not None:
                await self._sessions.closed(session.linked_id)

    async def _handle(self, session: AgiSession) -> None:
        handler = self._handlers.get(session.script)
        try:
            if handler is None:
                session.log.error("no handler for AGI script %r", session.script)
                await session.goto(*FAILURE_CONTEXT)
                return
            await handler(session)
        except CallHungUp:
            session.log.info("caller hung up")
        except AgiError as exc:
            session.log.error("AGI failure: %s", exc)
            await _send_to_fallback(session)
        except Exception:
            session.log.exception("handler for %r failed", session.script)
            await _send_to_fallback(session)


def _host(peer: object) -> str:
    return str(peer[0]) if isinstance(peer, tuple) and peer else repr(peer)


async def _mark_finished(session: AgiSession) -> None:
    if session.hung_up:
        return
    with contextlib.suppress(AgiError):
        await session.set_variable(FINISHED_VARIABLE, "1")


async def _send_to_fallback(session: AgiSession) -> None:
    if session.hung_up:
        return
    with contextlib.suppress(AgiError):
        await session.goto(*FAILURE_CONTEXT)


async def _read_environment(reader: asyncio.StreamReader) -> dict[str, str]:
    lines: list[str] = []
    while len(lines) < MAX_ENV_LINES:
        raw = await reader.readline()
        if not raw:
            raise ConnectionError("closed before the environment ended")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            env = parse_environment(lines)
            if "network_script" not in env and "request" not in env:
                raise ValueError("not an AGI environment")
            return env
        lines.append(line)
    raise ValueError("environment too long")
