"""Prompts as sound: the TTS renderer the controller plays and the desk re-renders on edit."""
