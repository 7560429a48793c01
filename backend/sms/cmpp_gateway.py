"""The carriers' CMPP 2.0 gateways (China Mobile's ISMG), over a plain TCP socket: no
maintained CMPP library exists on PyPI (``cmppy`` is a 2017 sketch for Python 2), and the
protocol is small (``cmpp_codec``).

One connection per process, authenticated with CONNECT (the SP id and the shared secret)
and kept; a message in one or more UCS-2 parts, each SUBMIT waited for until its
SUBMIT_RESP; the status reports (DELIVER with Registered_Delivery=1) and ACTIVE_TESTs that
arrive meanwhile answered, the reports kept for ``take_receipts``. A refused connect, a
socket error, a response that does not come within the timeout or a non-zero result is
``SmsSendFailed``; the connection is dropped and the next send connects again. The
message's id is the first part's. Described in ``docs/sms-gateway.md``.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import select
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime

from backend.localtime import zone
from backend.sms import cmpp_codec as codec
from backend.sms.port import DeliveryReceipt, SmsMessage, SmsSendFailed
from backend.sms.receipt_buffer import ReceiptBuffer

log = logging.getLogger(__name__)

IDLE_CHECK_SECONDS = 30.0  # an idle connection is checked with ACTIVE_TEST before use


class CmppSmsGateway:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        sp_id: str,
        secret: str,
        service_id: str,
        src_id: str,
        timeout_seconds: float = 5.0,
        clock: Callable[[], datetime] = lambda: datetime.now(zone("Asia/Shanghai")),
    ) -> None:
        self._address = (host, port)
        self._sp_id, self._secret = sp_id, secret
        self._service_id, self._src_id = service_id, src_id
        self._timeout = timeout_seconds
        self._clock = clock  # the timestamp of CONNECT is the ISMG's (Beijing) time
        self._socket: socket.socket | None = None
        self._sequence = itertools.count(1)
        self._references = itertools.count(1)
        self._answers: dict[int, tuple[str, int]] = {}
        self._receipts = ReceiptBuffer()
        self._last_used = 0.0
        self._lock = threading.Lock()

    def send(self, message: SmsMessage) -> str:
        parts = codec.message_parts(message.text, next(self._references))
        with self._lock:
            try:
                sock = self._connected()
                ids = [self._submit(sock, message.phone, part, i, len(parts))
                       for i, part in enumerate(parts, start=1)]  # fmt: skip
            except (OSError, codec.CmppMalformed) as exc:
                self._drop()
                raise SmsSendFailed(f"CMPP gateway failed: {type(exc).__name__}") from None
            except SmsSendFailed:
                self._drop()
                raise
        return ids[0]

    def _submit(
        self, sock: socket.socket, phone: str, content: bytes, part: int, parts: int
    ) -> str:
        submit = codec.Submit(self._sp_id, self._service_id, self._src_id, phone, content,
                              part, parts)  # fmt: skip
        sequence = self._write(sock, codec.SUBMIT, codec.submit_body(submit))
        deadline = time.monotonic() + self._timeout
        while sequence not in self._answers:
            if time.monotonic() > deadline:
                raise SmsSendFailed("CMPP gateway did not answer the submit in time")
            self._read_one(sock)
        message_id, result = self._answers.pop(sequence)
        if result != 0:
            reason = codec.SUBMIT_RESULT.get(result, str(result))
            raise SmsSendFailed(f"CMPP gateway refused the message: {reason}")
        self._last_used = time.monotonic()
        return message_id

    def take_receipts(self, wait_seconds: float = 0.0) -> list[DeliveryReceipt]:
        with self._lock:
            sock = self._socket
            if sock is not None:
                try:
                    wait = wait_seconds
                    while select.select([sock], [], [], wait)[0]:
                        self._read_one(sock)
                        wait = 0
                except (OSError, codec.CmppMalformed):
                    self._drop()
            return self._receipts.take()

    def close(self) -> None:
        with self._lock:
            if self._socket is not None:
                with contextlib.suppress(OSError):
                    self._write(self._socket, codec.TERMINATE)
                self._drop()

    def _connected(self) -> socket.socket:
        if self._socket is not None and time.monotonic() - self._last_used > IDLE_CHECK_SECONDS:
            self._check_alive(self._socket)
        if self._socket is None:
            sock = socket.create_connection(self._address, timeout=self._timeout)
            self._socket = sock
            body = codec.connect_body(self._sp_id, self._secret, self._clock())
            self._write(sock, codec.CONNECT, body)
            command, _, reply = self._read_pdu(sock)
            if command != codec.CONNECT_RESP:
                raise codec.CmppMalformed(f"expected CONNECT_RESP, got {command:#x}")
            status = codec.parse_connect_resp(reply)
            if status != 0:
                raise SmsSendFailed(
                    f"CMPP connect refused: {codec.CONNECT_STATUS.get(status, status)}"
                )
            self._last_used = time.monotonic()
            log.info("CMPP connected to %s:%s", *self._address)
        return self._socket

    def _check_alive(self, sock: socket.socket) -> None:
        try:
            sequence = self._write(sock, codec.ACTIVE_TEST)
            deadline = time.monotonic() + self._timeout
            while sequence not in self._answers and time.monotonic() < deadline:
                self._read_one(sock)
            self._answers.pop(sequence)
            self._last_used = time.monotonic()
        except (OSError, KeyError, codec.CmppMalformed):
            self._drop()

    def _write(self, sock: socket.socket, command: int, body: bytes = b"") -> int:
        sequence = next(self._sequence) & 0xFFFFFFFF
        sock.sendall(codec.pdu(command, sequence, body))
        return sequence

    def _read_pdu(self, sock: socket.socket) -> tuple[int, int, bytes]:
        length, command, sequence = codec.HEADER.unpack(_exactly(sock, codec.HEADER.size))
        if length < codec.HEADER.size or length > 4096:
            raise codec.CmppMalformed(f"PDU length {length}")
        return command, sequence, _exactly(sock, length - codec.HEADER.size)

    def _read_one(self, sock: socket.socket) -> None:
        """Read one PDU and act on it: a response is kept by its sequence, a DELIVER and an
        ACTIVE_TEST from the gateway are answered."""
        command, sequence, body = self._read_pdu(sock)
        if command == codec.SUBMIT_RESP:
            self._answers[sequence] = codec.parse_submit_resp(body)
        elif command == codec.ACTIVE_TEST_RESP:
            self._answers[sequence] = ("", 0)
        elif command == codec.DELIVER:
            deliver = codec.parse_deliver(body)
            if deliver.is_report:
                self._receipts.add(DeliveryReceipt(deliver.report_of, deliver.status))
            sock.sendall(codec.pdu(codec.DELIVER_RESP, sequence,
                                   codec.deliver_resp_body(deliver.msg_id)))  # fmt: skip
        elif command == codec.ACTIVE_TEST:
            sock.sendall(codec.pdu(codec.ACTIVE_TEST_RESP, sequence, b"\0"))
        elif command == codec.TERMINATE:
            sock.sendall(codec.pdu(codec.TERMINATE_RESP, sequence))
            raise ConnectionError("the CMPP gateway terminated the connection")

    def _drop(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.close()
        self._socket = None
        self._answers.clear()


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the CMPP gateway closed the connection")
        data += chunk
    return data
