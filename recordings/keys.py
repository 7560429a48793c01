"""The master key that wraps each recording's data key: the personal-data key."""

from __future__ import annotations

from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from recordings.sealed import MasterKey


def master_key(settings: Settings) -> MasterKey:
    # One master key for all personal data: a recording holds what a citizen said (names,
    # ID numbers), so it is kept under the same key, and rotated with it.
    return PersonalDataCipher.of(settings)
