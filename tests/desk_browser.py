"""Browser fixtures: the desk served by uvicorn on a free loopback port, Debian's Chromium
driven by Playwright (never ``playwright install``), screenshots in test-artifacts/.

Load them with ``pytest_plugins = ["tests.desk_browser"]`` (tests/browser/ does).
``desk_server`` serves the app with the test ``settings``: its Redis prefix is the run's
namespace (``settings.desk_redis_prefix`` for the controller too) and it opens its own AMI
connection to ``settings.ami_port`` on first call control. Synchronous tests use ``browser`` /
``new_page`` / ``page``; async tests (e.g. with the real-Asterisk fixtures, which run in the
session loop) use ``async_browser`` / ``async_new_page``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.app import create_app
from agent_desk.performance.http_protocol import DeskHttpProtocol
from backend.settings import Settings
from tests.conftest import free_port
from tests.desk_support import desk_settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


@dataclass
class DeskServer:
    url: str
    settings: Settings
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve_desk(
    settings: Settings, session_factory: sessionmaker[Session], **app_kwargs: Any
) -> DeskServer:
    """Start the desk in a thread on a free port; returns once it accepts connections."""
    port = free_port()
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    app = create_app(settings, session_factory=session_factory, redis_client=client, **app_kwargs)
    server = uvicorn.Server(
        # The HTTP protocol ``callcenter desk`` serves with for these settings, websockets too.
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            ws="websockets",
            http=DeskHttpProtocol if settings.desk_fast_path else "auto",
        )
    )
    thread = threading.Thread(target=server.run, name="desk-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the desk server did not start")
        time.sleep(0.05)
    return DeskServer(f"http://127.0.0.1:{port}", settings, server, thread)


@pytest.fixture(scope="session")
def recordings_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("desk-recordings")


@pytest.fixture(scope="session")
def desk_server(
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_namespace: str,
    recordings_root: Path,
) -> Iterator[DeskServer]:
    server = serve_desk(
        desk_settings(settings, redis_namespace, recordings_dir=recordings_root), session_factory
    )
    yield server
    server.stop()


# Module scope, not session: while the sync API runs, its event loop occupies the thread and
# no asyncio test (the real-Asterisk ones) could run later in the same session.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install the Debian package chromium")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def new_page(browser: Any) -> Iterator[Any]:
    """A factory of pages, each in its own browser context (own cookies = own login)."""
    contexts = []

    def make() -> Any:
        context = browser.new_context(
            locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1400, "height": 1000}
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture()
def page(new_page: Any) -> Any:
    return new_page()


@pytest.fixture(scope="module")
async def async_browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def async_pages(browser: Any, timeout_ms: float) -> AsyncIterator[Any]:
    """Yields a factory of pages, each in its own context; closes them all afterwards."""
    contexts = []

    async def make() -> Any:
        context = await browser.new_context(
            locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1400, "height": 1000}
        )
        context.set_default_timeout(timeout_ms)
        contexts.append(context)
        return await context.new_page()

    yield make
    for context in contexts:
        await context.close()


@pytest.fixture()
async def async_new_page(async_browser: Any) -> AsyncIterator[Any]:
    async for make in async_pages(async_browser, 10_000):
        yield make


# The browser softphone's WebRTC in headless Chromium: fake microphone playing a tone file,
# no permission prompt, loopback ICE candidates kept (they are dropped by default), and remote
# audio that plays without a click.
SOFTPHONE_ARGS = [
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]
AGENT_TONE_HZ = 1500  # tone f1: what every agent's fake microphone says


async def launch_softphone_browser(pw: Any, microphone: Path, *, allow_microphone: bool) -> Any:
    args = [*CHROMIUM_ARGS, *SOFTPHONE_ARGS, f"--use-file-for-fake-audio-capture={microphone}"]
    if allow_microphone:
        args.append("--use-fake-ui-for-media-stream")  # as if the agent clicked "allow"
    return await pw.chromium.launch(executable_path=CHROMIUM, args=args)


@pytest.fixture(scope="module")
def agent_microphone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.sip.tones import sine_wav

    # Chromium plays the file in a loop for as long as a call lasts.
    folder = tmp_path_factory.mktemp("microphone")
    return sine_wav(folder / "f1.wav", AGENT_TONE_HZ, seconds=60, rate=16000)


@pytest.fixture(scope="module")
async def softphone_browser(agent_microphone: Path) -> AsyncIterator[Any]:
    """Chromium for agents with the browser softphone; their microphones say tone f1."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await launch_softphone_browser(pw, agent_microphone, allow_microphone=True)
        yield chromium
        await chromium.close()


@pytest.fixture()
async def softphone_page(softphone_browser: Any) -> AsyncIterator[Any]:
    """A factory of softphone pages, each in its own context (own login, own phone)."""
    async for make in async_pages(softphone_browser, 15_000):
        yield make


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
