"""Network addresses as settings give them: CIDR lists, hosts, PJSIP match entries, ports."""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Annotated

from pydantic import AfterValidator

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def cidr_list(value: str) -> str:
    """A comma-separated CIDR setting, checked and with its blanks dropped."""
    networks = [part.strip() for part in value.split(",") if part.strip()]
    if not networks:
        raise ValueError("must name at least one network (CIDR), e.g. 10.1.0.0/16")
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ValueError(f"{network!r} is not a network in CIDR form") from None
    return ",".join(networks)


# A setting holding comma-separated networks in CIDR form, e.g. "10.1.0.0/16,127.0.0.1/32".
CidrList = Annotated[str, AfterValidator(cidr_list)]


def cidr_networks(value: str) -> tuple[IPNetwork, ...]:
    """A validated comma-separated CIDR setting as networks."""
    return tuple(ipaddress.ip_network(part, strict=False) for part in value.split(","))


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


HOST_NAME = re.compile(
    r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
)


def is_host(value: str) -> bool:
    """An IPv4/IPv6 address or a DNS host name."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return bool(HOST_NAME.fullmatch(value)) and not value.replace(".", "").isdigit()
    return True


def match_entry_problem(entry: str) -> str:
    """What is wrong with one PJSIP identify ``match`` entry, or '' if nothing.

    Accepted as Asterisk documents it: ``203.0.113.7``, ``203.0.113.0/24``,
    ``203.0.113.7:5060``, ``[2001:db8::1]:5060``, ``sbc.carrier.example``.
    """
    address, _, mask = entry.partition("/")
    port = ""
    if address.startswith("["):
        address, _, rest = address[1:].partition("]")
        port = rest.removeprefix(":") if rest.startswith(":") else ("?" if rest else "")
    elif address.count(":") == 1:
        address, port = address.split(":")
    if port and not (port.isdigit() and 1 <= int(port) <= 65535):
        return "the port must be a number from 1 to 65535"
    if mask:
        try:
            ipaddress.ip_network(f"{address}/{mask}", strict=False)
        except ValueError:
            return "not an address with a valid network mask"
        return ""
    return "" if is_host(address) else "not an IP address, network or host name"


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
