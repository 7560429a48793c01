"""Building settings in a composition root, and a validation error as the variable to fix."""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from backend.errors import ConfigError, InvalidValue
from backend.settings.base import ENV_PREFIX
from backend.settings.model import Settings


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, turning validation errors into ConfigError."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise config_error(exc.errors()[0]) from None
    settings.check_production_secrets()
    settings.check_carrier()
    return settings


def config_error(error: ErrorDetails) -> ConfigError:
    """One validation error as the variable to fix: a field of a sub-model (``booking``,
    ``workorder``) is CC_<MODEL>_<FIELD>, as is the field its own check names."""
    loc = [str(part) for part in error["loc"]]
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, InvalidValue):
        return ConfigError(ENV_PREFIX + "_".join([*loc, cause.field]).upper(), cause.problem)
    if len(loc) > 1:
        value = error.get("input")
        return ConfigError(
            ENV_PREFIX + "_".join(loc).upper(), f"not a valid value: {value!r} ({error['msg']})"
        )
    # pydantic says "Value error, <what the validator said>": the variable's name says enough.
    return ConfigError(loc[0] if loc else "settings", error["msg"].removeprefix("Value error, "))
