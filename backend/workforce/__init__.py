"""Workforce planning (排班): shift templates, rosters, and who is scheduled when.

The tables are described in ``backend/models/workforce.py``; the forecast and the solver that
fill a roster live in ``reports/workforce/`` (they need the Erlang formulas of ``reports``).
"""
