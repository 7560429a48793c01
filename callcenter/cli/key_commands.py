"""`callcenter create-admin`, `callcenter hospital add|key issue|key rotate` (and
`department|doctor|show|list`: ``onboarding_commands``) and
`callcenter city-platform key issue|rotate`: the only ways to make the first administrator
and the partners' API keys (the demo data set is refused in production). Each change is
audited as ``cli:<login>``; a new password or secret is printed once and kept nowhere in
clear. `callcenter keys rotate` moves stored personal data to the newest data key."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from agent_desk.auth.accounts import create_first_admin
from backend.api_keys import ApiKey
from backend.audit import Actor, record_audit
from backend.booking.hospital_keys import HospitalDraft, add_hospital, hospital_key
from backend.db import make_engine, make_session_factory, transaction
from backend.key_rotation import BATCH_ROWS, left_under_old_keys, rotate_all
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.workorders.platform_clients import platform_key
from callcenter.cli.onboarding_commands import (
    ONBOARDING_ACTIONS,
    add_onboarding_parsers,
    onboarding_work,
)
from recordings.rotation import rewrap_all


def add_key_parsers(sub: argparse._SubParsersAction) -> None:
    admin = sub.add_parser("create-admin", help="make the first administrator")
    admin.add_argument("username")
    admin.add_argument("--name", required=True, help="the name shown in the desk")

    hospital = sub.add_parser("hospital", help="hospitals on the platform and their API keys")
    hospital_sub = hospital.add_subparsers(dest="action", required=True)
    add = hospital_sub.add_parser("add", help="add a hospital (without a key)")
    add.add_argument("code")
    add.add_argument("--name", required=True)
    add.add_argument("--level", choices=["二级", "三级"], required=True)
    add.add_argument("--district", required=True)
    add.add_argument("--address", default="")
    add.add_argument("--phone", default="")
    _key_parser(hospital_sub, "code")
    add_onboarding_parsers(hospital_sub)

    platform = sub.add_parser("city-platform", help="the city 12345 platform's signing keys")
    _key_parser(platform.add_subparsers(dest="action", required=True), "client")

    keys = sub.add_parser("keys", help="personal data keys")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    rotate = keys_sub.add_parser(
        "rotate", help="re-encrypt stored personal data under the newest CC_DATA_KEY"
    )
    rotate.add_argument("--batch", type=int, default=BATCH_ROWS, help="rows per transaction")


def _key_parser(actions: argparse._SubParsersAction, owner: str) -> None:
    key = actions.add_parser("key", help="issue the first key, or rotate (replace) it")
    key.add_argument("key_action", choices=["issue", "rotate"])
    key.add_argument(owner)


def _in_transaction(settings: Settings, work: Callable[[Session, Actor, datetime], str]) -> int:
    engine = make_engine(settings, pool_size=1, max_overflow=0)
    try:
        with transaction(make_session_factory(engine)) as session:
            shown = work(session, _actor(), datetime.now(UTC))
    finally:
        engine.dispose()
    print(shown)
    return 0


def _actor() -> Actor:
    return Actor(f"cli:{getpass.getuser()}"[:64])


def _shown(owner: str, key: ApiKey) -> str:
    return f"{owner}: key id {key.key_id}\nsecret (shown once, hand it over securely): {key.secret}"


def cmd_create_admin(args: argparse.Namespace, settings: Settings) -> int:
    def work(session: Session, actor: Actor, now: datetime) -> str:
        password = create_first_admin(session, args.username, args.name, actor)
        return (
            f"administrator {args.username} created\ninitial password (shown once, to be "
            f"changed at first login): {password}"
        )

    return _in_transaction(settings, work)


def cmd_hospital(args: argparse.Namespace, settings: Settings) -> int:
    cipher = PersonalDataCipher.of(settings)

    def work(session: Session, actor: Actor, now: datetime) -> str:
        if args.action == "add":
            draft = HospitalDraft(
                args.code, args.name, args.level, args.district, args.address, args.phone
            )
            hospital = add_hospital(session, cipher, draft, actor, now)
            return f"hospital {hospital.code} added (id {hospital.id}); issue its key next"
        if args.action in ONBOARDING_ACTIONS:
            return onboarding_work(args, session, actor, now)
        rotate = args.key_action == "rotate"
        key = hospital_key(session, cipher, args.code, actor, now, rotate=rotate)
        return _shown(f"hospital {args.code}", key)

    return _in_transaction(settings, work)


def cmd_city_platform(args: argparse.Namespace, settings: Settings) -> int:
    cipher = PersonalDataCipher.of(settings)

    def work(session: Session, actor: Actor, now: datetime) -> str:
        rotate = args.key_action == "rotate"
        key = platform_key(session, cipher, args.client, actor, now, rotate=rotate)
        return _shown(f"city platform client {args.client}", key)

    return _in_transaction(settings, work)


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    cipher = PersonalDataCipher.of(settings)
    engine = make_engine(settings, pool_size=1, max_overflow=0)
    try:
        done = rotate_all(engine, cipher, max(1, args.batch))
        left = left_under_old_keys(engine, cipher)
        # Each recording's own data key, wrapped by the master key, moves with it.
        recordings = rewrap_all(settings.effective_recordings_dir, cipher)
        with transaction(make_session_factory(engine)) as session:
            details = {
                "key_id": cipher.current_key_id,
                "rows": sum(r.rows for r in done),
                "recordings": recordings.rewrapped,
                "recordings_left": recordings.refused,
            }
            record_audit(session, _actor(), "keys.rotate", "personal-data", datetime.now(UTC),
                         details | {"left": left})  # fmt: skip
    finally:
        engine.dispose()
    for rotated in done:
        if rotated.rows:
            print(f"{rotated.table}: {rotated.rows} rows re-encrypted")
    print(
        f"recordings: {recordings.rewrapped} re-wrapped, {recordings.refused} could not be opened"
    )
    print(f"key {cipher.current_key_id}: {left} rows left under older keys")
    return 0 if left == 0 and recordings.refused == 0 else 1


KEY_HANDLERS = {
    "keys": cmd_keys,
    "create-admin": cmd_create_admin,
    "hospital": cmd_hospital,
    "city-platform": cmd_city_platform,
}
