"""Agents as the administrator manages them: create (with a phone), edit, disable, rotate the
phone's secret. Each method works in the caller's session, so the agent row, its skills, its
phone's realtime rows and the caller's audit record commit together or not at all.

Refusals carry stable codes: ``bad-agent-number``, ``agent-number-taken``, ``unknown-skill``,
``no-such-user``, ``user-not-agent``, ``user-already-linked``, ``no-such-agent``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.errors import Conflict, NotFound, Refused
from backend.models.agents import Agent, AgentSkill, Skill
from backend.models.telephony import AgentPhone
from backend.models.users import Role, User
from backend.telephony import profiles
from backend.telephony.phones import AgentPhones
from backend.telephony.profiles import PhoneKind

# Accounts that may sign in to the agent desk and take calls.
AGENT_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR})


class AgentNumberTaken(Conflict):
    code = "agent-number-taken"


class NoSuchAgent(NotFound):
    code = "no-such-agent"


@dataclass(frozen=True)
class AgentDraft:
    number: str
    name: str
    team: str = ""
    skills: dict[str, int] = field(default_factory=dict)
    auto_answer: bool = False
    username: str | None = None  # the desk account the agent signs in with
    phone_kind: PhoneKind = "browser"


@dataclass(frozen=True)
class AgentChanges:
    name: str | None = None
    team: str | None = None
    skills: dict[str, int] | None = None
    auto_answer: bool | None = None
    active: bool | None = None

    def changed(self) -> dict[str, object]:
        """What the request changes, for the audit record."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


class AgentDirectory:
    def __init__(self, db: Session, phones: AgentPhones) -> None:
        self._db = db
        self._phones = phones

    def get(self, number: str) -> Agent:
        agent = self._db.scalar(select(Agent).where(Agent.number == number).with_for_update())
        if agent is None:
            raise NoSuchAgent(f"没有工号为 {number} 的坐席")
        return agent

    def create(self, draft: AgentDraft) -> tuple[Agent, str]:
        """A new agent with its phone; returns the agent and the phone's secret (shown once)."""
        number = profiles.check_agent_number(draft.number)
        if self._db.scalar(select(Agent.id).where(Agent.number == number)) is not None:
            raise AgentNumberTaken(f"工号 {number} 已存在")
        agent = Agent(
            number=number,
            name=draft.name,
            team=draft.team,
            auto_answer=draft.auto_answer,
            active=True,
            interface=profiles.interface(number),
            user_id=self._user_id(draft.username),
        )
        agent.skills = self._skills(draft.skills)
        # Two identical requests at once: both pass the check above, the unique number lets
        # one insert win and the other is told so, not given a server error.
        try:
            with self._db.begin_nested():
                self._db.add(agent)
                self._db.flush()
        except IntegrityError as exc:
            if _violated(exc) == "uq_agents_user_id":
                raise Refused(
                    f"用户 {draft.username} 已关联其他工号", code="user-already-linked"
                ) from None
            raise AgentNumberTaken(f"工号 {number} 已存在") from None
        secret = self._phones.provision(self._db, agent, draft.phone_kind)
        return agent, secret

    def update(self, number: str, changes: AgentChanges) -> Agent:
        agent = self.get(number)
        if changes.name is not None:
            agent.name = changes.name
        if changes.team is not None:
            agent.team = changes.team
        if changes.auto_answer is not None:
            agent.auto_answer = changes.auto_answer
        if changes.skills is not None:
            agent.skills = self._skills(changes.skills)
        if changes.active is not None:
            agent.active = changes.active
        self._db.flush()
        # A disabled agent's endpoint goes at once; an enabled one gets it back.
        self._phones.sync(self._db, agent)
        return agent

    def rotate_secret(self, number: str) -> tuple[Agent, str]:
        agent = self.get(number)
        if not agent.active:
            raise Refused(f"坐席 {number} 已停用，请先启用再重置话机密码", code="agent-disabled")
        return agent, self._phones.rotate(self._db, agent)

    def _skills(self, levels: dict[str, int]) -> list[AgentSkill]:
        known = set(self._db.scalars(select(Skill.code).where(Skill.code.in_(levels))))
        unknown = sorted(set(levels) - known)
        if unknown:
            raise Refused(f"技能组不存在：{'、'.join(unknown)}", code="unknown-skill")
        return [AgentSkill(skill_code=code, level=level) for code, level in levels.items()]

    def _user_id(self, username: str | None) -> int | None:
        if not username:
            return None
        user = self._db.scalar(select(User).where(User.username == username))
        if user is None:
            raise Refused(f"用户 {username} 不存在，请先新建用户", code="no-such-user")
        if user.role not in AGENT_ROLES:
            raise Refused(f"用户 {username} 不是坐席或班组长账户", code="user-not-agent")
        linked = self._db.scalar(select(Agent.number).where(Agent.user_id == user.id))
        if linked is not None:
            raise Refused(f"用户 {username} 已关联工号 {linked}", code="user-already-linked")
        return user.id


@dataclass(frozen=True)
class AgentEntry:
    """An agent as the administration lists it: with its desk account and its phone."""

    agent: Agent
    username: str | None
    phone: AgentPhone | None  # None: no provisioned phone (a simulated agent)


def list_agents(db: Session) -> list[AgentEntry]:
    users = {uid: name for uid, name in db.execute(select(User.id, User.username))}
    phones = {p.agent_id: p for p in db.scalars(select(AgentPhone))}
    return [
        AgentEntry(a, users.get(a.user_id) if a.user_id else None, phones.get(a.id))
        for a in db.scalars(select(Agent).order_by(Agent.number))
    ]


def find_agent(db: Session, number: str) -> AgentEntry:
    agent = db.scalar(select(Agent).where(Agent.number == number))
    if agent is None:
        raise NoSuchAgent(f"没有工号为 {number} 的坐席")
    username = db.scalar(select(User.username).where(User.id == agent.user_id))
    return AgentEntry(agent, username, db.get(AgentPhone, agent.id))


def _violated(exc: IntegrityError) -> str:
    """The name of the constraint PostgreSQL reported (psycopg's diagnostics)."""
    diag = getattr(exc.orig, "diag", None)
    return str(getattr(diag, "constraint_name", "") or "")
