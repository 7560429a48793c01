"""The controller's side of automatic call distribution: the caller's wait over AGI
(``queue``, one ``waiter`` per caller), dispatching, callbacks, answer detection, and the
history and records written when a call leaves the queue. The shared parts (states, policy,
the Redis store) are in ``backend/acd/``.
"""
