"""Log records are masked as they are made (issue 18, item 11): an AGI command that fails
with a Dial string, a traceback carrying a number, the access log's query string. What the
line is about (the failure, the call id, the path) is still there.

tests/acceptance/test_log_privacy.py searches every log of a running stack."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
from uvicorn.logging import AccessFormatter

from backend import log_privacy
from ivr.agi.server import AgiServer
from ivr.agi.session import AgiSession

PHONE = "13987654321"
ID_NUMBER = "110105198001011238"
NAME = "司马相如"


@pytest.fixture()
def masked() -> Iterator[None]:
    previous = logging.getLogRecordFactory()
    log_privacy.install()
    log_privacy.install()  # a second set-up does not mask twice
    yield
    logging.setLogRecordFactory(previous)


def test_numbers_ids_and_names_are_masked_and_the_rest_kept() -> None:
    line = (
        f"call 1796283548.2 from {PHONE}, +86{PHONE}, 0086{PHONE}, 010-65114000 keyed "
        f"{ID_NUMBER} / 11010519800101123X (old 110105800101123) as {NAME} "
        f"at 2026-12-03 07:39:08 on port 40813, task 5803916e692c4bf8bbee6394d596c425"
    )
    masked = log_privacy.mask(line)
    for secret in (PHONE, ID_NUMBER, "11010519800101123X", "110105800101123", NAME, "65114000"):
        assert secret not in masked
    for kept in (
        "1796283548.2",
        "2026-12-03 07:39:08",
        "40813",
        "5803916e692c4bf8bbee6394d596c425",
    ):
        assert kept in masked
    assert log_privacy.mask("/api/x/%E5%8F%B8%E9%A9%AC") == "/api/x/*"


async def test_an_agi_failure_line_names_the_failure_not_the_number(
    masked: None, caplog: pytest.LogCaptureFixture
) -> None:
    async def dial(session: AgiSession) -> None:
        await session.command(f"EXEC Dial PJSIP/{PHONE}@carrier,30")

    server = AgiServer({"outbound": dial}, "127.0.0.1", 0)
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        env = {"agi_network_script": "outbound", "agi_uniqueid": "1700000000.1"}
        writer.write("".join(f"{k}: {v}\n" for k, v in env.items()).encode() + b"\n")
        command = await reader.readline()
        assert PHONE.encode() in command  # Asterisk is told the number, the log is not
        with caplog.at_level(logging.ERROR, logger="ivr.agi"):
            writer.write(b"510 Invalid or unknown command\n")
            await writer.drain()
            await reader.read()  # the server sends the call to its fallback and closes
        writer.close()
    finally:
        await server.stop()
    failures = [r.getMessage() for r in caplog.records if "AGI failure" in r.getMessage()]
    assert failures == [
        "AGI failure: 'EXEC Dial PJSIP/***********@carrier,30': Invalid or unknown command"
    ]


def test_a_traceback_is_masked(masked: None, caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise ValueError(f"no patient {NAME} with ID {ID_NUMBER}")
    except ValueError:
        logging.getLogger("ivr.test").exception("look-up for %s failed", PHONE)
    (record,) = caplog.records
    text = logging.Formatter().format(record)
    assert "look-up for *********** failed" in text
    assert "ValueError: no patient **** with ID ******************" in text


def test_the_access_log_keeps_the_path_not_the_query(masked: None) -> None:
    access = logging.getLogger("uvicorn.access")
    record = access.makeRecord(
        access.name,
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "127.0.0.1:5000",
            "GET",
            f"/api/recordings?caller_number={PHONE}&name=%E5%8F%B8",
            "1.1",
            200,
        ),
        None,
    )
    line = AccessFormatter("%(client_addr)s %(request_line)s %(status_code)s").format(record)
    assert line == "127.0.0.1:5000 GET /api/recordings?… HTTP/1.1 200 OK"
