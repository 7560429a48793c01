"""Calls the centre places: callbacks to citizens, the agents' outbound calls, and the agents
the dialplan rings when the controller is unreachable."""

from __future__ import annotations

from pydantic import Field, field_validator

from backend.errors import ConfigError
from backend.lines import LINE_CODES, is_line
from backend.settings.base import SettingsGroup
from backend.telephony.dial_policy import DialPolicy, parse_kinds


class DiallingSettings(SettingsGroup):
    # How callbacks and outbound calls reach a citizen: the carrier trunk in production.
    callback_dial_template: str = "PJSIP/{number}@carrier"
    # The skill whose agents call back each line's out-of-hours messages and queue voicemails.
    callback_skills: str = "114=general,hotline=policy"
    # Callbacks the system places to one number in one local day, whatever asked for them
    # (backend/telephony/callback_gate.py): a forged caller ID cannot make us ring a stranger.
    callback_daily_cap: int = Field(default=3, ge=1, le=50)
    # Callbacks at a chosen time (backend/telephony/callback_windows.py): how many callbacks
    # one half-hour window of a line takes, and how many free windows a caller is offered.
    callback_window_capacity: int = Field(default=4, ge=1, le=500)
    callback_window_choices: int = Field(default=3, ge=1, le=8)
    # Outbound calls (backend/telephony/dial_policy.py): the kinds of number agents may dial,
    # the area code of local numbers dialled without one, how long the far end rings, and the
    # agent's wrap-up after the call.
    outbound_allowed: str = "mobile,landline,local"
    outbound_local_area_code: str = "010"
    outbound_ring_seconds: int = Field(default=45, ge=5, le=300)
    outbound_wrapup_seconds: int = Field(default=15, ge=0, le=3600)
    # Dialled by the dialplan when the controller is unreachable, e.g. "PJSIP/1001&PJSIP/1002".
    fallback_agents: str = ""

    @field_validator("callback_dial_template")
    @classmethod
    def _dial_template(cls, value: str) -> str:
        if "{number}" not in value or value.count("{") != 1 or value.count("}") != 1:
            raise ValueError("must contain {number} once and no other braces")
        return value

    @field_validator("callback_skills")
    @classmethod
    def _callback_skills(cls, value: str) -> str:
        parse_line_map(value)
        return value

    @field_validator("outbound_allowed")
    @classmethod
    def _outbound_kinds(cls, value: str) -> str:
        try:
            parse_kinds(value)
        except ConfigError as exc:
            raise ValueError(exc.message.split(": ", 1)[-1]) from None
        return value

    @field_validator("outbound_local_area_code")
    @classmethod
    def _area_code(cls, value: str) -> str:
        try:
            DialPolicy(local_area_code=value)
        except ConfigError:
            raise ValueError("must be an area code with its 0, such as 010") from None
        return value

    @property
    def dial_policy(self) -> DialPolicy:
        return DialPolicy.from_text(self.outbound_allowed, self.outbound_local_area_code)

    @property
    def callback_skill_of_line(self) -> dict[str, str]:
        return parse_line_map(self.callback_skills)


def parse_line_map(text: str) -> dict[str, str]:
    """``"114=general,hotline=policy"`` -> {"114": "general", "hotline": "policy"}."""
    result: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        line, sep, value = (s.strip() for s in part.partition("="))
        if not sep or not value:
            raise ValueError(f"{part!r} is not line=value")
        if not is_line(line):
            raise ValueError(f"unknown line {line!r} (lines: {', '.join(LINE_CODES)})")
        result[line] = value
    return result
