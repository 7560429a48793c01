"""The holiday calendar the administrator enters each year from the State Council's 放假安排.

- ``year``: one year's entry (named holiday ranges, 调休 working weekend days) and its checks.
- ``store``: reading and writing the years in PostgreSQL (``holiday_years``), audited.
- ``live``: the calendar the hours and deadlines read, cached per process and reloaded when a
  year changes (any process's change is seen within ``RECHECK_SECONDS``).
- ``reminder``: from 1 November, warn when next year has not been entered.
"""
