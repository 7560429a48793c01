"""IVR flows as data and the engine that runs them."""
