"""`callcenter recordings seal`: seal the finished recordings an upgraded centre still keeps
in clear (new recordings are sealed as soon as they are finished)."""

from __future__ import annotations

import argparse
import getpass
from datetime import UTC, datetime

from backend.audit import Actor, record_audit
from backend.db import make_engine, make_session_factory, transaction
from backend.settings import Settings
from recordings.index import RecordingIndex
from recordings.keys import master_key
from recordings.messages import seal_left_messages


def add_recording_parser(sub: argparse._SubParsersAction) -> None:
    recordings = sub.add_parser("recordings", help="call recordings")
    actions = recordings.add_subparsers(dest="action", required=True)
    actions.add_parser("seal", help="encrypt finished recordings still kept in clear")


def cmd_recordings(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings, pool_size=1, max_overflow=0)
    try:
        factory = make_session_factory(engine)
        index = RecordingIndex(factory, settings)
        calls = index.seal_existing()
        # Messages of any day (the sweep only looks at the last two).
        messages = seal_left_messages(
            settings.effective_recordings_dir, master_key(settings), days=None
        )
        with transaction(factory) as session:
            actor = Actor(f"cli:{getpass.getuser()}"[:64])
            record_audit(session, actor, "recordings.seal", "recordings", datetime.now(UTC),
                         {"calls": calls, "messages": messages})  # fmt: skip
    finally:
        engine.dispose()
    print(f"{calls} call recordings and {messages} messages sealed")
    return 0


RECORDING_HANDLERS = {"recordings": cmd_recordings}
