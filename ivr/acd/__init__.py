"""Automatic call distribution: skills routing, agent states and queues shared through Redis.

Pure parts: ``states`` (agent state machine), ``policy`` (who gets which call, and why),
``estimate`` (honest wait estimates). Adapters: ``store`` (Redis, atomic Lua scripts),
``history`` (agent state history into PostgreSQL), ``queue`` (the caller's side over AGI).
"""
