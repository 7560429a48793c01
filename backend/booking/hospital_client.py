"""A reference client of the hospital integration API, for hospitals' integrators.

Python's standard library only, so it can be copied into a hospital's own system as it is;
the project's contract tests (tests/integration/test_hospital_contract.py) talk to a running
desk through it, so what it does is what the API takes. docs/partner-api-signing.md
describes the signing it does, with a worked example.

- Every request gets a new nonce and timestamp; a retry is signed again (a nonce is good
  for one request only).
- Ids in a path are percent-encoded by ``quote_id`` (UTF-8, every byte but the unreserved
  ``A-Z a-z 0-9 - . _ ~`` as ``%XX`` in upper case: a space is ``%20``, ``/`` is ``%2F``),
  and the path and query are signed exactly as they go on the request line.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

API = "/api/hospital"


def quote_id(external_id: str) -> str:
    """``external_id`` as one path segment: ``"内科 A/1"`` -> ``"%E5%86%85%E7%A7%91%20A%2F1"``."""
    return quote(external_id, safe="")


def string_to_sign(method: str, target: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The five lines signed: method, path?query as sent, timestamp, nonce, body digest."""
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join([method.upper(), target, timestamp, nonce, digest])


def signature(secret: str, text: str) -> str:
    return hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class HospitalClient:
    base_url: str  # e.g. https://114.example.cn
    key_id: str
    secret: str
    timeout: float = 30.0

    def headers(self, method: str, target: str, body: bytes) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        text = string_to_sign(method, target, timestamp, nonce, body)
        return {
            "X-Hospital-Key": self.key_id,
            "X-Timestamp": timestamp,
            "X-Nonce": nonce,
            "X-Signature": signature(self.secret, text),
            "Content-Type": "application/json",
        }

    def send(self, method: str, target: str, body: bytes, headers: dict[str, str]) -> Answer:
        """One request as given (already signed): e.g. to send the same one twice."""
        url = urlsplit(self.base_url)
        connection_class = (
            http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(url.netloc, timeout=self.timeout)
        try:
            connection.request(method, target, body=body or None, headers=headers)
            reply = connection.getresponse()
            raw = reply.read()
        finally:
            connection.close()
        return Answer(reply.status, json.loads(raw) if raw else {})

    def call(self, method: str, target: str, payload: object = None) -> Answer:
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        return self.send(method, target, body, self.headers(method, target, body))

    def push_schedules(self, schedules: list[dict[str, Any]]) -> Answer:
        return self.call("POST", f"{API}/schedules", {"schedules": schedules})

    def stop(self, external_id: str, reason: str) -> Answer:
        return self.call(
            "POST", f"{API}/schedules/{quote_id(external_id)}/stop", {"reason": reason}
        )

    def bookings(self, cursor: int = 0, limit: int = 100) -> Answer:
        query = urlencode({"cursor": cursor, "limit": limit}, quote_via=quote)
        return self.call("GET", f"{API}/bookings?{query}")

    def attendance(self, booking_code: str, attended: bool) -> Answer:
        target = f"{API}/bookings/{quote_id(booking_code)}/attendance"
        return self.call("POST", target, {"attended": attended})
