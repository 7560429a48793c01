"""Workforce planning: the forecast of offered calls, the agents each half hour needs, and the
roster solver (OR-Tools CP-SAT). The tables and the edits live in ``backend.workforce``."""
