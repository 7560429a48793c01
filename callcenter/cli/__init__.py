"""The `callcenter` command: one entry point for operators, the Makefile and the demo."""
