"""The outbound dial policy: what an agent may dial, normalised, and why a number is refused."""

from __future__ import annotations

import pytest

from backend.errors import ConfigError
from backend.telephony.dial_policy import (
    DialPolicy,
    DialRefused,
    NumberKind,
    parse_kinds,
)

POLICY = DialPolicy()
K = NumberKind


@pytest.mark.parametrize(
    ("typed", "kind", "dial", "national"),
    [
        ("13800138000", K.MOBILE, "13800138000", "13800138000"),
        ("138 0013 8000", K.MOBILE, "13800138000", "13800138000"),
        ("138-0013-8000", K.MOBILE, "13800138000", "13800138000"),
        ("+86 138 0013 8000", K.MOBILE, "13800138000", "13800138000"),
        ("+8613800138000", K.MOBILE, "13800138000", "13800138000"),
        ("0086 13800138000", K.MOBILE, "13800138000", "13800138000"),
        ("8613800138000", K.MOBILE, "13800138000", "13800138000"),
        ("013800138000", K.MOBILE, "13800138000", "13800138000"),  # trunk 0 before a mobile
        ("１３８００１３８０００", K.MOBILE, "13800138000", "13800138000"),  # full-width
        ("19912345678", K.MOBILE, "19912345678", "19912345678"),
        ("010-62345678", K.LANDLINE, "01062345678", "01062345678"),
        ("(010) 6234 5678", K.LANDLINE, "01062345678", "01062345678"),
        ("+86 10 6234 5678", K.LANDLINE, "01062345678", "01062345678"),
        ("0086-21-52345678", K.LANDLINE, "02152345678", "02152345678"),
        ("0755-86012345", K.LANDLINE, "075586012345", "075586012345"),
        ("0311-8612345", K.LANDLINE, "03118612345", "03118612345"),
        ("62345678", K.LOCAL, "62345678", "01062345678"),  # Beijing, no area code
        ("4008123123", K.SERVICE, "4008123123", "4008123123"),
        ("800-810-8888", K.SERVICE, "8008108888", "8008108888"),
        ("12345", K.SHORT, "12345", "12345"),
        ("95588", K.SHORT, "95588", "95588"),
        ("114", K.SHORT, "114", "114"),
        ("120", K.EMERGENCY, "120", "120"),
        ("110", K.EMERGENCY, "110", "110"),
        ("+1 650 253 0000", K.INTERNATIONAL, "0016502530000", "0016502530000"),
        ("00852 2345 6789", K.INTERNATIONAL, "0085223456789", "0085223456789"),
    ],
)
def test_numbers_are_normalised_and_classified(
    typed: str, kind: NumberKind, dial: str, national: str
) -> None:
    target = POLICY.classify(typed)
    assert (target.kind, target.dial, target.national) == (kind, dial, national)


@pytest.mark.parametrize(
    "typed", ["13800138000", "+86 138 0013 8000", "010-62345678", "62345678", "0755-86012345"]
)
def test_mobiles_and_landlines_are_allowed_by_default(typed: str) -> None:
    assert POLICY.check(typed).kind in (K.MOBILE, K.LANDLINE, K.LOCAL)


@pytest.mark.parametrize(
    ("typed", "code", "words"),
    [
        ("+1 650 253 0000", "number-international", "国际"),
        ("0044 20 7946 0000", "number-international", "国际"),
        ("+852 2345 6789", "number-international", "港澳台"),
        ("110", "number-emergency", "紧急求助"),
        ("120", "number-emergency", "自行拨打"),
        ("12345", "number-short", "短号码"),
        ("4008123123", "number-service", "400/800"),
        ("", "number-empty", "请输入"),
        ("   ", "number-empty", "请输入"),
        ("1380013800a", "number-invalid", "只能包含数字"),
        ("138*0013", "number-invalid", "只能包含数字"),
        ("1380013800", "number-invalid", "位数不正确"),  # one digit short
        ("138001380001", "number-invalid", "位数不正确"),
        ("12012345678", "number-invalid", "位数不正确"),  # no mobile range starts 12
        ("0101234567", "number-invalid", "位数不正确"),
        ("01012345678", "number-invalid", "位数不正确"),  # subscriber numbers start 2-9
        ("07551234", "number-invalid", "位数不正确"),
        ("12", "number-invalid", "位数不正确"),
        ("9" * 21, "number-invalid", "位数过多"),
    ],
)
def test_refusals_carry_a_stable_code_and_a_chinese_reason(
    typed: str, code: str, words: str
) -> None:
    with pytest.raises(DialRefused) as refused:
        POLICY.check(typed)
    assert refused.value.code == code
    assert words in refused.value.message


def test_the_allowed_kinds_are_a_setting() -> None:
    mobiles_only = DialPolicy.from_text("mobile")
    assert mobiles_only.check("13800138000").kind is K.MOBILE
    with pytest.raises(DialRefused) as refused:
        mobiles_only.check("010-62345678")
    assert refused.value.code == "number-kind-not-allowed"
    assert refused.value.message == "不允许外呼固定电话"
    with_service = DialPolicy.from_text("mobile, landline, local, service")
    assert with_service.check("4008123123").kind is K.SERVICE


def test_emergency_numbers_cannot_be_allowed_and_unknown_kinds_are_named() -> None:
    with pytest.raises(ConfigError) as never:
        parse_kinds("mobile,emergency")
    assert "CC_OUTBOUND_ALLOWED" in never.value.message
    with pytest.raises(ConfigError) as unknown:
        parse_kinds("mobile,satellite")
    assert "satellite" in unknown.value.message and "landline" in unknown.value.message


def test_local_numbers_take_the_configured_area_code() -> None:
    shanghai = DialPolicy.from_text("mobile,landline,local", "021")
    assert shanghai.check("52345678").national == "02152345678"
    with pytest.raises(ConfigError):
        DialPolicy.from_text("local", "999")
