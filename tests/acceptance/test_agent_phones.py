"""Agents' phones are PJSIP endpoints read by the real Asterisk from PostgreSQL: an agent
provisioned through the service is an endpoint at once and registers with its own secret;
another secret, or the secret of another agent, is refused."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.models.agents import Agent
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.telephony.phones import AgentPhones
from ivr.pbx.instance import AsteriskInstance
from tests.sip.register import register

pytestmark = pytest.mark.asterisk

_numbers = itertools.count(1050)


@pytest.fixture()
def phones(settings: Settings) -> AgentPhones:
    return AgentPhones(PersonalDataCipher(settings.data_key.get_secret_value()), settings.sip_realm)


def create_agent(
    factory: sessionmaker[Session], phones: AgentPhones, *, kind: str = "desk"
) -> tuple[str, str]:
    """A new agent with a desk phone, through the provisioning service; (number, secret)."""
    number = str(next(_numbers))
    with transaction(factory) as db:
        agent = Agent(number=number, name=f"测试坐席{number}", interface="", team="114")
        db.add(agent)
        db.flush()
        secret = phones.provision(db, agent, "desk" if kind == "desk" else "browser")
    return number, secret


def test_provisioned_agent_is_an_endpoint_and_registers_with_its_secret(
    asterisk: AsteriskInstance,
    settings: Settings,
    session_factory: sessionmaker[Session],
    phones: AgentPhones,
) -> None:
    number, secret = create_agent(session_factory, phones)
    shown = asterisk.cli(f"pjsip show endpoint {number}")
    assert f"Endpoint:  {number}" in shown and "agents" in shown
    with session_factory() as db:
        agent = db.query(Agent).filter_by(number=number).one()
        assert agent.interface == f"PJSIP/{number}"

    outcome = register((settings.sip_bind, settings.sip_port), number, secret)
    assert outcome.status == 200, outcome.sipp_output
    contacts = asterisk.cli(f"pjsip show aor {number}")
    assert f"sip:{number}@127.0.0.1" in contacts


def test_wrong_secret_and_another_agents_secret_are_refused(
    asterisk: AsteriskInstance,
    settings: Settings,
    session_factory: sessionmaker[Session],
    phones: AgentPhones,
) -> None:
    first, _ = create_agent(session_factory, phones)
    _, second_secret = create_agent(session_factory, phones)
    sip = (settings.sip_bind, settings.sip_port)
    assert register(sip, first, "not-the-secret").status == 401
    assert register(sip, first, second_secret).status == 401
