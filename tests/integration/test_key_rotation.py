"""Personal data keys rotated without downtime (issue 18, item 7): the new key is listed first,
every process then reads both; `callcenter keys rotate` re-encrypts what is stored, batch by
batch; the old key can then go, and the look-up hashes, which have a key of their own, still
find every patient. A cipher without the stored data's key is refused by name, not fooled.

On a database of its own: the rotation rewrites every encrypted column it finds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session, sessionmaker

from backend.errors import ConfigError
from backend.key_rotation import encrypted_columns
from backend.models.audit import AuditRecord
from backend.models.booking import Patient
from backend.models.users import Role, User
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from recordings.sealed import SealedReader, seal
from tests.conftest import migrated_database
from tests.desk_support import make_user
from tests.ivr_bookings import BookedCase, book_one
from tests.recording_support import write_tone
from tests.stack_process import run_cli

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture()
def database(run_id: str) -> Iterator[tuple[str, Engine]]:
    with migrated_database(f"cc_rotate_{run_id}") as url:
        engine = create_engine(url)
        yield url, engine
        engine.dispose()


def stored_ciphertexts(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [
            value
            for table, columns in encrypted_columns().items()
            for row in conn.execute(select(*columns))
            for value in row
            if value
        ]


def test_rotation_moves_stored_data_to_the_new_key_and_lookups_keep_working(
    database: tuple[str, Engine], settings: Settings, tmp_path: Path
) -> None:
    url, engine = database
    factory = sessionmaker(engine)
    before = settings.model_copy(update={"database_url": url, "data_key": SecretStr(OLD)})
    booked: BookedCase = book_one(before, factory)  # a hospital, a patient, a booking
    old = PersonalDataCipher(OLD)
    supervisor = make_user(factory, Role.SUPERVISOR, cipher=old)  # a TOTP secret
    assert all(v.startswith(old.current_key_id + ":") for v in stored_ciphertexts(engine))

    # Every process now lists the new key first: it reads what the old key wrote.
    during = PersonalDataCipher(f"{NEW},{OLD}")
    with Session(engine) as db:
        name_enc = db.scalars(select(Patient.name_enc)).one()
    assert during.decrypt(name_enc) == "李四" and not during.is_current(name_enc)
    recording = tmp_path / "2026/12/03/call.wav"  # a call recorded under the old key
    recorded = write_tone(recording, 1.0)
    seal(recording, old)
    env = {
        "CC_DATABASE_URL": url,
        "CC_DATA_KEY": f"{NEW},{OLD}",
        "CC_RECORDINGS_DIR": str(tmp_path),
    }
    result = run_cli(env, "keys", "rotate", "--batch", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "recordings: 1 re-wrapped, 0 could not be opened" in result.stdout
    assert f"key {during.current_key_id}: 0 rows left under older keys" in result.stdout
    assert "patients: 1 rows re-encrypted" in result.stdout
    assert "users: 1 rows re-encrypted" in result.stdout

    stored = stored_ciphertexts(engine)
    assert stored and all(during.is_current(v) for v in stored)
    # The old key goes; the hashes keep their key (the old one, now only the look-up key).
    after = PersonalDataCipher(NEW, lookup_key=OLD)
    with Session(engine) as db:
        patient = db.scalars(
            select(Patient).where(Patient.id_hash == after.lookup_hash(booked.id_number))
        ).one()
        assert after.decrypt(patient.id_enc) == booked.id_number
        assert after.decrypt(patient.name_enc) == "李四"
        (record,) = db.scalars(select(AuditRecord).where(AuditRecord.action == "keys.rotate"))
        secret_enc = db.scalars(select(User.totp_secret_enc).where(User.id == supervisor.id)).one()
    assert secret_enc and after.decrypt(secret_enc) == supervisor.totp_secret
    assert record.details["key_id"] == after.current_key_id and record.details["left"] == 0
    assert record.details["recordings"] == 1 and record.details["recordings_left"] == 0
    assert SealedReader(recording, after).read_all() == recorded  # with the new key alone
    # A process still on the old key alone cannot read the data, and says which key it lacks.
    with pytest.raises(ConfigError) as unlisted:
        old.decrypt(patient.name_enc)
    assert f"key {after.current_key_id} of stored personal data is not listed" in str(
        unlisted.value
    )
    # Nothing left to do: a second run rewrites nothing.
    again = run_cli({**env, "CC_DATA_KEY": NEW, "CC_LOOKUP_KEY": OLD}, "keys", "rotate")
    assert again.returncode == 0 and "re-encrypted" not in again.stdout, again.stdout
