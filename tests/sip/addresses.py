"""Loopback addresses the SIP tests use (127.0.0.0/8 is all on ``lo``).

The carrier's SIPp processes (callers into the DIDs, the UAS answering outbound calls) sit on
an address of their own, which the test settings make the ``[carrier]`` identify match;
agents' phones stay on 127.0.0.1, so neither is ever taken for the other. A stranger (a peer
that is not the carrier) calls from another address still.
"""

from __future__ import annotations

CARRIER_HOST = "127.0.0.30"
PHONE_HOST = "127.0.0.1"
STRANGER_HOST = "127.0.0.40"
