"""Text messages to callers and citizens (issue 26): what each event's message says
(``texts``, editable by administrators), composing and sending the queued outbox
(``sender``), the evening-before reminders (``reminders``), resends and opt-outs
(``requests``). Described in ``docs/sms-notifications.md``."""
