"""The SIP test harness: real SIP user agents and real RTP against the project's Asterisk.

- ``caller``: a SIPp UAC calling a DID from the carrier's address, playing a tone with RFC
  4733 keys, reporting who hung up;
- ``carrier``: a SIPp UAS standing for the PSTN, answering outbound calls and reporting the
  number and caller ID each one carried;
- ``rtp_listener``: the audio a SIPp phone receives, measured from the loopback interface;
- ``tones``: tone WAVs, PCMA pcaps for SIPp, band energy of a recording (sox);
- ``baresip``: a desk phone registered with an agent's credentials;
- ``register``: one SIPp REGISTER with an agent's credentials, and how Asterisk answered;
- ``siptrace``, ``scenario``, ``sipp``, ``processes``, ``netstring``, ``rtp``, ``pcap``,
  ``g711``, ``addresses``: the parts they are built of.

The pytest fixtures are in ``tests/sip_fixtures.py``.
"""
