"""Demo hospitals, departments, doctors and a week of sessions, for development and tests.

``seed_booking_demo`` is what ``callcenter demo-data`` calls; it does nothing when hospitals
already exist. The demo hospitals' API secrets are development values only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.booking.context import BookingContext
from backend.booking.hospital_feed import SchedulePush, SlotPush, push_schedules
from backend.booking.rules import SessionOfDay
from backend.models.booking import Hospital
from backend.personal_data import PersonalDataCipher

SESSION_TIMES = {
    SessionOfDay.MORNING: (time(8, 0), time(12, 0)),
    SessionOfDay.AFTERNOON: (time(13, 30), time(17, 0)),
    SessionOfDay.EVENING: (time(18, 0), time(21, 0)),
}


@dataclass(frozen=True)
class DemoDoctor:
    code: str
    name: str
    title: str
    fee: Decimal


@dataclass(frozen=True)
class DemoHospital:
    code: str
    name: str
    level: str
    district: str
    address: str
    phone: str
    departments: dict[str, tuple[str, tuple[DemoDoctor, ...]]]


DEMO_HOSPITALS = (
    DemoHospital(
        "pumch",
        "北京协和医院",
        "三级",
        "东城区",
        "北京市东城区帅府园1号",
        "010-69156114",
        {
            "NK": ("内科", (DemoDoctor("D001", "张志远", "主任医师", Decimal("100.00")),)),
            "ZL": ("肿瘤内科", (DemoDoctor("D002", "李文静", "副主任医师", Decimal("60.00")),)),
        },
    ),
    DemoHospital(
        "pkufh",
        "北京大学第一医院",
        "三级",
        "西城区",
        "北京市西城区西什库大街8号",
        "010-83572211",
        {
            "ER": ("儿科", (DemoDoctor("D101", "王晓梅", "主任医师", Decimal("100.00")),)),
            "PF": ("皮肤科", (DemoDoctor("D102", "赵立新", "主治医师", Decimal("50.00")),)),
        },
    ),
    DemoHospital(
        "cyh",
        "首都医科大学附属北京朝阳医院",
        "三级",
        "朝阳区",
        "北京市朝阳区工人体育场南路8号",
        "010-85231000",
        {
            "HX": (
                "呼吸与危重症医学科",
                (DemoDoctor("D201", "刘建国", "主任医师", Decimal("100.00")),),
            ),
            "XN": ("心脏中心", (DemoDoctor("D202", "陈思远", "副主任医师", Decimal("60.00")),)),
        },
    ),
    DemoHospital(
        "dxqh",
        "北京市大兴区人民医院",
        "二级",
        "大兴区",
        "北京市大兴区黄村西大街26号",
        "010-69243311",
        {
            "PT": ("普通内科", (DemoDoctor("D301", "孙丽华", "主治医师", Decimal("25.00")),)),
            "GK": ("骨科", (DemoDoctor("D302", "周海涛", "副主任医师", Decimal("35.00")),)),
        },
    ),
)


def demo_secret(code: str) -> str:
    return f"demo-secret-{code}"


def create_hospital(
    session: Session,
    cipher: PersonalDataCipher,
    *,
    code: str,
    name: str,
    level: str = "三级",
    district: str = "东城区",
    address: str = "",
    phone: str = "",
    api_secret: str | None = None,
) -> Hospital:
    """A hospital with its API key id (``hosp-<code>``) and encrypted secret."""
    hospital = Hospital(
        code=code,
        name=name,
        level=level,
        district=district,
        address=address,
        phone=phone,
        booking_notes="实名制预约，就诊当日凭预约时使用的身份证件取号。"
        "如需取消，请于就诊前一工作日15:00前办理。",
        api_key_id=f"hosp-{code}" if api_secret else None,
        api_secret_enc=cipher.encrypt(api_secret) if api_secret else None,
    )
    session.add(hospital)
    session.flush()
    return hospital


def session_push(
    external_id: str,
    department: tuple[str, str],
    day: date,
    part: SessionOfDay,
    slots: int,
    *,
    doctor: DemoDoctor | None = None,
    fee: Decimal = Decimal("50.00"),
    online_share: float = 0.5,
    minutes_per_slot: int = 5,
) -> SchedulePush:
    """A session whose first ``online_share`` of slots go online and the rest to the phone."""
    starts, ends = SESSION_TIMES[part]
    online = round(slots * online_share)
    base = starts.hour * 60 + starts.minute
    pushes = []
    for i in range(slots):
        minute = base + (i * minutes_per_slot) % max(1, (ends.hour * 60 - base))
        pushes.append(
            SlotPush(
                seq=i + 1,
                time=time(minute // 60, minute % 60),
                channel="online" if i < online else "phone",
            )
        )
    return SchedulePush(
        external_id=external_id,
        department_code=department[0],
        department_name=department[1],
        day=day,
        session=part,
        starts=starts,
        ends=ends,
        fee=doctor.fee if doctor else fee,
        slots=tuple(pushes),
        doctor_code=doctor.code if doctor else "",
        doctor_name=doctor.name if doctor else "",
        doctor_title=doctor.title if doctor else "",
    )


def seed_booking_demo(session: Session, cipher: PersonalDataCipher, today: date) -> int:
    """Create the demo hospitals and a week of sessions from ``today``; returns the number of
    sessions created (0 when hospitals already exist). The caller commits."""
    if session.execute(select(func.count()).select_from(Hospital)).scalar_one():
        return 0
    # The week as its hospitals published it at the start of ``today`` (today's morning
    # sessions included, though they may have ended by now: a push checks the day against
    # its own clock).
    rules = BookingContext(cipher=cipher).rules
    published = datetime.combine(today, time(0, 0), tzinfo=rules.tz)
    ctx = BookingContext(cipher=cipher, rules=rules, clock=lambda: published)
    created = 0
    for demo in DEMO_HOSPITALS:
        hospital = create_hospital(
            session,
            cipher,
            code=demo.code,
            name=demo.name,
            level=demo.level,
            district=demo.district,
            address=demo.address,
            phone=demo.phone,
            api_secret=demo_secret(demo.code),
        )
        pushes = []
        for offset in range(8):
            day = today + timedelta(days=offset)
            for dept_code, (dept_name, doctors) in demo.departments.items():
                for doctor in doctors:
                    for part in (SessionOfDay.MORNING, SessionOfDay.AFTERNOON):
                        ext = f"{dept_code}-{doctor.code}-{day:%Y%m%d}-{part.value}"
                        pushes.append(
                            session_push(ext, (dept_code, dept_name), day, part, 20, doctor=doctor)
                        )
        created += push_schedules(session, ctx, hospital.id, pushes).created
    return created
