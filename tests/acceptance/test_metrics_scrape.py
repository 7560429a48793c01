"""Every service's /metrics, scraped while a real call goes through the stack that
`callcenter up` starts, counts that call: the controller (its queue outcome and answer wait,
an agent on call), the desk (the ACD's live view at the scrape), the worker (its recording
indexed) and Asterisk's own res_prometheus (the channels up)."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from backend.migrate import scratch_database
from backend.settings import Settings, load_settings
from bench.soak.probes import agents_ready
from ivr.pbx.instance import AsteriskInstance
from ivr.pbx.simulated import carrier_channel, simulated_call
from tests.conftest import ADMIN_URL, DID_114
from tests.stack_process import run_cli, stack_environment

pytestmark = pytest.mark.asterisk

ASTERISK_METRICS_PASSWORD = "prom-test"


@pytest.fixture()
def stack_database(run_id: str) -> Iterator[str]:
    with scratch_database(ADMIN_URL, f"cc_metrics_{run_id}") as url:
        yield url


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


def scrape(url: str, **auth: str) -> str:
    credentials = (auth["user"], auth["password"]) if auth else None
    reply = httpx.get(url, timeout=5, auth=credentials)
    reply.raise_for_status()
    return reply.text


def until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"not seen within {seconds:.0f} s: {what}")


async def place_call(settings: Settings) -> None:
    ami = AmiClient(settings, AmiUser.TOOLS)
    await ami.connect()
    try:
        await simulated_call(
            ami, carrier_channel(DID_114), caller_id="13912345678", dtmf="1", hold=40
        )
    finally:
        ami.close()


# The whole stack starts, a call runs its course and the worker's minute sweep follows.
@pytest.mark.timeout(600)
def test_every_service_counts_a_call_on_its_metrics(
    stack_database: str, run_id: str, tmp_path: Path
) -> None:
    env = stack_environment(stack_database, tmp_path, f"metrics-{run_id}")
    env["CC_ASTERISK_METRICS_PASSWORD"] = ASTERISK_METRICS_PASSWORD
    env["CC_DID_114"] = DID_114
    stack = load_settings(**{k.removeprefix("CC_").lower(): v for k, v in env.items()})
    desk = f"http://127.0.0.1:{stack.desk_port}"
    controller = f"http://127.0.0.1:{stack.controller_metrics_port}/metrics"
    worker = f"http://127.0.0.1:{stack.worker_metrics_port}/metrics"
    asterisk = f"http://127.0.0.1:{stack.asterisk_http_port}/metrics"
    try:
        assert run_cli(env, "demo-data").returncode == 0
        up = run_cli(env, "up")
        assert up.returncode == 0, up.stdout + up.stderr
        asyncio.run(agents_ready(stack, desk + "/"))
        before = scrape(controller)
        assert sample(before, "cc_calls_answered_total", line="114") == 0
        asyncio.run(place_call(stack))

        # During the call: an agent on call in the controller's and the desk's live view,
        # a channel up in Asterisk's own figures.
        until(
            lambda: sample(scrape(controller), "cc_agents", state="on_call") >= 1,
            90,
            "the controller's agent on call",
        )
        assert sample(scrape(desk + "/metrics"), "cc_agents", state="on_call") >= 1
        auth = {"user": "prometheus", "password": ASTERISK_METRICS_PASSWORD}
        assert sample(scrape(asterisk, **auth), "asterisk_channels_count") >= 1
        assert httpx.get(asterisk, timeout=5).status_code == 401  # no password, no figures

        # After it: the queue outcome, its answer wait, AGI round trips; the recording indexed.
        until(
            lambda: sample(scrape(controller), "cc_calls_answered_total", line="114") == 1,
            90,
            "the controller's answered call",
        )
        after = scrape(controller)
        assert sample(after, "cc_calls_offered_total", line="114") == 1
        assert sample(after, "cc_answer_wait_seconds_count", line="114") == 1
        assert sample(after, "cc_agi_command_seconds_count") > 0
        assert sample(after, "cc_disk_free_bytes", volume="recordings") > 0
        until(
            lambda: sample(scrape(worker), "cc_recordings_today", line="114") >= 1,
            150,
            "the worker's indexed recording (its sweep runs every minute)",
        )
    finally:
        run_cli(env, "down")
        shutil.rmtree(AsteriskInstance(stack).dir, ignore_errors=True)


def test_the_desk_serves_metrics_to_allowed_networks_only(
    settings: Settings, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from agent_desk.app import create_app

    allowed = create_app(settings.model_copy(update={"metrics_allow": "127.0.0.0/8"}))
    with TestClient(allowed, client=("127.0.0.1", 50000)) as client:
        reply = client.get("/metrics")
        assert reply.status_code == 200 and "cc_agents" in reply.text
    refused = create_app(settings.model_copy(update={"metrics_allow": "10.9.9.0/24"}))
    with TestClient(refused, client=("127.0.0.1", 50000)) as client:
        reply = client.get("/metrics")
        assert reply.status_code == 403
        assert "served to CC_METRICS_ALLOW only, not to 127.0.0.1" in reply.text
