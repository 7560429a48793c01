"""Onboarding a hospital (issue 21): an administrator adds the hospital, its departments and
doctors and issues its key on the admin API; the hospital's page shows each push with its
answer, accepted with what changed or refused with the reason, including a push still signed
with the key a rotation retired; the same from `callcenter hospital …`. Bad input is refused
by name and writes nothing; the same hospital added twice at once is one hospital and a 409,
never a 500; the kept pushes are bounded."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from subprocess import CompletedProcess
from threading import Barrier
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.audit import Actor
from backend.booking.hospital_keys import HospitalDraft, add_hospital
from backend.booking.push_log import KEPT_PER_HOSPITAL, PushOutcome, record_push
from backend.db import transaction
from backend.errors import Conflict
from backend.models.booking import Hospital, HospitalPush
from backend.models.users import Role
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from tests.desk_support import audited, login, make_user
from tests.onboarding_support import one_session, signed_push
from tests.stack_process import run_cli


def new_code() -> str:
    return f"ob{uuid.uuid4().hex[:8]}"


def refused_field(answer: dict[str, Any]) -> str:
    """The field a 422 of the desk's own API names (FastAPI's ``detail`` list)."""
    return str(answer["detail"][0]["loc"][-1])


def hospital_count(factory: sessionmaker[Session], code: str) -> int:
    with factory() as db:
        return (
            db.scalar(select(func.count()).select_from(Hospital).where(Hospital.code == code)) or 0
        )


def test_an_administrator_onboards_a_hospital_and_sees_its_pushes(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    code = new_code()
    login(desk_client, make_user(session_factory, Role.SUPERVISOR))
    hospital = {"code": code, "name": "北京朝阳医院", "level": "三级", "district": "朝阳区"}
    refused = desk_client.post("/api/admin/hospitals", json=hospital)
    assert refused.status_code == 403
    desk_client.post("/api/auth/logout")
    admin = make_user(session_factory, Role.ADMIN)
    login(desk_client, admin)

    blank = desk_client.post("/api/admin/hospitals", json=hospital | {"name": "\u3000 "})
    assert blank.status_code == 422 and refused_field(blank.json()) == "name", blank.text
    typo = desk_client.post("/api/admin/hospitals", json=hospital | {"distrct": "朝阳区"})
    assert typo.status_code == 422 and refused_field(typo.json()) == "distrct", typo.text
    assert hospital_count(session_factory, code) == 0
    made = desk_client.post("/api/admin/hospitals", json=hospital)
    assert made.status_code == 201 and made.json()["key_id"] is None, made.text
    again = desk_client.post("/api/admin/hospitals", json=hospital)
    assert again.status_code == 409 and again.json()["error"] == "hospital-exists"

    base = f"/api/admin/hospitals/{code}"
    dept = desk_client.post(f"{base}/departments", json={"code": "NK", "name": "内科"})
    assert dept.status_code == 201, dept.text
    twice = desk_client.post(f"{base}/departments", json={"code": "NK", "name": "内科二"})
    assert twice.status_code == 409 and twice.json()["error"] == "department-exists"
    doctor = {"code": "D001", "name": "王晓梅", "title": "主任医师", "department_code": "WK"}
    orphan = desk_client.post(f"{base}/doctors", json=doctor)
    assert orphan.status_code == 404 and "WK" in orphan.json()["message"], orphan.text
    added = desk_client.post(f"{base}/doctors", json=doctor | {"department_code": "NK"})
    assert added.status_code == 201, added.text

    first = desk_client.post(f"{base}/key", json={"action": "issue"}).json()
    assert signed_push(desk_client, first["key_id"], first["secret"], {"schedules": [
        one_session("S1")]})[0] == 200  # fmt: skip
    status, answer = signed_push(
        desk_client,
        first["key_id"],
        first["secret"],
        {"schedules": [one_session("S2") | {"fe": 1}]},
    )
    assert status == 422 and answer["error"] == "invalid-request"
    second = desk_client.post(f"{base}/key", json={"action": "rotate"}).json()
    status, answer = signed_push(
        desk_client, first["key_id"], first["secret"], {"schedules": [one_session("S3")]}
    )
    assert status == 401 and answer["error"] == "bad-signature"
    assert signed_push(desk_client, second["key_id"], second["secret"], {"schedules": [
        one_session("S3")]})[0] == 200  # fmt: skip

    page = desk_client.get(f"{base}/onboarding").json()
    assert page["key_id"] == second["key_id"] and "secret" not in str(page)
    assert [d["code"] for d in page["departments"]] == ["NK"]
    assert page["doctors"] == [{"code": "D001", "name": "王晓梅", "title": "主任医师",
                                "department_code": "NK"}]  # fmt: skip
    pushes = [(p["key_id"], p["outcome"], p["error"]) for p in page["pushes"]]
    assert pushes == [
        (second["key_id"], "accepted", ""),
        (first["key_id"], "refused", "bad-signature"),
        (first["key_id"], "refused", "invalid-request"),
        (first["key_id"], "accepted", ""),
    ]
    newest, old_key, typo_push, first_push = page["pushes"]
    assert newest["message"] == "created=1 updated=0 slots_added=4"
    assert first_push["message"] == "created=1 updated=0 slots_added=4"
    assert "0.fe:" in typo_push["message"] and "旧密钥" in old_key["message"]
    listed = {h["code"]: h for h in desk_client.get("/api/admin/onboarding/hospitals").json()}
    assert listed[code]["last_push_outcome"] == "accepted"
    for action in ("hospital.add", "hospital.department_add", "hospital.doctor_add",
                   "hospital.key_issue", "hospital.key_rotate"):  # fmt: skip
        assert audited(session_factory, admin.username, action), action


def test_the_same_hospital_added_twice_at_once_is_one_hospital(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    cipher, code = PersonalDataCipher.of(settings), new_code()
    start = Barrier(2)

    def add() -> str:
        start.wait()
        try:
            with transaction(session_factory) as db:
                draft = HospitalDraft(code, "北京天坛医院", "三级", "丰台区")
                add_hospital(db, cipher, draft, Actor("admin:race"), datetime.now(UTC))
            return "added"
        except Conflict as exc:
            return exc.code

    for _ in range(5):
        code = new_code()
        with ThreadPoolExecutor(2) as pool:
            results = sorted(f.result() for f in [pool.submit(add), pool.submit(add)])
        assert results == ["added", "hospital-exists"]
        assert hospital_count(session_factory, code) == 1


def test_kept_pushes_are_bounded_per_hospital(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    cipher = PersonalDataCipher.of(settings)
    with transaction(session_factory) as db:
        draft = HospitalDraft(new_code(), "北京安贞医院", "三级", "朝阳区")
        hospital = add_hospital(db, cipher, draft, Actor("admin:test"), datetime.now(UTC))
        hospital.api_key_id, hospital_id = f"hosp-{hospital.code}", hospital.id
    outcome = PushOutcome("POST", "/api/hospital/schedules", f"hosp-{draft.code}", 200)
    for _ in range(KEPT_PER_HOSPITAL + 5):
        with transaction(session_factory) as db:
            record_push(db, outcome, datetime.now(UTC))
    with transaction(session_factory) as db:
        unknown = PushOutcome(
            "POST", "/api/hospital/schedules", "hosp-nobody", 401, "bad-signature"
        )
        assert record_push(db, unknown, datetime.now(UTC)) is None
    with session_factory() as db:
        kept = db.scalar(
            select(func.count()).select_from(HospitalPush).where(
                HospitalPush.hospital_id == hospital_id)
        )  # fmt: skip
    assert kept == KEPT_PER_HOSPITAL


def test_the_cli_onboards_a_hospital(settings: Settings) -> None:
    env = {
        "CC_DATABASE_URL": settings.database_url,
        "CC_DATA_KEY": settings.data_key.get_secret_value(),
    }
    code = new_code()

    def cli(*args: str) -> CompletedProcess[str]:
        return run_cli(env, "hospital", *args)

    added = cli("add", code, "--name", "北京积水潭医院", "--level", "三级", "--district", "西城区")
    assert added.returncode == 0, added.stderr
    blank = cli("department", code, "GK", "--name", "\u3000")
    assert blank.returncode == 2 and "--name must not be empty" in blank.stderr, blank.stderr
    assert cli("department", code, "GK", "--name", "骨科").returncode == 0
    twice = cli("department", code, "GK", "--name", "骨科")
    assert twice.returncode == 2 and "已有科室代码 GK" in twice.stderr, twice.stderr
    orphan = cli(
        "doctor", code, "D9", "--department", "XX", "--name", "李明", "--title", "主治医师"
    )
    assert orphan.returncode == 2 and "没有科室代码 XX" in orphan.stderr, orphan.stderr
    doctor = cli(
        "doctor", code, "D9", "--department", "GK", "--name", "李明", "--title", "主治医师"
    )
    assert doctor.returncode == 0, doctor.stderr
    issued = cli("key", "issue", code)
    key_id = issued.stdout.split("key id ")[1].split()[0]
    shown = cli("show", code)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [
        f"{code} 北京积水潭医院 (三级, 西城区) key {key_id}",
        "department GK 骨科",
        "doctor D9 李明 主治医师 (GK)",
    ]
    listed = cli("list")
    assert f"{code}\t北京积水潭医院\tkey {key_id}\tactive" in listed.stdout.splitlines()
