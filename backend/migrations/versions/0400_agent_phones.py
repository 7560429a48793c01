"""telephony: agent phones, and Asterisk's realtime PJSIP tables (ps_endpoints, ps_auths, ps_aors)

The ps_* tables use Asterisk's own column names and PostgreSQL enum types (its
contrib/ast-db-manage schema as of Asterisk 22), restricted to the options the platform uses;
Asterisk reads them with SELECT *, so absent columns are simply Asterisk's defaults.

Revision ID: 0400_agent_phones
Revises: 0001_foundation
Create Date: 2026-12-01 09:00:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ENUM


revision = "0400_agent_phones"
down_revision = "0001_foundation"
branch_labels = ("telephony",)
depends_on = None

# Asterisk's enum types, by Asterisk's names and values.
ENUMS = {
    "yesno_values": ("yes", "no"),
    "ast_bool_values": ("0", "1", "off", "on", "false", "true", "no", "yes"),
    "pjsip_dtmf_mode_values_v3": ("rfc4733", "inband", "info", "auto", "auto_info"),
    "pjsip_media_encryption_values": ("no", "sdes", "dtls"),
    "pjsip_dtls_setup_values": ("active", "passive", "actpass"),
    "pjsip_auth_type_values_v2": ("md5", "userpass", "google_oauth"),
}


def _enum(name: str) -> ENUM:
    return ENUM(*ENUMS[name], name=name, create_type=False)


def upgrade() -> None:
    bind = op.get_bind()
    for name, values in ENUMS.items():
        ENUM(*values, name=name).create(bind, checkfirst=True)
    yesno, ast_bool = _enum("yesno_values"), _enum("ast_bool_values")

    op.create_table(
        "agent_phones",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("secret_set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_phones_agent_id_agents")
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agent_phones")),
    )
    op.create_table(
        "ps_endpoints",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("transport", sa.String(length=40), nullable=True),
        sa.Column("aors", sa.String(length=200), nullable=True),
        sa.Column("auth", sa.String(length=255), nullable=True),
        sa.Column("context", sa.String(length=40), nullable=True),
        sa.Column("disallow", sa.String(length=200), nullable=True),
        sa.Column("allow", sa.String(length=200), nullable=True),
        sa.Column("direct_media", yesno, nullable=True),
        sa.Column("dtmf_mode", _enum("pjsip_dtmf_mode_values_v3"), nullable=True),
        sa.Column("force_rport", yesno, nullable=True),
        sa.Column("ice_support", yesno, nullable=True),
        sa.Column("identify_by", sa.String(length=80), nullable=True),
        sa.Column("rewrite_contact", yesno, nullable=True),
        sa.Column("rtp_symmetric", yesno, nullable=True),
        sa.Column("callerid", sa.String(length=40), nullable=True),
        sa.Column("trust_id_inbound", yesno, nullable=True),
        sa.Column("send_pai", yesno, nullable=True),
        sa.Column("use_avpf", yesno, nullable=True),
        sa.Column("media_encryption", _enum("pjsip_media_encryption_values"), nullable=True),
        sa.Column("media_use_received_transport", yesno, nullable=True),
        sa.Column("rtcp_mux", yesno, nullable=True),
        sa.Column("webrtc", yesno, nullable=True),
        sa.Column("bundle", yesno, nullable=True),
        sa.Column("max_audio_streams", sa.Integer(), nullable=True),
        sa.Column("dtls_verify", sa.String(length=40), nullable=True),
        sa.Column("dtls_setup", _enum("pjsip_dtls_setup_values"), nullable=True),
        sa.Column("dtls_cert_file", sa.String(length=200), nullable=True),
        sa.Column("dtls_private_key", sa.String(length=200), nullable=True),
        sa.Column("dtls_auto_generate_cert", yesno, nullable=True),
        sa.Column("language", sa.String(length=40), nullable=True),
        sa.Column("moh_suggest", sa.String(length=40), nullable=True),
        sa.Column("allow_subscribe", yesno, nullable=True),
        sa.Column("allow_transfer", yesno, nullable=True),
        sa.Column("device_state_busy_at", sa.Integer(), nullable=True),
        sa.Column("rtp_timeout", sa.Integer(), nullable=True),
        sa.Column("rtp_timeout_hold", sa.Integer(), nullable=True),
        sa.Column("accountcode", sa.String(length=80), nullable=True),
        sa.Column("set_var", sa.Text(), nullable=True),
        # Asterisk applies the ACL options in column order: deny before permit.
        sa.Column("deny", sa.String(length=95), nullable=True),
        sa.Column("permit", sa.String(length=95), nullable=True),
        sa.Column("acl", sa.String(length=40), nullable=True),
        sa.Column("contact_deny", sa.String(length=95), nullable=True),
        sa.Column("contact_permit", sa.String(length=95), nullable=True),
        sa.Column("contact_acl", sa.String(length=40), nullable=True),
        sa.Column("allow_unauthenticated_options", ast_bool, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ps_endpoints")),
    )
    op.create_table(
        "ps_auths",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("auth_type", _enum("pjsip_auth_type_values_v2"), nullable=True),
        sa.Column("nonce_lifetime", sa.Integer(), nullable=True),
        sa.Column("md5_cred", sa.String(length=40), nullable=True),
        sa.Column("password", sa.String(length=80), nullable=True),
        sa.Column("realm", sa.String(length=255), nullable=True),
        sa.Column("username", sa.String(length=40), nullable=True),
        sa.Column("password_digest", sa.String(length=1024), nullable=True),
        sa.Column("supported_algorithms_uas", sa.String(length=1024), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ps_auths")),
    )
    op.create_table(
        "ps_aors",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("contact", sa.String(length=255), nullable=True),
        sa.Column("default_expiration", sa.Integer(), nullable=True),
        sa.Column("minimum_expiration", sa.Integer(), nullable=True),
        sa.Column("maximum_expiration", sa.Integer(), nullable=True),
        sa.Column("max_contacts", sa.Integer(), nullable=True),
        sa.Column("remove_existing", yesno, nullable=True),
        sa.Column("remove_unavailable", ast_bool, nullable=True),
        sa.Column("qualify_frequency", sa.Integer(), nullable=True),
        sa.Column("qualify_timeout", sa.Float(), nullable=True),
        sa.Column("authenticate_qualify", yesno, nullable=True),
        sa.Column("support_path", yesno, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ps_aors")),
    )


def downgrade() -> None:
    for table in ("ps_aors", "ps_auths", "ps_endpoints", "agent_phones"):
        op.drop_table(table)
    bind = op.get_bind()
    for name in ENUMS:
        ENUM(name=name).drop(bind, checkfirst=True)
