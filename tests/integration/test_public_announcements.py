"""The online channel's announcements: what an administrator publishes shows, platform-wide
and for the hospital asked about; what was withdrawn or has expired does not."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from backend.booking.demo_data import create_hospital
from backend.db import transaction
from backend.models.users import Role
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from tests.desk_support import login, make_user


def test_withdrawn_and_expired_announcements_are_not_shown(
    desk_client: TestClient, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    with transaction(session_factory) as db:
        ours, other = (
            create_hospital(db, cipher, code="n" + uuid.uuid4().hex[:8], name=name).id
            for name in ("公告测试医院", "另一家医院")
        )
    login(desk_client, make_user(session_factory, Role.ADMIN))

    def publish(title: str, **fields: object) -> int:
        body = {"title": title, "body": "内容"} | fields
        created = desk_client.post("/api/admin/announcements", json=body)
        assert created.status_code == 201, created.text
        return int(created.json()["id"])

    platform = publish("全平台公告")
    hospital = publish("本院公告", hospital_id=ours)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    until_tomorrow = publish("明天到期", hospital_id=ours, expires_at=later)
    elsewhere = publish("他院公告", hospital_id=other)
    withdrawn = publish("已撤下", hospital_id=ours)
    assert desk_client.post(f"/api/admin/announcements/{withdrawn}/withdraw").status_code == 200
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    expired = publish("已过期", expires_at=past)

    shown = desk_client.get("/api/public/announcements", params={"hospital_id": ours})
    assert shown.status_code == 200
    ids = [a["id"] for a in shown.json()]
    assert {platform, hospital, until_tomorrow} <= set(ids)
    assert not {elsewhere, withdrawn, expired} & set(ids)
    everywhere = [a["id"] for a in desk_client.get("/api/public/announcements").json()]
    assert platform in everywhere and expired not in everywhere
