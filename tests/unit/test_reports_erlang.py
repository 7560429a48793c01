"""Erlang C and Erlang A against published reference values.

References:
- Erlang B: the standard traffic tables (e.g. the Erlang B table in ITU-T's "Teletraffic
  Engineering Handbook", ITU-D SG 2, 2005, table of offered traffic at 1 % blocking):
  N = 5 → 1.361 E, N = 10 → 4.461 E, N = 20 → 12.031 E.
- Erlang C: the worked example of "Erlang C Formula – Made Simple With an Easy Worked Example"
  (Call Centre Helper): 100 calls in a 30-minute interval, AHT 180 s, target 80 % within 20 s.
  Offered load 100 × 180 / 1800 = 10 Erlangs (calls per *interval second* times AHT, which is
  the units trap: 100 calls per hour would be 5 E). It gives, for 11 agents, a 68.2 % chance of
  waiting and 39.0 % service level; for 14 agents 17.4 %, 88.8 % and an ASA of 7.8 s, so 14 is
  the number needed before shrinkage.
- Erlang A: with patience equal to the handle time (θ = μ), M/M/N+M has the stationary law of
  M/M/∞, so P(wait) is the Poisson tail P(Poisson(A) ≥ N) (Mandelbaum & Zeltyn, "The
  Palm/Erlang-A queue", 2005, §3); with patience → ∞ it tends to Erlang C.
"""

from __future__ import annotations

import math

import pytest

from reports import erlang


@pytest.mark.parametrize(("agents", "load"), [(5, 1.361), (10, 4.461), (20, 12.031)])
def test_erlang_b_matches_the_one_percent_blocking_table(agents: int, load: float) -> None:
    assert erlang.erlang_b(agents, load) == pytest.approx(0.01, abs=5e-5)


def test_offered_load_units_are_calls_per_interval_second_times_aht() -> None:
    assert erlang.offered_load(100, 30 * 60, 180) == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("agents", "p_wait", "service_level"),
    [(11, 0.6821, 0.3896), (12, 0.4494, 0.6402), (13, 0.2853, 0.7956), (14, 0.1741, 0.8884)],
)
def test_erlang_c_worked_example(agents: int, p_wait: float, service_level: float) -> None:
    assert erlang.erlang_c(agents, 10.0) == pytest.approx(p_wait, abs=1e-4)
    assert erlang.service_level_c(agents, 10.0, 180, 20) == pytest.approx(service_level, abs=1e-4)


def test_erlang_c_agents_needed_and_asa() -> None:
    assert erlang.agents_needed_c(10.0, 180, 20, 0.80) == 14
    assert erlang.asa_c(14, 10.0, 180) == pytest.approx(7.8, abs=0.05)


def test_an_overloaded_queue_never_meets_a_target() -> None:
    assert erlang.erlang_c(10, 10.0) == 1.0
    assert erlang.service_level_c(9, 10.0, 180, 20) == 0.0
    with pytest.raises(erlang.StaffingError):
        erlang.agents_needed_c(10.0, 180, 20, 1.5)


def test_erlang_a_with_patience_equal_to_handle_time_is_a_poisson_tail() -> None:
    result = erlang.erlang_a(12, 100 / 1800, 180, 180, 20)
    tail = 1 - sum(math.exp(-10) * 10**k / math.factorial(k) for k in range(12))
    assert result.wait_probability == pytest.approx(tail, rel=1e-9)
    # Little's law on the abandoning callers: P(abandon) = θ · E[queue] / λ.
    assert result.abandon_probability == pytest.approx(result.mean_queue_wait / 180, rel=1e-9)


def test_erlang_a_tends_to_erlang_c_when_nobody_gives_up() -> None:
    result = erlang.erlang_a(14, 100 / 1800, 180, 1e9, 20)
    assert result.wait_probability == pytest.approx(0.1741, abs=1e-4)
    assert result.service_level == pytest.approx(0.8884, abs=1e-4)
    assert result.abandon_probability < 1e-6


def test_abandonment_lowers_the_staff_erlang_a_asks_for() -> None:
    needed_c = erlang.agents_needed_c(10.0, 180, 20, 0.8)
    needed_a = erlang.agents_needed_a(100 / 1800, 180, 180, 20, 0.8)
    assert needed_a == 12 < needed_c
