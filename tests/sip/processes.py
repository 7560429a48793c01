"""Free loopback ports and stopping the processes the harness starts (SIPp, baresip)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess


def free_udp_port(host: str) -> int:
    """A UDP port nothing is bound to on ``host`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_tcp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_sip_port(host: str) -> int:
    """A port free for SIP over UDP and TCP, with the next one free over TCP (TLS): a UA such
    as baresip binds all three, and a port free on UDP alone may be some client's TCP port."""
    for _ in range(50):
        port = free_udp_port(host)
        if port >= 65535:
            continue
        try:
            for tcp_port in (port, port + 1):
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                    sock.bind((host, tcp_port))
        except OSError:
            continue
        return port
    raise RuntimeError(f"no port free for SIP over UDP and TCP on {host}")


def free_media_port(host: str) -> int:
    """An even UDP port whose successor is free too (RTP and RTCP)."""
    for _ in range(50):
        port = free_udp_port(host)
        if port % 2 == 0 and port < 65534:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                try:
                    sock.bind((host, port + 1))
                except OSError:
                    continue
            return port
    raise RuntimeError(f"no free even UDP port pair on {host}")


def stop_session(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started with ``start_new_session=True`` and all it started.

    SIGTERM first (SIPp and baresip end their calls and exit), SIGKILL if that takes more
    than 5 s. Harmless when the process has ended already.
    """
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
