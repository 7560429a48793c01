"""`callcenter`: build and run the stack, load demo data, place simulated calls.

Errors a person can fix (a setting, a port, a missing Asterisk root) are printed as one line
naming the setting, with exit status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from backend import log_privacy
from backend.errors import CallCenterError
from backend.settings import load_settings
from callcenter.cli.account_commands import ACCOUNT_HANDLERS, add_account_parsers
from callcenter.cli.asr_commands import ASR_HANDLERS, add_asr_parser
from callcenter.cli.audit_commands import add_audit_parser
from callcenter.cli.backup_commands import BACKUP_HANDLERS, add_backup_parsers
from callcenter.cli.commands import HANDLERS
from callcenter.cli.key_commands import KEY_HANDLERS, add_key_parsers
from callcenter.cli.recording_commands import RECORDING_HANDLERS, add_recording_parser
from callcenter.cli.report_commands import REPORT_HANDLERS, add_report_parsers


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="callcenter", description="北京114/医保热线呼叫中心")
    sub = parser.add_subparsers(dest="command", required=True)

    asterisk = sub.add_parser("asterisk", help="the built-in Asterisk")
    asterisk_sub = asterisk.add_subparsers(dest="action", required=True)
    for action in ("build", "start", "stop", "status"):
        asterisk_sub.add_parser(action)
    cli = asterisk_sub.add_parser("cli", help="run one Asterisk CLI command")
    cli.add_argument("cli_command")
    render = asterisk_sub.add_parser(
        "render", help="write the configuration of the Asterisk the settings name into a directory"
    )
    render.add_argument("directory", type=Path, help="e.g. an external Asterisk's /etc/asterisk")

    db = sub.add_parser("db", help="database schema and roles")
    db.add_argument(
        "action",
        choices=["upgrade", "roles"],
        help="upgrade: migrate (and re-grant when the roles exist); roles: make the "
        "processes' PostgreSQL roles (as a superuser)",
    )
    add_audit_parser(sub)
    add_backup_parsers(sub)
    add_key_parsers(sub)
    add_recording_parser(sub)
    add_account_parsers(sub)
    add_asr_parser(sub)
    add_report_parsers(sub)

    prompts = sub.add_parser("prompts", help="IVR prompts")
    prompts.add_argument("action", choices=["build"])

    sub.add_parser("demo-data", help="load the demo data set (idempotent)")
    up = sub.add_parser("up", help="start the whole stack")
    up.add_argument("--demo", action="store_true", help="also load demo data and place calls")
    sub.add_parser("down", help="stop the whole stack")
    sub.add_parser("status", help="what is running")
    for service in ("controller", "desk", "worker", "beat"):
        sub.add_parser(service, help=f"run the {service} in the foreground")

    call = sub.add_parser("call", help="place a simulated call through Asterisk")
    call.add_argument("did", help="the DID dialled (CC_DID_114 or CC_DID_HOTLINE)")
    call.add_argument("--caller", default="13800138000")
    call.add_argument("--dtmf", default="", help="keys to send; 'w' waits 0.5 s")
    call.add_argument("--hold", type=float, default=20.0, help="seconds before hanging up")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Every process of the stack is a `callcenter` command: its log lines are masked from here.
    log_privacy.install()
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        handlers = {**HANDLERS, **KEY_HANDLERS, **RECORDING_HANDLERS, **ACCOUNT_HANDLERS,
                    **BACKUP_HANDLERS, **ASR_HANDLERS, **REPORT_HANDLERS}  # fmt: skip
        handler: Callable[[argparse.Namespace, object], int] = handlers[args.command]
        return handler(args, settings)
    except CallCenterError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
