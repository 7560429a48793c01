"""The desk in a real browser: an agent logs in, signs in, goes ready, gets a screen pop,
books a slot, files a work order and wraps up; the supervisor's wallboard follows the agent's
state live and plays a recording; the auditor and the administrator see their pages.

The call here is announced by publishing ``CallOffered`` on Redis, as the controller does;
the end-to-end test with a simulated call through the real Asterisk builds on these fixtures.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyotp
import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend import events
from backend.booking.context import BookingContext
from backend.booking.demo_data import DemoDoctor, create_hospital, session_push
from backend.booking.hospital_feed import push_schedules
from backend.booking.rules import SessionOfDay
from backend.db import transaction
from backend.idcard import make_valid
from backend.knowledge.demo_data import seed_knowledge_demo
from backend.models.calls import CallRecord, Disposition, Line
from backend.models.users import Role, User
from backend.personal_data import PersonalDataCipher
from tests.desk_browser import DeskServer, screenshot
from tests.desk_support import DeskUser, fresh_totp_code, make_user, open_call
from tests.recording_support import recorded_call

pytestmark = pytest.mark.browser


def log_in(page: Any, server: DeskServer, user: DeskUser, lands_on: str) -> None:
    page.goto(server.url + "/login")
    page.fill("#username", user.username)
    page.fill("#password", user.password)
    page.click("#login-submit")
    if user.totp_secret:
        page.wait_for_url("**/login/totp")
        page.fill("#totp-code", fresh_totp_code(user.totp_secret))
        page.click("#totp-form button")
    page.wait_for_url("**" + lands_on)


def seed_hospital(factory: sessionmaker[Session], cipher: PersonalDataCipher) -> str:
    name = f"测试医院{uuid.uuid4().hex[:4]}"
    code = "t" + uuid.uuid4().hex[:8]
    doctor = DemoDoctor("d1", "王大夫", "主任医师", Decimal("50.00"))
    day = date.today() + timedelta(days=2)
    with transaction(factory) as db:
        hospital = create_hospital(db, cipher, code=code, name=name)
        push = session_push(
            f"{code}-x", ("nk", "内科"), day, SessionOfDay.MORNING, 10, doctor=doctor
        )
        push_schedules(db, BookingContext(cipher=cipher), hospital.id, [push])
        seed_knowledge_demo(db)
    return name


def test_agent_day_and_supervisor_wallboard(
    desk_server: DeskServer,
    new_page: Any,
    session_factory: sessionmaker[Session],
    redis_namespace: str,
    recordings_root: Path,
) -> None:
    settings = desk_server.settings
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    hospital_name = seed_hospital(session_factory, cipher)
    team = f"组{uuid.uuid4().hex[:4]}"
    agent = make_user(session_factory, Role.AGENT, team=team)
    boss = make_user(session_factory, Role.SUPERVISOR, team=team)
    caller = f"139{uuid.uuid4().int % 10**8:08d}"
    call_id = f"web-{uuid.uuid4().hex[:8]}"
    open_call(session_factory, settings, call_id, Line.APPOINTMENT_114, caller,
              agent_id=agent.agent_id, skill="booking")  # fmt: skip

    # The supervisor opens the wallboard first and watches the agent arrive.
    board = new_page()
    log_in(board, desk_server, boss, "/supervisor")
    board.wait_for_selector("body[data-live='1']")

    desk = new_page()
    desk.goto(desk_server.url + "/login")
    screenshot(desk, "01-login")
    log_in(desk, desk_server, agent, "/desk")
    desk.wait_for_selector("body[data-live='1']")
    desk.click("#btn-signin")
    desk.wait_for_selector("#agent-state[data-state='not_ready']")
    desk.click("#btn-ready")
    desk.wait_for_selector("#agent-state[data-state='ready']")
    row = board.locator(f"tr[data-agent='{agent.agent_id}'] td.state")
    row.filter(has_text="空闲").wait_for()
    screenshot(board, "02-wallboard-agent-ready")

    # The controller offers a call: the screen pop shows the caller and the intent.
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    events.publish(
        client,
        events.CallOffered(
            agent_id=agent.agent_id or 0,
            call_id=call_id,
            line="114",
            caller_number=caller,
            skill="booking",
            intent="booking",
            ivr_path=["欢迎", "主菜单", "预约挂号"],
        ),
        redis_namespace,
    )
    desk.locator("#pop-intent").filter(has_text="预约挂号").wait_for()
    assert desk.inner_text("#pop-caller").startswith(caller[:3] + "****" + caller[-4:])
    assert "主菜单" in desk.inner_text("#pop-ivr")
    screenshot(desk, "03-desk-screen-pop")

    # Knowledge search box.
    desk.fill("#kb-q", "外伤")
    desk.click("#kb-form button")
    desk.wait_for_selector("#kb-results li")

    # Booking for the caller: hospital -> department -> schedule -> slot -> patient -> book.
    desk.fill("#hosp-q", hospital_name)
    desk.click("#hosp-form button")
    desk.locator("#hosp-list option", has_text=hospital_name).wait_for(state="attached")
    desk.select_option("#hosp-list", label=hospital_name)
    desk.locator("#dept-list option", has_text="内科").wait_for(state="attached")
    desk.select_option("#dept-list", label="内科")
    desk.click("#schedule-list button:not([disabled])")
    desk.click("#slot-list input[type=radio]")
    id_number = make_valid(
        f"11010519{80 + uuid.uuid4().int % 20:02d}0101{uuid.uuid4().int % 900 + 100:03d}"
    )
    desk.fill("#patient-name", "张三")
    desk.fill("#patient-id", id_number[:17] + ("0" if id_number[17] != "0" else "1"))
    desk.locator("#id-check.bad").wait_for()
    desk.fill("#patient-id", id_number)
    desk.locator("#id-check.ok").wait_for()
    desk.fill("#patient-phone", caller)
    desk.click("#btn-book")
    desk.wait_for_selector("#booking-code")
    booking_code = desk.inner_text("#booking-code")
    assert booking_code and "请向来电人复述预约码" in desk.inner_text("#booking-result")

    # A work order from the current call.
    desk.fill("#order-title", "咨询预约规则")
    desk.click("#btn-order")
    desk.wait_for_selector("#order-number")
    order_number = desk.inner_text("#order-number")
    assert order_number.startswith("GD")
    mine = desk.locator("#my-orders li", has_text=order_number)
    mine.wait_for()
    # The agent acts on the new order where the work-order service allows it (签收 first).
    sign = mine.locator("button[data-action='sign']")
    if sign.count():
        sign.click()
        desk.locator("#toast", has_text="已签收").wait_for()
    screenshot(desk, "04-desk-booked-and-order")

    # Wrap-up, then a break: the wallboard follows within a second or two.
    assert desk.input_value("#wrapup-order") == order_number
    desk.fill("#wrapup-notes", "已预约并建单")
    desk.click("#btn-wrapup")
    desk.locator("#screen-pop", has_text="暂无来电").wait_for()
    desk.select_option("#notready-reason", "meal")
    desk.click("#btn-notready")
    desk.wait_for_selector("#agent-state[data-state='not_ready']")
    row.filter(has_text="用餐").wait_for()
    screenshot(board, "05-wallboard-agent-on-meal")
    screenshot(desk, "06-desk-after-wrapup")

    # The supervisor finds the call's recording and plays it in the page.
    rec_id, _ = recorded_call(session_factory, settings, recordings_root, call_id, 1.0)
    with transaction(session_factory) as db:
        record = db.query(CallRecord).filter_by(call_id=call_id).one()
        record.recording_id, record.disposition = rec_id, Disposition.ANSWERED
    board.goto(desk_server.url + "/supervisor/recordings")
    board.fill("#rec-agent", agent.agent_number)
    board.select_option("#rec-disposition", label="已建工单")
    board.click("#rec-search")
    # The wrap-up the agent chose (a work order was filed), as people read it.
    board.locator("#recordings tbody tr", has_text="已建工单").wait_for()
    board.click("#recordings button[data-play]")
    # Polled from here: the page's CSP (script-src 'self') refuses wait_for_function's eval.
    for _ in range(100):
        if board.locator("#player").evaluate("el => el.readyState") >= 1:
            break
        board.wait_for_timeout(100)
    assert board.evaluate("document.getElementById('player').duration") == pytest.approx(
        1.0, abs=0.1
    )
    screenshot(board, "07-recordings-playing")
    client.close()


def test_auditor_and_administrator_pages(
    desk_server: DeskServer, new_page: Any, session_factory: sessionmaker[Session]
) -> None:
    auditor = new_page()
    log_in(auditor, desk_server, make_user(session_factory, Role.AUDITOR), "/supervisor/recordings")
    auditor.goto(desk_server.url + "/audit")
    auditor.locator("#audit tbody tr", has_text="auth.login").first.wait_for()
    screenshot(auditor, "08-audit-log")
    assert auditor.goto(desk_server.url + "/admin").status == 403

    admin = new_page()
    log_in(admin, desk_server, make_user(session_factory, Role.ADMIN), "/admin")
    admin.wait_for_selector("#users tbody tr")
    admin.wait_for_selector("#skills tbody tr")
    # The SMS texts, each with the placeholders its kind of message may use.
    admin.locator("#sms-templates tbody tr", has_text="{code}").first.wait_for()
    screenshot(admin, "09-admin")


def test_initial_password_change_in_the_browser(
    desk_server: DeskServer, page: Any, session_factory: sessionmaker[Session]
) -> None:
    user = make_user(session_factory, Role.AGENT, must_change=True)
    page.goto(desk_server.url + "/desk")
    page.wait_for_url("**/login?next=/desk")
    page.fill("#username", user.username)
    page.fill("#password", user.password)
    page.click("#login-submit")
    page.wait_for_url("**/password")
    page.fill("#old-password", user.password)
    page.fill("#new-password", "weak")
    page.fill("#new-password2", "weak")
    page.click("#password-submit")
    page.locator("#login-error", has_text="密码至少").wait_for()
    screenshot(page, "10-password-change-refused")
    for field in ("#new-password", "#new-password2"):
        page.fill(field, "Another-Strong-Pass7")
    page.click("#password-submit")
    page.wait_for_url("**/desk")


def test_first_enrolment_through_the_administrators_link_in_the_browser(
    desk_server: DeskServer, new_page: Any, session_factory: sessionmaker[Session]
) -> None:
    supervisor = make_user(session_factory, Role.SUPERVISOR)
    with transaction(session_factory) as db:  # its second factor was reset
        db.get(User, supervisor.id).totp_secret_enc = None  # type: ignore[union-attr]
    admin = new_page()
    log_in(admin, desk_server, make_user(session_factory, Role.ADMIN), "/admin")
    admin.click(f"button[data-link='{supervisor.id}']")
    admin.wait_for_selector("#totp-link:not([hidden])")
    link = admin.text_content("#totp-link-url") or ""
    assert link.startswith(desk_server.url + "/login?enrol=")

    them = new_page()
    them.goto(link)
    them.fill("#username", supervisor.username)
    them.fill("#password", supervisor.password)
    them.click("#login-submit")
    them.wait_for_url("**/login/totp")
    them.wait_for_selector("#totp-enrol:not([hidden])")
    secret = pyotp.parse_uri(them.text_content("#totp-uri") or "").secret
    them.fill("#totp-code", pyotp.TOTP(secret).now())
    them.click("#totp-form button")
    them.wait_for_url("**/supervisor")
    with session_factory() as db:
        stored = db.get(User, supervisor.id).totp_secret_enc  # type: ignore[union-attr]
    assert stored and PersonalDataCipher.of(desk_server.settings).decrypt(stored) == secret


def test_a_second_administrator_approves_a_new_auditor_in_the_browser(
    desk_server: DeskServer, new_page: Any, session_factory: sessionmaker[Session]
) -> None:
    name = "aud" + uuid.uuid4().hex[:8]
    first = new_page()
    log_in(first, desk_server, make_user(session_factory, Role.ADMIN), "/admin")
    first.fill("#new-username", name)
    first.fill("#new-display", "新审计员")
    first.select_option("#new-role", "auditor")
    first.fill("#new-password", "Initial-Pass-42")
    first.click("#user-form button")
    first.locator("#toast", has_text="另一位管理员").wait_for()
    second = new_page()
    log_in(second, desk_server, make_user(session_factory, Role.ADMIN), "/admin")
    second.locator("#approvals tbody tr", has_text=name).locator("button").click()
    second.locator("#users tbody tr", has_text=name).wait_for()
    with session_factory() as db:
        made = db.scalars(select(User).where(User.username == name)).one()
    assert made.role is Role.AUDITOR
