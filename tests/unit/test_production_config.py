"""A deployment's configuration has no test parts; the built-in test Asterisk keeps them.

The production configuration is what docker/compose.yaml's asterisk-config service renders:
`callcenter asterisk render` with the image's environment (docker/Dockerfile's ENV) and the
compose file's settings. The test contexts are simulated phones ([sim-caller], [sim-agent]) and
the benchmark's ([bench-dialplan], [bench-agi]); the test flows are those of tests/flows/.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from backend.errors import ConfigError
from backend.flows.loader import DATA_DIR, load_line_flows
from backend.lines import LINES
from backend.settings import load_settings
from ivr.pbx import render
from tests.flows import TEST_FLOWS_DIR

ROOT = Path(__file__).resolve().parents[2]
TEST_CONTEXT = re.compile(r"\b(?:sim|bench)-[a-z]+")
SIMULATED = ("[sim-caller]", "[sim-agent]")
BENCH = ("[bench-dialplan]", "[bench-agi]")
# Secrets a deployment's callcenter.env holds; production refuses the development defaults.
DEPLOYMENT_SECRETS = {
    "CC_AMI_CONTROLLER_SECRET": "deployment-controller-ami-secret",
    "CC_AMI_DESK_SECRET": "deployment-desk-ami-secret",
    "CC_SECRET_KEY": "deployment-secret-key-0123456789abcdef",
    "CC_DATA_KEY": "ZGVwbG95bWVudC1kYXRhLWtleS0wMTIzNDU2Nzg5YWI=",
    "CC_LOOKUP_KEY": "ZGVwbG95bWVudC1sb29rdXAta2V5LTAxMjM0NTY3OGE=",
}
SECRET_FIELDS = {
    name.removeprefix("CC_").lower(): value for name, value in DEPLOYMENT_SECRETS.items()
}


def deployment_environment() -> dict[str, str]:
    """The variables the asterisk-config service runs with: the image's ENV line, the compose
    file's asterisk-config environment (its ${...} substituted), the secrets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CC_")}
    dockerfile = (ROOT / "docker/Dockerfile").read_text(encoding="utf-8")
    for line in dockerfile.splitlines():
        if line.startswith("ENV "):
            env.update(item.split("=", 1) for item in line.split()[1:])
    compose = yaml.safe_load((ROOT / "docker/compose.yaml").read_text(encoding="utf-8"))
    service = compose["services"]["asterisk-config"]
    assert service["command"] == ["asterisk", "render", "/etc/asterisk"]
    for name, value in service["environment"].items():
        # ${NAME:-default} as compose does without NAME; the .env's passwords as "x".
        env[name] = re.sub(r"\$\{[^}:]*(?::-([^}]*))?\}", lambda m: m[1] or "x", str(value))
    return env | DEPLOYMENT_SECRETS


