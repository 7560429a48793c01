"""Render ``asterisk_conf/`` for one instance.

Templates use ``@NAME@`` placeholders, which cannot clash with dialplan ``${VAR}`` syntax.
An unknown placeholder is an error: a typo must not reach Asterisk as literal text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url

from backend.errors import ConfigError
from backend.settings import Settings
from ivr.pbx import carrier, dialplan, manager_users

CONF_DIR = Path(__file__).resolve().parents[2] / "asterisk_conf"
PLACEHOLDER = re.compile(r"@([A-Z0-9_]+)@")


@dataclass(frozen=True)
class RenderedConfig:
    files: dict[str, str]


def placeholder_values(settings: Settings) -> dict[str, str]:
    return {
        "DIRECTORIES": asterisk_directories(settings),
        "AMI_PORT": str(settings.ami_port),
        "AMI_BIND": settings.ami_host,
        "AMI_USERS": manager_users.manager_users(settings),
        "SIP_BIND": settings.sip_bind,
        "SIP_PORT": str(settings.sip_port),
        "SIP_TLS_TRANSPORT": sip_tls_transport(settings),
        "HTTP_BIND": settings.asterisk_http_bind,
        "HTTP_PORT": str(settings.asterisk_http_port),
        "HTTP_TLS": http_tls_lines(settings),
        "RTP_START": str(settings.rtp_port_start),
        "RTP_END": str(settings.rtp_port_end),
        "AGI_URL": settings.agi_url,
        "VERBOSE": str(settings.asterisk_verbose),
        "MESSAGES_VERBOSE": f",verbose({settings.asterisk_verbose})"
        if settings.asterisk_verbose
        else "",
        "RECORDINGS_DIR": settings.effective_asterisk_recordings_dir,
        "SOUNDS_DIR": settings.effective_asterisk_sounds_dir,
        "FALLBACK_AGENTS": settings.fallback_agents,
        "SIP_REALM": settings.sip_realm,
        "PHONE_PERMIT": "\n".join(f"permit = {cidr}" for cidr in settings.phone_permit.split(",")),
        "LINE_DIDS": dialplan.line_dids(settings),
        "LINE_ROUTES": dialplan.line_routes(settings),
        "CONTROLLERS": dialplan.controllers(settings),
        "TEST_CONTEXTS": dialplan.test_contexts(settings),
        "PROMETHEUS_ENABLED": "yes"
        if settings.asterisk_metrics_password.get_secret_value()
        else "no",
        "PROMETHEUS_PASSWORD": settings.asterisk_metrics_password.get_secret_value(),
        **database_values(settings),
        **carrier.placeholder_values(settings),
    }


def asterisk_directories(settings: Settings) -> str:
    """asterisk.conf's [directories]: the built-in instance's own, inside the shared root; an
    external Asterisk (a deployment's) keeps the directories its distribution was built with."""
    if not settings.asterisk_builtin:
        return "; an external Asterisk: its distribution's own directories"
    instance = settings.instance_dir_in_chroot
    return "\n".join(
        (
            f"astetcdir => {instance}/etc",
            "astmoddir => /usr/lib/x86_64-linux-gnu/asterisk/modules",
            "astvarlibdir => /var/lib/asterisk",
            f"astdbdir => {instance}/db",
            f"astkeydir => {instance}    ; res_crypto reads <astkeydir>/keys",
            "astdatadir => /usr/share/asterisk",
            "astagidir => /usr/share/asterisk/agi-bin",
            f"astspooldir => {instance}/spool",
            f"astrundir => {instance}/run",
            f"astlogdir => {instance}/log",
            "astsbindir => /usr/sbin",
        )
    )


def http_tls_lines(settings: Settings) -> str:
    """http.conf's TLS listener (WSS for softphones), or a comment saying there is none."""
    if not settings.asterisk_tls:
        return "; no TLS listener: CC_ASTERISK_TLS_CERT is not set (plain WS, loopback only)"
    return "\n".join(
        (
            "tlsenable = yes",
            f"tlsbindaddr = {settings.asterisk_http_bind}:{settings.asterisk_https_port}",
            f"tlscertfile = {settings.asterisk_tls_cert}",
            f"tlsprivatekey = {settings.asterisk_tls_key}",
        )
    )


def sip_tls_transport(settings: Settings) -> str:
    """pjsip.conf's TLS transport for desk phones, or a comment saying there is none."""
    if not settings.sip_tls:
        return "; no TLS transport: CC_SIP_TLS_CERT is not set"
    return "\n".join(
        (
            "[transport-tls]",
            "type = transport",
            "protocol = tls",
            f"bind = {settings.sip_bind}:{settings.sip_tls_port}",
            f"cert_file = {settings.sip_tls_cert}",
            f"priv_key_file = {settings.sip_tls_key}",
            # Nothing older than TLS 1.2: the versions before it are broken or deprecated.
            "method = tlsv1_2",
        )
    )


def database_values(settings: Settings) -> dict[str, str]:
    """res_pgsql.conf's connection, from the URL Asterisk reads the agent phones through.

    Without a host, or with "localhost", res_config_pgsql would use a Unix socket, which the
    built-in Asterisk cannot see from its chroot: TCP on loopback instead.
    """
    url = make_url(settings.effective_asterisk_database_url)
    host = url.host or "127.0.0.1"
    if host == "localhost" and settings.asterisk_builtin:
        host = "127.0.0.1"
    return {
        "DB_HOST": host,
        "DB_PORT": str(url.port or 5432),
        "DB_NAME": url.database or "",
        "DB_USER": url.username or "",
        # A ';' would start a comment in an Asterisk .conf file.
        "DB_PASSWORD": (url.password or "").replace(";", "\\;"),
    }


def render_text(name: str, text: str, values: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise ConfigError(f"asterisk_conf/{name}", f"unknown placeholder @{key}@")
        return values[key]

    return PLACEHOLDER.sub(substitute, text)


def render(settings: Settings, conf_dir: Path = CONF_DIR) -> RenderedConfig:
    values = placeholder_values(settings)
    files = {
        path.name: render_text(path.name, path.read_text(encoding="utf-8"), values)
        for path in sorted(conf_dir.glob("*.conf"))
    }
    return RenderedConfig(files)


def write(config: RenderedConfig, etc_dir: Path, *, remove_stale: bool = True) -> None:
    """Write the files; ``remove_stale`` deletes other ``.conf`` files there (an instance's own
    directory), which a shared directory such as a host's /etc/asterisk must keep."""
    etc_dir.mkdir(parents=True, exist_ok=True)
    for stale in etc_dir.glob("*.conf"):
        if remove_stale and stale.name not in config.files:
            stale.unlink()
    for name, text in config.files.items():
        (etc_dir / name).write_text(text, encoding="utf-8")
