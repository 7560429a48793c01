"""Settings read from environment variables prefixed ``CC_``.

Every process builds its own ``Settings`` in its composition root (never at import), so tests
can point a process at another database, Redis or Asterisk by passing values explicitly.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import socket
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.booking.rules import BookingRules
from backend.errors import ConfigError, InvalidValue
from backend.lines import (
    LINE_CODES,
    LINES,
    PHONE_NUMBER,
    PHONE_NUMBER_PROBLEM,
    REGISTRY_NAME,
    is_line,
)
from backend.localtime import DEFAULT_TIMEZONE, zone
from backend.telephony.dial_policy import DialPolicy, parse_kinds
from backend.workorders.deadlines import DeadlinePolicy

ENV_PREFIX = "CC_"
DEV_SECRET = "change-me-in-production"
# A Fernet key (urlsafe base64 of 32 bytes) that is only acceptable in development.
DEV_DATA_KEY = "ZGV2LWRhdGEta2V5LWRvLW5vdC11c2UtaW4tcHJvZCE="
DEFAULT_ASTERISK_ROOT = Path("/var/cache/callcenter/asterisk-root")
# Codecs the carrier trunk may offer: those the Asterisk modules (modules.conf) can transcode
# for recording and bridging.
CARRIER_CODECS = ("alaw", "ulaw", "gsm")


class Settings(BaseSettings):
    # "_" nests: CC_DID_114 is did["114"] (and CC_BOOKING_QUOTA_DAY booking.quota_day), split
    # once after the field's own name.
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", env_nested_delimiter="_", env_nested_max_split=1
    )

    environment: Literal["development", "test", "production"] = "development"

    # Storage
    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/callcenter"
    redis_url: str = "redis://127.0.0.1:6379/0"
    state_dir: Path = Path("/var/lib/callcenter")

    # Asterisk: the built-in one lives in a chroot; a production one is reached by host/port.
    asterisk_builtin: bool = True
    asterisk_root: Path = DEFAULT_ASTERISK_ROOT
    asterisk_instance: str = "main"
    ami_host: str = "127.0.0.1"
    ami_port: int = Field(default=5038, ge=1, le=65535)
    ami_username: str = "callcenter"
    ami_secret: SecretStr = SecretStr(DEV_SECRET)
    sip_bind: str = "127.0.0.1"
    sip_port: int = Field(default=5060, ge=1, le=65535)
    # SIP over TLS for desk phones (on CC_SIP_BIND): the port, and the certificate (chain)
    # and private key as PEM files as Asterisk sees them (inside its root or container).
    # Without a certificate there is no TLS transport. A phone that registers over TLS may
    # offer SRTP (SDES): its keys then never cross the network in clear.
    sip_tls_port: int = Field(default=5061, ge=1, le=65535)
    sip_tls_cert: str = ""
    sip_tls_key: str = ""
    # How callbacks and outbound calls reach a citizen: the carrier trunk in production.
    callback_dial_template: str = "PJSIP/{number}@carrier"

    # The carrier (PSTN) trunk. Outbound calls go to carrier_host:carrier_port; inbound
    # requests are the carrier's when their source matches carrier_match (comma-separated
    # addresses or networks, each with an optional :port; empty = carrier_host:carrier_port).
    # The default is a port-exact loopback match, so phones on 127.0.0.1 are never taken for
    # the carrier. With a username and password our requests answer the carrier's digest
    # challenges; carrier_register also registers the trunk, carrier_inbound_auth makes the
    # carrier authenticate its own INVITEs to us.
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
    # The skill whose agents call back each line's out-of-hours messages and queue voicemails.
    callback_skills: str = "114=general,hotline=policy"
    # Outbound calls (backend/telephony/dial_policy.py): the kinds of number agents may dial,
    # the area code of local numbers dialled without one, how long the far end rings, and the
    # agent's wrap-up after the call.
    outbound_allowed: str = "mobile,landline,local"
    outbound_local_area_code: str = "010"
    outbound_ring_seconds: int = Field(default=45, ge=5, le=300)
    outbound_wrapup_seconds: int = Field(default=15, ge=0, le=3600)
    # Dialled by the dialplan when the controller is unreachable, e.g. "PJSIP/1001&PJSIP/1002".
    fallback_agents: str = ""
    # Asterisk's HTTP server carries the browser softphones' SIP over WebSocket at /ws. Plain
    # WS is for loopback (development); production serves WSS from the TLS listener with a
    # certificate and key given as Asterisk sees them (paths inside its root or container).
    asterisk_http_bind: str = "127.0.0.1"
    asterisk_http_port: int = Field(default=8088, ge=1, le=65535)
    asterisk_https_port: int = Field(default=8089, ge=1, le=65535)
    asterisk_tls_cert: str = ""
    asterisk_tls_key: str = ""
    # The UDP ports Asterisk takes RTP (and SRTP) media from; instances on one host need
    # ranges of their own, and a firewall in front opens exactly this range.
    rtp_port_start: int = Field(default=10000, ge=1024, le=65534)
    rtp_port_end: int = Field(default=20000, ge=1025, le=65535)
    # Agent phones (PJSIP endpoints provisioned in PostgreSQL): the networks they may register
    # and call from (comma-separated CIDRs; Asterisk's named ACL "agent-phones"), and the digest
    # realm their secrets are hashed with. Changing the realm needs every secret rotated.
    phone_permit: str = "127.0.0.1/32"
    sip_realm: str = "callcenter"
    # How Asterisk reaches those tables (res_config_pgsql); empty means CC_DATABASE_URL. In
    # production give Asterisk a role that may only read ps_endpoints, ps_auths and ps_aors.
    asterisk_database_url: str = ""
    # What the browser softphone connects to and the SIP domain of its URI; empty means
    # Asterisk's own WS (or, with a certificate, WSS) listener and CC_SIP_BIND. Set them to the
    # public names when a proxy or another address stands in front of Asterisk.
    phone_ws_url: str = ""
    phone_domain: str = ""

    # The FastAGI controller: where it listens (loopback or a private address, never every
    # interface), the Asterisk nodes that may connect (comma-separated CIDRs; any other peer
    # is disconnected before a byte of it is read), and the address Asterisk dials to reach it.
    agi_bind: str = "127.0.0.1"
    agi_permit: str = "127.0.0.1/32"
    agi_port: int = Field(default=4573, ge=1, le=65535)
    agi_public_host: str = "127.0.0.1"

    # Paths as Asterisk sees them and as Python sees them. For the built-in Asterisk the
    # Python side is the same path under the chroot; for a remote one, a shared mount.
    asterisk_recordings_dir: str = ""
    asterisk_sounds_dir: str = ""
    recordings_dir: Path | None = None
    sounds_dir: Path | None = None

    # The agent desk
    desk_bind: str = "127.0.0.1"
    desk_port: int = Field(default=8080, ge=1, le=65535)
    # Requests a web worker serves at once in its thread pool, each with a database connection
    # of its own: the pools keep that many connections open between requests, so a busy
    # worker does not open and close one per request (that churn once cost more CPU than the
    # requests themselves).
    desk_concurrency: int = Field(default=16, ge=1, le=200)
    # Processes ``callcenter desk`` serves the desk in (about one per core it may use). They
    # keep nothing in memory that a user or a live feed depends on: sessions, agent states and
    # live events are in Redis, the rest in PostgreSQL; each holds its own connection pools.
    desk_workers: int = Field(default=1, ge=1, le=64)
    # uvicorn's line per request on standard output (who asked what, and the status). Off where
    # a proxy in front logs requests already: at the daily slot release it is a line for every
    # online booking.
    desk_access_log: bool = True
    # The performance layer (agent_desk/performance): plain online bookings answered in front
    # of FastAPI, the asyncpg pool and pipelined Redis connection of our own, responses written
    # in one system call. false: the standard path (the FastAPI route, asyncpg's pool,
    # redis-py, uvicorn as it comes), answering alike; e.g. to rule the layer out of a fault.
    desk_fast_path: bool = True
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    # Personal data encryption key (Fernet) and the key of the look-up hash.
    data_key: SecretStr = SecretStr(DEV_DATA_KEY)

    # The booking rules: CC_BOOKING_<RULE> for each field of BookingRules
    # (backend/booking/rules.py), e.g. CC_BOOKING_QUOTA_DAY=3, CC_BOOKING_RELEASE_TIME=07:30.
    booking: BookingRules = Field(default_factory=BookingRules)
    # The prefix of the online booking API's Redis keys (rate counters, idempotency).
    booking_redis_prefix: str = "cc:booking:"
    # Work-order deadlines: CC_WORKORDER_<FIELD> for each field of DeadlinePolicy
    # (backend/workorders/deadlines.py), e.g. CC_WORKORDER_HANDLE_WORKING_DAYS=7.
    workorder: DeadlinePolicy = Field(default_factory=DeadlinePolicy)

    # Recordings are kept this many days, then deleted (the deletion itself is audited).
    recording_retention_days: int = Field(default=730, ge=1)
    # Audit records are kept this many days (MLPS level 3: at least six months, so never
    # below 183), then exported to a file in audit_export_dir (default <state_dir>/
    # audit-exports) and deleted; the export and the deletion are audited themselves.
    audit_retention_days: int = Field(default=365, ge=183)
    audit_export_dir: Path | None = None

    # PostgreSQL roles (`callcenter db roles`): <prefix>migrator owns the schema and runs the
    # migrations; <prefix>controller, <prefix>desk and <prefix>worker are the processes',
    # <prefix>asterisk reads the agents' phones. Each process is given its own
    # CC_DATABASE_URL with its role; the passwords are only needed where the roles are made.
    db_role_prefix: str = "callcenter_"
    db_password_migrator: SecretStr = SecretStr("")
    db_password_controller: SecretStr = SecretStr("")
    db_password_desk: SecretStr = SecretStr("")
    db_password_worker: SecretStr = SecretStr("")
    db_password_asterisk: SecretStr = SecretStr("")

    # Speech
    tts_voice: str = "cmn"
    asr_model_path: Path | None = None

    # The centre's local time: slot release, working hours, report days, dates on pages.
    timezone: str = DEFAULT_TIMEZONE

    # Agent desk security (MLPS level 3): idle session expiry, lockout after repeated failed
    # logins, and the networks administrator pages may be reached from (comma-separated CIDRs).
    session_minutes: int = Field(default=30, ge=1, le=24 * 60)
    lockout_threshold: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    admin_ip_allowlist: str = "127.0.0.1/32,::1/128"
    # Key prefix of everything the desk keeps in Redis (sessions) and of the live-event channel.
    desk_redis_prefix: str = "cc"

    @field_validator("database_url", "asterisk_database_url")
    @classmethod
    def _postgres_only(cls, value: str, info: ValidationInfo) -> str:
        if info.field_name == "asterisk_database_url" and not value:
            return value
        if not value.startswith(("postgresql://", "postgresql+psycopg://")):
            raise ValueError("must be a postgresql:// or postgresql+psycopg:// URL")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("phone_ws_url")
    @classmethod
    def _websocket_url(cls, value: str) -> str:
        if value and not value.startswith(("ws://", "wss://")):
            raise ValueError("must be a ws:// or wss:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("phone_permit", "agi_permit")
    @classmethod
    def _cidr_list(cls, value: str) -> str:
        networks = [part.strip() for part in value.split(",") if part.strip()]
        if not networks:
            raise ValueError("must name at least one network (CIDR), e.g. 10.1.0.0/16")
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not a network in CIDR form") from None
        return ",".join(networks)

    @field_validator("agi_bind")
    @classmethod
    def _private_address(cls, value: str) -> str:
        # The controller takes calls from anyone who reaches it: it listens only where the
        # Asterisk nodes are, on loopback or a private network (AGI is plain text).
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address") from None
        if address.is_unspecified or not (address.is_loopback or address.is_private):
            raise ValueError(
                f"{value} is not a loopback or private address: the controller must not "
                "listen on every interface or a public one"
            )
        return value

    @field_validator("db_role_prefix")
    @classmethod
    def _role_prefix(cls, value: str) -> str:
        # Role names go into SQL as identifiers: lower-case letters, digits and _ only.
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,40}", value):
            raise ValueError("may only hold lower-case letters, digits and _ (at most 41)")
        return value

    @field_validator("sip_realm")
    @classmethod
    def _realm(cls, value: str) -> str:
        if not value or not all(c.isalnum() or c in "-_." for c in value):
            raise ValueError("may only contain letters, digits, '-', '_' and '.'")
        return value

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

    @field_validator("asterisk_instance")
    @classmethod
    def _instance_name(cls, value: str) -> str:
        if not value or not all(c.isalnum() or c in "-_" for c in value):
            raise ValueError("may only contain letters, digits, '-' and '_'")
        return value

    @model_validator(mode="after")
    def _one_time_zone(self) -> Settings:
        self.booking = dataclasses.replace(self.booking, timezone=self.timezone)
        self.workorder = dataclasses.replace(self.workorder, timezone=self.timezone)
        return self

    @model_validator(mode="after")
    def _media_settings_agree(self) -> Settings:
        # ConfigError passes through pydantic unwrapped, naming the variable to fix.
        if self.rtp_port_end - self.rtp_port_start < 2:
            raise ConfigError("rtp_port_end", "must be at least CC_RTP_PORT_START + 2")
        for cert, key in (
            ("asterisk_tls_cert", "asterisk_tls_key"),
            ("sip_tls_cert", "sip_tls_key"),
        ):
            if bool(getattr(self, cert)) != bool(getattr(self, key)):
                missing = key if getattr(self, cert) else cert
                together = f"{setting_env_name(cert)} and {setting_env_name(key)} go together"
                raise ConfigError(missing, together)
        if self.sip_tls and self.sip_tls_port == self.sip_port:
            raise ConfigError("sip_tls_port", "must differ from CC_SIP_PORT (UDP/TCP SIP)")
        return self

    @property
    def sip_tls(self) -> bool:
        """Whether Asterisk offers SIP over TLS (desk phones) with the configured certificate."""
        return bool(self.sip_tls_cert)

    @property
    def asterisk_test_contexts(self) -> bool:
        """Whether the dialplan gets the simulated phones' and the benchmarks' contexts
        (asterisk_conf/test/): the built-in Asterisk of development, the demo, the tests and
        the benchmarks; never a production one."""
        return self.asterisk_builtin and self.environment != "production"

    @property
    def asterisk_tls(self) -> bool:
        """Whether Asterisk serves WSS (and HTTPS) with the configured certificate."""
        return bool(self.asterisk_tls_cert)

    # Derived locations -------------------------------------------------------------------

    @property
    def instance_dir_in_chroot(self) -> str:
        return f"/srv/callcenter/{self.asterisk_instance}"

    @property
    def effective_asterisk_recordings_dir(self) -> str:
        return self.asterisk_recordings_dir or f"{self.instance_dir_in_chroot}/recordings"

    @property
    def effective_asterisk_sounds_dir(self) -> str:
        # Asterisk's own sounds directory: relative names such as "cc/prompt-<hash>" resolve
        # there, and the content-hashed prompts are shared by every instance of the root.
        return self.asterisk_sounds_dir or "/usr/share/asterisk/sounds"

    def host_path(self, asterisk_path: str) -> Path:
        """Where a file that Asterisk writes at ``asterisk_path`` is seen by Python."""
        if self.asterisk_builtin:
            return self.asterisk_root / asterisk_path.lstrip("/")
        return Path(asterisk_path)

    @property
    def effective_recordings_dir(self) -> Path:
        return self.recordings_dir or self.host_path(self.effective_asterisk_recordings_dir)

    @property
    def effective_sounds_dir(self) -> Path:
        return self.sounds_dir or self.host_path(self.effective_asterisk_sounds_dir)

    @property
    def effective_audit_export_dir(self) -> Path:
        return self.audit_export_dir or self.state_dir / "audit-exports"

    @property
    def effective_asterisk_database_url(self) -> str:
        return self.asterisk_database_url or self.database_url

    @property
    def effective_phone_ws_url(self) -> str:
        if self.phone_ws_url:
            return self.phone_ws_url
        if self.asterisk_tls:
            return f"wss://{self.asterisk_http_bind}:{self.asterisk_https_port}/ws"
        return f"ws://{self.asterisk_http_bind}:{self.asterisk_http_port}/ws"

    @property
    def effective_phone_domain(self) -> str:
        return self.phone_domain or self.sip_bind

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

    @property
    def agi_peers(self) -> tuple[IPNetwork, ...]:
        """The networks FastAGI connections are accepted from (CC_AGI_PERMIT)."""
        return cidr_networks(self.agi_permit)

    @property
    def dial_policy(self) -> DialPolicy:
        return DialPolicy.from_text(self.outbound_allowed, self.outbound_local_area_code)

    @property
    def callback_skill_of_line(self) -> dict[str, str]:
        return parse_line_map(self.callback_skills)

    @property
    def agi_url(self) -> str:
        return f"agi://{self.agi_public_host}:{self.agi_port}"

    def check_production_secrets(self) -> None:
        if self.environment != "production":
            return
        for name in ("ami_secret", "secret_key", "data_key"):
            value = getattr(self, name).get_secret_value()
            if value in (DEV_SECRET, DEV_DATA_KEY):
                raise ConfigError(name, "still has its development default; set a real secret")
        # A softphone's SIP password and call audio set-up must not cross a network in clear:
        # plain WS is only acceptable where it never leaves the host (a TLS proxy in front).
        if not self.asterisk_tls and not is_loopback(self.asterisk_http_bind):
            raise ConfigError(
                "asterisk_tls_cert",
                "production serves softphones over WSS: set CC_ASTERISK_TLS_CERT and "
                "CC_ASTERISK_TLS_KEY, or bind CC_ASTERISK_HTTP_BIND to loopback behind a TLS proxy",
            )


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


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def cidr_networks(value: str) -> tuple[IPNetwork, ...]:
    """A validated comma-separated CIDR setting as networks."""
    return tuple(ipaddress.ip_network(part, strict=False) for part in value.split(","))


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


HOST_NAME = re.compile(
    r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
)


def is_host(value: str) -> bool:
    """An IPv4/IPv6 address or a DNS host name."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return bool(HOST_NAME.fullmatch(value)) and not value.replace(".", "").isdigit()
    return True


def match_entry_problem(entry: str) -> str:
    """What is wrong with one PJSIP identify ``match`` entry, or '' if nothing.

    Accepted as Asterisk documents it: ``203.0.113.7``, ``203.0.113.0/24``,
    ``203.0.113.7:5060``, ``[2001:db8::1]:5060``, ``sbc.carrier.example``.
    """
    address, _, mask = entry.partition("/")
    port = ""
    if address.startswith("["):
        address, _, rest = address[1:].partition("]")
        port = rest.removeprefix(":") if rest.startswith(":") else ("?" if rest else "")
    elif address.count(":") == 1:
        address, port = address.split(":")
    if port and not (port.isdigit() and 1 <= int(port) <= 65535):
        return "the port must be a number from 1 to 65535"
    if mask:
        try:
            ipaddress.ip_network(f"{address}/{mask}", strict=False)
        except ValueError:
            return "not an address with a valid network mask"
        return ""
    return "" if is_host(address) else "not an IP address, network or host name"


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


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def setting_env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()
