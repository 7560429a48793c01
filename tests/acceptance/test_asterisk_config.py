"""The rendered configuration loads into the real Asterisk without complaint."""

from __future__ import annotations

import re
import time

import pytest

from ivr.pbx.instance import AsteriskInstance
from tests.conftest import DID_114, DID_HOTLINE

pytestmark = pytest.mark.asterisk


def test_asterisk_started_without_errors_or_warnings(asterisk: AsteriskInstance) -> None:
    # AMI reports FullyBooted a moment before the log file gets its "Asterisk Ready" line.
    deadline = time.monotonic() + 10
    log = asterisk.messages_log.read_text()
    while "Asterisk Ready" not in log and time.monotonic() < deadline:
        time.sleep(0.1)
        log = asterisk.messages_log.read_text()
    assert "Asterisk Ready" in log
    # Only the start: tests that ran before this one in the session may have made Asterisk
    # log errors on purpose (a malformed SDP from a SIP peer, a REGISTER flood).
    start = log[: log.index("Asterisk Ready")]
    problems = [line for line in start.splitlines() if re.search(r"\] (ERROR|WARNING)\[", line)]
    assert problems == []


def test_both_lines_and_the_fallback_are_in_the_dialplan(asterisk: AsteriskInstance) -> None:
    incoming = asterisk.cli("dialplan show incoming")
    for extension in (f"'{DID_114}'", f"'{DID_HOTLINE}'", "'call'", "'fallback'"):
        assert extension in incoming
    assert "Gosub(record-call" in incoming and "Goto(controllers,s,1)" in incoming
    # The call goes to the controller, then on to the fallback if it is lost (call safety).
    controllers = asterisk.cli("dialplan show controllers")
    assert "AGI(" in controllers and "Goto(incoming,fallback,1)" in controllers
    # Every call is recorded unless the disk watch paused recordings (recordings/pause.py).
    recording = asterisk.cli("dialplan show record-call")
    assert "MixMonitor" in recording and "STAT(e," in recording


def test_the_test_instance_has_the_simulated_phones_and_the_benchmark(
    asterisk: AsteriskInstance,
) -> None:
    # Production renders none of these (tests/unit/test_production_config.py).
    for context in ("sim-caller", "sim-agent", "bench-dialplan", "bench-agi"):
        assert f"[ Context '{context}' created by 'pbx_config' ]" in asterisk.cli(
            f"dialplan show {context}"
        )


def test_carrier_is_configured_and_no_agent_phone_is_hard_coded(
    asterisk: AsteriskInstance,
) -> None:
    assert "Endpoint:  carrier" in asterisk.cli("pjsip show endpoint carrier")
    # Agent phones come from PostgreSQL (sorcery realtime), never from pjsip.conf.
    rendered = (asterisk.dir / "etc" / "pjsip.conf").read_text()
    assert "type = auth" not in rendered and "password" not in rendered


def test_agent_phones_are_read_from_postgresql(asterisk: AsteriskInstance) -> None:
    assert "Running" in asterisk.cli("module show like res_config_pgsql.so")
    assert "Connected to" in asterisk.cli("realtime show pgsql status")


def test_modules_the_platform_needs_are_running(asterisk: AsteriskInstance) -> None:
    for module in ("res_agi.so", "app_mixmonitor.so", "chan_pjsip.so", "app_chanspy.so"):
        assert "Running" in asterisk.cli(f"module show like {module}"), module


def test_webrtc_modules_are_running(asterisk: AsteriskInstance) -> None:
    for module in (
        "res_http_websocket.so",
        "res_pjsip_transport_websocket.so",
        "res_srtp.so",
        "res_crypto.so",
        "codec_opus_open_source.so",
        "res_format_attr_opus.so",
        "res_pjsip_header_funcs.so",
        "res_pjsip_refer.so",
    ):
        assert "Running" in asterisk.cli(f"module show like {module}"), module
    assert "opus" in asterisk.cli("core show translation paths opus")


def test_softphones_reach_sip_over_websocket_on_the_configured_port(
    asterisk: AsteriskInstance,
) -> None:
    s = asterisk.settings
    status = asterisk.cli("http show status")
    assert f"Server Enabled and Bound to {s.asterisk_http_bind}:{s.asterisk_http_port}" in status
    assert "/ws => Asterisk HTTP WebSocket" in status
    transport = asterisk.cli("pjsip show transport transport-ws")
    assert re.search(r"protocol\s*:\s*ws\b", transport), transport
    rtp = asterisk.cli("rtp show settings")
    assert (
        f"Port start:      {s.rtp_port_start}" in rtp
        and f"Port end:        {s.rtp_port_end}" in rtp
    )
