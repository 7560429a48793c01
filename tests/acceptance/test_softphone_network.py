"""The browser softphone when the network or its peers misbehave: a dropped WebSocket (the
softphone says so, reconnects and registers again by itself), a microphone the browser
refuses (a clear message, no half-registered phone), and garbage sent to Asterisk's /ws
(refused without harm to Asterisk or to the phones registered through it)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import websockets

from backend.settings import Settings
from ivr.pbx.instance import AsteriskInstance
from tests.desk_browser import launch_softphone_browser, serve_desk
from tests.desk_stack import log_in
from tests.softphone_support import Softphones, answer_and_hang_up, phone_is

pytestmark = [pytest.mark.asterisk, pytest.mark.browser]


def registered(asterisk: AsteriskInstance, number: str) -> bool:
    """Whether Asterisk holds a contact for the agent's phone (``Contact:  1050/sip:...``)."""
    return f"{number}/sip:" in asterisk.cli("pjsip show contacts")


class CuttableLink:
    """A TCP relay on loopback standing for the network between a browser and Asterisk's
    HTTP port: ``cut()`` drops every connection and refuses new ones until ``restore()``."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def restore(self) -> None:
        await self.start()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        pipes = [
            asyncio.create_task(_pump(reader, up_writer)),
            asyncio.create_task(_pump(up_reader, writer)),
        ]
        self._pipes.update(pipes)
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
                self._pipes.discard(pipe)
            for w in (writer, up_writer):
                w.close()


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    while data := await source.read(65536):
        sink.write(data)
        await sink.drain()


@pytest.fixture()
async def link(stack_settings: Settings, asterisk: AsteriskInstance) -> AsyncIterator[CuttableLink]:
    relay = CuttableLink((stack_settings.asterisk_http_bind, stack_settings.asterisk_http_port))
    await relay.start()
    yield relay
    await relay.cut()


async def test_after_a_network_drop_the_softphone_registers_again_and_takes_calls(
    softphones: Softphones, link: CuttableLink
) -> None:
    # This desk hands out the relay's address as the softphone's WebSocket.
    via_link = softphones.settings.model_copy(
        update={"phone_ws_url": f"ws://127.0.0.1:{link.port}/ws"}
    )
    desk = serve_desk(via_link, softphones.factory)
    try:
        page = await replace(softphones, desk=desk).ready(softphones.agent())
        await link.cut()
        await page.wait_for_selector("#phone-state[data-state='reconnecting']")
        assert "重连" in await page.inner_text("#phone-state")
        await link.restore()
        await page.wait_for_selector("#phone-state[data-state='registered']", timeout=60_000)

        _, call = await softphones.call(stay=150)
        await phone_is(page, "ringing", timeout=90_000)
        await answer_and_hang_up(page, call)
    finally:
        desk.stop()


async def test_a_refused_microphone_gets_a_clear_message_and_no_registration(
    softphones: Softphones, asterisk: AsteriskInstance, agent_microphone: Path
) -> None:
    from playwright.async_api import async_playwright

    agent = softphones.agent()
    async with async_playwright() as pw:
        # No fake "allow" click: headless Chromium refuses the microphone (NotAllowedError).
        chromium = await launch_softphone_browser(pw, agent_microphone, allow_microphone=False)
        try:
            page = await (await chromium.new_context(locale="zh-CN")).new_page()
            await log_in(page, softphones.desk, agent, "/desk")
            await page.wait_for_selector("#phone-state[data-state='nomic']")
            message = page.locator("#phone-error")
            await message.wait_for()
            assert "拒绝了麦克风权限" in await message.inner_text()
            assert "允许本站使用麦克风" in await message.inner_text()
        finally:
            await chromium.close()
    assert not registered(asterisk, agent.agent_number)


async def test_garbage_on_the_websocket_leaves_asterisk_and_registered_phones_alone(
    softphones: Softphones, asterisk: AsteriskInstance
) -> None:
    agent = softphones.agent()
    page = await softphones.ready(agent)
    settings = softphones.settings
    garbage: list[str | bytes] = [
        os.urandom(4096),
        "这不是SIP",
        "INVITE sip:1@x SIP/2.0\r\n\r\n",  # no headers at all
        "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS x\r\nContent-Length: 99999\r\n\r\n",
        "SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n",  # a response nobody asked for
        "OPTIONS sip:" + "9" * 60000 + "@127.0.0.1 SIP/2.0\r\n\r\n",
    ]
    for payload in garbage:
        # Whatever Asterisk answers, or if it closes the socket, it must go on serving.
        with contextlib.suppress(websockets.WebSocketException, OSError, TimeoutError):
            async with websockets.connect(
                settings.effective_phone_ws_url,
                subprotocols=["sip"],  # type: ignore[list-item]
            ) as ws:
                await ws.send(payload)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ws.recv(), 1)
    # Not even a WebSocket: bytes thrown at the HTTP port, and a handshake cut in the middle.
    for raw in (os.urandom(2048), b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgr"):
        address = (settings.asterisk_http_bind, settings.asterisk_http_port)
        with socket.create_connection(address, timeout=5) as sock:
            sock.sendall(raw)

    assert asterisk.ami_fully_booted()
    assert registered(asterisk, agent.agent_number)
    assert await page.get_attribute("#phone-state", "data-state") == "registered"
    # The registered phone still takes a call.
    _, call = await softphones.call(stay=150)
    await phone_is(page, "ringing", timeout=90_000)
    await answer_and_hang_up(page, call)
