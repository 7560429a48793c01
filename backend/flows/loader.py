"""Load flow YAML files, turning every mistake into one error naming file, node and field."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from backend.errors import CallCenterError
from backend.flows.schema import CollectNode, Flow, MenuNode, SpeechNode
from backend.flows.validators import VALIDATORS
from backend.lines import LINES, REGISTRY_NAME, is_line, line_spec
from backend.localtime import DEFAULT_TIMEZONE, zone

DATA_DIR = Path(__file__).parent / "data"

# Fields that name another node, and fields that name a prompt, in any node kind.
NODE_FIELDS = (
    "next",
    "fallback",
    "open",
    "closed",
    "blacklisted",
    "repeat",
    "elderly",
    "otherwise",
    "after_agent",
    "found",
    "not_found",
    "menu",
)
PROMPT_FIELDS = (
    "prompt",
    "invalid_prompt",
    "timeout_prompt",
    "saved_prompt",
    "thanks_prompt",
    "not_found_prompt",
    "done_prompt",
    "refused_prompt",
)
VARIABLE_FIELDS = ("id_from", "code_from")
# A time branch without these takes its line's hours from the line registry.
HOURS_FIELDS = ("days", "opens", "closes")


class FlowConfigError(CallCenterError):
    code = "bad-flow"

    def __init__(self, file: str, node: str | None, field: str | None, problem: str) -> None:
        self.file, self.node, self.field, self.problem = file, node, field, problem
        where = file
        if node:
            where += f": node '{node}'"
        if field:
            where += f", field '{field}'" if node else f": field '{field}'"
        super().__init__(f"{where}: {problem}")


def load_flow(path: Path) -> Flow:
    name = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FlowConfigError(name, None, None, f"cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise FlowConfigError(name, None, None, f"not valid YAML: {exc}") from None
    return parse_flow(raw, name)


def load_line_flows(directory: Path = DATA_DIR) -> dict[str, Flow]:
    """The flow of each line of the registry (backend/data/lines.yaml), by line code."""
    flows: dict[str, Flow] = {}
    for spec in LINES:
        path = directory / f"{spec.flow}.yaml"
        flow = load_flow(path)
        if flow.line != spec.code:
            raise FlowConfigError(
                str(path), None, "line", f"is {flow.line!r}, the registry's line is {spec.code!r}"
            )
        flows[spec.code] = flow
    return flows


def load_flows(
    directory: Path = DATA_DIR, *, names: tuple[str, ...] | None = None
) -> dict[str, Flow]:
    """Flows by line, of every file of ``directory`` or of those named (stem) in ``names``."""
    flows: dict[str, Flow] = {}
    for path in sorted(directory.glob("*.yaml")):
        if names is not None and path.stem not in names:
            continue
        flow = load_flow(path)
        if flow.line in flows:
            raise FlowConfigError(str(path), None, "line", f"line {flow.line!r} has two flows")
        flows[flow.line] = flow
    return flows


def parse_flow(raw: object, file: str) -> Flow:
    if not isinstance(raw, Mapping):
        raise FlowConfigError(file, None, None, "the file must hold a mapping (name, line, ...)")
    try:
        flow = Flow.model_validate(_with_line_hours(raw, file))
    except ValidationError as exc:
        first = exc.errors()[0]
        node, field = _locate(first["loc"], raw)
        raise FlowConfigError(file, node, field, first["msg"]) from None
    _check_references(flow, file)
    return flow


def _with_line_hours(raw: Mapping[str, Any], file: str) -> Mapping[str, Any]:
    """``raw`` with the line's hours (the registry's) in time branches that give none."""
    nodes = raw.get("nodes")
    if not isinstance(nodes, Mapping):
        return raw
    filled = dict(nodes)
    for name, node in nodes.items():
        if not isinstance(node, Mapping) or node.get("kind") != "time_branch":
            continue
        if any(key in node for key in HOURS_FIELDS):
            continue
        line = str(raw.get("line", ""))
        hours = line_spec(line).hours if is_line(line) else None
        if hours is None:
            raise FlowConfigError(
                file, str(name), "opens",
                f"line {line!r} has no hours in {REGISTRY_NAME}: give days, opens and closes",
            )  # fmt: skip
        filled[name] = {**node, **hours.model_dump()}
    return {**raw, "nodes": filled}


def _locate(loc: tuple[Any, ...], raw: Mapping[str, Any]) -> tuple[str | None, str | None]:
    parts = [str(p) for p in loc]
    if len(parts) >= 2 and parts[0] == "nodes":
        node = parts[1]
        rest = parts[2:]
        kind = (raw.get("nodes") or {}).get(node, {})
        kind = kind.get("kind") if isinstance(kind, Mapping) else None
        # pydantic puts the union tag into the location of discriminated-union errors.
        if rest and rest[0] == kind:
            rest = rest[1:]
        return node, ".".join(rest) or "kind"
    return None, ".".join(parts) or None


def _fields(node: BaseModel) -> Iterator[tuple[str, Any]]:
    for field in type(node).model_fields:
        yield field, getattr(node, field)


def _check_references(flow: Flow, file: str) -> None:
    try:
        zone(flow.timezone or DEFAULT_TIMEZONE)
    except ValueError:
        raise FlowConfigError(
            file, None, "timezone", f"unknown time zone {flow.timezone!r}"
        ) from None
    if flow.start not in flow.nodes:
        raise FlowConfigError(file, None, "start", f"no node named {flow.start!r}")
    for labelled in flow.labels:
        if labelled not in flow.nodes:
            raise FlowConfigError(file, None, "labels", f"no node named {labelled!r}")
    stored = {n.store_as for n in flow.nodes.values() if isinstance(n, CollectNode)}
    for name, node in flow.nodes.items():
        for field, value in _fields(node):
            if value is None:
                continue
            if field in NODE_FIELDS and value not in flow.nodes:
                raise FlowConfigError(file, name, field, f"no node named {value!r}")
            if field in PROMPT_FIELDS and value not in flow.prompts:
                raise FlowConfigError(file, name, field, f"no prompt named {value!r}")
            if field in VARIABLE_FIELDS and value not in stored:
                raise FlowConfigError(
                    file, name, field, f"no collect node stores {value!r} (store_as)"
                )
        if isinstance(node, MenuNode):
            for key, option in node.options.items():
                if option.next not in flow.nodes:
                    raise FlowConfigError(
                        file, name, f"options.{key}.next", f"no node named {option.next!r}"
                    )
        if isinstance(node, SpeechNode) and not isinstance(flow.nodes[node.menu], MenuNode):
            raise FlowConfigError(file, name, "menu", f"{node.menu!r} is not a menu node")
        if isinstance(node, SpeechNode):
            menu = flow.nodes[node.menu]
            assert isinstance(menu, MenuNode)
            if not any(option.phrases for option in menu.options.values()):
                raise FlowConfigError(file, name, "menu", f"menu {node.menu!r} has no phrases")
        if isinstance(node, CollectNode):
            if node.validator not in VALIDATORS:
                known = ", ".join(sorted(VALIDATORS))
                raise FlowConfigError(
                    file, name, "validator", f"unknown validator {node.validator!r} ({known})"
                )
            if node.min_digits > node.max_digits:
                raise FlowConfigError(file, name, "min_digits", "is larger than max_digits")
