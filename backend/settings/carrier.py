"""The carrier (PSTN) trunk: where it is, how it authenticates, the codecs it may offer, and
the numbers it delivers each line on and presents for each line's outbound calls."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from backend.errors import ConfigError
from backend.lines import LINES, PHONE_NUMBER, PHONE_NUMBER_PROBLEM, REGISTRY_NAME, is_line
from backend.settings.addresses import is_host, match_entry_problem
from backend.settings.base import ENV_PREFIX, SettingsGroup

# Codecs the carrier trunk may offer: those the Asterisk modules (modules.conf) can transcode
# for recording and bridging.
CARRIER_CODECS = ("alaw", "ulaw", "gsm")


class CarrierSettings(SettingsGroup):
    # Outbound calls go to carrier_host:carrier_port; inbound requests are the carrier's when
    # their source matches carrier_match (comma-separated addresses or networks, each with an
    # optional :port; empty = carrier_host:carrier_port). The default is a port-exact loopback
    # match, so phones on 127.0.0.1 are never taken for the carrier. With a username and
    # password our requests answer the carrier's digest challenges; carrier_register also
    # registers the trunk, carrier_inbound_auth makes the carrier authenticate its own INVITEs
    # to us.
    carrier_host: str = "127.0.0.1"
    carrier_port: int = Field(default=5080, ge=1, le=65535)
    carrier_transport: Literal["udp", "tcp"] = "udp"
    carrier_match: str = ""
    carrier_codecs: str = "alaw,ulaw"
    carrier_username: str = ""
    carrier_password: SecretStr = SecretStr("")
    carrier_register: bool = False
    carrier_inbound_auth: bool = False
    # The number the carrier delivers each line on (CC_DID_<CODE>: CC_DID_114, CC_DID_HOTLINE),
    # and the caller ID each line presents on outbound calls, callbacks and the agents' calls
    # (CC_CALLER_ID_<CODE>), by line code; a line not set keeps the numbers of its entry in
    # the line registry (backend/data/lines.yaml).
    did: dict[str, str] = Field(default_factory=dict)
    caller_id: dict[str, str] = Field(default_factory=dict)

    @field_validator("carrier_host")
    @classmethod
    def _carrier_host(cls, value: str) -> str:
        if not is_host(value):
            raise ValueError(f"{value!r} is not an IP address or host name")
        return value

    @field_validator("carrier_match")
    @classmethod
    def _carrier_match(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            problem = match_entry_problem(entry)
            if problem:
                raise ValueError(f"{entry!r}: {problem}")
        return ",".join(entries)

    @field_validator("carrier_codecs")
    @classmethod
    def _carrier_codecs(cls, value: str) -> str:
        codecs = [codec.strip().lower() for codec in value.split(",") if codec.strip()]
        unknown = [codec for codec in codecs if codec not in CARRIER_CODECS]
        if not codecs or unknown:
            raise ValueError(
                f"{', '.join(unknown) or 'no codec'}: choose from {', '.join(CARRIER_CODECS)}"
            )
        return ",".join(dict.fromkeys(codecs))

    @field_validator("carrier_username")
    @classmethod
    def _carrier_username(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Za-z0-9._~+-]{1,64}", value):
            raise ValueError("may only hold letters, digits and . _ ~ + - (at most 64)")
        return value

    @model_validator(mode="before")
    @classmethod
    def _flat_line_numbers(cls, data: Any) -> Any:
        """``did_114="…"`` given as a keyword is ``did={"114": "…"}``, as CC_DID_114 is."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for field in ("did", "caller_id"):
            flat = {
                key.removeprefix(f"{field}_"): data.pop(key)
                for key in list(data)
                if key.startswith(f"{field}_")
            }
            if flat:
                data[field] = {**(data.get(field) or {}), **flat}
        return data

    @field_validator("did", "caller_id")
    @classmethod
    def _line_numbers(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        variable = f"{ENV_PREFIX}{(info.field_name or '').upper()}_"
        numbers = {code.lower(): number for code, number in value.items()}
        for code, number in numbers.items():
            if not is_line(code):
                raise ConfigError(
                    variable + code.upper(),
                    f"no line {code!r} in the line registry ({REGISTRY_NAME})",
                )
            if not PHONE_NUMBER.fullmatch(number):
                raise ConfigError(variable + code.upper(), f"{number!r} {PHONE_NUMBER_PROBLEM}")
        default = {spec.code: getattr(spec, info.field_name or "") for spec in LINES}
        return {**default, **numbers}

    @property
    def effective_carrier_match(self) -> str:
        return self.carrier_match or f"{self.carrier_host}:{self.carrier_port}"

    def check_carrier(self) -> None:
        """Settings that are only wrong together, named by the variable to fix."""
        line_of_did: dict[str, str] = {}
        for code, did in self.did.items():
            if did in line_of_did:
                first = f"CC_DID_{line_of_did[did].upper()}"
                raise ConfigError(
                    f"CC_DID_{code.upper()}", f"is the same number as {first} ({did})"
                )
            line_of_did[did] = code
        wants_credentials = self.carrier_register or self.carrier_inbound_auth
        if wants_credentials and not self.carrier_username:
            raise ConfigError("carrier_username", "is needed for registration or inbound auth")
        if self.carrier_username and not self.carrier_password.get_secret_value():
            raise ConfigError("carrier_password", "is empty while CC_CARRIER_USERNAME is set")
