"""The audit trail: writing records (``records``), their hash chains and the check of them
(``chain``, ``store``), and retention (``retention``)."""

from backend.audit.records import Actor, record_audit

__all__ = ["Actor", "record_audit"]
