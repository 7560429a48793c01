"""Personal data at rest: encrypted (Fernet), looked up by a keyed hash, masked when shown.

ID numbers, phone numbers and names are stored as ciphertext plus, where they must be
searchable, an HMAC-SHA256 of the normalized value under a key derived from the same secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

from backend.errors import ConfigError


class PersonalDataCipher:
    def __init__(self, data_key: str) -> None:
        try:
            self._fernet = Fernet(data_key.encode())
        except (ValueError, TypeError):
            raise ConfigError(
                "data_key", "must be a Fernet key (urlsafe base64 of 32 bytes)"
            ) from None
        raw = base64.urlsafe_b64decode(data_key.encode())
        self._lookup_key = hashlib.sha256(b"lookup:" + raw).digest()

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigError("data_key", "cannot decrypt stored personal data") from None

    def lookup_hash(self, value: str) -> str:
        """Deterministic keyed hash for equality look-ups (callers normalize first)."""
        return hmac.new(self._lookup_key, value.encode(), hashlib.sha256).hexdigest()


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
