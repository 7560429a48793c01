"""The Asterisk Manager Interface: wire parsing and the controller's connection."""
