from __future__ import annotations

import pytest

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
