"""Mainland resident identity card numbers (GB 11643-1999): 18 characters with a check digit."""

from __future__ import annotations

import re
from datetime import date

from backend.errors import CallCenterError

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


class InvalidIdNumber(CallCenterError):
    code = "invalid-id-number"


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def normalize(raw: str) -> str:
    """Strip spaces and upper-case the trailing x; no other change is made."""
    return raw.replace(" ", "").strip().upper()


def validate(raw: str) -> str:
    """Return the normalized number or raise InvalidIdNumber saying what is wrong."""
    number = normalize(raw)
    if len(number) != 18:
        raise InvalidIdNumber(f"身份证号应为18位，收到{len(number)}位")
    if not _SHAPE.match(number):
        raise InvalidIdNumber("身份证号前17位须为数字，最后一位为数字或X")
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber("身份证号中的出生日期无效") from None
    if check_char(number[:17]) != number[17]:
        raise InvalidIdNumber("身份证号校验位不正确")
    return number


def is_valid(raw: str) -> bool:
    try:
        validate(raw)
    except InvalidIdNumber:
        return False
    return True


def birth_date(number: str) -> date:
    number = validate(number)
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def make_valid(first17: str) -> str:
    """Complete 17 digits with their check character (for demo and test data)."""
    return first17 + check_char(first17)
