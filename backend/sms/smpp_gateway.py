"""The carriers' SMPP 3.4 gateways (China Unicom's SGIP fronts and most aggregators speak
it too), through ``smpplib``: one transceiver bind kept open per process, a message in one or
more UCS-2 parts (concatenated by their UDH), each ``submit_sm`` waited for until the SMSC
answers, and the delivery reports (``deliver_sm`` with ``receipted_message_id``) that arrive
on the same bind collected for ``take_receipts``.

A refused bind, a connection that fails, a response that does not come within the timeout,
or an error status is ``SmsSendFailed``: the connection is dropped and the next send binds
again. One lock serializes the bind's users (the desk sends sign-in codes from its thread
pool). The message's id is the first part's (the SMSC reports each part; the first stands
for the message). Described for operators in ``docs/sms-gateway.md``.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm
import smpplib.smpp

from backend.sms.port import DeliveryReceipt, SmsMessage, SmsSendFailed
from backend.sms.receipt_buffer import ReceiptBuffer

log = logging.getLogger(__name__)

# A bind idle this long is checked with an enquire_link before it carries a message: SMSCs
# drop idle binds, and a message written into a dead one would be in doubt.
IDLE_CHECK_SECONDS = 30.0
# esm_class of a deliver_sm that is a delivery report (SMPP 3.4, 5.2.12: xx0001xx).
DELIVERY_RECEIPT = 0x04
_FAILURES = (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError)


class SmppSmsGateway:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        system_id: str,
        password: str,
        source_addr: str,
        system_type: str = "",
        timeout_seconds: float = 5.0,
    ) -> None:
        self._address = (host, port)
        self._credentials = {"system_id": system_id, "password": password,
                             "system_type": system_type}  # fmt: skip
        self._source = source_addr
        self._timeout = timeout_seconds
        self._client: smpplib.client.Client | None = None
        self._last_used = 0.0
        self._answers: dict[int, str] = {}  # submit sequence -> the SMSC's message id
        self._receipts = ReceiptBuffer()
        self._lock = threading.Lock()

    def send(self, message: SmsMessage) -> str:
        parts, coding, esm_class = smpplib.gsm.make_parts(
            message.text, encoding=smpplib.consts.SMPP_ENCODING_ISO10646
        )
        with self._lock, self._failing_as_unsent():
            client = self._bound()
            ids = [self._submit(client, message.phone, part, coding, esm_class) for part in parts]
        return ids[0]

    def _submit(
        self, client: smpplib.client.Client, phone: str, part: bytes, coding: int, esm: int
    ) -> str:
        sent = client.send_message(
            source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
            source_addr_npi=smpplib.consts.SMPP_NPI_UNK,
            source_addr=self._source,
            dest_addr_ton=smpplib.consts.SMPP_TON_NATNL,
            dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
            destination_addr=phone,
            short_message=part,
            data_coding=coding,
            esm_class=esm,
            registered_delivery=smpplib.consts.SMPP_SMSC_DELIVERY_RECEIPT_BOTH,
        )
        deadline = time.monotonic() + self._timeout
        while sent.sequence not in self._answers:
            if time.monotonic() > deadline:
                raise SmsSendFailed("SMPP gateway did not answer the submit in time")
            client.read_once(auto_send_enquire_link=False)
        self._last_used = time.monotonic()
        return self._answers.pop(sent.sequence)

    def take_receipts(self, wait_seconds: float = 0.0) -> list[DeliveryReceipt]:
        with self._lock:
            return self._take_receipts(wait_seconds)

    def _take_receipts(self, wait_seconds: float) -> list[DeliveryReceipt]:
        client = self._client
        if client is not None:
            try:
                # smpplib polls without waiting; wait for the first report on its socket.
                select.select([client._socket], [], [], wait_seconds)
                client.poll(auto_send_enquire_link=False)
            except (TimeoutError, *_FAILURES):
                self._drop()
        return self._receipts.take()

    def close(self) -> None:
        with self._lock:
            self._unbind()

    def _unbind(self) -> None:
        if self._client is not None:
            try:
                self._client.unbind()
            except (TimeoutError, *_FAILURES):
                pass
            self._drop()

    @contextmanager
    def _failing_as_unsent(self) -> Iterator[None]:
        try:
            yield
        except SmsSendFailed:
            self._drop()
            raise
        except (TimeoutError, *_FAILURES) as exc:
            self._drop()
            raise SmsSendFailed(f"SMPP gateway failed: {type(exc).__name__} {exc}") from None

    def _bound(self) -> smpplib.client.Client:
        if self._client is not None and time.monotonic() - self._last_used > IDLE_CHECK_SECONDS:
            self._check_alive(self._client)
        if self._client is None:
            client = smpplib.client.Client(
                *self._address, timeout=self._timeout, allow_unknown_opt_params=True
            )
            client.set_message_sent_handler(self._on_answer)
            client.set_message_received_handler(self._on_delivery)
            client.connect()
            self._client = client  # dropped again below if the bind fails
            client.bind_transceiver(**self._credentials)
            self._last_used = time.monotonic()
            log.info("SMPP bound to %s:%s", *self._address)
        return self._client

    def _check_alive(self, client: smpplib.client.Client) -> None:
        try:
            client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=client))
            client.read_once(auto_send_enquire_link=False)
            self._last_used = time.monotonic()
        except (TimeoutError, *_FAILURES):
            self._drop()

    def _drop(self) -> None:
        if self._client is not None:
            with suppress(*_FAILURES):
                self._client.disconnect()
        self._client = None
        self._answers.clear()

    def _on_answer(self, pdu: Any, **_: Any) -> None:
        self._answers[pdu.sequence] = _text(pdu.message_id)

    def _on_delivery(self, pdu: Any, **_: Any) -> int:
        if int(pdu.esm_class) & DELIVERY_RECEIPT:
            message_id = _text(getattr(pdu, "receipted_message_id", None) or b"")
            fields = dict(
                item.split(":", 1) for item in _text(pdu.short_message).split() if ":" in item
            )
            status = fields.get("stat", "UNKNOWN")
            receipt = DeliveryReceipt(message_id or fields.get("id", ""), status)
            self._receipts.add(receipt)
        return int(smpplib.consts.SMPP_ESME_ROK)


def _text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1").rstrip("\0")
    return (value or "").rstrip("\0")
