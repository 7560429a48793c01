"""The demo's call history: calls generated with a real centre's arrival cycle and abandon
behaviour (``arrivals``), written through the controller's own writers (``writer``)."""
