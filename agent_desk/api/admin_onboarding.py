"""Hospitals joining the platform, on the admin page: add a hospital, its departments and
doctors, see its key id (never its secret) and its last pushes with their answers; the city
12345 platform's clients. Keys are issued and rotated by ``admin_keys``. The same services as
``callcenter hospital …``; every change audited under the administrator's name."""

# No ``from __future__ import annotations``: FastAPI evaluates these annotations at runtime.

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from agent_desk.deps import AdminUser, SessionDep, StateDep
from agent_desk.errors import error_responses
from backend.booking.hospital_keys import HospitalDraft, add_hospital
from backend.booking.onboarding import (
    DoctorDraft,
    add_department,
    add_doctor,
    hospital_overview,
)
from backend.models.booking import Hospital, HospitalPush
from backend.models.workorders import CityPlatformClient

router = APIRouter(
    prefix="/api/admin",
    tags=["系统管理"],
    responses=error_responses(401, 403, 404, 409, 422),
)

# Codes go into key ids and URLs: letters, digits, ``-`` and ``_`` only.
CODE = r"^[A-Za-z0-9_-]+$"
HospitalCode = Annotated[str, Path(min_length=1, max_length=32, pattern=CODE)]


def _not_blank(text: str) -> str:
    """Names made only of spaces (ASCII or full-width) are no names."""
    stripped = text.strip()
    if not stripped:
        raise ValueError("不能为空或只有空格")
    return stripped


Name = Annotated[str, AfterValidator(_not_blank)]
STRICT = ConfigDict(extra="forbid")


class HospitalCreate(BaseModel):
    model_config = STRICT
    code: str = Field(min_length=1, max_length=32, pattern=CODE, examples=["bjxh"])
    name: Name = Field(max_length=128, examples=["北京协和医院"])
    level: Literal["二级", "三级"] = "三级"
    district: Name = Field(max_length=32, examples=["东城区"])
    address: str = Field(default="", max_length=256)
    phone: str = Field(default="", max_length=32)


class DepartmentCreate(BaseModel):
    model_config = STRICT
    code: str = Field(min_length=1, max_length=32, pattern=CODE, examples=["NK"])
    name: Name = Field(max_length=64, examples=["内科"])
    intro: str = Field(default="", max_length=1000)


class DoctorCreate(BaseModel):
    model_config = STRICT
    code: str = Field(min_length=1, max_length=32, pattern=CODE, examples=["D001"])
    name: Name = Field(max_length=64, examples=["王晓梅"])
    title: Name = Field(max_length=32, examples=["主任医师"])
    department_code: str = Field(min_length=1, max_length=32, examples=["NK"])


class DepartmentPublic(BaseModel):
    code: str
    name: str
    intro: str


class DoctorPublic(BaseModel):
    code: str
    name: str
    title: str
    department_code: str


class PushPublic(BaseModel):
    at: datetime
    method: str
    path: str
    key_id: str
    status: int
    outcome: Literal["accepted", "refused"]
    error: str
    message: str


class HospitalKeyPublic(BaseModel):
    id: int
    code: str
    name: str
    level: str
    district: str
    active: bool
    key_id: str | None  # the secret is shown only when issued or rotated
    last_push_at: datetime | None = None
    last_push_outcome: str | None = None


class HospitalOnboarding(HospitalKeyPublic):
    departments: list[DepartmentPublic]
    doctors: list[DoctorPublic]
    pushes: list[PushPublic]  # newest first


class PlatformClientPublic(BaseModel):
    name: str
    key_id: str | None
    active: bool


def _key_public(hospital: Hospital, last: HospitalPush | None) -> HospitalKeyPublic:
    return HospitalKeyPublic(
        id=hospital.id, code=hospital.code, name=hospital.name, level=hospital.level,
        district=hospital.district, active=hospital.active, key_id=hospital.api_key_id,
        last_push_at=last.at if last else None, last_push_outcome=last.outcome if last else None,
    )  # fmt: skip


@router.get("/onboarding/hospitals", summary="医院接入：医院、密钥编号与最近一次推送")
def onboarding_hospitals(session: SessionDep, who: AdminUser) -> list[HospitalKeyPublic]:
    newest = select(func.max(HospitalPush.id)).group_by(HospitalPush.hospital_id).scalar_subquery()
    last = {p.hospital_id: p for p in session.scalars(select(HospitalPush).where(
        HospitalPush.id.in_(newest)))}  # fmt: skip
    hospitals = session.scalars(select(Hospital).order_by(Hospital.code))
    return [_key_public(h, last.get(h.id)) for h in hospitals]


@router.post("/hospitals", status_code=201, summary="接入新医院（之后签发其接口密钥）")
def create_hospital(
    body: HospitalCreate, state: StateDep, session: SessionDep, who: AdminUser
) -> HospitalKeyPublic:
    draft = HospitalDraft(**body.model_dump())
    hospital = add_hospital(session, state.cipher, draft, who.actor, datetime.now(UTC))
    session.commit()
    return _key_public(hospital, None)


@router.get("/hospitals/{code}/onboarding", summary="医院接入详情：科室、医生、最近的推送及错误")
def hospital_onboarding(
    code: HospitalCode, session: SessionDep, who: AdminUser
) -> HospitalOnboarding:
    seen = hospital_overview(session, code)
    pushes = [PushPublic.model_validate(p, from_attributes=True) for p in seen.pushes]
    return HospitalOnboarding(
        **_key_public(seen.hospital, seen.pushes[0] if seen.pushes else None).model_dump(),
        departments=[DepartmentPublic(code=d.code, name=d.name, intro=d.intro)
                     for d in seen.departments],
        doctors=[DoctorPublic(code=d.code, name=d.name, title=d.title, department_code=dept)
                 for d, dept in seen.doctors],
        pushes=pushes,
    )  # fmt: skip


@router.post("/hospitals/{code}/departments", status_code=201, summary="为医院添加科室")
def create_department(
    code: HospitalCode, body: DepartmentCreate, session: SessionDep, who: AdminUser
) -> DepartmentPublic:
    dept = add_department(session, code, body.code, body.name, body.intro, who.actor,
                          datetime.now(UTC))  # fmt: skip
    session.commit()
    return DepartmentPublic(code=dept.code, name=dept.name, intro=dept.intro)


@router.post("/hospitals/{code}/doctors", status_code=201, summary="为医院添加医生")
def create_doctor(
    code: HospitalCode, body: DoctorCreate, session: SessionDep, who: AdminUser
) -> DoctorPublic:
    draft = DoctorDraft(body.code, body.name, body.title, body.department_code)
    doctor = add_doctor(session, code, draft, who.actor, datetime.now(UTC))
    session.commit()
    return DoctorPublic(code=doctor.code, name=doctor.name, title=doctor.title,
                        department_code=body.department_code)  # fmt: skip


@router.get("/city-platform", summary="12345平台接入客户端及其密钥编号")
def platform_clients(session: SessionDep, who: AdminUser) -> list[PlatformClientPublic]:
    clients = session.scalars(select(CityPlatformClient).order_by(CityPlatformClient.name))
    return [PlatformClientPublic(name=c.name, key_id=c.key_id, active=c.active) for c in clients]
