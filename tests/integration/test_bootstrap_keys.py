"""Bootstrap and keys in production (issue 18, item 7): the demo data set is refused; the
first administrator and the partners' keys come from `callcenter create-admin`, `hospital
add|key issue|key rotate` and `city-platform key issue|rotate`, each audited, each secret
shown once. A second first administrator, a second first key, rotating a key that does not
exist are refused; a rotated key stops working and its successor works.

Each command runs as an operator runs it: `callcenter …` in a process of its own, with a
production environment, on a database of its own."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from subprocess import CompletedProcess

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.booking.context import BookingContext
from backend.booking.hospital_auth import signed_hospital
from backend.models.audit import AuditRecord
from backend.models.booking import Hospital
from backend.models.users import Role, User
from backend.passwords import verify_password
from backend.personal_data import PersonalDataCipher
from backend.signatures import SignatureRejected, SignedRequest, signed_headers
from backend.workorders.platform_clients import signed_platform_client
from tests.conftest import migrated_database
from tests.stack_process import run_cli

DATA_KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def production(run_id: str) -> Iterator[tuple[dict[str, str], sessionmaker[Session]]]:
    with migrated_database(f"cc_keys_{run_id}") as url:
        env = {
            "CC_ENVIRONMENT": "production",
            "CC_DATABASE_URL": url,
            "CC_AMI_CONTROLLER_SECRET": "production-controller-ami-secret",
            "CC_AMI_DESK_SECRET": "production-desk-ami-secret",
            "CC_SECRET_KEY": "production-secret-key-0123456789abcdef",
            "CC_DATA_KEY": DATA_KEY,
            "CC_LOOKUP_KEY": Fernet.generate_key().decode(),
        }
        engine = create_engine(url)
        yield env, sessionmaker(engine)
        engine.dispose()


def refused(result: CompletedProcess[str], words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr, result.stderr


def shown_key(result: CompletedProcess[str]) -> tuple[str, str]:
    assert result.returncode == 0, result.stderr
    match = re.search(r"key id (\S+)\nsecret \(shown once[^:]*\): (\S+)", result.stdout)
    assert match, result.stdout
    return match[1], match[2]


def signed(key_id: str, secret: str) -> SignedRequest:
    now = time.time()
    headers = signed_headers("X-Key", key_id, secret, "GET", "/api/feed", b"", now=now)
    return SignedRequest(
        key_id, headers["X-Timestamp"], headers["X-Nonce"], headers["X-Signature"],
        "GET", "/api/feed", b"",
    )  # fmt: skip


def audited(factory: sessionmaker[Session], action: str) -> list[AuditRecord]:
    with factory() as db:
        return list(db.scalars(select(AuditRecord).where(AuditRecord.action == action)))


def test_demo_data_is_refused_in_production(
    production: tuple[dict[str, str], sessionmaker[Session]],
) -> None:
    env, factory = production
    refused(run_cli(env, "demo-data"), "refused in production")
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(User)) == 0
        assert db.scalar(select(func.count()).select_from(Hospital)) == 0


def test_the_first_administrator_comes_from_create_admin_once(
    production: tuple[dict[str, str], sessionmaker[Session]],
) -> None:
    env, factory = production
    made = run_cli(env, "create-admin", "root1", "--name", "系统管理员")
    assert made.returncode == 0, made.stderr
    password = made.stdout.rsplit(": ", 1)[1].strip()
    with factory() as db:
        admin = db.scalars(select(User).where(User.username == "root1")).one()
    assert admin.role is Role.ADMIN and admin.must_change_password
    assert verify_password(admin.password_hash, password)
    (record,) = audited(factory, "admin.user_create")
    assert record.actor.startswith("cli:") and record.target == f"user:{admin.id}"
    # A shell cannot make itself another administrator past the admin page's approval.
    refused(run_cli(env, "create-admin", "root2", "--name", "x"), "an administrator exists")
    with factory() as db:
        assert db.scalar(select(User.id).where(User.username == "root2")) is None


def test_hospital_keys_are_issued_once_and_rotated(
    production: tuple[dict[str, str], sessionmaker[Session]],
) -> None:
    env, factory = production
    ctx = BookingContext(cipher=PersonalDataCipher(DATA_KEY))
    refused(run_cli(env, "hospital", "key", "issue", "h9"), "no hospital h9")
    added = run_cli(env, "hospital", "add", "h9", "--name", "测试医院", "--level", "三级",
                    "--district", "东城区")  # fmt: skip
    assert added.returncode == 0, added.stderr
    refused(run_cli(env, "hospital", "key", "rotate", "h9"), "has no key to rotate")
    first_id, first_secret = shown_key(run_cli(env, "hospital", "key", "issue", "h9"))
    with factory() as db:
        assert (
            signed_hospital(db, ctx, signed(first_id, first_secret), now=time.time()).code == "h9"
        )
    refused(run_cli(env, "hospital", "key", "issue", "h9"), f"already has key {first_id}")
    second_id, second_secret = shown_key(run_cli(env, "hospital", "key", "rotate", "h9"))
    assert second_id != first_id
    with factory() as db:
        with pytest.raises(SignatureRejected):
            signed_hospital(db, ctx, signed(first_id, first_secret), now=time.time())
        assert signed_hospital(db, ctx, signed(second_id, second_secret), now=time.time())
        # Only the ciphertext is kept.
        stored = db.scalars(select(Hospital.api_secret_enc).where(Hospital.code == "h9")).one()
        assert second_secret not in (stored or "")
    assert [r.details["key_id"] for r in audited(factory, "hospital.key_issue")] == [first_id]
    (rotation,) = audited(factory, "hospital.key_rotate")
    assert rotation.details == {"key_id": second_id, "previous_key_id": first_id}
    assert len(audited(factory, "hospital.add")) == 1


def test_city_platform_keys_are_issued_once_and_rotated(
    production: tuple[dict[str, str], sessionmaker[Session]],
) -> None:
    env, factory = production
    cipher = PersonalDataCipher(DATA_KEY)

    def check(key_id: str, secret: str) -> str:
        with factory() as db:
            client = signed_platform_client(
                db, cipher, signed(key_id, secret), now=time.time(), window_seconds=300
            )
            return client.name

    refused(run_cli(env, "city-platform", "key", "rotate", "12345"), "has no key to rotate")
    first_id, first_secret = shown_key(run_cli(env, "city-platform", "key", "issue", "12345"))
    assert check(first_id, first_secret) == "12345"
    refused(run_cli(env, "city-platform", "key", "issue", "12345"), "already has key")
    second_id, second_secret = shown_key(run_cli(env, "city-platform", "key", "rotate", "12345"))
    with pytest.raises(SignatureRejected):
        check(first_id, first_secret)
    assert check(second_id, second_secret) == "12345"
    assert [r.details["key_id"] for r in audited(factory, "city_platform.key_rotate")] == [
        second_id
    ]
