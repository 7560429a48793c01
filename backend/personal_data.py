"""Personal data at rest: encrypted (Fernet), looked up by a keyed hash, masked when shown.

ID numbers, phone numbers and names are stored as ciphertext plus, where they must be
searchable, an HMAC-SHA256 of the normalized value under a key derived from the oldest data key
(so that rotating the encryption key keeps every hash).

``CC_DATA_KEY`` is a comma-separated list of Fernet keys, newest first. New ciphertext is made
under the newest and carries its key id (``<id>:<token>``); any listed key decrypts (MultiFernet),
so every process can be given a new key first and the old one dropped after ``callcenter keys
rotate`` has re-encrypted the stored data (``backend/key_rotation.py``). Ciphertext without
an id (written before ids existed) is tried under every key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from backend.errors import ConfigError


class _Secret(Protocol):
    def get_secret_value(self) -> str: ...


class KeySettings(Protocol):
    """What the cipher reads from settings (backend.settings.SecuritySettings)."""

    @property
    def data_key(self) -> _Secret: ...

    @property
    def lookup_key(self) -> _Secret: ...


def key_id(raw: bytes) -> str:
    """A short, stable name of a key, stored beside what it encrypted (never the key)."""
    return hashlib.sha256(b"key-id:" + raw).hexdigest()[:8]


class PersonalDataCipher:
    def __init__(self, data_key: str, lookup_key: str = "") -> None:
        encoded = [k.strip().encode() for k in data_key.split(",") if k.strip()]
        try:
            fernets = [Fernet(k) for k in encoded]
        except (ValueError, TypeError):
            fernets = []
        if not fernets:
            raise ConfigError(
                "data_key", "must be Fernet keys (urlsafe base64 of 32 bytes), newest first"
            )
        raws = [base64.urlsafe_b64decode(k) for k in encoded]
        self._by_id = {key_id(raw): fernet for raw, fernet in zip(raws, fernets, strict=True)}
        self._any = MultiFernet(fernets)
        self.current_key_id = key_id(raws[0])
        self._current = fernets[0]
        self._lookup_key = hashlib.sha256(b"lookup:" + _lookup_raw(lookup_key, raws[-1])).digest()

    @classmethod
    def of(cls, settings: KeySettings) -> PersonalDataCipher:
        """The cipher every process builds from its settings (the same keys everywhere)."""
        return cls(settings.data_key.get_secret_value(), settings.lookup_key.get_secret_value())

    def encrypt(self, value: str) -> str:
        return f"{self.current_key_id}:{self._current.encrypt(value.encode()).decode()}"

    def decrypt(self, token: str) -> str:
        kid, sep, body = token.rpartition(":")
        if sep and kid not in self._by_id:
            raise ConfigError("data_key", f"key {kid} of stored personal data is not listed")
        try:
            fernet = self._by_id[kid] if sep else self._any
            return fernet.decrypt(body.encode()).decode()
        except InvalidToken:
            raise ConfigError("data_key", "cannot decrypt stored personal data") from None

    def is_current(self, token: str) -> bool:
        """Whether ``token`` is under the newest key (``callcenter keys rotate`` skips it)."""
        return token.startswith(self.current_key_id + ":")

    def lookup_hash(self, value: str) -> str:
        """Deterministic keyed hash for equality look-ups (callers normalize first)."""
        return hmac.new(self._lookup_key, value.encode(), hashlib.sha256).hexdigest()


def _lookup_raw(lookup_key: str, oldest_data_key: bytes) -> bytes:
    """The look-up hashes' own key (CC_LOOKUP_KEY), or, where it is not set, the oldest data
    key: the hashes made before the two were apart stay valid when CC_LOOKUP_KEY is set to
    that key, and the data keys can then be rotated and dropped without touching them."""
    if not lookup_key:
        return oldest_data_key
    try:
        raw = base64.urlsafe_b64decode(lookup_key.encode())
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ConfigError("lookup_key", "must be a Fernet-format key (urlsafe base64 of 32 bytes)")
    return raw


def normalize_number(number: str) -> str:
    """Digits only, without the +86/0086 prefix, so one phone has one hash."""
    digits = "".join(c for c in number if c.isdigit())
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            return digits[len(prefix) :]
    return digits


def mask_id_number(number: str) -> str:
    """110105********002X: region and last four stay, birth date hidden."""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(number: str) -> str:
    """138****5678."""
    if len(number) < 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_name(name: str) -> str:
    """张*, 欧阳** — the family name (first character) stays."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


def protected_number(cipher: PersonalDataCipher, number: str) -> dict[str, str]:
    """A call record's columns for the other party's number: masked for pages, encrypted,
    and a keyed hash for look-ups; empty when there is no number."""
    digits = normalize_number(number)
    if not digits:
        return {}
    return {
        "caller_number": mask_phone(digits),
        "caller_enc": cipher.encrypt(digits),
        "caller_hash": cipher.lookup_hash(digits),
    }
