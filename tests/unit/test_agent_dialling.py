"""How the ACD rings an agent's phone, and how it knows an agent's phone by its channel."""

from __future__ import annotations

from backend.acd.model import AgentProfile, agent_dial_options
from ivr.acd.answers import phone_number


def test_sip_phones_get_the_pre_dial_handler_told_whether_to_auto_answer() -> None:
    sip = AgentProfile(1, "1050", "PJSIP/1050", auto_answer=True)
    assert agent_dial_options(sip) == "mb(agent-predial^s^1(1))"
    assert agent_dial_options(AgentProfile(1, "1050", "PJSIP/1050")) == "mb(agent-predial^s^1(0))"
    # A simulated Local agent answers by itself and has no SIP headers to carry.
    simulated = AgentProfile(2, "a1", "Local/a1@sim-agent", auto_answer=True)
    assert agent_dial_options(simulated) == "m"


def test_an_agents_number_is_read_from_his_phones_channel() -> None:
    assert phone_number("PJSIP/1051-0000000a") == "1051"
    assert phone_number("PJSIP/carrier-00000003") == "carrier"  # no agent has that number
    assert phone_number("Local/a1@sim-agent-00000001;1") == ""
    assert phone_number("") == ""
