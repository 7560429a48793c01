"""Telephony domain shared by the desk and the call controller.

``profiles`` is pure: what Asterisk's realtime rows of an agent's phone hold for each phone
kind. ``phones.AgentPhones`` writes them, with the agent's encrypted SIP secret, inside the
caller's transaction, so an agent row and its phone never disagree. ``dial_policy`` is pure
too: which numbers agents may dial out to; ``dial_requests`` hands calls the desk asks for to
the controller.
"""
