"""Speech for the IVR: TTS prompts and ASR intent capture."""
