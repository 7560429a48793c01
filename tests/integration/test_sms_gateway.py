"""The SMS gateway adapters. The HTTP adapter talks to a local HTTP server standing in for a
provider (it is not exercised against a real provider: docs/sms-gateway.md); a gateway that
is down makes a code request a 503 that leaves no code behind."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from backend.booking.api_config import BookingApiConfig
from backend.booking.rules import BookingRules
from backend.errors import ConfigError
from backend.settings import Settings, load_settings
from backend.sms import SmsMessage, SmsSendFailed
from backend.sms.fake import RecordingSmsGateway
from backend.sms.gateways import gateway_from_settings
from backend.sms.http_gateway import HttpSmsGateway
from tests.conftest import free_port
from tests.integration.test_booking_api import _app, new_phone


class Provider(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], dict[str, str]]]] = []
    answer: ClassVar[int] = 200

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Provider.received.append((dict(self.headers), body))
        self.send_response(Provider.answer)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def provider() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    Provider.received, Provider.answer = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sms/send"
    server.shutdown()
    server.server_close()


def test_the_http_adapter_posts_the_message_with_its_token(provider: str) -> None:
    gateway = HttpSmsGateway(provider, "provider-token", sign="114挂号")
    gateway.send(SmsMessage("13800001111", "验证码 123456", "account-code"))
    headers, body = Provider.received[0]
    assert headers["Authorization"] == "Bearer provider-token"
    assert body == {
        "to": "13800001111",
        "sign": "114挂号",
        "text": "验证码 123456",
        "purpose": "account-code",
    }
    Provider.answer = 500
    with pytest.raises(SmsSendFailed, match="500"):
        gateway.send(SmsMessage("13800001111", "x", "account-code"))
    gateway.close()
    down = HttpSmsGateway(f"http://127.0.0.1:{free_port()}/sms", "t", timeout_seconds=2)
    with pytest.raises(SmsSendFailed, match="unreachable"):
        down.send(SmsMessage("13800001111", "x", "account-code"))


def test_settings_choose_the_gateway(redis_client: redis.Redis) -> None:
    assert isinstance(gateway_from_settings(load_settings(), redis_client), RecordingSmsGateway)
    with pytest.raises(ConfigError, match="CC_SMS_HTTP_URL"):
        load_settings(sms_gateway="http", sms_http_url="http://gateway.example/sms")
    http = load_settings(sms_gateway="http", sms_http_url="https://gateway.example/sms")
    assert isinstance(gateway_from_settings(http, redis_client), HttpSmsGateway)
    production = load_settings().model_copy(update={"environment": "production"})
    with pytest.raises(ConfigError, match="CC_SMS_GATEWAY"):
        gateway_from_settings(production, redis_client)


def test_a_gateway_that_is_down_leaves_no_code_behind(
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    redis_namespace: str,
    provider: str,
) -> None:
    config = BookingApiConfig(rules=BookingRules(), redis_prefix=f"{redis_namespace}:down:")
    gateway = HttpSmsGateway(provider, "t")
    app = _app(settings, session_factory, redis_client, config, fast_path=False, sms=gateway)
    phone = new_phone()
    with TestClient(app) as client:
        Provider.answer = 503
        down = client.post("/api/public/accounts/code", json={"phone": phone})
        assert (down.status_code, down.json()["error"]) == (503, "sms-unavailable")
        Provider.answer = 200
        # No resend wait for a code that never left: asking again at once is served.
        again = client.post("/api/public/accounts/code", json={"phone": phone})
        assert again.status_code == 202
    assert [body["to"] for _, body in Provider.received] == [phone, phone]
