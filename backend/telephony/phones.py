"""Provisioning of agents' phones: the encrypted secret in ``agent_phones`` and Asterisk's
realtime rows in ``ps_endpoints``/``ps_auths``/``ps_aors``.

Why realtime rather than generated pjsip.conf + reload: a row committed here is an endpoint
the moment Asterisk next looks it up (no reload that touches every other phone and the
carrier), 300 seats need no configuration edit, several Asterisk nodes reading one database
agree at once, and disabling an agent deletes its rows so its phone stops working at once.

Why the secret is stored encrypted, not only hashed: Asterisk needs nothing but the digest
(HA1 = md5(user:realm:secret)), but the signed-in agent's browser softphone must register
with the secret itself, and the desk hands it over on /api/agent/phone. It is Fernet
ciphertext under CC_DATA_KEY, like every other secret personal datum; it is shown to the
administrator once, when created or rotated.

Every method works inside the caller's session and transaction: the agent row, its phone and
its audit record commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from backend.errors import NotFound
from backend.models.agents import Agent
from backend.models.base import Base
from backend.models.telephony import AgentPhone, PsAor, PsAuth, PsEndpoint
from backend.personal_data import PersonalDataCipher
from backend.telephony import profiles
from backend.telephony.profiles import PhoneKind, Row


class NoPhone(NotFound):
    code = "no-phone"


@dataclass(frozen=True)
class PhoneCredentials:
    """What a SIP UA needs to register as the agent."""

    number: str
    username: str
    password: str
    kind: PhoneKind


class AgentPhones:
    def __init__(self, cipher: PersonalDataCipher, realm: str) -> None:
        self._cipher = cipher
        self._realm = realm

    def provision(self, db: Session, agent: Agent, kind: PhoneKind = "desk") -> str:
        """Give ``agent`` (flushed, so it has an id) a phone with a new secret; returns the
        secret, to be shown once. An agent that already has one gets a new secret."""
        profiles.check_agent_number(agent.number)
        secret = profiles.new_secret()
        phone = db.get(AgentPhone, agent.id, with_for_update=True)
        if phone is None:
            phone = AgentPhone(agent_id=agent.id, kind=kind)
            db.add(phone)
        phone.kind = kind
        self._set_secret(phone, secret)
        agent.interface = profiles.interface(agent.number)
        self._project(db, agent, phone, secret)
        return secret

    def rotate(self, db: Session, agent: Agent) -> str:
        """A new secret for the agent's phone; the old one stops working at once."""
        phone = self._phone(db, agent)
        secret = profiles.new_secret()
        self._set_secret(phone, secret)
        self._project(db, agent, phone, secret)
        return secret

    def choose_kind(self, db: Session, agent: Agent, kind: PhoneKind) -> None:
        """Rewrite the endpoint for the phone the agent signs in with."""
        phone = self._phone(db, agent)
        if phone.kind != kind:
            phone.kind = kind
            self._project(db, agent, phone, self._cipher.decrypt(phone.secret_encrypted))

    def sync(self, db: Session, agent: Agent) -> None:
        """Make Asterisk's rows follow the agent: present while active, gone when disabled."""
        phone = db.get(AgentPhone, agent.id)
        if phone is not None:
            self._project(db, agent, phone, self._cipher.decrypt(phone.secret_encrypted))

    def credentials(self, db: Session, agent: Agent) -> PhoneCredentials | None:
        phone = db.get(AgentPhone, agent.id)
        if phone is None or not agent.active:
            return None
        return PhoneCredentials(
            number=agent.number,
            username=agent.number,
            password=self._cipher.decrypt(phone.secret_encrypted),
            kind=profiles.check_phone_kind(phone.kind),
        )

    def _phone(self, db: Session, agent: Agent) -> AgentPhone:
        phone = db.get(AgentPhone, agent.id, with_for_update=True)
        if phone is None:
            raise NoPhone(f"坐席 {agent.number} 没有配置话机")
        return phone

    def _set_secret(self, phone: AgentPhone, secret: str) -> None:
        phone.secret_encrypted = self._cipher.encrypt(secret)
        phone.secret_set_at = datetime.now(UTC)

    def _project(self, db: Session, agent: Agent, phone: AgentPhone, secret: str) -> None:
        number = agent.number
        if not agent.active:
            for model in (PsEndpoint, PsAuth, PsAor):
                row = db.get(model, number)
                if row is not None:
                    db.delete(row)
            return
        kind = profiles.check_phone_kind(phone.kind)
        _write(db, PsEndpoint, number, profiles.endpoint_row(number, kind))
        _write(db, PsAuth, number, profiles.auth_row(number, self._realm, secret))
        _write(db, PsAor, number, profiles.aor_row())


def _write(db: Session, model: type[Base], row_id: str, values: Row) -> None:
    """Insert or overwrite a whole row: every column the profile does not set is NULL, so a
    phone switching from browser to desk keeps no WebRTC option behind."""
    columns = {c.key for c in model.__table__.columns} - {"id"}
    unknown = set(values) - columns
    if unknown:
        raise ValueError(f"{model.__tablename__} has no column {sorted(unknown)}")
    row = db.get(model, row_id)
    if row is None:
        row = model(id=row_id)
        db.add(row)
    for column in columns:
        setattr(row, column, values.get(column))
