"""Signing keys of the partners' APIs (hospitals, the city 12345 platform): an id the partner
names in each request and a secret it signs with, shown once when made and kept only
encrypted. Made by ``callcenter hospital key …`` and ``callcenter city-platform key …``:
there is no other way to get one (the demo's hospitals have theirs outside production only).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from backend.errors import Conflict, Refused


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    secret: str  # shown once, to be handed to the partner; stored only encrypted


def new_key(prefix: str) -> ApiKey:
    """A fresh key: the id is new on every issue and rotation, so an old id is refused as
    unknown rather than checked against a secret that changed under it."""
    return ApiKey(f"{prefix}-{secrets.token_hex(6)}", secrets.token_urlsafe(32))


def check_key_change(owner: str, current_key_id: str | None, *, rotate: bool) -> None:
    """Issuing is for an owner without a key, rotating for one with a key: either mistake
    would otherwise cut a working partner off, or leave an unused key unnoticed."""
    if rotate and current_key_id is None:
        raise Refused(f"{owner} has no key to rotate: issue one", code="no-key")
    if not rotate and current_key_id is not None:
        raise Conflict(f"{owner} already has key {current_key_id}: rotate it", code="key-exists")
