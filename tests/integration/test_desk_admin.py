"""Administration: users created with an initial password, queue settings, hospitals'
booking notes and announcements — each change audited under the administrator's name."""

from __future__ import annotations

import uuid
from pathlib import Path

import redis
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.app import create_app
from backend.booking.demo_data import create_hospital
from backend.db import transaction
from backend.models.audit import AuditRecord
from backend.models.booking import Hospital
from backend.models.users import Role
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from tests.desk_support import LOCAL, desk_settings, ensure_skill, login, make_user


def test_new_user_must_change_the_initial_password(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    login(desk_client, make_user(session_factory, Role.ADMIN))
    name = f"new{uuid.uuid4().hex[:6]}"
    body = {"username": name, "display_name": "新坐席", "role": "agent", "password": "weak"}
    assert desk_client.post("/api/admin/users", json=body).json()["error"] == "weak-password"
    created = desk_client.post("/api/admin/users", json={**body, "password": "Initial-Pass-42"})
    assert created.status_code == 201 and created.json()["must_change_password"] is True
    assert (
        desk_client.post("/api/admin/users", json={**body, "password": "Initial-Pass-42"}).json()[
            "error"
        ]
        == "username-taken"
    )
    desk_client.cookies.clear()
    first = desk_client.post(
        "/api/auth/login", json={"username": name, "password": "Initial-Pass-42"}
    )
    assert first.json()["stage"] == "change_password"


def test_queue_settings_hospital_notes_and_announcements_are_audited(
    desk_client: TestClient, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    admin = make_user(session_factory, Role.ADMIN)
    login(desk_client, admin)
    code = "s" + uuid.uuid4().hex[:8]  # a skill of its own: other tests read "booking"
    ensure_skill(session_factory, code, line="hotline")
    skill = desk_client.patch(f"/api/admin/skills/{code}", json={"sl_threshold_seconds": 15})
    assert skill.status_code == 200 and skill.json()["sl_threshold_seconds"] == 15
    bad = desk_client.patch(f"/api/admin/skills/{code}", json={"wrapup_seconds": -1})
    assert bad.status_code == 422
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    with transaction(session_factory) as db:
        hospital_id = create_hospital(
            db, cipher, code="a" + uuid.uuid4().hex[:8], name="管理测试医院"
        ).id
    notes = "请携带身份证原件就诊。"
    updated = desk_client.patch(
        f"/api/admin/hospitals/{hospital_id}", json={"booking_notes": notes}
    )
    assert updated.json()["booking_notes"] == notes
    with session_factory() as db:
        assert db.get(Hospital, hospital_id).booking_notes == notes  # type: ignore[union-attr]
    notice = desk_client.post(
        "/api/admin/announcements",
        json={"hospital_id": hospital_id, "title": "停诊通知", "body": "周五下午内科停诊"},
    ).json()
    assert notice["expires_at"] is None
    withdrawn = desk_client.post(f"/api/admin/announcements/{notice['id']}/withdraw").json()
    assert withdrawn["expires_at"] is not None
    with session_factory() as db:
        trail = db.scalars(
            select(AuditRecord.action)
            .where(AuditRecord.actor == admin.username, AuditRecord.action.like("admin.%"))
            .order_by(AuditRecord.id)
        ).all()
    assert trail == [
        "admin.skill_update",
        "admin.hospital_update",
        "admin.announcement_create",
        "admin.announcement_withdraw",
    ]


def test_prompt_text_edit_is_rendered_on_save_and_can_be_undone(
    settings: Settings,
    redis_namespace: str,
    session_factory: sessionmaker[Session],
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    app = create_app(
        desk_settings(
            settings, redis_namespace, state_dir=tmp_path / "state", sounds_dir=tmp_path / "sounds"
        ),
        session_factory=session_factory,
        redis_client=redis_client,
    )
    admin = make_user(session_factory, Role.ADMIN)
    with TestClient(app, client=LOCAL) as client:
        login(client, admin)
        prompts = client.get("/api/admin/prompts").json()
        first = prompts[0]
        assert {p["line"] for p in prompts} == {"114", "hotline"}
        assert not first["overridden"]
        flow, name = first["id"].split("/")
        text = "您好，这里是北京市统一预约挂号服务。"
        changed = client.put(f"/api/admin/prompts/{flow}/{name}", json={"text": text}).json()
        assert (changed["text"], changed["overridden"]) == (text, True)
        assert len(changed["sounds"]) == 2
        for sound in changed["sounds"]:
            wav = tmp_path / "sounds" / "cc" / (sound.rsplit("/", 1)[-1] + ".wav")
            assert wav.stat().st_size > 1000
        listed = {p["id"]: p for p in client.get("/api/admin/prompts").json()}
        assert listed[first["id"]]["text"] == text
        undone = client.put(f"/api/admin/prompts/{flow}/{name}", json={"text": None}).json()
        assert (undone["text"], undone["overridden"]) == (first["default"], False)
        missing = client.put("/api/admin/prompts/114/no-such-prompt", json={"text": "x"})
        assert missing.status_code == 404
    with session_factory() as db:
        details = db.scalars(
            select(AuditRecord.details)
            .where(AuditRecord.actor == admin.username, AuditRecord.action == "admin.prompt_update")
            # Without an order PostgreSQL may return the rows either way round.
            .order_by(AuditRecord.id)
        ).all()
    assert [d["after"] for d in details] == [text, first["default"]]
