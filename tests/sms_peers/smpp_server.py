"""An SMPP 3.4 SMSC for tests: bind_transceiver with a system id and password, submit_sm
(recorded, UCS-2 or Latin-1, concatenated parts by their UDH), a delivery report
(deliver_sm with receipted_message_id) after each submit that asks for one, enquire_link,
unbind. Run: ``python -m tests.sms_peers.smpp_server PORT RECORD SYSTEM_ID PASSWORD``."""

from __future__ import annotations

import asyncio
import itertools
import json
import struct
import sys
from pathlib import Path

BIND_TRANSCEIVER, SUBMIT_SM, DELIVER_SM = 0x09, 0x04, 0x05
ENQUIRE_LINK, UNBIND, GENERIC_NACK = 0x15, 0x06, 0x80000000
RESP = 0x80000000
ESME_RINVPASWD = 0x0E
TLV_RECEIPTED_MESSAGE_ID, TLV_MESSAGE_STATE = 0x001E, 0x0427


def cstring(body: bytes, at: int) -> tuple[str, int]:
    end = body.index(b"\0", at)
    return body[at:end].decode("latin-1"), end + 1


def pdu(command: int, sequence: int, body: bytes = b"", status: int = 0) -> bytes:
    return struct.pack(">IIII", 16 + len(body), command, status, sequence) + body


def parse_submit(body: bytes) -> dict[str, object]:
    at = 0
    _service_type, at = cstring(body, at)
    at += 2  # source ton, npi
    source, at = cstring(body, at)
    at += 2
    dest, at = cstring(body, at)
    esm_class = body[at]
    at += 3  # esm_class, protocol_id, priority
    _schedule, at = cstring(body, at)
    _validity, at = cstring(body, at)
    registered_delivery, data_coding = body[at], body[at + 2]
    length = body[at + 4]
    message = body[at + 5 : at + 5 + length]
    part = {"ref": 0, "total": 1, "seq": 1}
    if esm_class & 0x40:  # a user data header: 05 00 03 ref total seq
        header = message[1 : 1 + message[0]]
        if header[0] == 0x00:
            part = {"ref": header[2], "total": header[3], "seq": header[4]}
        message = message[1 + message[0] :]
    text = message.decode("utf-16-be" if data_coding == 8 else "latin-1")
    return {"source": source, "dest": dest, "text": text, "delivery": registered_delivery & 1,
            **part}  # fmt: skip


class Smsc:
    def __init__(self, record: Path, system_id: str, password: str) -> None:
        self.record = record
        self.system_id = system_id
        self.password = password
        self.ids = itertools.count(1)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sequence = itertools.count(1)
        bound = False
        try:
            while True:
                header = await reader.readexactly(16)
                length, command, _status, seq = struct.unpack(">IIII", header)
                body = await reader.readexactly(length - 16)
                if command == BIND_TRANSCEIVER:
                    system_id, at = cstring(body, 0)
                    password, _ = cstring(body, at)
                    bound = (system_id, password) == (self.system_id, self.password)
                    status = 0 if bound else ESME_RINVPASWD
                    writer.write(pdu(command | RESP, seq, b"smsc\0", status))
                elif command == SUBMIT_SM and bound:
                    message_id = f"M{next(self.ids):08d}"
                    submit = parse_submit(body) | {"id": message_id}
                    with self.record.open("a") as out:
                        out.write(json.dumps(submit, ensure_ascii=False) + "\n")
                    writer.write(pdu(command | RESP, seq, message_id.encode() + b"\0"))
                    if submit["delivery"]:
                        writer.write(self.receipt(next(sequence), submit))
                elif command == ENQUIRE_LINK:
                    writer.write(pdu(command | RESP, seq))
                elif command == UNBIND:
                    writer.write(pdu(command | RESP, seq))
                    await writer.drain()
                    break
                elif command & RESP:
                    pass  # deliver_sm_resp, enquire_link_resp
                else:
                    writer.write(pdu(GENERIC_NACK, seq, status=0x03))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def receipt(self, seq: int, submit: dict[str, object]) -> bytes:
        message_id = str(submit["id"])
        text = f"id:{message_id} sub:001 dlvrd:001 submit date:2612031200 done date:2612031200 "
        text += "stat:DELIVRD err:000 text:"
        short = text.encode()
        body = b"\0" + bytes([1, 1]) + str(submit["dest"]).encode() + b"\0"
        body += bytes([0, 0]) + str(submit["source"]).encode() + b"\0"
        body += bytes([0x04, 0, 0]) + b"\0\0" + bytes([0, 0, 0, 0, len(short)]) + short
        body += struct.pack(">HH", TLV_RECEIPTED_MESSAGE_ID, len(message_id) + 1)
        body += message_id.encode() + b"\0"
        body += struct.pack(">HHB", TLV_MESSAGE_STATE, 1, 2)  # DELIVERED
        return pdu(DELIVER_SM, seq, body)


async def main(port: int, record: Path, system_id: str, password: str) -> None:
    smsc = Smsc(record, system_id, password)
    server = await asyncio.start_server(smsc.serve, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]))
