"""What each `callcenter` sub-command does. Each builds what it needs from the settings."""

from __future__ import annotations

import argparse
import asyncio
import time
import urllib.request
from typing import Any

import redis

from backend.db import (
    check_database,
    ensure_database,
    make_engine,
    make_session_factory,
    transaction,
)
from backend.db_roles import apply_grants, roles_exist
from backend.errors import ConfigError
from backend.metrics.exposition import prepare_multiprocess
from backend.migrate import upgrade
from backend.settings import Settings, port_is_free
from backend.supervision import health_lines, read_health
from callcenter.cli.audit_commands import cmd_audit, cmd_db_roles
from callcenter.cli.processes import ProcessTable, ServiceSpec, python_command
from callcenter.cli.report_commands import load_demo_history

STACK = ("controller", "desk", "worker", "beat")


def _asterisk(settings: Settings) -> Any:
    from ivr.pbx.instance import AsteriskInstance

    return AsteriskInstance(settings)


def cmd_asterisk(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.pbx import rootfs

    if args.action == "render":
        # A deployment's configuration (docker/compose.yaml's asterisk-config): no instance.
        from ivr.pbx import render

        render.write(render.render(settings), args.directory, remove_stale=False)
        print(f"rendered asterisk_conf/ into {args.directory}")
        return 0
    instance = _asterisk(settings)
    if args.action == "build":
        built = rootfs.build(settings.asterisk_root)
        print(("built " if built else "already built: ") + str(settings.asterisk_root))
        print(rootfs.asterisk_version(settings.asterisk_root))
    elif args.action == "start":
        pid = instance.start()
        print(f"Asterisk running (pid {pid}), AMI {settings.ami_host}:{settings.ami_port}")
    elif args.action == "stop":
        print("Asterisk stopped" if instance.stop() else "Asterisk was not running")
    elif args.action == "status":
        status = instance.status()
        state = "running" if status.running else "stopped"
        booted = ", fully booted" if status.fully_booted else ""
        print(f"Asterisk {state}{booted} pid={status.pid} {status.version}")
        return 0 if status.running else 3
    elif args.action == "cli":
        print(instance.cli(args.cli_command), end="")
    return 0


def check_redis(settings: Settings) -> None:
    try:
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        raise ConfigError("redis_url", f"cannot connect: {exc}") from None


def prepare_database(settings: Settings) -> None:
    if ensure_database(settings):
        print(f"created database {settings.database_url.rsplit('/', 1)[-1]}")
    engine = make_engine(settings, pool_size=1, max_overflow=0)
    try:
        check_database(engine)
        upgrade(settings)
        # A table a migration added gets the roles' privileges at once (backend/db_roles.py).
        with engine.begin() as conn:
            if roles_exist(conn, settings):
                apply_grants(conn, settings)
    finally:
        engine.dispose()


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "roles":
        return cmd_db_roles(settings)
    prepare_database(settings)
    print("database schema is up to date")
    return 0


def cmd_prompts(args: argparse.Namespace, settings: Settings) -> int:
    from backend.speech.tts import build_prompts

    count = build_prompts(settings)
    print(f"{count} prompts rendered into {settings.effective_sounds_dir / 'cc'}")
    return 0


def cmd_demo_data(args: argparse.Namespace, settings: Settings) -> int:
    from backend.demo import refuse_in_production, seed_demo

    refuse_in_production(settings)  # before the database is touched
    prepare_database(settings)
    engine = make_engine(settings, pool_size=1, max_overflow=0)
    with transaction(make_session_factory(engine)) as session:
        summary = seed_demo(session, settings)
    engine.dispose()
    for line in summary:
        print(line)
    # The call history (two months of both lines, for the reports) takes minutes: `make demo`
    # (`up --demo`) loads it; the stack tests, which load the demo's accounts, do not need it.
    if getattr(args, "demo", False):
        print(load_demo_history(settings))
    else:
        print("the reports' call history: callcenter demo-history (make demo loads it)")
    return 0


def cmd_controller(args: argparse.Namespace, settings: Settings) -> int:
    import uvloop  # the controller's loop: lower and steadier AGI round trips than asyncio's

    from ivr.main import run_controller

    uvloop.run(run_controller(settings))
    return 0


def cmd_desk(args: argparse.Namespace, settings: Settings) -> int:
    # Before anything imports prometheus_client: every uvicorn worker writes its figures there.
    prepare_multiprocess(settings.state_dir / "metrics" / "desk")
    from agent_desk.http_server import serve_desk

    if not port_is_free(settings.desk_bind, settings.desk_port):
        raise ConfigError("desk_port", f"port {settings.desk_port} is already in use")
    serve_desk(settings)
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    # Before anything imports prometheus_client: Celery's children write their figures there.
    prepare_multiprocess(settings.state_dir / "metrics" / "worker")
    from callcenter.worker import create_celery
    from callcenter.worker.metrics import serve_worker_metrics

    serve_worker_metrics(settings)
    create_celery(settings).worker_main(["worker", "--loglevel=INFO", "--concurrency=2"])
    return 0


def cmd_beat(args: argparse.Namespace, settings: Settings) -> int:
    from callcenter.worker import create_celery

    schedule = settings.state_dir / "celerybeat-schedule"
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    create_celery(settings).start(["beat", "--loglevel=INFO", f"--schedule={schedule}"])
    return 0


def desk_url(settings: Settings) -> str:
    host = "127.0.0.1" if settings.desk_bind in ("0.0.0.0", "") else settings.desk_bind
    return f"http://{host}:{settings.desk_port}/"


def _wait_http(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def _wait_port_open(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not port_is_free(host, port):
            return True
        time.sleep(0.2)
    return False


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    from ivr.pbx import rootfs

    table = ProcessTable(settings.state_dir)
    check_redis(settings)
    prepare_database(settings)
    if args.demo:
        cmd_demo_data(args, settings)
    ports = {"controller": ("agi_port", settings.agi_bind, settings.agi_port)}
    ports["desk"] = ("desk_port", settings.desk_bind, settings.desk_port)
    for name, (field, host, port) in ports.items():
        if table.pid(name) is None and not port_is_free(host, port):
            raise ConfigError(field, f"port {port} on {host} is already in use")
    if settings.asterisk_builtin:
        if rootfs.build(settings.asterisk_root):
            print(f"built the Asterisk root in {settings.asterisk_root}")
        _asterisk(settings).start()
        print(f"Asterisk is running (AMI {settings.ami_host}:{settings.ami_port})")
    cmd_prompts(args, settings)
    # In the demo, callbacks ring a simulated citizen instead of the carrier trunk.
    env = {"CC_CALLBACK_DIAL_TEMPLATE": "Local/{number}@sim-agent"} if args.demo else {}
    for name in STACK:
        table.start(ServiceSpec(name, python_command(name)), env)
    for name in STACK:
        if table.exited_early(name):
            raise ConfigError(name, f"failed to start: {table.last_log_line(name)}")
    if not _wait_port_open(settings.agi_bind, settings.agi_port, 30):
        raise ConfigError(
            "agi_port", f"controller did not listen: {table.last_log_line('controller')}"
        )
    # As long as uvicorn allows a desk worker to start (agent_desk/http_server.py): on a
    # loaded machine building the app takes more than 30 s.
    if not _wait_http(desk_url(settings) + "healthz", 60):
        raise ConfigError("desk_port", f"desk did not answer: {table.last_log_line('desk')}")
    print(f"controller listening on {settings.agi_url}; logs in {table.log_dir}")
    if args.demo:
        from callcenter.cli.demo_calls import run_demo_calls

        for line in asyncio.run(run_demo_calls(settings)):
            print(line)
    print(f"Agent desk: {desk_url(settings)}")
    return 0


def cmd_down(args: argparse.Namespace, settings: Settings) -> int:
    table = ProcessTable(settings.state_dir)
    for name in reversed(STACK):
        if table.stop(name):
            print(f"stopped {name}")
    if settings.asterisk_builtin and _asterisk(settings).stop():
        print("stopped Asterisk")
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    table = ProcessTable(settings.state_dir)
    for name in STACK:
        pid = table.pid(name)
        print(f"{name:<11} {'running pid ' + str(pid) if pid else 'stopped'}")
        if pid:
            for line in health_lines(read_health(settings.state_dir, name)):
                print(f"{'':<11} {line}")
    if settings.asterisk_builtin:
        status = _asterisk(settings).status()
        print(
            f"{'asterisk':<11} {'running pid ' + str(status.pid) if status.running else 'stopped'}"
        )
    return 0


def cmd_call(args: argparse.Namespace, settings: Settings) -> int:
    from callcenter.cli.demo_calls import place_call

    if not settings.asterisk_test_contexts:
        # The caller's half runs [sim-caller], which a production dialplan does not have.
        raise ConfigError(
            "environment", "simulated calls need the built-in, non-production Asterisk"
        )

    action_id = asyncio.run(place_call(settings, args.did, args.caller, args.dtmf, args.hold))
    print(f"call placed (AMI ActionID {action_id})")
    return 0


HANDLERS: dict[str, Any] = {
    "asterisk": cmd_asterisk,
    "db": cmd_db,
    "prompts": cmd_prompts,
    "demo-data": cmd_demo_data,
    "controller": cmd_controller,
    "desk": cmd_desk,
    "worker": cmd_worker,
    "beat": cmd_beat,
    "up": cmd_up,
    "down": cmd_down,
    "status": cmd_status,
    "call": cmd_call,
    "audit": cmd_audit,
}
