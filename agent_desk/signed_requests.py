"""What the signed partner APIs (hospitals, the 12345 platform) read off a request to check
its signature (``backend/signatures.py``): the body as sent, and the headers every signed
request carries besides the one naming its key."""

# No ``from __future__ import annotations``: FastAPI evaluates these annotations at runtime.

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from backend.signatures import SignedRequest


async def raw_body(request: Request) -> bytes:
    """The body as it was signed (a dependency: read once, before the route's own model)."""
    return await request.body()


@dataclass(frozen=True)
class Signature:
    body: bytes
    timestamp: str
    nonce: str
    signature: str


def signature_of(
    body: Annotated[bytes, Depends(raw_body)],
    x_timestamp: Annotated[str, Header(description="Unix时间戳（秒）")] = "",
    x_nonce: Annotated[str, Header(description="随机串，每个请求不同（16至64位）")] = "",
    x_signature: Annotated[str, Header(description="HMAC-SHA256签名（十六进制）")] = "",
) -> Signature:
    return Signature(body, x_timestamp, x_nonce, x_signature)


SignatureDep = Annotated[Signature, Depends(signature_of)]


def target_as_sent(request: Request) -> str:
    """The request line's path and query as the client sent them, percent-encoding and all:
    what the partner signs (``request.url.path`` is decoded: an id holding ``%2F`` would sign
    as a ``/``). A path sent with raw non-ASCII bytes is read as UTF-8. A reverse proxy in
    front of the desk must pass the request line on unchanged (nginx: ``proxy_pass`` without
    a URI part), or partners' signatures of encoded ids stop checking."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    path = raw.decode("utf-8", "replace")
    return path + ("?" + query.decode("latin-1") if query else "")


def signed_request(request: Request, key_id: str, signed: Signature) -> SignedRequest:
    path = target_as_sent(request)
    return SignedRequest(
        key_id=key_id,
        timestamp=signed.timestamp,
        nonce=signed.nonce,
        signature=signed.signature,
        method=request.method,
        path=path,
        body=signed.body,
    )
