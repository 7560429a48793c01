"""The engine that runs the IVR flows (defined in ``backend/flows/``) and its ports."""
