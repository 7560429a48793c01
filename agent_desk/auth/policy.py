"""Login rules as pure functions: lockout after repeated failures, and the admin IP allow-list."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LockoutPolicy:
    threshold: int = 5
    minutes: int = 15

    def is_locked(self, locked_until: datetime | None, now: datetime) -> bool:
        return locked_until is not None and locked_until > now

    def after_failure(self, failed: int, now: datetime) -> tuple[int, datetime | None]:
        """The new failure count and, once the threshold is reached, the lock's end.

        The count restarts after a lock so that each lock needs a full new run of failures.
        """
        failed += 1
        if failed >= self.threshold:
            return 0, now + timedelta(minutes=self.minutes)
        return failed, None


def parse_allowlist(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Comma-separated CIDRs (a bare address means that host); blanks ignored."""
    return [
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    ]


def ip_allowed(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    """An address that does not parse (e.g. a test client's name) is never allowed."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)
