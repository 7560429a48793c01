"""FastAGI: the protocol parsed without sockets, a per-call session, and the asyncio server."""
