"""The first administrators' bootstrap from the server's shell, each step audited as
``cli:<login>``: `callcenter totp-link <user>`, a one-time link that binds a user's
authenticator (the first administrator, made by `callcenter create-admin`, has nobody to
issue one on the admin page; printed once, kept only hashed), and `callcenter approve <id>`,
the second approval of the first administrator's request for a second one (only while fewer
than two exist)."""

from __future__ import annotations

import argparse
from datetime import datetime

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk.auth.accounts import check_totp_link
from agent_desk.auth.approvals import approve_from_shell
from agent_desk.auth.enrolment import LINK_HOURS, EnrolmentLinks, link_path
from backend.audit import Actor
from backend.errors import NotFound
from backend.models.users import User
from backend.settings import Settings
from callcenter.cli.key_commands import _in_transaction


def add_account_parsers(sub: argparse._SubParsersAction) -> None:
    link = sub.add_parser("totp-link", help="a one-time link that binds a user's authenticator")
    link.add_argument("username", help="e.g. the first administrator, after create-admin")
    approve = sub.add_parser(
        "approve", help="approve the first administrator's request for a second one"
    )
    approve.add_argument("approval_id", type=int)


def cmd_totp_link(args: argparse.Namespace, settings: Settings) -> int:
    def work(session: Session, actor: Actor, now: datetime) -> str:
        user_id = session.scalar(select(User.id).where(User.username == args.username))
        if user_id is None:
            raise NotFound(f"no user {args.username}")
        check_totp_link(session, user_id, actor)
        client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
        try:
            token = EnrolmentLinks(client, settings.desk_redis_prefix).issue(user_id)
        finally:
            client.close()
        return (
            f"TOTP enrolment link for {args.username} (one use, {LINK_HOURS} hours; hand it "
            f"over in person), on the desk's address: {link_path(token)}"
        )

    return _in_transaction(settings, work)


def cmd_approve(args: argparse.Namespace, settings: Settings) -> int:
    def work(session: Session, actor: Actor, now: datetime) -> str:
        approval = approve_from_shell(session, args.approval_id, actor, now)
        return f"approved: {approval.kind.value} {approval.username} ({approval.role.value})"

    return _in_transaction(settings, work)


ACCOUNT_HANDLERS = {"totp-link": cmd_totp_link, "approve": cmd_approve}
