"""The line registry: every phone line the centre answers, declared once in ``data/lines.yaml``.

The file is read when this module is imported: the ``Line`` enum of call records is built from
it, and an enum cannot wait for a composition root. It is package data (like the holiday
calendar), not a setting; what differs between deployments, each line's DID and caller ID, is
overridden by ``CC_DID_<CODE>`` and ``CC_CALLER_ID_<CODE>`` (``backend.settings``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Literal, Protocol

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from backend.errors import ConfigError
from backend.workcalendar import CalendarMissing

log = logging.getLogger(__name__)

REGISTRY_FILE = Path(__file__).parent / "data" / "lines.yaml"
REGISTRY_NAME = "backend/data/lines.yaml"  # as error messages name it
PHONE_NUMBER = re.compile(r"\+?[0-9]{3,20}")
PHONE_NUMBER_PROBLEM = "is not a number of 3 to 20 digits (an optional +)"


def check_phone_number(value: str) -> str:
    if not PHONE_NUMBER.fullmatch(value):
        raise ValueError(f"{value!r} {PHONE_NUMBER_PROBLEM}")
    return value


class WorkingDays(Protocol):
    """The working-day calendar (``backend.workcalendar.WorkCalendar`` or ``LiveCalendar``);
    a strict one raises ``CalendarMissing`` for a year not entered."""

    def within_hours(self, moment: datetime, opens: time, closes: time) -> bool: ...


@dataclass(frozen=True)
class Opening:
    open: bool
    calendar_missing: int | None = None  # the year not entered, when that decided it


class LineHours(BaseModel):
    """When agents answer a line (the flow's time branches default to these)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    days: Literal["working_days", "every_day"] = "working_days"
    opens: time
    closes: time

    @field_validator("closes")
    @classmethod
    def _closes_after_opens(cls, value: time, info: ValidationInfo) -> time:
        opens = info.data.get("opens")
        if opens is not None and value <= opens:
            raise ValueError("closes must be later than opens")
        return value

    def is_open(self, local: datetime, calendar: WorkingDays) -> bool:
        """Whether ``local`` (the line's local time) falls in these hours."""
        return self.opening(local, calendar).open

    def opening(self, local: datetime, calendar: WorkingDays) -> Opening:
        """Whether ``local`` falls in these hours, and whether the calendar lacked its year.

        Calendar missing: open by the weekday's hours (Monday–Friday), logged as an error. A
        caller put through to agents on a holiday is better than one turned away on a
        working day; the wallboard's calendar alert (``backend/holiday_calendar/reminder.py``)
        is already up by then."""
        in_hours = self.opens <= local.time() < self.closes
        if self.days != "working_days":
            return Opening(in_hours)
        try:
            return Opening(calendar.within_hours(local, self.opens, self.closes))
        except CalendarMissing as missing:
            log.error("%s: %s treated as open by weekday hours", missing, local.date())
            return Opening(in_hours and local.weekday() < 5, calendar_missing=missing.year)


class LineSpec(BaseModel):
    """One line, as ``data/lines.yaml`` declares it (the file's header explains each field)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Lower case: environment variable names are read case-insensitively (CC_DID_<CODE>).
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=16)
    db_name: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=16)
    label: str = Field(min_length=1)
    short_label: str = Field(min_length=1)
    flow: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    did: str
    caller_id: str
    hours: LineHours | None = None  # None: 7×24
    service_level: float = Field(default=0.8, gt=0, lt=1)

    @field_validator("did", "caller_id")
    @classmethod
    def _phone_number(cls, value: str) -> str:
        return check_phone_number(value)

    @property
    def env_key(self) -> str:
        """The line's part of its variables' names: CC_DID_<env_key>, CC_CALLER_ID_<env_key>."""
        return self.code.upper()


class LineRegistry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    lines: tuple[LineSpec, ...] = Field(min_length=1)

    @field_validator("lines")
    @classmethod
    def _distinct(cls, lines: tuple[LineSpec, ...]) -> tuple[LineSpec, ...]:
        for attribute in ("code", "db_name", "did", "flow"):
            seen: set[str] = set()
            for spec in lines:
                value = getattr(spec, attribute)
                if value in seen:
                    raise ValueError(f"two lines have the {attribute} {value!r}")
                seen.add(value)
        return lines


def load_registry(path: Path = REGISTRY_FILE) -> tuple[LineSpec, ...]:
    """The lines of ``path``; a mistake is a ConfigError naming the file, line and field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return LineRegistry.model_validate(raw).lines
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(str(path), f"cannot read the line registry: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "lines"
        raise ConfigError(str(path), f"{where}: {first['msg']}") from None


LINES: tuple[LineSpec, ...] = load_registry()
LINE_CODES: tuple[str, ...] = tuple(spec.code for spec in LINES)
LINE_LABELS: dict[str, str] = {spec.code: spec.label for spec in LINES}
_BY_CODE = {spec.code: spec for spec in LINES}


def line_spec(code: str) -> LineSpec:
    """The line named ``code``; KeyError for a code the registry does not hold."""
    return _BY_CODE[code]


def is_line(code: str) -> bool:
    return code in _BY_CODE