def render_as_deployed(directory: Path) -> dict[str, str]:
    callcenter = Path(sys.executable).with_name("callcenter")
    result = subprocess.run(
        [str(callcenter), "asterisk", "render", str(directory)],
        env=deployment_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return {path.name: path.read_text(encoding="utf-8") for path in directory.glob("*.conf")}


def test_the_deployed_configuration_has_no_test_contexts(tmp_path: Path) -> None:
    env = deployment_environment()
    assert env["CC_ENVIRONMENT"] == "production" and env["CC_ASTERISK_BUILTIN"] == "false"
    files = render_as_deployed(tmp_path)
    assert set(files) == {path.name for path in render.CONF_DIR.glob("*.conf")}
    found = {name: TEST_CONTEXT.findall(text) for name, text in files.items()}
    assert {name: hits for name, hits in found.items() if hits} == {}
    leftovers = [m for text in files.values() for m in render.PLACEHOLDER.findall(text)]
    assert leftovers == []
    # The dialplan itself is there, and the built-in instance's directories are not.
    assert "[from-carrier]" in files["extensions.conf"] and "[incoming]" in files["extensions.conf"]
    assert "/srv/callcenter" not in files["asterisk.conf"]


def test_the_production_image_leaves_the_test_parts_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for folder in ("tests/", "bench/", "asterisk_conf/test/"):
        assert folder in ignored


def test_the_production_flows_folder_holds_only_the_lines_flows() -> None:
    assert {path.name for path in DATA_DIR.iterdir() if path.suffix in (".yaml", ".yml")} == {
        f"{spec.flow}.yaml" for spec in LINES
    }
    assert set(load_line_flows()) == {spec.code for spec in LINES}
    # The test flow lives with the tests, and is not a flow of any line.
    assert (TEST_FLOWS_DIR / "test_ko.yaml").is_file()
    assert not (DATA_DIR / "test_ko.yaml").exists()


def test_each_built_in_instance_gets_the_test_contexts_it_needs() -> None:
    def dialplan(**overrides: object) -> str:
        return render.render(load_settings(**overrides)).files["extensions.conf"]

    tests, demo = dialplan(environment="test"), dialplan(environment="development")
    production = dialplan(environment="production", **SECRET_FIELDS)
    assert all(context in tests for context in SIMULATED + BENCH)
    # The demo's calls, callbacks and agents are simulated phones; it has no benchmark.
    assert all(context in demo for context in SIMULATED)
    assert not any(context in demo for context in BENCH)
    assert TEST_CONTEXT.findall(production) == []


def test_the_deployed_asterisk_writes_no_verbose_trace(tmp_path: Path) -> None:
    # Dialplan steps and Dial strings name the numbers dialled (issue 18, item 11).
    files = render_as_deployed(tmp_path)
    assert re.search(r"^verbose = 0$", files["asterisk.conf"], re.MULTILINE)
    logfiles = [line for line in files["logger.conf"].splitlines() if "=>" in line]
    assert logfiles and not [line for line in logfiles if "verbose" in line]
    with pytest.raises(ConfigError) as refused:
        load_settings(environment="production", asterisk_verbose=3, **SECRET_FIELDS)
    assert "CC_ASTERISK_VERBOSE" in str(refused.value)
    traced = render.render(load_settings(asterisk_verbose=3)).files["logger.conf"]
    assert "messages.log => notice,warning,error,verbose(3)" in traced


def manager_users(manager_conf: str) -> dict[str, dict[str, list[str]]]:
    """manager.conf's sections but [general], each option with every value it is given."""
    users: dict[str, dict[str, list[str]]] = {}
    section: dict[str, list[str]] = {}
    for line in manager_conf.splitlines():
        line = line.split(";", 1)[0].strip()
        if line.startswith("["):
            section = users.setdefault(line.strip("[]"), {})
        elif "=" in line:
            name, value = (part.strip() for part in line.split("=", 1))
            section.setdefault(name, []).append(value)
    users.pop("general")
    return users


def test_the_deployed_ami_has_a_least_privileged_user_each_for_controller_and_desk(
    tmp_path: Path,
) -> None:
    users = manager_users(render_as_deployed(tmp_path)["manager.conf"])
    assert set(users) == {"cc-controller", "cc-desk"}  # no tools user in production
    controller, desk = users["cc-controller"], users["cc-desk"]
    assert controller["secret"] == [DEPLOYMENT_SECRETS["CC_AMI_CONTROLLER_SECRET"]]
    assert desk["secret"] == [DEPLOYMENT_SECRETS["CC_AMI_DESK_SECRET"]]
    for user in (controller, desk):
        rights = {r for option in ("read", "write") for r in user[option][0].split(",")}
        assert not rights & {"system", "command", "config", "dialplan", "agent", "user"}
        assert user["deny"] == ["0.0.0.0/0.0.0.0", "::/0"]
        assert len(user["eventfilter"]) == 1
    # Each from its own container's fixed address on the compose network (docker/compose.yaml).
    assert controller["permit"] == ["172.30.57.10/32"] and desk["permit"] == ["172.30.57.11/32"]
    assert (
        controller["write"] == ["originate,reporting"]
        and "Event: (DialEnd|" in controller["eventfilter"][0]
    )
    assert desk["eventfilter"] == ["^Event: (OriginateResponse)[[:space:]]"]
