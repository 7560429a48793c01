"""A backup as the CLI and beat take it: written, audited, older ones pruned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from backend.audit import Actor, record_audit
from backend.backup.archive import create_backup, prune
from backend.db import transaction
from backend.settings import Settings


@dataclass(frozen=True)
class TakenBackup:
    path: Path
    pruned: list[Path]


def take_backup(
    settings: Settings,
    factory: sessionmaker[Session],
    actor: Actor,
    destination: Path | None = None,
) -> TakenBackup:
    path = create_backup(settings, destination)
    audit(factory, actor, "backup.create", path)
    return TakenBackup(path, prune(path.parent, settings.backup_keep))


def audit(factory: sessionmaker[Session], actor: Actor, action: str, path: Path) -> None:
    with transaction(factory) as session:
        record_audit(session, actor, action, str(path)[:200], datetime.now(UTC), {})
