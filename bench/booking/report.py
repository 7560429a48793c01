"""What bench/booking prints: each round and chunk, and the two figures against their targets."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench.booking.closed_loop import ClosedLoopResult
from bench.booking.cpu import CpuSplit
from bench.booking.load import LoadResult, percentile


@dataclass
class Round:
    pg_tps: float
    pg_p99: float
    pg_cpu: CpuSplit  # over the pgbench run: the machine and pgbench itself
    closed: ClosedLoopResult
    http_cpu: CpuSplit  # over the closed loop: the machine, wrk and each server-side group


@dataclass
class PacedChunk:
    pg_tps: float  # pgbench's throughput just before; the chunk runs at a share of it
    rate: float
    result: LoadResult


@dataclass
class Outcome:
    """Everything a run measured, for the report at its end."""

    rounds: list[Round]
    chunks: list[PacedChunk]
    closing_pg_tps: float  # a last pgbench run, after the last chunk
    booked: dict[str, int]  # bookings written, by actor
    repeat_patients: int  # patients booked for more than once (0, or the seed was outgrown)


def report_closed(label: str, result: ClosedLoopResult) -> None:
    refused = f", refused {result.refused}" if result.refused else ""
    errors = f", connection errors {result.errors}" if result.errors else ""
    print(
        f"HTTP POST /api/public/bookings, {label}: {result.bookings_per_second:8.1f} "
        f"bookings/s, p50 {result.p50_ms:7.1f} ms, p99 {result.p99_ms:7.1f} ms{refused}{errors}"
    )


def report_cpu(number: int, pg_transactions: int, round_: Round) -> None:
    """Where each side's CPU went (``bench.booking.cpu``), in ms per transaction / booking."""
    pg = round_.pg_cpu.per_unit_ms(pg_transactions)
    http = round_.http_cpu.per_unit_ms(round_.closed.created + round_.closed.refused)
    if not pg or not http:
        return
    named = http["web"] + http["postgres"] + http["client"] + http["redis"]
    print(
        f"round {number}: CPU per pgbench transaction {pg['machine']:.3f} ms "
        f"(pgbench itself {pg['client']:.3f}); per HTTP booking {http['machine']:.3f} ms: "
        f"web workers {http['web']:.3f}, PostgreSQL {http['postgres']:.3f}, "
        f"wrk {http['client']:.3f}, Redis {http['redis']:.3f}, "
        f"rest {http['machine'] - named:.3f}"
    )


def report_paced(chunk: PacedChunk) -> None:
    result, lat = chunk.result, chunk.result.latencies_ms
    print(
        f"pgbench {chunk.pg_tps:8.1f} tx/s, then HTTP paced at {chunk.rate:6.1f}/s: "
        f"{result.count('201') / result.elapsed:8.1f} bookings/s, "
        f"p50 {statistics.median(lat):7.1f} ms, p99 {percentile(lat, 99):7.1f} ms, "
        f"statuses {dict(result.statuses)}"
    )


def report_rounds(
    outcome: Outcome, *, pg_clients: int, clients: int, workers: int, seconds: int
) -> list[float]:
    """Each closed-loop round against its pgbench run; the rounds' throughput ratios."""
    ratios = []
    for number, round_ in enumerate(outcome.rounds, 1):
        ratios.append(round_.closed.bookings_per_second / round_.pg_tps)
        print(f"round {number}: pgbench, booking transaction ({pg_clients} clients): "
              f"{round_.pg_tps:8.1f} tx/s, p99 {round_.pg_p99:7.1f} ms")  # fmt: skip
        report_closed(f"closed loop ({clients} clients, {workers} workers)", round_.closed)
        print(f"round {number}: ratio {ratios[-1]:.3f}")
        report_cpu(number, round(round_.pg_tps * seconds), round_)
    return ratios


def report_chunks(outcome: Outcome) -> None:
    """Each paced chunk, and its rate against the pgbench runs on either side of it."""
    chunks = outcome.chunks
    for chunk in chunks:
        report_paced(chunk)
    bracketing = [c.pg_tps for c in chunks[1:]] + [outcome.closing_pg_tps]
    shares = [
        c.rate / ((c.pg_tps + after) / 2) for c, after in zip(chunks, bracketing, strict=True)
    ]
    print(
        "paced rate / mean of the pgbench runs on either side, per chunk: "
        + ", ".join(f"{share:.3f}" for share in shares)
    )


def report_figures(
    outcome: Outcome, ratios: list[float], *, clients: int, paced_fraction: float
) -> None:
    """The checks on the run's data, and the two figures against their targets."""
    booked = outcome.booked
    paced_latencies = [ms for chunk in outcome.chunks for ms in chunk.result.latencies_ms]
    print(f"patients booked for more than once: {outcome.repeat_patients}")
    print(f"bookings written: pgbench {booked.get('pgbench', 0)}, "
          f"HTTP {sum(n for actor, n in booked.items() if actor != 'pgbench')}")  # fmt: skip
    print(
        f"throughput ratio HTTP / pgbench, median of {len(ratios)} rounds: "
        f"{statistics.median(ratios):.3f}  (target >= 0.5)"
    )
    print(
        f"HTTP p99 at {paced_fraction:g} of pgbench's throughput ({clients} clients, "
        f"{len(outcome.chunks)} chunks): {percentile(paced_latencies, 99):.1f} ms  "
        "(target < 250 ms)"
    )
