"""Flow YAML mistakes are refused at load with the file, node and field named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from backend.flows.loader import FlowConfigError, load_flow, load_flows, load_line_flows
from backend.flows.schema import MenuNode


def _flow(**nodes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "welcome": {"kind": "play", "prompt": "hello", "next": "menu"},
        "menu": {
            "kind": "menu",
            "prompt": "hello",
            "fallback": "bye",
            "options": {"1": {"next": "bye", "intent": "x", "phrases": ["你好"]}},
        },
        "bye": {"kind": "hangup"},
    }
    base.update(nodes)
    return {
        "name": "demo",
        "line": "demo",
        "start": "welcome",
        "prompts": {"hello": "您好"},
        "nodes": base,
    }


def _load(tmp_path: Path, data: Any) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    load_flow(path)


def _error(tmp_path: Path, data: Any) -> FlowConfigError:
    with pytest.raises(FlowConfigError) as caught:
        _load(tmp_path, data)
    assert str(tmp_path / "demo.yaml") in caught.value.message
    return caught.value


def test_the_shipped_flows_load() -> None:
    flows = load_flows()
    # Only the lines' flows ship: the Korean test flow lives in tests/flows.
    assert set(flows) == {"114", "hotline"} == set(load_line_flows())
    menu = flows["114"].nodes["main_menu"]
    assert isinstance(menu, MenuNode)
    assert {k: o.intent for k, o in menu.options.items()} == {
        "1": "booking",
        "2": "booking_check",
        "3": "report_query",
        "0": "agent",
        "9": "elderly",
    }
    assert "人工" in menu.options["0"].phrases
    assert set(load_flows(names=("114", "hotline"))) == {"114", "hotline"}


def test_unknown_next_node_is_named(tmp_path: Path) -> None:
    data = _flow(welcome={"kind": "play", "prompt": "hello", "next": "menuu"})
    error = _error(tmp_path, data)
    assert (error.node, error.field) == ("welcome", "next")
    assert "menuu" in error.message


def test_menu_option_pointing_nowhere_is_named(tmp_path: Path) -> None:
    data = _flow()
    data["nodes"]["menu"]["options"]["2"] = {"next": "agent"}
    error = _error(tmp_path, data)
    assert (error.node, error.field) == ("menu", "options.2.next")


def test_unknown_prompt_is_named(tmp_path: Path) -> None:
    data = _flow(bye={"kind": "hangup", "prompt": "goodbye"})
    error = _error(tmp_path, data)
    assert (error.node, error.field) == ("bye", "prompt")


def test_missing_field_is_named(tmp_path: Path) -> None:
    data = _flow(q={"kind": "queue", "priority": 3})
    error = _error(tmp_path, data)
    assert (error.node, error.field) == ("q", "skill")


def test_misspelled_field_is_refused(tmp_path: Path) -> None:
    data = _flow(q={"kind": "queue", "skill": "booking", "priorty": 3})
    error = _error(tmp_path, data)
    assert (error.node, error.field) == ("q", "priorty")


def test_unknown_kind_is_named(tmp_path: Path) -> None:
    error = _error(tmp_path, _flow(x={"kind": "transfer"}))
    assert (error.node, error.field) == ("x", "kind")


def test_option_key_must_be_one_phone_key(tmp_path: Path) -> None:
    data = _flow()
    data["nodes"]["menu"]["options"]["12"] = {"next": "bye"}
    error = _error(tmp_path, data)
    assert (error.node, error.field) == ("menu", "options")
    assert "'12'" in error.message


def test_unknown_validator_is_named(tmp_path: Path) -> None:
    data = _flow(
        c={
            "kind": "collect",
            "prompt": "hello",
            "store_as": "id",
            "max_digits": 18,
            "validator": "passport",
            "next": "bye",
            "fallback": "bye",
        }
    )
    error = _error(tmp_path, data)
    assert (error.node, error.field) == ("c", "validator")
    assert "resident_id" in error.message


def test_time_branch_must_close_after_it_opens(tmp_path: Path) -> None:
    data = _flow(
        t={
            "kind": "time_branch",
            "opens": "18:00",
            "closes": "09:00",
            "open": "bye",
            "closed": "bye",
        }
    )
    error = _error(tmp_path, data)
    assert (error.node, error.field) == ("t", "closes")


def test_speech_node_needs_a_menu(tmp_path: Path) -> None:
    data = _flow(s={"kind": "speech", "prompt": "hello", "menu": "welcome", "fallback": "menu"})
    error = _error(tmp_path, data)
    assert (error.node, error.field) == ("s", "menu")


def test_booking_lookup_needs_collected_values(tmp_path: Path) -> None:
    data = _flow(
        b={
            "kind": "booking_lookup",
            "id_from": "id_number",
            "code_from": "code",
            "not_found_prompt": "hello",
            "found": "bye",
            "not_found": "bye",
        }
    )
    error = _error(tmp_path, data)
    assert (error.node, error.field) == ("b", "id_from")


def test_start_must_exist(tmp_path: Path) -> None:
    data = _flow()
    data["start"] = "hello"
    error = _error(tmp_path, data)
    assert (error.node, error.field) == (None, "start")


def test_bad_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(FlowConfigError, match="not valid YAML"):
        load_flow(path)


def test_two_flows_for_one_line_are_refused(tmp_path: Path) -> None:
    for stem in ("a", "b"):
        (tmp_path / f"{stem}.yaml").write_text(
            yaml.safe_dump(_flow(), allow_unicode=True), encoding="utf-8"
        )
    with pytest.raises(FlowConfigError, match="two flows"):
        load_flows(tmp_path)


def test_a_label_for_a_node_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    data = _flow()
    data["labels"] = {"welcome": "欢迎语", "menuu": "主菜单"}
    error = _error(tmp_path, data)
    assert "menuu" in error.message and "labels" in error.message


def test_every_node_of_the_lines_has_a_chinese_label() -> None:
    for line in ("114", "hotline"):
        flow = load_flows()[line]
        assert set(flow.labels) == set(flow.nodes), line
        assert flow.label("main_menu") == "主菜单"
