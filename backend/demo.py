"""The demo data set: accounts for every role, skills, agents, and each feature's own demo data.

Idempotent: running it again adds nothing that is already there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.booking.demo_data import seed_booking_demo
from backend.errors import Refused
from backend.knowledge.demo_data import seed_knowledge_demo
from backend.models.agents import Agent, AgentSkill, Skill
from backend.models.telephony import AgentPhone
from backend.models.users import Role, User
from backend.passwords import hash_password
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.telephony.phones import AgentPhones
from backend.workorders.demo_data import seed_workorder_demo

# Shown on screen by `make demo`; demo accounts only, never used outside development.
DEMO_PASSWORD = "Demo#2026cc"
# The demo's roles that sign in with a one-time code (all but agents and hospital operators,
# agent_desk.auth.permissions.SECOND_FACTOR_ROLES) share this authenticator secret, printed like
# the password to add to an authenticator app. Never in production, like the password.
DEMO_TOTP_SECRET = "CCDEMOTOTPSECRETXCCDEMOABCDEFGHZ"

SKILLS = (
    # code, name, line, wrap-up s, SL threshold s — the codes the IVR flows queue to
    ("booking", "预约挂号", "114", 15, 20),
    ("general", "综合咨询（人工）", "114", 15, 20),
    ("policy", "医保政策咨询", "hotline", 30, 20),
    ("reimbursement", "医保报销", "hotline", 30, 20),
    ("insurance_card", "医保卡业务", "hotline", 20, 20),
    ("complaint", "投诉建议", "hotline", 60, 20),
)

# number, name, skills with levels. Agent 1001 has a real phone (the desk's browser
# softphone, PJSIP/1001); the others ring as Local/<number>@sim-agent, simulated for load.
SOFTPHONE_AGENT = "1001"
AGENTS = (
    ("1001", "王芳", {"booking": 9, "general": 8}),
    ("1002", "李娜", {"booking": 7, "general": 6}),
    ("1003", "张伟", {"general": 9, "booking": 5}),
    ("2001", "刘洋", {"policy": 9, "reimbursement": 8, "complaint": 6}),
    ("2002", "陈静", {"reimbursement": 9, "insurance_card": 8, "policy": 5, "complaint": 5}),
)

ACCOUNTS = (
    ("admin", "系统管理员", Role.ADMIN, ""),
    ("supervisor", "班长 赵敏", Role.SUPERVISOR, "114"),
    ("auditor", "审计员 孙丽", Role.AUDITOR, ""),
    ("manager", "卫健委 周主任", Role.MANAGER, ""),
    ("hospital", "协和医院 对接员", Role.HOSPITAL, ""),
)


def refuse_in_production(settings: Settings) -> None:
    """The demo's accounts share one printed password and its hospitals' API secrets are
    derived from their codes: never in production (CC_ENVIRONMENT), whoever asks."""
    if settings.environment == "production":
        raise Refused(
            "the demo data set is refused in production (CC_ENVIRONMENT=production): make "
            "accounts and keys with callcenter create-admin, hospital and city-platform",
            code="demo-in-production",
        )


def seed_demo(session: Session, settings: Settings) -> list[str]:
    refuse_in_production(settings)
    cipher = PersonalDataCipher.of(settings)
    added_users = _seed_accounts(session, cipher)
    added_skills = _seed_skills(session)
    added_agents = _seed_agents(session)
    session.flush()
    _give_softphone(session, AgentPhones(cipher, settings.sip_realm))
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    sessions = seed_booking_demo(session, cipher, today)
    articles = seed_knowledge_demo(session, datetime.now(UTC))
    orders = seed_workorder_demo(session, cipher, datetime.now(UTC))
    return [
        f"demo data: {added_users} accounts, {added_skills} skills, {added_agents} agents, "
        f"{sessions} clinic sessions, {articles} knowledge articles, {orders} work orders added",
        f"demo accounts (password {DEMO_PASSWORD}): admin, supervisor, auditor, manager, "
        f"hospital, and agents {', '.join('a' + a[0] for a in AGENTS)}; admin, supervisor, "
        f"auditor and manager also need a TOTP code of the secret {DEMO_TOTP_SECRET}",
        f"agent {SOFTPHONE_AGENT} has a real browser softphone: log in as a{SOFTPHONE_AGENT} "
        "with 浏览器软电话 chosen, then 签入 and 置闲 to take the next call; "
        "the other agents are simulated",
    ]


def _existing_usernames(session: Session) -> set[str]:
    return set(session.scalars(select(User.username)))


def _seed_accounts(session: Session, cipher: PersonalDataCipher) -> int:
    existing = _existing_usernames(session)
    added = 0
    for username, name, role, team in ACCOUNTS:
        if username in existing:
            continue
        second_factor = role not in (Role.AGENT, Role.HOSPITAL)
        secret = cipher.encrypt(DEMO_TOTP_SECRET) if second_factor else None
        session.add(_demo_user(username, name, role, team, secret))
        added += 1
    return added


def _demo_user(
    username: str, name: str, role: Role, team: str, totp_secret_enc: str | None = None
) -> User:
    return User(
        username=username,
        display_name=name,
        role=role,
        team=team,
        password_hash=hash_password(DEMO_PASSWORD),
        must_change_password=False,
        password_changed_at=datetime.now(UTC),
        totp_secret_enc=totp_secret_enc,
    )


def _seed_skills(session: Session) -> int:
    existing = set(session.scalars(select(Skill.code)))
    added = 0
    for code, name, line, wrapup, threshold in SKILLS:
        if code in existing:
            continue
        # A caller waiting too long for 人工 may be served by a booking agent, and vice versa.
        overflow = {"general": "booking", "booking": "general"}.get(code)
        session.add(
            Skill(
                code=code,
                name=name,
                line=line,
                wrapup_seconds=wrapup,
                sl_threshold_seconds=threshold,
                overflow_skill=overflow,
            )
        )
        added += 1
    return added


def _seed_agents(session: Session) -> int:
    existing = set(session.scalars(select(Agent.number)))
    usernames = _existing_usernames(session)
    added = 0
    for number, name, skills in AGENTS:
        if number in existing:
            continue
        team = "114" if number.startswith("1") else "hotline"
        username = f"a{number}"
        user = None
        if username not in usernames:
            user = _demo_user(username, name, Role.AGENT, team)
            session.add(user)
            session.flush()
        agent = Agent(
            number=number,
            name=name,
            interface=f"Local/{number}@sim-agent",  # 1001's phone is given below
            team=team,
            user_id=user.id if user else None,
        )
        agent.skills = [AgentSkill(skill_code=code, level=level) for code, level in skills.items()]
        session.add(agent)
        added += 1
    return added


def _give_softphone(session: Session, phones: AgentPhones) -> None:
    """Agent 1001's browser softphone (also for demo data seeded before it had one)."""
    agent = session.scalar(select(Agent).where(Agent.number == SOFTPHONE_AGENT))
    if agent is not None and session.get(AgentPhone, agent.id) is None:
        phones.provision(session, agent, "browser")
