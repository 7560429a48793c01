"""Where the services' Prometheus metrics are served (docs/metrics.md)."""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator

from backend.settings.addresses import IPNetwork, cidr_list, cidr_networks
from backend.settings.base import SettingsGroup


class MetricsSettings(SettingsGroup):
    # The controller and the worker serve /metrics on a port of their own (0: not served);
    # the desk serves /metrics on its own port, to the networks of CC_METRICS_ALLOW only
    # (comma-separated CIDRs: Prometheus's hosts). Bind to the centre's internal interface,
    # never a public one.
    metrics_host: str = "127.0.0.1"
    controller_metrics_port: int = Field(default=9464, ge=0, le=65535)
    worker_metrics_port: int = Field(default=9465, ge=0, le=65535)
    metrics_allow: str = "127.0.0.1/32,::1/128"
    # Asterisk's own figures (res_prometheus, /metrics on its HTTP server, behind basic auth
    # as user "prometheus"); empty: not served.
    asterisk_metrics_password: SecretStr = SecretStr("")

    @field_validator("asterisk_metrics_password")
    @classmethod
    def _conf_safe(cls, value: SecretStr) -> SecretStr:
        # It is written into prometheus.conf, where ';' starts a comment.
        if not re.fullmatch(r"[A-Za-z0-9_.~-]*", value.get_secret_value()):
            raise ValueError("may only hold letters, digits and _ . ~ -")
        return value

    @field_validator("metrics_allow")
    @classmethod
    def _allow_networks(cls, value: str) -> str:
        return cidr_list(value)

    @property
    def metrics_networks(self) -> tuple[IPNetwork, ...]:
        return cidr_networks(self.metrics_allow)
