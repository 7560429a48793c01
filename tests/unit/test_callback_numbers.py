"""Which numbers the system calls back: mainland mobiles and the local area's fixed lines,
however the caller ID writes them; nothing else."""

from __future__ import annotations

import pytest

from backend.telephony.callback_gate import NUMBER_REFUSED, CallbackRefused, callback_target
from backend.telephony.dial_policy import DialPolicy

BEIJING = DialPolicy(local_area_code="010")


@pytest.mark.parametrize(
    ("caller_id", "national"),
    [
        ("13812345678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("013812345678", "13812345678"),  # the trunk 0 before a mobile
        ("19912345678", "19912345678"),
        ("01062345678", "01062345678"),
        ("010-6234 5678", "01062345678"),
        ("+861062345678", "01062345678"),
        ("62345678", "01062345678"),  # a Beijing line presented without its area code
    ],
)
def test_domestic_numbers_are_called_back(caller_id: str, national: str) -> None:
    assert callback_target(BEIJING, caller_id).national == national


@pytest.mark.parametrize(
    "caller_id",
    [
        "+442071234567",  # international
        "00442071234567",
        "+85221234567",  # Hong Kong
        "075512345678",  # another area's fixed line
        "+8675512345678",
        "4008123123",  # service numbers
        "8008123123",
        "12345",  # short and emergency numbers
        "110",
        "12812345678",  # not a mobile range
        "1381234567",  # a digit short
        "138123456789",
        "",  # withheld
        "anonymous",
        "Restricted",
    ],
)
def test_other_numbers_are_refused_with_the_reason(caller_id: str) -> None:
    with pytest.raises(CallbackRefused) as refused:
        callback_target(BEIJING, caller_id)
    assert refused.value.code == NUMBER_REFUSED
    assert "无法为您回电" in refused.value.message


def test_the_local_area_follows_the_dial_policy() -> None:
    shanghai = DialPolicy(local_area_code="021")
    assert callback_target(shanghai, "02162345678").national == "02162345678"
    with pytest.raises(CallbackRefused):
        callback_target(shanghai, "01062345678")
