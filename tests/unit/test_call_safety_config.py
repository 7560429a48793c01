"""The pure parts of issue 19's call safety: the dialplan's chain of controllers, the backup
controllers' setting, and Asterisk's view of its calls as the resync reads it."""

from __future__ import annotations

import pytest

from backend.errors import ConfigError
from backend.settings import load_settings
from ivr.pbx import render
from ivr.resync.view import AsteriskView


def controllers_context(**overrides: object) -> list[str]:
    text = render.render(load_settings(**overrides)).files["extensions.conf"]
    section = text.split("\n[controllers]\n", 1)[1].split("\n\n", 1)[0]
    return section.splitlines()


def test_each_controller_is_tried_in_order_then_the_fallback() -> None:
    lines = controllers_context(
        agi_port=4573, agi_backup_urls="agi://10.1.0.6:4573, agi://10.1.0.7:4574/"
    )
    agis = [line.split("AGI(", 1)[1] for line in lines if "AGI(" in line]
    assert agis == [
        "agi://127.0.0.1:4573/${CC_SCRIPT})",
        "agi://10.1.0.6:4573/${CC_SCRIPT})",
        "agi://10.1.0.7:4574/${CC_SCRIPT})",
    ]
    # Before each: the mark cleared; after each: a finished call or a talked-to caller ends.
    assert sum("Set(CC_AGI_DONE=)" in line for line in lines) == 3
    assert sum("?finished,1)" in line for line in lines) == 3
    assert lines[-2].endswith("Goto(incoming,fallback,1)")
    assert controllers_context().count(" same => n,Set(CC_AGI_DONE=)") == 1


def test_a_backup_controller_must_be_a_fastagi_address() -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(agi_backup_urls="agi://10.1.0.6:4573,10.1.0.7")
    assert "CC_AGI_BACKUP_URLS" in str(refused.value)


def test_asterisks_view_names_calls_phones_in_use_and_callers_in_the_fallback() -> None:
    view = AsteriskView.of(
        [
            {
                "Channel": "Local/01065114@from-carrier-00000001;2",
                "Uniqueid": "100.2",
                "Linkedid": "100.1",
                "Context": "incoming",
                "Exten": "fallback",
            },
            {"Channel": "PJSIP/1051-0000000a", "Uniqueid": "200.5", "Linkedid": "200.1"},
            {"Channel": "Local/a1@sim-agent-00000003;1", "Linkedid": "300.1", "BridgeId": "b"},
        ],
        taken_at=1.0,
    )
    assert view.has_call("100.1") and view.has_call("200.5") and not view.has_call("400.1")
    assert view.in_fallback == {"100.1"}
    assert view.phone_busy("PJSIP/1051") and not view.phone_busy("PJSIP/105")
    assert view.phone_busy("Local/a1@sim-agent") and not view.phone_busy("")
    assert view.bridged == {"Local/a1@sim-agent-00000003;1"}
