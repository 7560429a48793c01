"""Transitional: ``Desk`` is the app's one state, ``agent_desk.state.AppState``.

agent_desk/api/agent.py (still being edited by issue 16's softphone work) imports it by this
name; this module goes when that module moves to ``agent_desk.deps``.
"""

from __future__ import annotations

from agent_desk.state import AppState

Desk = AppState
