"""Validators for digits collected from the keypad, chosen by name in the flow YAML."""

from __future__ import annotations

from collections.abc import Callable

from backend import idcard


class InputRejected(Exception):
    """The caller's digits are not acceptable; the message says why (for the IVR path)."""


def _digits(raw: str) -> str:
    if not raw.isdigit():
        raise InputRejected("只能输入数字")
    return raw


def _resident_id(raw: str) -> str:
    # A phone keypad has no X: callers press * for the trailing X of an ID number.
    try:
        return idcard.validate(raw.replace("*", "X"))
    except idcard.InvalidIdNumber as exc:
        raise InputRejected(exc.message) from None


VALIDATORS: dict[str, Callable[[str], str]] = {
    "digits": _digits,
    "resident_id": _resident_id,
}


def validate_input(validator: str, raw: str) -> str:
    """The normalized value, or InputRejected."""
    return VALIDATORS[validator](raw)
