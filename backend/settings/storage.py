"""Where the centre's data lives: PostgreSQL (and its roles), Redis, the state directory,
and how long recordings and audit records are kept."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from backend.errors import ConfigError
from backend.settings.base import SettingsGroup


class StorageSettings(SettingsGroup):
    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/callcenter"
    redis_url: str = "redis://127.0.0.1:6379/0"
    state_dir: Path = Path("/var/lib/callcenter")
    # How Asterisk reaches the agents' phones tables (res_config_pgsql); empty means
    # CC_DATABASE_URL. In production give Asterisk a role that may only read ps_endpoints,
    # ps_auths and ps_aors.
    asterisk_database_url: str = ""

    # Recordings are kept this many days, then deleted (the deletion itself is audited).
    recording_retention_days: int = Field(default=730, ge=1)
    # Audit records are kept this many days (MLPS level 3: at least six months, so never
    # below 183), then exported to a file in audit_export_dir (default <state_dir>/
    # audit-exports) and deleted; the export and the deletion are audited themselves.
    audit_retention_days: int = Field(default=365, ge=183)
    audit_export_dir: Path | None = None

    # Backups (`callcenter backup`, docs/backup.md): taken by beat every
    # backup_interval_hours (the contracts ask for at most 7 days apart; at most daily here)
    # into backup_dir (default <state_dir>/backups), the newest backup_keep kept.
    # backup_include: further files or directories to keep with each (the settings file,
    # certificates), e.g. CC_BACKUP_INCLUDE='["/etc/callcenter"]'.
    backup_dir: Path | None = None
    backup_interval_hours: float = Field(default=24.0, gt=0, le=24)
    backup_keep: int = Field(default=14, ge=1)
    backup_include: list[Path] = Field(default_factory=list)

    # Disk space, watched by the controller (ivr/disk_watch.py) every disk_check_seconds:
    # below disk_warn_free_mb free on the recordings' or PostgreSQL's disk the supervisors are
    # alerted (wallboard); below disk_refuse_free_mb on the recordings' disk new calls go
    # through unrecorded (flagged "not recorded") rather than fill it. A recorded minute is
    # about 1 MB. postgres_data_dir: PostgreSQL's data directory when it is on this machine
    # (empty: asked of PostgreSQL, and not watched when it is elsewhere).
    disk_warn_free_mb: int = Field(default=10240, ge=0)
    disk_refuse_free_mb: int = Field(default=2048, ge=0)
    disk_check_seconds: float = Field(default=10.0, gt=0)
    postgres_data_dir: Path | None = None

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

    @model_validator(mode="after")
    def _warn_before_refusing(self) -> StorageSettings:
        if self.disk_refuse_free_mb > self.disk_warn_free_mb:
            raise ConfigError(
                "disk_refuse_free_mb", "must not exceed CC_DISK_WARN_FREE_MB: warn first"
            )
        return self

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

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("db_role_prefix")
    @classmethod
    def _role_prefix(cls, value: str) -> str:
        # Role names go into SQL as identifiers: lower-case letters, digits and _ only.
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,40}", value):
            raise ValueError("may only hold lower-case letters, digits and _ (at most 41)")
        return value

    @property
    def effective_backup_dir(self) -> Path:
        return self.backup_dir or self.state_dir / "backups"

    @property
    def effective_audit_export_dir(self) -> Path:
        return self.audit_export_dir or self.state_dir / "audit-exports"

    @property
    def effective_asterisk_database_url(self) -> str:
        return self.asterisk_database_url or self.database_url
