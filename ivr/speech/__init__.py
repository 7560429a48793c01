"""Speech recognition for the IVR's intent capture (TTS is in ``backend/speech/``)."""
