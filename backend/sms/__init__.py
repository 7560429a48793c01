"""Text messages to citizens' phones: the port (``port``), the recording fake for tests and
the demo (``fake``), the HTTP adapter to a real gateway (``http_gateway``), and the choice
between them from settings (``gateways``)."""

from backend.sms.port import (
    DeliveryReceipt,
    ReceiptSource,
    SmsGateway,
    SmsMessage,
    SmsSendFailed,
)

__all__ = ["DeliveryReceipt", "ReceiptSource", "SmsGateway", "SmsMessage", "SmsSendFailed"]
