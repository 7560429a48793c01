"""`callcenter backup [create|list|verify PATH]` and `callcenter restore PATH`
(docs/backup.md)."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from backend.audit import Actor
from backend.backup.archive import list_backups
from backend.backup.restore import restore_backup, verify_backup
from backend.backup.service import audit, take_backup
from backend.db import make_engine, make_session_factory
from backend.settings import Settings


def add_backup_parsers(sub: argparse._SubParsersAction) -> None:
    backup = sub.add_parser("backup", help="back up the database, recordings, prompts, config")
    actions = backup.add_subparsers(dest="action")
    create = actions.add_parser("create", help="take a backup now (the default action)")
    create.add_argument("--to", type=Path, help="parent directory (default CC_BACKUP_DIR)")
    actions.add_parser("list", help="the backups kept in CC_BACKUP_DIR")
    verify = actions.add_parser(
        "verify", help="check checksums and restore into a scratch database to compare"
    )
    verify.add_argument("path", type=Path)
    restore = sub.add_parser("restore", help="restore a backup into an empty system")
    restore.add_argument("path", type=Path)
    restore.add_argument("--config-to", type=Path, help="where to put the backed-up config")


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    action = args.action or "create"
    if action == "list":
        for path in list_backups(settings.effective_backup_dir):
            print(path)
        return 0
    if action == "verify":
        verified = verify_backup(settings, args.path)
        print(f"{args.path}: {verified.files} files and {verified.tables} tables "
              f"({verified.rows} rows) match the manifest")  # fmt: skip
        return 0
    engine = make_engine(settings, pool_size=1, max_overflow=0)
    try:
        factory = make_session_factory(engine)
        taken = take_backup(settings, factory, _actor(), getattr(args, "to", None))
    finally:
        engine.dispose()
    removed = f"; {len(taken.pruned)} older removed" if taken.pruned else ""
    print(f"backup written to {taken.path}{removed}")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    restore_backup(settings, args.path, config_to=args.config_to)
    engine = make_engine(settings, pool_size=1, max_overflow=0)
    try:
        # Audited in the restored database: its trail shows when it came back, and from what.
        audit(make_session_factory(engine), _actor(), "backup.restore", args.path)
    finally:
        engine.dispose()
    print(f"restored {args.path}; run `callcenter db upgrade` and `callcenter db roles` next")
    return 0


def _actor() -> Actor:
    return Actor(f"cli:{getpass.getuser()}"[:64])


BACKUP_HANDLERS = {"backup": cmd_backup, "restore": cmd_restore}
