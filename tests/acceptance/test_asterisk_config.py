"""The rendered configuration loads into the real Asterisk without complaint."""

from __future__ import annotations

import re
import time

import pytest

from ivr.pbx.instance import AsteriskInstance

pytestmark = pytest.mark.asterisk


def test_asterisk_started_without_errors_or_warnings(asterisk: AsteriskInstance) -> None:
    # AMI reports FullyBooted a moment before the log file gets its "Asterisk Ready" line.
    deadline = time.monotonic() + 10
    log = asterisk.messages_log.read_text()
    while "Asterisk Ready" not in log and time.monotonic() < deadline:
        time.sleep(0.1)
        log = asterisk.messages_log.read_text()
    problems = [line for line in log.splitlines() if re.search(r"\] (ERROR|WARNING)\[", line)]
    assert problems == []
    assert "Asterisk Ready" in log


def test_both_lines_and_the_fallback_are_in_the_dialplan(asterisk: AsteriskInstance) -> None:
    incoming = asterisk.cli("dialplan show incoming")
    for extension in ("'114'", "'12393'", "'call'", "'fallback'"):
        assert extension in incoming
    assert "MixMonitor" in incoming and "AGI(" in incoming


def test_sip_agents_and_carrier_are_configured(asterisk: AsteriskInstance) -> None:
    endpoints = asterisk.cli("pjsip show endpoints")
    for name in ("carrier", "8001", "8002"):
        assert name in endpoints


def test_modules_the_platform_needs_are_running(asterisk: AsteriskInstance) -> None:
    for module in ("res_agi.so", "app_mixmonitor.so", "chan_pjsip.so", "app_chanspy.so"):
        assert "Running" in asterisk.cli(f"module show like {module}"), module
