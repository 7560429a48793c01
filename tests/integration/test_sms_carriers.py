"""The carriers' gateways, each against a real peer process on loopback that speaks the
protocol (tests/sms_peers): a booking's message goes out through the outbox exactly once,
also across a gateway outage, and its delivery report is stored; wrong credentials are a
refusal the sender can retry, not a lost message."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.models.sms import SmsOutbox, SmsReceipt
from backend.notifications.sender import OutboxSender
from backend.settings import Settings
from backend.sms import SmsGateway, SmsMessage, SmsSendFailed
from backend.sms.cmpp_gateway import CmppSmsGateway
from backend.sms.smpp_gateway import SmppSmsGateway
from tests.sms_peers.peer import GatewayPeer
from tests.sms_support import Booker, drain, sms_context


class CarrierGateway(SmsGateway, Protocol):
    def close(self) -> None: ...


Connect = Callable[[int, str], CarrierGateway]  # port, password -> gateway

CARRIERS: dict[str, tuple[str, tuple[str, str], Connect]] = {
    "smpp": (
        "smpp_server",
        ("cc114", "smpp-pw"),
        lambda port, password: SmppSmsGateway(
            "127.0.0.1",
            port,
            system_id="cc114",
            password=password,
            source_addr="114",
            timeout_seconds=3,
        ),
    ),
    "cmpp": (
        "cmpp_server",
        ("901234", "cmpp-secret"),
        lambda port, password: CmppSmsGateway(
            "127.0.0.1",
            port,
            sp_id="901234",
            secret=password,
            service_id="BJ114",
            src_id="10658114",
            timeout_seconds=3,
        ),
    ),
}


@pytest.fixture(params=sorted(CARRIERS))
def carrier(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, GatewayPeer, Connect]]:
    module, credentials, connect = CARRIERS[request.param]
    peer = GatewayPeer(module, tmp_path, *credentials)
    peer.start()
    try:
        yield request.param, peer, connect
    finally:
        peer.stop()


def _texts_to(peer: GatewayPeer, phone: str) -> list[str]:
    return [str(m["text"]) for m in peer.messages() if m["dest"] == phone]


def test_booking_messages_go_once_through_an_outage_with_their_delivery_reports(
    carrier: tuple[str, GatewayPeer, Connect],
    settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    name, peer, connect = carrier
    secret = CARRIERS[name][1][1]
    gateway = connect(peer.port, secret)
    try:
        _deliver_through_an_outage(name, peer, gateway, settings, session_factory)
    finally:
        gateway.close()


def _deliver_through_an_outage(
    name: str,
    peer: GatewayPeer,
    gateway: SmsGateway,
    settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    visit = date(2027, 1, 10) + timedelta(days=uuid.uuid4().int % 300)
    now = datetime(visit.year, visit.month, visit.day, 1, tzinfo=UTC) - timedelta(days=2)
    clock = [now]
    booker = Booker(settings, session_factory, visit, now)
    first = booker.book()
    drain(session_factory, settings, gateway, lambda: clock[0], name)
    texts = _texts_to(peer, first.phone)
    assert len(texts) == 1 and first.receipt.code in texts[0] and booker.hospital in texts[0]

    peer.stop()  # the carrier's gateway goes away; a booking meanwhile waits in the outbox
    second = booker.book()
    assert drain(session_factory, settings, gateway, lambda: clock[0], name).failed == 1
    peer.start()
    clock[0] += timedelta(minutes=1)
    drain(session_factory, settings, gateway, lambda: clock[0], name)
    drain(session_factory, settings, gateway, lambda: clock[0], name)
    assert len(_texts_to(peer, first.phone)) == 1
    assert len(texts := _texts_to(peer, second.phone)) == 1 and second.receipt.code in texts[0]

    # The peer reports delivery right after each submit; the sender stores the reports.
    sender = OutboxSender(session_factory, sms_context(settings, lambda: clock[0]), gateway, name)
    with session_factory() as db:
        sent_id = db.scalars(
            select(SmsOutbox.gateway_message_id).where(SmsOutbox.subject.like("booking:%"),
                                                       SmsOutbox.event == "booking-made",
                                                       SmsOutbox.gateway == name)
            .order_by(SmsOutbox.id.desc()).limit(1)
        ).one()  # fmt: skip
    for _ in range(20):
        sender.store_receipts(wait_seconds=0.1)
        with session_factory() as db:
            status = db.scalar(
                select(SmsReceipt.status).where(SmsReceipt.gateway == name,
                                                SmsReceipt.message_id == sent_id)
            )  # fmt: skip
        if status is not None:
            break
    assert status == "DELIVRD"


def test_wrong_credentials_are_a_refusal_to_retry(
    carrier: tuple[str, GatewayPeer, Connect],
) -> None:
    _, peer, connect = carrier
    gateway = connect(peer.port, "wrong")
    with pytest.raises(SmsSendFailed):
        gateway.send(SmsMessage("13800001111", "x", "test"))
    gateway.close()
