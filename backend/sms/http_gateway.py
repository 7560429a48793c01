"""An SMS gateway reached over HTTP: the adapter for a provider's (or the carrier relay's)
REST interface. Described for operators in ``docs/sms-gateway.md``.

The request is a JSON ``POST`` to ``CC_SMS_HTTP_URL`` with a bearer token
(``CC_SMS_HTTP_TOKEN``)::

    {"to": "13800000000", "sign": "<CC_SMS_HTTP_SIGN>", "text": "...", "purpose": "account-code"}

Any 2xx answer means the gateway took the message; anything else, a timeout or a connection
failure is ``SmsSendFailed``. Providers with another request shape are fronted by a small
relay, or get an adapter of their own beside this one.
"""

from __future__ import annotations

import httpx

from backend.sms.port import SmsMessage, SmsSendFailed


class HttpSmsGateway:
    def __init__(
        self,
        url: str,
        token: str,
        *,
        sign: str = "",
        timeout_seconds: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._url = url
        self._sign = sign
        self._client = httpx.Client(
            timeout=timeout_seconds,
            headers={"Authorization": f"Bearer {token}"},
            transport=transport,
        )

    def send(self, message: SmsMessage) -> None:
        """No message id: this interface reports no delivery."""
        body = {
            "to": message.phone,
            "sign": self._sign,
            "text": message.text,
            "purpose": message.purpose,
        }
        try:
            reply = self._client.post(self._url, json=body)
        except httpx.HTTPError as exc:
            raise SmsSendFailed(f"SMS gateway unreachable: {type(exc).__name__}") from None
        if not reply.is_success:
            raise SmsSendFailed(f"SMS gateway answered {reply.status_code}")

    def close(self) -> None:
        self._client.close()
