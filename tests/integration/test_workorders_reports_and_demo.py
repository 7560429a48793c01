"""Hot spots and repeat callers over a period, the demo orders, and the schema as migrated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from backend.models import Base
from backend.models.workorders import CallbackTask, WorkOrder
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.workorders.composition import workorder_service
from backend.workorders.demo_data import seed_workorder_demo
from backend.workorders.hotspots import hotspots, repeat_callers
from backend.workorders.service import Actor, OrderDraft

# A week nobody else's tests use, so that the counts are ours alone.
WEEK = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
AGENT = Actor("agent_he", "10.0.0.40")
MY_TABLES = {
    "work_orders",
    "work_order_events",
    "work_order_calls",
    "callback_tasks",
    "desk_notifications",
    "city_platform_clients",
    "knowledge_articles",
    "knowledge_versions",
}


def test_the_week_report_lists_hot_spots_and_repeat_callers(
    db: Session, settings: Settings
) -> None:
    service = workorder_service(db, settings)
    place = "丰台区南苑路88号某定点药店"
    for hour, phone in enumerate(["13811110001", "13811110002", "13811110003", "13811110001"]):
        service.create(
            OrderDraft(
                title="药店不能使用医保个人账户",
                category="医疗保障/定点药店",
                address=place,
                caller_phone=phone,
            ),
            AGENT,
            WEEK + timedelta(hours=hour),
        )
    service.create(
        OrderDraft(title="咨询生育津贴", category="医疗保障/生育保险", caller_phone="13811110009"),
        AGENT,
        WEEK,
    )
    # Two more callers with as many orders as 0001: ties on the count go latest order first.
    for hour, phone in [
        (5, "13811110005"),
        (6, "13811110005"),
        (1, "13811110006"),
        (2, "13811110006"),
    ]:
        service.create(
            OrderDraft(title="咨询异地就医备案", caller_phone=phone),
            AGENT,
            WEEK + timedelta(hours=hour),
        )
    db.commit()
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    until = WEEK + timedelta(days=7)

    spots = hotspots(db, WEEK, until)
    assert [(h.category, h.callers, h.orders) for h in spots] == [("医疗保障/定点药店", 3, 4)]
    assert spots[0].latest_title == "药店不能使用医保个人账户"
    repeats = repeat_callers(db, cipher, WEEK, until)
    assert [(r.phone_masked, r.orders) for r in repeats] == [
        ("138****0005", 2),
        ("138****0001", 2),
        ("138****0006", 2),
    ]


def test_demo_orders_cover_the_states_and_seed_once(db: Session, settings: Settings) -> None:
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    added = seed_workorder_demo(db, cipher, now)
    db.commit()
    assert added == 8
    assert seed_workorder_demo(db, cipher, now) == 0
    states = set(db.scalars(select(WorkOrder.state).where(WorkOrder.created_by == "demo")))
    assert states >= {"created", "signed", "dispatched", "returned", "rework", "supervision"}
    assert "closed" in states
    tasks = db.scalars(select(CallbackTask).where(CallbackTask.call_id == "demo-message-1"))
    assert len(tasks.all()) == 1


def test_the_migration_creates_exactly_the_modelled_tables(engine: Engine) -> None:
    def mine(obj: object, name: str | None, type_: str, reflected: bool, other: object) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table in MY_TABLES

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": mine, "compare_type": True}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
