"""The Asterisk the centre runs on: the built-in one in its chroot or a production one
reached by host and port; its manager interface, HTTP/WebSocket listener, media ports, and
the paths of its files as Asterisk and as Python see them."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from backend.errors import ConfigError
from backend.settings.base import SettingsGroup, require_together

DEFAULT_ASTERISK_ROOT = Path("/var/cache/callcenter/asterisk-root")


class AsteriskSettings(SettingsGroup):
    # Asterisk: the built-in one lives in a chroot; a production one is reached by host/port.
    asterisk_builtin: bool = True
    asterisk_root: Path = DEFAULT_ASTERISK_ROOT
    asterisk_instance: str = "main"
    ami_host: str = "127.0.0.1"
    ami_port: int = Field(default=5038, ge=1, le=65535)
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
    # Asterisk's verbose trace (dialplan steps, Dial strings) names the numbers callers dial
    # and are called on, so it stays out of its logs; tests that read the dialplan's steps in
    # messages.log turn it up (3). Production refuses anything above 0: an operator watches
    # a live console (asterisk -rvvv), which is not written down.
    asterisk_verbose: int = Field(default=0, ge=0, le=5)

    # Paths as Asterisk sees them and as Python sees them. For the built-in Asterisk the
    # Python side is the same path under the chroot; for a remote one, a shared mount.
    asterisk_recordings_dir: str = ""
    asterisk_sounds_dir: str = ""
    recordings_dir: Path | None = None
    sounds_dir: Path | None = None

    @field_validator("asterisk_instance")
    @classmethod
    def _instance_name(cls, value: str) -> str:
        if not value or not all(c.isalnum() or c in "-_" for c in value):
            raise ValueError("may only contain letters, digits, '-' and '_'")
        return value

    @model_validator(mode="after")
    def _media_settings_agree(self) -> AsteriskSettings:
        # ConfigError passes through pydantic unwrapped, naming the variable to fix.
        if self.rtp_port_end - self.rtp_port_start < 2:
            raise ConfigError("rtp_port_end", "must be at least CC_RTP_PORT_START + 2")
        require_together(self, "asterisk_tls_cert", "asterisk_tls_key")
        return self

    @property
    def asterisk_test_contexts(self) -> bool:
        """Whether the dialplan gets test contexts (asterisk_conf/test/) at all: the built-in
        Asterisk of development, the demo, the tests and the benchmarks; never a production or
        an external one. Which of them each gets: ivr/pbx/dialplan.py."""
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
