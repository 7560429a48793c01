"""Running Asterisk: the built-in root filesystem, its configuration and its process."""
