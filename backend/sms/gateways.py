"""The SMS gateway the settings name (``CC_SMS_GATEWAY``)."""

from __future__ import annotations

import redis

from backend.errors import ConfigError
from backend.settings import Settings
from backend.sms.cmpp_gateway import CmppSmsGateway
from backend.sms.fake import RecordingSmsGateway
from backend.sms.http_gateway import HttpSmsGateway
from backend.sms.port import SmsGateway
from backend.sms.smpp_gateway import SmppSmsGateway


def gateway_from_settings(settings: Settings, client: redis.Redis) -> SmsGateway:
    if settings.sms_gateway == "http":
        return HttpSmsGateway(
            settings.sms_http_url,
            settings.sms_http_token.get_secret_value(),
            sign=settings.sms_http_sign,
            timeout_seconds=settings.sms_http_timeout_seconds,
        )
    if settings.sms_gateway == "smpp":
        return SmppSmsGateway(
            settings.sms_smpp_host,
            settings.sms_smpp_port,
            system_id=settings.sms_smpp_system_id,
            password=settings.sms_smpp_password.get_secret_value(),
            system_type=settings.sms_smpp_system_type,
            source_addr=settings.sms_source_number,
            timeout_seconds=settings.sms_carrier_timeout_seconds,
        )
    if settings.sms_gateway == "cmpp":
        return CmppSmsGateway(
            settings.sms_cmpp_host,
            settings.sms_cmpp_port,
            sp_id=settings.sms_cmpp_sp_id,
            secret=settings.sms_cmpp_secret.get_secret_value(),
            service_id=settings.sms_cmpp_service_id,
            src_id=settings.sms_source_number,
            timeout_seconds=settings.sms_carrier_timeout_seconds,
        )
    if settings.environment == "production":
        # The fake sends nothing: in production no citizen could ever sign in.
        raise ConfigError(
            "sms_gateway", "production sends real messages: set CC_SMS_GATEWAY=http, smpp or cmpp"
        )
    return RecordingSmsGateway(client, settings.sms_fake_redis_prefix)
