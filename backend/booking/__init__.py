"""Booking: one slot database for phone agents, the IVR and the online channel.

``rules`` holds the pure booking rules; ``service.BookingService`` is what the desk, the IVR
and the APIs call; the other modules are its adapters (SQL, Redis, request signatures).
"""
