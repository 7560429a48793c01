"""A CMPP 2.0 ISMG for tests: CONNECT checked against the SP id and shared secret (the MD5
authenticator), SUBMIT (recorded: UCS-2 parts joined by their UDH), a status report
(DELIVER with Registered_Delivery=1) after each submit that asks for one, ACTIVE_TEST,
TERMINATE. Run: ``python -m tests.sms_peers.cmpp_server PORT RECORD SP_ID SECRET``."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import struct
import sys
from pathlib import Path

CONNECT, TERMINATE, SUBMIT, DELIVER, ACTIVE_TEST = 0x01, 0x02, 0x04, 0x05, 0x08
RESP = 0x80000000


def pdu(command: int, seq: int, body: bytes = b"") -> bytes:
    return struct.pack(">III", 12 + len(body), command, seq) + body


def field(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode()


def parse_submit(body: bytes) -> dict[str, object]:
    total, number, delivery = body[8], body[9], body[10]
    udhi, fmt = body[45], body[46]
    users = body[116]
    at = 117 + 21 * users
    length = body[at]
    content = body[at + 1 : at + 1 + length]
    part = {"ref": 0, "total": total, "seq": number}
    if udhi:
        header = content[1 : 1 + content[0]]
        part = {"ref": header[2], "total": header[3], "seq": header[4]}
        content = content[1 + content[0] :]
    return {"sp": field(body[47:53]), "service_id": field(body[12:22]),
            "source": field(body[95:116]), "dest": field(body[117:138]),
            "text": content.decode("utf-16-be" if fmt == 8 else "gbk"), "delivery": delivery,
            **part}  # fmt: skip


class Ismg:
    def __init__(self, record: Path, sp_id: str, secret: str) -> None:
        self.record = record
        self.sp_id = sp_id
        self.secret = secret
        self.ids = itertools.count(1)

    def authenticated(self, body: bytes) -> tuple[int, bytes]:
        source, auth, timestamp = field(body[0:6]), body[6:22], struct.unpack(">I", body[23:27])[0]
        expected = hashlib.md5(
            source.encode() + b"\0" * 9 + self.secret.encode() + f"{timestamp:010d}".encode()
        ).digest()
        status = 0 if (source, auth) == (self.sp_id, expected) else 3
        ismg = hashlib.md5(bytes([status]) + auth + self.secret.encode()).digest()
        return status, bytes([status]) + ismg + bytes([0x20])

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sequence = itertools.count(1)
        connected = False
        try:
            while True:
                length, command, seq = struct.unpack(">III", await reader.readexactly(12))
                body = await reader.readexactly(length - 12)
                if command == CONNECT:
                    status, reply = self.authenticated(body)
                    connected = status == 0
                    writer.write(pdu(command | RESP, seq, reply))
                elif command == SUBMIT and connected:
                    message_id = struct.pack(">Q", next(self.ids))
                    submit = parse_submit(body) | {"id": message_id.hex()}
                    with self.record.open("a") as out:
                        out.write(json.dumps(submit, ensure_ascii=False) + "\n")
                    writer.write(pdu(command | RESP, seq, message_id + b"\0"))
                    if submit["delivery"]:
                        writer.write(pdu(DELIVER, next(sequence), self.report(message_id, submit)))
                elif command == ACTIVE_TEST:
                    writer.write(pdu(command | RESP, seq, b"\0"))
                elif command == TERMINATE:
                    writer.write(pdu(command | RESP, seq))
                    await writer.drain()
                    break
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def report(self, message_id: bytes, submit: dict[str, object]) -> bytes:
        dest = str(submit["dest"]).encode().ljust(21, b"\0")
        content = (message_id + b"DELIVRD" + b"2612031200" + b"2612031200" + dest
                   + struct.pack(">I", 1))  # fmt: skip
        own_id = struct.pack(">Q", 10**9 + next(self.ids))
        return (own_id + str(submit["source"]).encode().ljust(21, b"\0")
                + str(submit["service_id"]).encode().ljust(10, b"\0") + bytes([0, 0, 0])
                + dest + bytes([1, len(content)]) + content + b"\0" * 8)  # fmt: skip


async def main(port: int, record: Path, sp_id: str, secret: str) -> None:
    server = await asyncio.start_server(Ismg(record, sp_id, secret).serve, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]))
