"""`callcenter audit verify|export|retention` and `callcenter db roles`."""

from __future__ import annotations

import argparse
import getpass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from backend.audit.retention import apply_audit_retention, export_audited
from backend.audit.store import export_records, verify_chain
from backend.db import make_engine, make_session_factory
from backend.db_roles import create_roles
from backend.errors import Refused
from backend.settings import Settings


def add_audit_parser(sub: argparse._SubParsersAction) -> None:
    audit = sub.add_parser("audit", help="the audit trail")
    actions = audit.add_subparsers(dest="action", required=True)
    actions.add_parser("verify", help="check the hash chain: edited or deleted records")
    export = actions.add_parser("export", help="write audit records to a JSON Lines file")
    export.add_argument("--since", type=date.fromisoformat, help="first day (Beijing time)")
    export.add_argument("--until", type=date.fromisoformat, help="last day (Beijing time)")
    export.add_argument("--out", type=Path, required=True)
    actions.add_parser("retention", help="export and delete records past their retention")


def _engine(settings: Settings) -> Engine:
    return make_engine(settings, pool_size=1, max_overflow=1)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"[:64]


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    try:
        if args.action == "verify":
            verdict = verify_chain(engine)
            for problem in verdict.problems:
                print(f"{problem.kind}: {problem.message}")
            if verdict.intact:
                print(f"audit chain intact: {verdict.records} records")
                return 0
            count = len(verdict.problems)
            print(f"audit chain damaged: {count} problem{'' if count == 1 else 's'}")
            return 1
        factory = make_session_factory(engine)
        if args.action == "export":
            zone = ZoneInfo(settings.timezone)
            since = datetime.combine(args.since, time(), zone) if args.since else None
            until = None
            if args.until:
                until = datetime.combine(date.fromordinal(args.until.toordinal() + 1), time(), zone)
            if args.out.exists():
                raise Refused(f"{args.out} exists already: choose a new file", code="file-exists")
            export = export_records(engine, args.out, since=since, until=until)
            export_audited(factory, export, _actor())
            print(f"{export.rows} records written to {export.path} (sha256 {export.sha256})")
            return 0
        outcome = apply_audit_retention(factory, settings, actor=_actor())
        if outcome.export is None:
            print(f"nothing older than {settings.audit_retention_days} days")
        else:
            print(f"{outcome.deleted} records deleted after export to {outcome.export.path}")
        return 0
    finally:
        engine.dispose()


def cmd_db_roles(settings: Settings) -> int:
    engine = _engine(settings)
    try:
        with engine.begin() as conn:
            names = create_roles(conn, settings)
    finally:
        engine.dispose()
    print(f"roles ready: {', '.join(names)}")
    return 0
