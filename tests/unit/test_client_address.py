"""Which address is the client's: X-Forwarded-For believed only from a listed proxy, read
from the right, a mangled chain not believed at all."""

from __future__ import annotations

import ipaddress

from agent_desk.client_address import client_address, with_client_address

PROXIES = [ipaddress.ip_network("10.0.0.0/24"), ipaddress.ip_network("fd00::/64")]


def test_the_header_counts_only_from_a_listed_proxy() -> None:
    assert client_address("192.0.2.5", "198.51.100.1", PROXIES) == "192.0.2.5"
    assert client_address("10.0.0.5", "198.51.100.1", PROXIES) == "198.51.100.1"
    assert client_address("fd00::2", "2001:db8::9", PROXIES) == "2001:db8::9"
    assert client_address("10.0.0.5", "", PROXIES) == "10.0.0.5"
    assert client_address("10.0.0.5", "198.51.100.1", []) == "10.0.0.5"


def test_the_chain_is_read_from_the_right_and_a_mangled_one_is_ignored() -> None:
    assert client_address("10.0.0.5", "1.2.3.4, 198.51.100.1, 10.0.0.9", PROXIES) == (
        "198.51.100.1"
    )
    assert client_address("10.0.0.5", "10.0.0.8, 10.0.0.9", PROXIES) == "10.0.0.8"
    assert client_address("10.0.0.5", "1.2.3.4, not-an-address", PROXIES) == "10.0.0.5"
    assert client_address("10.0.0.5", "198.51.100.1,", PROXIES) == "10.0.0.5"


def test_the_scope_gets_the_client_and_several_headers_read_as_one_list() -> None:
    scope = {
        "type": "http",
        "client": ("10.0.0.5", 4000),
        "headers": [(b"x-forwarded-for", b"192.0.2.1"), (b"x-forwarded-for", b"198.51.100.1")],
    }
    assert with_client_address(scope, PROXIES)["client"] == ("198.51.100.1", 4000)
    assert with_client_address(scope, []) is scope
    assert with_client_address({**scope, "type": "lifespan"}, PROXIES)["client"][0] == "10.0.0.5"
