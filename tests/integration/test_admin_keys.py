"""The partners' keys on the admin page (issue 18, item 7): an administrator issues a
hospital's and the 12345 platform's first key and rotates them, the secret shown once and
cached nowhere; a supervisor cannot; a second first key is refused; a rotated key stops."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.audit import Actor
from backend.booking.context import BookingContext
from backend.booking.hospital_auth import signed_hospital
from backend.booking.hospital_keys import HospitalDraft, add_hospital
from backend.db import transaction
from backend.models.audit import AuditRecord
from backend.models.users import Role
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.signatures import SignatureRejected, SignedRequest, signed_headers
from backend.workorders.platform_clients import signed_platform_client
from tests.desk_support import login, make_user


def signed(key_id: str, secret: str) -> SignedRequest:
    headers = signed_headers("X-Key", key_id, secret, "GET", "/feed", b"", now=time.time())
    return SignedRequest(
        key_id, headers["X-Timestamp"], headers["X-Nonce"], headers["X-Signature"],
        "GET", "/feed", b"",
    )  # fmt: skip


def test_an_administrator_issues_and_rotates_partner_keys(
    desk_client: TestClient,
    session_factory: sessionmaker[Session],
    desk_app_settings: Settings,
) -> None:
    cipher = PersonalDataCipher.of(desk_app_settings)
    code, client = f"k{uuid.uuid4().hex[:8]}", f"12345-{uuid.uuid4().hex[:6]}"
    with transaction(session_factory) as db:
        draft = HospitalDraft(code, "测试医院", "三级", "东城区")
        add_hospital(db, cipher, draft, Actor("cli:ops"), datetime.now(UTC))
    hospital_url, platform_url = (
        f"/api/admin/hospitals/{code}/key",
        f"/api/admin/city-platform/{client}/key",
    )

    login(desk_client, make_user(session_factory, Role.SUPERVISOR))
    assert desk_client.post(hospital_url, json={"action": "issue"}).status_code == 403
    desk_client.post("/api/auth/logout")
    admin = make_user(session_factory, Role.ADMIN)
    login(desk_client, admin)

    assert desk_client.post(hospital_url, json={"action": "rotate"}).json()["error"] == "no-key"
    first = desk_client.post(hospital_url, json={"action": "issue"})
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    again = desk_client.post(hospital_url, json={"action": "issue"})
    assert again.status_code == 409 and again.json()["error"] == "key-exists"
    second = desk_client.post(hospital_url, json={"action": "rotate"}).json()
    ctx = BookingContext(cipher=cipher)
    with session_factory() as db:
        old = first.json()
        with pytest.raises(SignatureRejected):
            signed_hospital(db, ctx, signed(old["key_id"], old["secret"]), now=time.time())
        hospital = signed_hospital(
            db, ctx, signed(second["key_id"], second["secret"]), now=time.time()
        )
        assert hospital.code == code

    issued = desk_client.post(platform_url, json={"action": "issue"}).json()
    with session_factory() as db:
        found = signed_platform_client(
            db,
            cipher,
            signed(issued["key_id"], issued["secret"]),
            now=time.time(),
            window_seconds=300,
        )
        assert found.name == client
        actions = db.scalars(
            select(AuditRecord.action).where(AuditRecord.actor == admin.username)
        ).all()
    assert {"hospital.key_issue", "hospital.key_rotate", "city_platform.key_issue"} <= set(actions)
