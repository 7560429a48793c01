"""Whose request this is: the peer's address, or the client a trusted reverse proxy names.

``X-Forwarded-For`` is anybody's to write, so it is read only when the connection comes from
one of the listed proxies (``CC_TRUSTED_PROXIES``); from any other peer the header is ignored
and the peer's own address is the client's. The header is read from the right: each proxy
appends the address it was reached from, so the first hop that is not itself a listed proxy
is the client (what a client wrote to the left of it is not believed). Every later layer
(sign-in throttle, audit records, the admin allow-list, the booking rate limit) then reads the
one address from the ASGI scope.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import Scope

from agent_desk.auth.policy import ip_allowed
from backend.settings.addresses import IPNetwork

HEADER = b"x-forwarded-for"


def client_address(peer: str, forwarded_for: str, proxies: Sequence[IPNetwork]) -> str:
    """The client's address: ``peer`` unless it is a listed proxy that forwarded a valid one."""
    if not forwarded_for or not ip_allowed(peer, list(proxies)):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",")]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a mangled chain: believe nothing of it
        if not ip_allowed(hop, list(proxies)):
            return hop
    return hops[0]


def with_client_address(scope: Scope, proxies: Sequence[IPNetwork]) -> Scope:
    """``scope`` with its client set to the request's real client (unchanged without proxies)."""
    if not proxies or scope["type"] not in ("http", "websocket") or not scope.get("client"):
        return scope
    peer, port = scope["client"]
    # Several X-Forwarded-For headers read as one list, in order.
    forwarded = ",".join(
        value.decode("latin-1") for name, value in scope["headers"] if name == HEADER
    )
    address = client_address(peer, forwarded, proxies)
    return scope if address == peer else {**scope, "client": (address, port)}
