"""Minimal carrier gateways for the SMS adapters' tests: an SMPP 3.4 SMSC (``smpp_server``)
and a CMPP 2.0 ISMG (``cmpp_server``), each a process of its own on loopback that speaks the
protocol from its specification (written apart from the adapters, so that the two sides
check each other), records every submitted message as a JSON line, and answers each with a
delivery report. ``peer`` runs one from a test and reads back what it recorded."""
