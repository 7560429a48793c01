"""TOTP secrets at rest (issue 18, item 7): the users table holds them only as personal-data
ciphertext, so a copy of it (a backup, a dump, a read-only breach) gives nobody's second
factor; sign-in with the code still works, and secrets stored in clear before the migration
are encrypted by it. Key rotation of this column: tests/integration/test_key_rotation.py."""

from __future__ import annotations

import base64
import uuid

import pyotp
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from backend.db import make_engine
from backend.migrate import alembic_config, upgrade
from backend.migrate import scratch_database as empty_database
from backend.models.users import Role
from backend.passwords import hash_password
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from tests.conftest import ADMIN_URL
from tests.desk_support import login, make_user


def stored_secret(engine: Engine, user_id: int) -> str:
    """The column as an attacker reading the table sees it."""
    with engine.connect() as conn:
        value = conn.execute(
            text("SELECT totp_secret_enc FROM users WHERE id = :id"), {"id": user_id}
        ).scalar_one()
    assert isinstance(value, str)
    return value


def test_a_users_row_holds_no_plaintext_secret_and_the_code_still_signs_in(
    desk_client: TestClient,
    session_factory: sessionmaker[Session],
    engine: Engine,
    settings: Settings,
) -> None:
    user = make_user(session_factory, Role.SUPERVISOR)
    assert user.totp_secret
    stored = stored_secret(engine, user.id)
    raw = base64.b32decode(user.totp_secret)
    assert user.totp_secret not in stored and raw.hex() not in stored
    cipher = PersonalDataCipher.of(settings)
    assert cipher.is_current(stored) and cipher.decrypt(stored) == user.totp_secret
    assert login(desk_client, user)["stage"] == "ready"
    assert desk_client.get("/api/supervisor/wallboard").status_code == 200


def test_secrets_stored_in_clear_before_the_migration_are_encrypted_by_it(
    settings: Settings,
) -> None:
    secret = pyotp.random_base32()
    with empty_database(ADMIN_URL, f"cc_test_totp_{uuid.uuid4().hex[:8]}") as url:
        old = settings.model_copy(update={"database_url": url})
        command.upgrade(alembic_config(old), "0600_accounts")
        engine = make_engine(old)
        try:
            with engine.begin() as conn:  # as the desk enrolled it before this revision
                user_id = conn.execute(
                    text(
                        "INSERT INTO users (username, display_name, role, password_hash, "
                        "must_change_password, failed_logins, active, team, totp_secret, "
                        "created_at) VALUES ('boss', 'B', 'SUPERVISOR', :h, false, 0, true, "
                        "'', :s, now()) RETURNING id"
                    ),
                    {"h": hash_password("Desk-Passw0rd!"), "s": secret},
                ).scalar_one()
            upgrade(old)
            columns = {c["name"] for c in inspect(engine).get_columns("users")}
            stored = stored_secret(engine, user_id)
        finally:
            engine.dispose()
    assert "totp_secret" not in columns and secret not in stored
    assert PersonalDataCipher.of(settings).decrypt(stored) == secret
