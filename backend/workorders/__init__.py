"""Work orders (接诉即办): state machine, deadlines, duplicates, the service and the 12345 exchange."""
