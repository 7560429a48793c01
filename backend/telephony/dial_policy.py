"""Which numbers an agent may dial out to, and how a dialled number is written for the carrier.

Pure: no I/O. A number is first normalised (spaces, dashes, brackets and dots dropped; the
+86 / 0086 country prefix and the trunk 0 before a mobile number taken off), then classified:

==============  =============================================  ===========================
kind            what it looks like                             by default
==============  =============================================  ===========================
mobile          1[3-9] + 9 digits (13800138000)                allowed
landline        0 + area code + number (01062345678,           allowed
                075512345678)
local           7-8 digits without area code (62345678),       allowed
                dialled in the local area (Beijing: 010)
service         400 / 800 + 7 digits (4008123123)              refused
short           3-6 digits: 12345, 10086, 95588, 114           refused
international   00 or + followed by another country code       refused
emergency       110, 119, 120, 122, 112, 999                   always refused
==============  =============================================  ===========================

Why emergency numbers are never dialled from a seat: the call would present the hotline's
number, so the dispatcher could neither locate the person in need nor call them back; a
citizen in danger is told to hang up and dial 110/120 himself (a seat that stays on the line
transfers nothing). Short and service numbers reach menus or charge premium rates and are
not what a callback to a citizen needs; an administrator may allow them
(``CC_OUTBOUND_ALLOWED``), but never emergency numbers.

Every refusal carries a stable code and one clear Chinese sentence for the desk.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from backend.errors import ConfigError, Refused


class NumberKind(enum.StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"
    LOCAL = "local"
    SERVICE = "service"
    SHORT = "short"
    INTERNATIONAL = "international"
    EMERGENCY = "emergency"


KIND_LABELS: dict[NumberKind, str] = {
    NumberKind.MOBILE: "手机号码",
    NumberKind.LANDLINE: "固定电话",
    NumberKind.LOCAL: "本地固定电话",
    NumberKind.SERVICE: "400/800 服务号码",
    NumberKind.SHORT: "短号码和特服号码",
    NumberKind.INTERNATIONAL: "国际及港澳台号码",
    NumberKind.EMERGENCY: "紧急求助号码",
}
DEFAULT_ALLOWED = frozenset({NumberKind.MOBILE, NumberKind.LANDLINE, NumberKind.LOCAL})
# Never dialled from a seat, whatever the settings say (see the module docstring).
NEVER_ALLOWED = frozenset({NumberKind.EMERGENCY})
EMERGENCY_NUMBERS = frozenset({"110", "119", "120", "122", "112", "999"})
# Separators people type or paste between digit groups (after NFKC: full-width forms, which
# Chinese input methods produce, are plain ASCII by then).
SEPARATORS = frozenset(" -().")
MAX_DIGITS = 20


class DialRefused(Refused):
    """The number may not be dialled; ``code`` names the reason."""

    code = "dial-refused"


REFUSALS: dict[NumberKind, tuple[str, str]] = {
    NumberKind.INTERNATIONAL: ("number-international", "不允许拨打国际及港澳台号码"),
    NumberKind.EMERGENCY: (
        "number-emergency",
        "坐席外呼不能拨打紧急求助号码（110/119/120/122）：对方看到的是热线号码，无法定位和回拨"
        "求助人，请提醒来电人自行拨打",
    ),
    NumberKind.SHORT: ("number-short", "不允许拨打短号码和特服号码"),
    NumberKind.SERVICE: ("number-service", "不允许拨打 400/800 服务号码"),
}


@dataclass(frozen=True)
class DialTarget:
    """A number that may be dialled."""

    kind: NumberKind
    dial: str  # as sent to the carrier: local numbers without the area code
    national: str  # the full national form, for the call record and look-up hashes


def _digits(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw).strip()
    plus = text.startswith("+")
    body = "".join(c for c in text.removeprefix("+") if c not in SEPARATORS)
    if not body:
        raise DialRefused("请输入要拨打的号码", code="number-empty")
    if not body.isascii() or not body.isdigit():
        raise DialRefused("号码只能包含数字（可带 +86 前缀、空格或短横线）", code="number-invalid")
    if len(body) > MAX_DIGITS:
        raise DialRefused("号码位数过多", code="number-invalid")
    return ("+" if plus else "") + body


def _landline_ok(number: str) -> bool:
    """0 + area code + subscriber number: 010 and 02X have 2-digit codes and 8-digit numbers,
    the rest 3-digit codes and 7- or 8-digit numbers; subscriber numbers start with 2-9."""
    if len(number) < 5 or number[0] != "0" or number[1] == "0":
        return False
    if number[1] == "1":
        return number.startswith("010") and len(number) == 11 and number[3] in "23456789"
    if number[1] == "2":
        return len(number) == 11 and number[3] in "23456789"
    return len(number) in (11, 12) and number[4] in "23456789"


@dataclass(frozen=True)
class DialPolicy:
    allowed: frozenset[NumberKind] = DEFAULT_ALLOWED
    local_area_code: str = "010"  # prefixed to local numbers in their national form

    def __post_init__(self) -> None:
        if not _landline_ok(self.local_area_code + "23456789"):
            raise ConfigError("outbound_local_area_code", "must be an area code such as 010")

    @classmethod
    def from_text(cls, allowed: str, local_area_code: str = "010") -> DialPolicy:
        """``allowed``: comma-separated kinds (``CC_OUTBOUND_ALLOWED=mobile,landline,local``)."""
        return cls(parse_kinds(allowed), local_area_code.strip())

    def classify(self, raw: str) -> DialTarget:
        """The number's kind and forms; DialRefused when it is not a number at all."""
        digits = _digits(raw)
        if digits.startswith("+"):
            if not digits.startswith("+86"):
                return DialTarget(NumberKind.INTERNATIONAL, "00" + digits[1:], "00" + digits[1:])
            return self._national(digits[3:], after_country_code=True)
        if digits.startswith("0086"):
            return self._national(digits[4:], after_country_code=True)
        if digits.startswith("00"):
            return DialTarget(NumberKind.INTERNATIONAL, digits, digits)
        return self._national(digits, after_country_code=False)

    def check(self, raw: str) -> DialTarget:
        """The target when the policy allows it, else DialRefused with the reason."""
        target = self.classify(raw)
        if target.kind in self.allowed and target.kind not in NEVER_ALLOWED:
            return target
        code, message = REFUSALS.get(
            target.kind,
            ("number-kind-not-allowed", f"不允许外呼{KIND_LABELS[target.kind]}"),
        )
        raise DialRefused(message, code=code)

    def _national(self, number: str, *, after_country_code: bool) -> DialTarget:
        wrong_length = DialRefused("号码位数不正确，请核对后重拨", code="number-invalid")
        if after_country_code:
            # +86 is followed by a mobile number or by the area code without its trunk 0.
            if number.startswith("1") and len(number) == 11:
                return self._mobile(number, wrong_length)
            number = "0" + number
            if not _landline_ok(number):
                raise wrong_length
            return DialTarget(NumberKind.LANDLINE, number, number)
        if number in EMERGENCY_NUMBERS:
            return DialTarget(NumberKind.EMERGENCY, number, number)
        if len(number) <= 6:
            if len(number) < 3:
                raise wrong_length
            return DialTarget(NumberKind.SHORT, number, number)
        if number.startswith("1"):
            return self._mobile(number, wrong_length)
        if number.startswith("861") and len(number) == 13:
            return self._mobile(number[2:], wrong_length)  # the country code without 00 or +
        if number.startswith("01") and len(number) == 12 and number[2] in "3456789":
            return self._mobile(number[1:], wrong_length)  # a mobile dialled with the trunk 0
        if number.startswith(("400", "800")) and len(number) == 10:
            return DialTarget(NumberKind.SERVICE, number, number)
        if number.startswith("0"):
            if not _landline_ok(number):
                raise wrong_length
            return DialTarget(NumberKind.LANDLINE, number, number)
        if len(number) in (7, 8) and _landline_ok(self.local_area_code + number):
            return DialTarget(NumberKind.LOCAL, number, self.local_area_code + number)
        raise wrong_length

    @staticmethod
    def _mobile(number: str, wrong: DialRefused) -> DialTarget:
        if len(number) != 11 or number[1] not in "3456789":
            raise wrong
        return DialTarget(NumberKind.MOBILE, number, number)


def parse_kinds(text: str | Iterable[str]) -> frozenset[NumberKind]:
    names = [p.strip() for p in (text.split(",") if isinstance(text, str) else text)]
    kinds: set[NumberKind] = set()
    for name in filter(None, names):
        try:
            kind = NumberKind(name)
        except ValueError:
            known = ", ".join(k.value for k in NumberKind if k not in NEVER_ALLOWED)
            raise ConfigError(
                "outbound_allowed", f"unknown kind {name!r} (known: {known})"
            ) from None
        if kind in NEVER_ALLOWED:
            raise ConfigError("outbound_allowed", f"{name} numbers are never dialled from a seat")
        kinds.add(kind)
    return frozenset(kinds)
