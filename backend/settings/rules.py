"""The centre's time zone and the rules that run on its clock: the booking rules and the
work-order deadlines, each a sub-model read from CC_BOOKING_* and CC_WORKORDER_*."""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import Field, field_validator, model_validator

from backend.booking.rules import BookingRules
from backend.errors import ConfigError
from backend.localtime import DEFAULT_TIMEZONE, zone
from backend.settings.base import ENV_PREFIX, SettingsGroup
from backend.workorders.deadlines import DeadlinePolicy


class RuleSettings(SettingsGroup):
    # The booking rules: CC_BOOKING_<RULE> for each field of BookingRules
    # (backend/booking/rules.py), e.g. CC_BOOKING_QUOTA_DAY=3, CC_BOOKING_RELEASE_TIME=07:30.
    booking: BookingRules = Field(default_factory=BookingRules)
    # The prefix of the online booking API's Redis keys (rate counters, idempotency).
    booking_redis_prefix: str = "cc:booking:"
    # Work-order deadlines: CC_WORKORDER_<FIELD> for each field of DeadlinePolicy
    # (backend/workorders/deadlines.py), e.g. CC_WORKORDER_HANDLE_WORKING_DAYS=7.
    workorder: DeadlinePolicy = Field(default_factory=DeadlinePolicy)

    # The centre's local time: slot release, working hours, report days, dates on pages.
    timezone: str = DEFAULT_TIMEZONE

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        zone(value)
        return value

    @model_validator(mode="before")
    @classmethod
    def _sub_model_variables(cls, data: Any) -> Any:
        """CC_BOOKING_* and CC_WORKORDER_* arrive as ``booking`` and ``workorder`` mappings:
        the booking API's Redis prefix is a setting of its own, the time zone is the centre's
        (CC_TIMEZONE), and a variable naming no field is refused rather than ignored."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for field, model in (("booking", BookingRules), ("workorder", DeadlinePolicy)):
            given = data.get(field)
            if not isinstance(given, dict):
                continue
            given = dict(given)
            # Settings dumped and validated again (a variant for a second Asterisk) carry the
            # centre's own zone in each sub-model: that is no second time zone.
            if given.get("timezone") == data.get("timezone", DEFAULT_TIMEZONE):
                given.pop("timezone")
            if field == "booking" and "redis_prefix" in given:
                data.setdefault("booking_redis_prefix", given.pop("redis_prefix"))
            known = {item.name for item in dataclasses.fields(model)} - {"timezone"}
            for name in given:
                if name not in known:
                    variable = f"{ENV_PREFIX}{field.upper()}_{name.upper()}"
                    problem = (
                        "the centre has one time zone: set CC_TIMEZONE"
                        if name == "timezone"
                        else f"names no field of {model.__name__} (the {field} settings)"
                    )
                    raise ConfigError(variable, problem)
            data[field] = given
        return data

    @model_validator(mode="after")
    def _one_time_zone(self) -> RuleSettings:
        self.booking = dataclasses.replace(self.booking, timezone=self.timezone)
        self.workorder = dataclasses.replace(self.workorder, timezone=self.timezone)
        return self
