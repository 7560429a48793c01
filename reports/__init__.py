"""Reports: KPIs computed in PostgreSQL, rendered as pages and downloads.

- ``kpi``: the formulas, once, over plain numbers, with the footnote each page prints.
- ``erlang``: Erlang B/C/A staffing.
- ``measures``: the per-call SQL behind every measure (shared by summaries and raw scans).
- ``summaries``: ``refresh_summaries(session, since)``, the incremental refresh beat calls.
- ``query``: ``call_totals`` / ``state_seconds`` / ``intent_mix``: summaries for closed
  periods, raw records after the refresh mark (or ``Source.RAW`` for a full scan).
- ``service_report``, ``agent_report``, ``recording_report``, ``halfyear_114``,
  ``booking_sheet``, ``workorder_report``, ``staffing``: one report each, as a
  ``document.ReportDocument``; ``render_html`` / ``render_files`` draw it.
- ``tasks``: ``register_report_tasks(app, resources)`` for the Celery worker.
"""
