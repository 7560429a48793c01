from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from backend.errors import ConfigError
from backend.personal_data import PersonalDataCipher, mask_id_number, mask_name, mask_phone
from backend.settings import DEV_DATA_KEY


def test_round_trip_and_ciphertext_hides_value() -> None:
    cipher = PersonalDataCipher(DEV_DATA_KEY)
    token = cipher.encrypt("11010519491231002X")
    assert "1101" not in token
    assert cipher.decrypt(token) == "11010519491231002X"


def test_lookup_hash_is_stable_and_keyed() -> None:
    a = PersonalDataCipher(DEV_DATA_KEY)
    other_key = "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktISE="
    assert a.lookup_hash("13800138000") == a.lookup_hash("13800138000")
    assert a.lookup_hash("13800138000") != PersonalDataCipher(other_key).lookup_hash("13800138000")


def test_bad_key_names_the_setting() -> None:
    with pytest.raises(ConfigError) as err:
        PersonalDataCipher("short")
    assert "CC_DATA_KEY" in str(err.value)


def test_masks() -> None:
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_name("欧阳娜娜") == "欧***"


def test_keys_listed_newest_first_encrypt_under_the_newest_and_decrypt_under_any() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    before = PersonalDataCipher(old.decode())
    stored, legacy = before.encrypt("13800138000"), Fernet(old).encrypt(b"110105").decode()
    during = PersonalDataCipher(f"{new.decode()},{old.decode()}")
    assert stored.startswith(before.current_key_id + ":") and not during.is_current(stored)
    assert during.decrypt(stored) == "13800138000" and during.decrypt(legacy) == "110105"
    moved = during.encrypt(during.decrypt(stored))
    assert during.is_current(moved) and moved.split(":")[0] != stored.split(":")[0]
    # The hashes stay: their key is the oldest data key until CC_LOOKUP_KEY is set to it.
    after = PersonalDataCipher(new.decode(), lookup_key=old.decode())
    assert after.lookup_hash("x") == during.lookup_hash("x") == before.lookup_hash("x")
    assert after.decrypt(moved) == "13800138000"
    with pytest.raises(ConfigError) as unlisted:
        after.decrypt(stored)
    assert "is not listed" in str(unlisted.value) and "CC_DATA_KEY" in str(unlisted.value)
    with pytest.raises(ConfigError):
        PersonalDataCipher(new.decode(), lookup_key="short")
