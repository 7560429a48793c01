"""The line registry (backend/data/lines.yaml): each line declared once, read everywhere."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from datetime import time
from pathlib import Path

import pytest
import yaml

from backend.errors import ConfigError
from backend.flows.loader import FlowConfigError, load_line_flows, parse_flow
from backend.flows.schema import TimeBranchNode
from backend.lines import LINES, load_registry
from backend.models.calls import Line
from backend.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("backend", "ivr", "agent_desk", "reports", "recordings", "asterisk_conf")


def registry_file(tmp_path: Path, lines: list[dict[str, object]]) -> Path:
    path = tmp_path / "lines.yaml"
    path.write_text(yaml.safe_dump({"lines": lines}, allow_unicode=True), encoding="utf-8")
    return path


def a_line(**changes: object) -> dict[str, object]:
    line: dict[str, object] = {
        "code": "covid",
        "db_name": "COVID",
        "label": "新冠咨询热线",
        "short_label": "新冠热线",
        "flow": "covid",
        "did": "12320",
        "caller_id": "12320",
    }
    return {**line, **changes}


def test_the_shipped_lines_make_the_enum_and_their_flows() -> None:
    assert [(m.name, m.value) for m in Line] == [("APPOINTMENT_114", "114"), ("HOTLINE", "hotline")]
    assert set(load_line_flows()) == {spec.code for spec in LINES}
    hours = load_line_flows()["hotline"].nodes["hours_check"]
    # The hotline's flow gives no hours of its own: the registry's are its time branch's.
    assert isinstance(hours, TimeBranchNode)
    assert (hours.days, hours.opens, hours.closes) == ("working_days", time(9), time(18))


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ([a_line(), a_line(db_name="OTHER", did="999")], "two lines have the code 'covid'"),
        ([a_line(did="12-320")], "lines.0.did"),
        ([a_line(code="Covid")], "lines.0.code"),
        ([a_line(hours={"opens": "18:00", "closes": "09:00"})], "closes must be later"),
        ([a_line(colour="red")], "lines.0.colour"),
        ([], "lines"),
    ],
)
def test_a_wrong_registry_names_the_file_and_field(
    tmp_path: Path, lines: list[dict[str, object]], problem: str
) -> None:
    path = registry_file(tmp_path, lines)
    with pytest.raises(ConfigError) as caught:
        load_registry(path)
    assert str(path) in caught.value.message and problem in caught.value.message


def test_each_lines_numbers_are_settings_named_by_its_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().did == {"114": "114", "hotline": "12393"}
    monkeypatch.setenv("CC_DID_HOTLINE", "01012393")
    monkeypatch.setenv("CC_CALLER_ID_114", "01065114")
    settings = load_settings(did_114="010114")
    assert settings.did == {"114": "010114", "hotline": "01012393"}
    assert settings.caller_id == {"114": "01065114", "hotline": "12393"}
    monkeypatch.setenv("CC_DID_COVID", "12320")
    with pytest.raises(ConfigError, match=r"^setting CC_DID_COVID: no line 'covid'"):
        load_settings()


def test_a_time_branch_of_a_line_without_hours_must_give_its_own() -> None:
    flow = {
        "name": "x",
        "line": "114",  # 7×24 in the registry
        "start": "hours",
        "prompts": {"bye": "再见"},
        "nodes": {
            "hours": {"kind": "time_branch", "open": "bye", "closed": "bye"},
            "bye": {"kind": "hangup", "prompt": "bye"},
        },
    }
    with pytest.raises(FlowConfigError, match="line '114' has no hours"):
        parse_flow(flow, "x.yaml")


THIRD_LINE_CHECKS = """
import json
from backend.lines import LINE_LABELS
from backend.models.calls import Line
from backend.settings import load_settings
from backend.flows.loader import load_line_flows
from ivr.pbx import render
from reports.periods import ReportFilter
from datetime import date
from agent_desk.pages.templates import page_templates
from agent_desk.screen_pop import LINE_LABELS as SCREEN_POP_LABELS
import ivr.transfer

settings = load_settings()
page = page_templates().get_template("recordings.html").render(nav=[], user=None, path="")
flow = load_line_flows()["covid"]
dialplan = render.render(settings).files["extensions.conf"]
print(json.dumps({
    "enum": Line("covid").name,
    "flow": [flow.name, str(flow.nodes["hours"].opens)],
    "did": settings.did["covid"],
    "caller_id": settings.caller_id["covid"],
    "from_carrier": "exten => 01012320,1,Goto(incoming,${EXTEN},1)" in dialplan,
    "incoming": "exten => 01012320,1,Set(__CC_LINE=covid)" in dialplan,
    "transfer": ivr.transfer.is_line("covid"),
    "report": ReportFilter(date(2026, 1, 1), date(2026, 1, 1), line="covid").describe(),
    "labels": [LINE_LABELS["covid"], SCREEN_POP_LABELS["covid"]],
    "select": '<option value="covid">新冠热线</option>' in page,
}, ensure_ascii=False))
"""

THIRD_FLOW = """
name: covid
line: covid
start: hours
prompts: {welcome: 您好，欢迎致电新冠咨询热线。, closed: 现在是非工作时间。}
nodes:
  hours: {kind: time_branch, open: welcome, closed: closed}
  welcome: {kind: hangup, prompt: welcome}
  closed: {kind: hangup, prompt: closed}
"""


def test_a_third_line_is_one_registry_entry_and_a_flow(tmp_path: Path) -> None:
    """A copy of the code with a third line added to backend/data/lines.yaml and its flow
    file: the line reaches the enum, its flow, its settings, the dialplan, transfers, the
    report filters, the screen pop's labels and the pages' selects, no other file touched."""
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    registry = tmp_path / "backend" / "data" / "lines.yaml"
    entry = a_line(hours={"opens": "08:00", "closes": "20:00", "days": "every_day"})
    registry.write_text(
        registry.read_text(encoding="utf-8")
        + textwrap.indent(yaml.safe_dump([entry], allow_unicode=True), "  "),
        encoding="utf-8",
    )
    (tmp_path / "backend" / "flows" / "data" / "covid.yaml").write_text(
        THIRD_FLOW, encoding="utf-8"
    )
    result = subprocess.run(
        [sys.executable, "-c", THIRD_LINE_CHECKS],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "CC_DID_COVID": "01012320"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["enum"] == "COVID" and seen["flow"] == ["covid", "08:00:00"]
    assert (seen["did"], seen["caller_id"]) == ("01012320", "12320")
    assert seen["from_carrier"] and seen["incoming"] and seen["transfer"]
    assert "新冠咨询热线" in seen["report"] and seen["labels"] == ["新冠咨询热线"] * 2
    assert seen["select"] is True
