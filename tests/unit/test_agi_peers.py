"""Where the FastAGI controller listens and whom it serves: CC_AGI_BIND is a loopback or
private address, CC_AGI_PERMIT a list of networks, and a peer is served only inside them."""

from __future__ import annotations

import ipaddress

import pytest

from backend.errors import ConfigError
from backend.settings import load_settings
from ivr.agi.server import LOOPBACK_ONLY, peer_allowed


@pytest.mark.parametrize("bind", ["0.0.0.0", "::", "8.8.8.8", "controller", ""])
def test_the_controller_refuses_to_listen_everywhere_or_in_public(bind: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(agi_bind=bind)
    assert str(err.value).startswith("setting CC_AGI_BIND:")


@pytest.mark.parametrize("bind", ["127.0.0.1", "10.20.0.5", "172.30.57.10", "192.168.1.9", "::1"])
def test_loopback_and_private_addresses_are_accepted(bind: str) -> None:
    assert load_settings(agi_bind=bind).agi_bind == bind


def test_the_permit_list_is_a_list_of_networks() -> None:
    settings = load_settings(agi_permit=" 10.1.0.0/16, 127.0.0.1 ")
    assert settings.agi_peers == (
        ipaddress.ip_network("10.1.0.0/16"),
        ipaddress.ip_network("127.0.0.1/32"),
    )
    for bad in ("", "asterisk-1", "10.1.0.0/33"):
        with pytest.raises(ConfigError) as err:
            load_settings(agi_permit=bad)
        assert str(err.value).startswith("setting CC_AGI_PERMIT:")


def test_only_peers_inside_the_networks_are_allowed() -> None:
    networks = load_settings(agi_permit="10.1.0.0/16,127.0.0.1/32").agi_peers
    assert peer_allowed(("127.0.0.1", 40000), networks)
    assert peer_allowed(("10.1.200.3", 40000), networks)
    assert peer_allowed(("::ffff:10.1.0.7", 40000, 0, 0), networks)  # IPv4 on an IPv6 socket
    assert not peer_allowed(("127.0.0.2", 40000), networks)
    assert not peer_allowed(("10.2.0.1", 40000), networks)
    assert not peer_allowed(("::1", 40000, 0, 0), networks)
    # What a socket might report instead of an address: never allowed.
    assert not peer_allowed(None, networks)
    assert not peer_allowed("/run/agi.sock", networks)
    assert not peer_allowed(("not-an-address", 1), networks)


def test_without_a_list_only_this_host_is_served() -> None:
    assert peer_allowed(("127.0.0.1", 1), LOOPBACK_ONLY)
    assert not peer_allowed(("127.0.0.2", 1), LOOPBACK_ONLY)
