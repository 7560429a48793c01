"""The Asterisk Manager Interface: wire parsing and a client the controller and the desk use."""
