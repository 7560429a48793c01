"""Staffing queues: Erlang C (M/M/N, callers never give up) and Erlang A (M/M/N+M, callers
abandon after an exponential patience), as plain functions of rates in consistent units.

Units: ``arrival_rate`` in calls per second, ``aht`` (average handle time) and every other
duration in seconds, so that the offered load ``A = arrival_rate * aht`` is in Erlangs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from backend.errors import CallCenterError


class StaffingError(CallCenterError):
    code = "bad-staffing-input"


def offered_load(calls: float, interval_seconds: float, aht: float) -> float:
    """Erlangs offered by ``calls`` arriving in ``interval_seconds`` with handle time ``aht``."""
    if interval_seconds <= 0 or aht < 0 or calls < 0:
        raise StaffingError("呼入量、时段长度与平均处理时长必须为正数")
    return calls / interval_seconds * aht


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of M/M/N/N, by the stable recursion B(n) = A·B(n−1)/(n + A·B(n−1))."""
    b = 1.0
    for n in range(1, agents + 1):
        b = load * b / (n + load * b)
    return b


def erlang_c(agents: int, load: float) -> float:
    """Probability that a caller waits (all agents busy); 1.0 when the queue is unstable."""
    if agents <= load:
        return 1.0
    b = erlang_b(agents, load)
    return agents * b / (agents - load * (1.0 - b))


def service_level_c(agents: int, load: float, aht: float, target_seconds: float) -> float:
    """Share of callers answered within ``target_seconds`` under Erlang C."""
    if agents <= load:
        return 0.0
    return 1.0 - erlang_c(agents, load) * math.exp(-(agents - load) * target_seconds / aht)


def asa_c(agents: int, load: float, aht: float) -> float:
    """Average speed of answer (seconds, over all callers) under Erlang C."""
    if agents <= load:
        return math.inf
    return erlang_c(agents, load) * aht / (agents - load)


def agents_needed_c(
    load: float, aht: float, target_seconds: float, target_level: float, *, limit: int = 5000
) -> int:
    """The fewest agents whose Erlang C service level reaches ``target_level``."""
    if not 0 < target_level < 1:
        raise StaffingError("服务水平目标须在0与1之间")
    if load <= 0:
        return 0
    agents = max(1, math.floor(load) + 1)
    while agents <= limit:
        if service_level_c(agents, load, aht, target_seconds) >= target_level:
            return agents
        agents += 1
    raise StaffingError("所需坐席数超出计算上限")


@dataclass(frozen=True)
class ErlangAResult:
    wait_probability: float
    abandon_probability: float
    service_level: float  # answered within the target time, over all callers
    mean_queue_wait: float  # seconds, over all callers (served or not)


def erlang_a(
    agents: int, arrival_rate: float, aht: float, patience: float, target_seconds: float
) -> ErlangAResult:
    """M/M/N+M: the birth-death chain truncated where its terms vanish.

    ``patience`` is the callers' mean patience in seconds. The service level counts a caller
    as answered within T when an agent takes it by T and the caller did not hang up first;
    it is computed by uniformising the chain of "callers ahead of me".
    """
    if agents < 0 or arrival_rate < 0 or aht <= 0 or patience <= 0:
        raise StaffingError("Erlang A 参数必须为正数")
    mu, theta = 1.0 / aht, 1.0 / patience
    load = arrival_rate * aht
    # Unnormalised stationary probabilities, in logs to survive large N.
    logs = [n * math.log(load) - math.lgamma(n + 1) if load > 0 else 0.0 for n in range(agents + 1)]
    if load == 0:
        logs = [0.0] + [-math.inf] * agents
    k = 0
    while True:
        rate_out = agents * mu + (k + 1) * theta
        nxt = logs[-1] + math.log(arrival_rate / rate_out) if arrival_rate > 0 else -math.inf
        if nxt < max(logs) - 40 or k > 100_000:
            break
        logs.append(nxt)
        k += 1
    top = max(logs)
    weights = [math.exp(x - top) for x in logs]
    total = sum(weights)
    probs = [w / total for w in weights]
    waiting = probs[agents:]
    p_wait = sum(waiting)
    queue_mean = sum((n - agents) * p for n, p in enumerate(probs) if n > agents)
    p_abandon = theta * queue_mean / arrival_rate if arrival_rate > 0 else 0.0
    served_by_t = _served_within(agents * mu, theta, len(waiting), target_seconds)
    sl = sum(probs[:agents]) + sum(p * s for p, s in zip(waiting, served_by_t, strict=True))
    return ErlangAResult(
        wait_probability=p_wait,
        abandon_probability=p_abandon,
        service_level=sl,
        mean_queue_wait=queue_mean / arrival_rate if arrival_rate > 0 else 0.0,
    )


def _served_within(service_rate: float, theta: float, states: int, t: float) -> list[float]:
    """P(reach an agent by t without abandoning | j callers ahead), for j = 0..states-1."""
    if states == 0:
        return []
    top_rate = service_rate + states * theta
    lam = top_rate + theta
    mean_jumps = lam * t
    u = [0.0] * states  # P(served within k uniform jumps | j ahead)
    result = [0.0] * states
    weight = math.exp(-mean_jumps)  # Poisson(k; lam*t), k = 0
    cumulative = weight
    k = 0
    while True:
        for j in range(states):
            result[j] += weight * u[j]
        if cumulative > 1 - 1e-12 or k > 20 * mean_jumps + 200:
            break
        new = [0.0] * states
        for j in range(states):
            ahead = service_rate + j * theta
            progressed = 1.0 if j == 0 else u[j - 1]
            new[j] = ahead / lam * progressed + (1 - (ahead + theta) / lam) * u[j]
        u = new
        k += 1
        weight *= mean_jumps / k
        cumulative += weight
    return result


def agents_needed_a(
    arrival_rate: float,
    aht: float,
    patience: float,
    target_seconds: float,
    target_level: float,
    *,
    limit: int = 2000,
) -> int:
    """The fewest agents whose Erlang A service level reaches ``target_level``.

    The service level grows with the number of agents, so a doubling then bisection search
    needs a dozen evaluations instead of one per agent.
    """
    if not 0 < target_level < 1:
        raise StaffingError("服务水平目标须在0与1之间")
    if arrival_rate == 0:
        return 0

    def meets(agents: int) -> bool:
        result = erlang_a(agents, arrival_rate, aht, patience, target_seconds)
        return result.service_level >= target_level

    high = 1
    while not meets(high):
        if high > limit:
            raise StaffingError("所需坐席数超出计算上限")
        high *= 2
    low = high // 2  # fails (or is 0, which never serves anyone within T)
    while high - low > 1:
        middle = (low + high) // 2
        if meets(middle):
            high = middle
        else:
            low = middle
    return high
