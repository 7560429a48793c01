"""Keeping the controller's view in line with Asterisk's own: after an AMI reconnect, when a
controller restarts, and every few seconds. See ``reconciler.py``."""
