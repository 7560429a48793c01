"""The ``[carrier]`` trunk of pjsip.conf, from the CC_CARRIER_* settings.

pjsip.conf keeps the trunk's fixed shape; this module supplies its values and the parts that
exist only with credentials: an auth object used both ways (our INVITEs answer the carrier's
challenges with it; with ``carrier_inbound_auth`` Asterisk challenges the carrier's INVITEs)
and, with ``carrier_register``, an outbound registration.
"""

from __future__ import annotations

from backend.settings import Settings

AUTH_NAME = "carrier-auth"


def endpoint_auth_lines(settings: Settings) -> str:
    if not settings.carrier_username:
        return ""
    lines = [f"outbound_auth = {AUTH_NAME}"]
    if settings.carrier_inbound_auth:
        lines.append(f"auth = {AUTH_NAME}")
    return "\n".join(lines)


def credential_sections(settings: Settings) -> str:
    if not settings.carrier_username:
        return ""
    server = f"sip:{uri_host(settings.carrier_host)}:{settings.carrier_port}"
    user = settings.carrier_username
    sections = [
        f"[{AUTH_NAME}]\ntype = auth\nauth_type = userpass\nusername = {user}\n"
        f"password = {settings.carrier_password.get_secret_value()}\n"
    ]
    if settings.carrier_register:
        host_part = server.removeprefix("sip:")
        sections.append(
            "[carrier-registration]\ntype = registration\n"
            f"transport = transport-{settings.carrier_transport}\n"
            f"outbound_auth = {AUTH_NAME}\nserver_uri = {server}\n"
            f"client_uri = sip:{user}@{host_part}\ncontact_user = {user}\n"
            # Keep trying after a failure (a carrier restarting) instead of giving up.
            "retry_interval = 30\nforbidden_retry_interval = 300\nmax_retries = 10000\n"
        )
    return "\n".join(sections)


def uri_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def placeholder_values(settings: Settings) -> dict[str, str]:
    return {
        "CARRIER_HOST": uri_host(settings.carrier_host),
        "CARRIER_PORT": str(settings.carrier_port),
        "CARRIER_TRANSPORT": settings.carrier_transport,
        "CARRIER_MATCH": settings.effective_carrier_match,
        "CARRIER_CODECS": settings.carrier_codecs,
        "CARRIER_AUTH": endpoint_auth_lines(settings),
        "CARRIER_CREDENTIALS": credential_sections(settings),
    }
