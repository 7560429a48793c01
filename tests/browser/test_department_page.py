"""A handling office's page in a real browser (issue 21): the office's account lands on
/department, sees the order dispatched to its office and not another office's, takes it
(承办) and sends its four-part feedback (反馈); the order then waits for the hotline's
审核. The orders are filed, signed and dispatched by the hotline through the work-order
service, as the desk does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.audit import Actor
from backend.models.users import Role
from backend.models.workorders import WorkOrder
from backend.settings import Settings
from backend.workorders.composition import workorder_service
from backend.workorders.service import OrderDraft
from backend.workorders.workflow import Action
from tests.browser.test_desk_browser import log_in
from tests.desk_browser import DeskServer, screenshot
from tests.desk_support import make_user

pytestmark = pytest.mark.browser
PARTS = {
    "background": "来电人反映门诊报销比例与政策不符",
    "process": "核查了该参保人的结算记录与适用政策",
    "result": "系统参数有误已更正并补发差额",
    "follow_up": "本月内复核同类结算并告知来电人",
}


def dispatched(factory: sessionmaker[Session], settings: Settings, office: str, title: str) -> int:
    hotline, now = Actor("agent_hotline", "10.0.0.30"), datetime.now(UTC)
    with factory() as session:
        service = workorder_service(session, settings)
        order = service.create(OrderDraft(title=title, team="一组"), hotline, now)
        service.act(order.id, Action.SIGN, {}, hotline, now, team="一组")
        service.act(order.id, Action.DISPATCH, {"department": office}, hotline, now)
        session.commit()
        return order.id


def test_an_office_takes_its_order_and_sends_its_feedback(
    desk_server: DeskServer,
    session_factory: sessionmaker[Session],
    settings: Settings,
    new_page: Any,
) -> None:
    office, other = f"医保中心{uuid.uuid4().hex[:4]}", f"卫健委{uuid.uuid4().hex[:4]}"
    ours = dispatched(session_factory, settings, office, f"报销比例不对{uuid.uuid4().hex[:4]}")
    dispatched(session_factory, settings, other, f"别家的工单{uuid.uuid4().hex[:4]}")
    page = new_page()
    log_in(
        page, desk_server, make_user(session_factory, Role.DEPARTMENT, team=office), "/department"
    )

    page.wait_for_selector(f"#dept-orders tr[data-order='{ours}']")
    rows = page.locator("#dept-orders tbody tr").all_text_contents()
    assert len(rows) == 1 and "报销比例不对" in rows[0] and "已派发" in rows[0], rows
    page.click(f"button[data-open='{ours}']")
    page.wait_for_selector("#dept-accept:not([hidden])")
    assert page.is_visible("#dept-return") and page.is_hidden("#dept-feedback")
    page.click("#dept-accept")
    page.wait_for_selector("#dept-feedback:not([hidden])")
    assert page.text_content("#dept-state") == "办理中"
    for part, text in PARTS.items():
        page.fill(f"#fb-{part}", text)
    page.click("#dept-submit")
    page.wait_for_function("() => document.getElementById('dept-state').textContent === '已反馈'")
    assert page.is_hidden("#dept-feedback") and page.is_hidden("#dept-accept")
    screenshot(page, "department-feedback")
    with session_factory() as db:
        order = db.get(WorkOrder, ours)
        assert order is not None and order.state == "feedback_submitted"
        assert order.feedback == PARTS
