"""Pure desk rules: roles, lockout, IP allow-list, time in state, channel look-up, live filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent_desk.auth.permissions import (
    HOME_PAGE,
    ROLE_PERMISSIONS,
    Permission,
    allowed,
    needs_second_factor,
)
from agent_desk.auth.policy import LockoutPolicy, ip_allowed, parse_allowlist
from agent_desk.callcontrol import agent_channels
from agent_desk.live import state_event, wanted
from agent_desk.myday import time_in_states
from backend import events
from backend.flows.loader import load_flows
from backend.flows.prompt_texts import (
    apply_overrides,
    load_overrides,
    prompt_rows,
    save_override,
)
from backend.models.users import Role

T0 = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


def test_every_role_has_a_home_page_it_may_open() -> None:
    pages = {"/desk": Permission.DESK, "/supervisor": Permission.WALLBOARD,
             "/admin": Permission.ADMIN, "/supervisor/recordings": Permission.RECORDINGS,
             "/hospital": Permission.HOSPITAL,
             "/department": Permission.WORKORDER_HANDLE}  # fmt: skip
    for role in Role:
        assert allowed(role, pages[HOME_PAGE[role]]), role


def test_every_role_that_reads_recordings_or_administers_needs_a_second_factor() -> None:
    second = {r for r in Role if needs_second_factor(r)}
    assert second == {Role.ADMIN, Role.AUDITOR, Role.SUPERVISOR, Role.MANAGER}
    wide = {Permission.RECORDINGS, Permission.ADMIN, Permission.AUDIT_LOG, Permission.REPORTS}
    assert {r for r in Role if ROLE_PERMISSIONS[r] & wide} <= second
    assert Permission.ADMIN not in ROLE_PERMISSIONS[Role.SUPERVISOR]
    assert not allowed(Role.AGENT, Permission.RECORDINGS)
    assert not allowed(Role.HOSPITAL, Permission.DESK)


def test_lockout_starts_at_the_threshold_and_lasts_its_minutes() -> None:
    policy = LockoutPolicy(threshold=3, minutes=15)
    assert policy.after_failure(0, T0) == (1, None)
    assert policy.after_failure(1, T0) == (2, None)
    count, until = policy.after_failure(2, T0)
    assert count == 0 and until == T0 + timedelta(minutes=15)
    assert policy.is_locked(until, T0 + timedelta(minutes=14))
    assert not policy.is_locked(until, T0 + timedelta(minutes=15))


def test_ip_allow_list_matches_networks_and_refuses_what_does_not_parse() -> None:
    nets = parse_allowlist(" 10.1.0.0/16, 192.168.5.7 ,, ::1 ")
    assert ip_allowed("10.1.200.3", nets)
    assert ip_allowed("192.168.5.7", nets) and not ip_allowed("192.168.5.8", nets)
    assert ip_allowed("::ffff:10.1.0.9", nets) and ip_allowed("::1", nets)
    assert not ip_allowed("testclient", nets) and not ip_allowed("", nets)


def test_time_in_states_counts_from_midnight_and_skips_logged_out() -> None:
    changes = [
        (T0 + timedelta(hours=1), "ready"),
        (T0 + timedelta(hours=1, minutes=30), "not_ready"),
        (T0 + timedelta(hours=2), "logged_out"),
    ]
    totals = time_in_states(changes, T0, T0 + timedelta(hours=3), before="not_ready")
    assert totals == {"not_ready": 3600.0 + 1800.0, "ready": 1800.0}


def test_agent_channel_found_in_core_show_channels_prefers_the_bridged_local_half() -> None:
    channels = [
        {"Event": "CoreShowChannel", "Channel": name, "Application": app}
        for name, app in (
            ("Local/a1@sim-agent-00000003;2", "MusicOnHold"),
            ("Local/a1@sim-agent-00000003;1", "AppDial"),
            ("Local/a10@sim-agent-00000004;1", "AppDial"),
            ("PJSIP/8001-00000007", "AppDial"),
        )
    ]
    assert agent_channels(channels, "Local/a1@sim-agent") == [
        "Local/a1@sim-agent-00000003;1",
        "Local/a1@sim-agent-00000003;2",
    ]
    assert agent_channels(channels, "PJSIP/8001") == ["PJSIP/8001-00000007"]
    assert agent_channels(channels, "PJSIP/8002") == []


def test_live_feed_gives_agents_their_own_events_and_wallboards_everyones_states() -> None:
    offered = events.CallOffered(7, "c1", "114", "13900000000", "booking")
    other_state = events.AgentStateChanged(8, "ready")
    queue = events.QueueChanged("booking", 2, 10.0)
    assert wanted(offered, Role.AGENT, 7) and not wanted(offered, Role.AGENT, 8)
    assert not wanted(other_state, Role.AGENT, 7) and not wanted(queue, Role.AGENT, 7)
    assert wanted(other_state, Role.SUPERVISOR, 1) and wanted(queue, Role.MANAGER, None)
    assert not wanted(offered, Role.SUPERVISOR, 1)
    assert not wanted(queue, Role.HOSPITAL, None)


def test_acd_stream_entry_becomes_the_live_state_event() -> None:
    fields = {"agent_id": "12", "state": "wrap_up", "reason": "", "call_id": "c9",
              "at": "1795600000000", "actor": "c1"}  # fmt: skip
    event = state_event(fields)
    assert (event.agent_id, event.state, event.call_id) == (12, "wrap_up", "c9")
    assert event.at.startswith("2026-11-25T")


def test_prompt_overrides_change_only_the_words_of_known_prompts(tmp_path: Path) -> None:
    flow = load_flows(names=("114",))["114"]
    name, default = next(iter(flow.prompts.items()))
    path = tmp_path / "prompt_texts.json"
    save_override(path, f"{flow.name}/{name}", "新的欢迎词")
    save_override(path, f"{flow.name}/unknown", "无此提示")
    changed = apply_overrides(flow, load_overrides(path))
    assert changed.prompts[name] == "新的欢迎词"
    assert "unknown" not in changed.prompts and changed.nodes == flow.nodes
    rows = {r.id: r for r in prompt_rows([flow], load_overrides(path))}
    assert rows[f"{flow.name}/{name}"].overridden and rows[f"{flow.name}/{name}"].default == default
    save_override(path, f"{flow.name}/{name}", None)
    assert apply_overrides(flow, load_overrides(path)).prompts[name] == default
