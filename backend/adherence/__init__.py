"""Schedule adherence (排班遵从): the roster's shifts against the agents' state history.

``timeline`` turns an agent's state changes into time spent signed in and ready, ``measure``
scores one shift (seconds, lateness, absence) and adds shifts up, ``load`` reads the shifts
(``backend.workforce.schedule``) and the history (``agent_state_changes``) for a period.
"""
