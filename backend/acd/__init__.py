"""Automatic call distribution as the controller and the desk share it: agent states, the
routing policy and the ACD's state in Redis.

Pure parts: ``states`` (agent state machine), ``policy`` (who gets which call, and why),
``estimate`` (honest wait estimates), ``model`` (what the store hands out). Adapters: the
store (Redis, atomic Lua scripts) and ``skills`` (the skills table). The caller's side over
AGI stays with the controller in ``ivr/acd/``.
"""
