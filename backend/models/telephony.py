"""Agent phones: our record of each agent's phone, and Asterisk's own realtime PJSIP tables.

``ps_endpoints``, ``ps_auths`` and ``ps_aors`` carry the column names and types of Asterisk's
realtime schema (its ``contrib/ast-db-manage``, as of Asterisk 22), restricted to the options
the platform sets or an administrator is likely to: Asterisk reads these tables through
``res_config_pgsql`` + ``res_sorcery_realtime`` with ``SELECT *``, so a column it knows but we
leave NULL simply takes Asterisk's default, and a row written here is an endpoint at once (no
reload). Only ``backend.telephony`` writes them; they are a projection of ``agents`` +
``agent_phones``, rebuilt from those whenever an agent changes.

Asterisk's schema has no primary keys on these tables (a unique ``id``); ours make ``id`` the
primary key, which Asterisk does not notice and which gives the ORM its identity.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import ENUM
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow

# Asterisk's PostgreSQL enum types, by Asterisk's names (created by our migration 0400).
YESNO = ENUM("yes", "no", name="yesno_values", create_type=False)
AST_BOOL = ENUM(
    "0", "1", "off", "on", "false", "true", "no", "yes", name="ast_bool_values", create_type=False
)
DTMF_MODE = ENUM(
    "rfc4733", "inband", "info", "auto", "auto_info",
    name="pjsip_dtmf_mode_values_v3", create_type=False,
)  # fmt: skip
MEDIA_ENCRYPTION = ENUM(
    "no", "sdes", "dtls", name="pjsip_media_encryption_values", create_type=False
)
DTLS_SETUP = ENUM("active", "passive", "actpass", name="pjsip_dtls_setup_values", create_type=False)
AUTH_TYPE = ENUM(
    "md5", "userpass", "google_oauth", name="pjsip_auth_type_values_v2", create_type=False
)


class AgentPhone(Base):
    """The agent's SIP secret (Fernet ciphertext under CC_DATA_KEY) and phone kind.

    The secret is kept recoverable, not only hashed, because the signed-in agent's browser
    softphone must register with it; Asterisk itself only ever sees the digest.
    """

    __tablename__ = "agent_phones"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "browser" (WebRTC) or "desk" (UDP SIP)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    secret_set_at: Mapped[datetime] = mapped_column(default=utcnow)


class PsEndpoint(Base):
    __tablename__ = "ps_endpoints"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    transport: Mapped[str | None] = mapped_column(String(40))
    aors: Mapped[str | None] = mapped_column(String(200))
    auth: Mapped[str | None] = mapped_column(String(255))
    context: Mapped[str | None] = mapped_column(String(40))
    disallow: Mapped[str | None] = mapped_column(String(200))
    allow: Mapped[str | None] = mapped_column(String(200))
    direct_media: Mapped[str | None] = mapped_column(YESNO)
    dtmf_mode: Mapped[str | None] = mapped_column(DTMF_MODE)
    force_rport: Mapped[str | None] = mapped_column(YESNO)
    ice_support: Mapped[str | None] = mapped_column(YESNO)
    identify_by: Mapped[str | None] = mapped_column(String(80))
    rewrite_contact: Mapped[str | None] = mapped_column(YESNO)
    rtp_symmetric: Mapped[str | None] = mapped_column(YESNO)
    callerid: Mapped[str | None] = mapped_column(String(40))
    trust_id_inbound: Mapped[str | None] = mapped_column(YESNO)
    send_pai: Mapped[str | None] = mapped_column(YESNO)
    use_avpf: Mapped[str | None] = mapped_column(YESNO)
    media_encryption: Mapped[str | None] = mapped_column(MEDIA_ENCRYPTION)
    media_encryption_optimistic: Mapped[str | None] = mapped_column(YESNO)
    media_use_received_transport: Mapped[str | None] = mapped_column(YESNO)
    rtcp_mux: Mapped[str | None] = mapped_column(YESNO)
    webrtc: Mapped[str | None] = mapped_column(YESNO)
    bundle: Mapped[str | None] = mapped_column(YESNO)
    max_audio_streams: Mapped[int | None] = mapped_column(Integer)
    dtls_verify: Mapped[str | None] = mapped_column(String(40))
    dtls_setup: Mapped[str | None] = mapped_column(DTLS_SETUP)
    dtls_cert_file: Mapped[str | None] = mapped_column(String(200))
    dtls_private_key: Mapped[str | None] = mapped_column(String(200))
    dtls_auto_generate_cert: Mapped[str | None] = mapped_column(YESNO)
    language: Mapped[str | None] = mapped_column(String(40))
    moh_suggest: Mapped[str | None] = mapped_column(String(40))
    allow_subscribe: Mapped[str | None] = mapped_column(YESNO)
    allow_transfer: Mapped[str | None] = mapped_column(YESNO)
    device_state_busy_at: Mapped[int | None] = mapped_column(Integer)
    rtp_timeout: Mapped[int | None] = mapped_column(Integer)
    rtp_timeout_hold: Mapped[int | None] = mapped_column(Integer)
    accountcode: Mapped[str | None] = mapped_column(String(80))
    set_var: Mapped[str | None] = mapped_column(Text)
    # Asterisk applies deny, then permit, in column order: keep deny first.
    deny: Mapped[str | None] = mapped_column(String(95))
    permit: Mapped[str | None] = mapped_column(String(95))
    acl: Mapped[str | None] = mapped_column(String(40))
    contact_deny: Mapped[str | None] = mapped_column(String(95))
    contact_permit: Mapped[str | None] = mapped_column(String(95))
    contact_acl: Mapped[str | None] = mapped_column(String(40))
    allow_unauthenticated_options: Mapped[str | None] = mapped_column(AST_BOOL)


class PsAuth(Base):
    __tablename__ = "ps_auths"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    auth_type: Mapped[str | None] = mapped_column(AUTH_TYPE)
    nonce_lifetime: Mapped[int | None] = mapped_column(Integer)
    md5_cred: Mapped[str | None] = mapped_column(String(40))
    password: Mapped[str | None] = mapped_column(String(80))
    realm: Mapped[str | None] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(40))
    password_digest: Mapped[str | None] = mapped_column(String(1024))
    supported_algorithms_uas: Mapped[str | None] = mapped_column(String(1024))


class PsAor(Base):
    __tablename__ = "ps_aors"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    contact: Mapped[str | None] = mapped_column(String(255))
    default_expiration: Mapped[int | None] = mapped_column(Integer)
    minimum_expiration: Mapped[int | None] = mapped_column(Integer)
    maximum_expiration: Mapped[int | None] = mapped_column(Integer)
    max_contacts: Mapped[int | None] = mapped_column(Integer)
    remove_existing: Mapped[str | None] = mapped_column(YESNO)
    remove_unavailable: Mapped[str | None] = mapped_column(AST_BOOL)
    qualify_frequency: Mapped[int | None] = mapped_column(Integer)
    qualify_timeout: Mapped[float | None] = mapped_column()
    authenticate_qualify: Mapped[str | None] = mapped_column(YESNO)
    support_path: Mapped[str | None] = mapped_column(YESNO)
