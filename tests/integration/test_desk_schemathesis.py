"""Property-based API test: schemathesis generates requests from the app's OpenAPI schema and
no answer may be a server error. Runs in-process over ASGI, logged in as a team leader (who
reaches the most desk routes), with a bounded number of examples per operation.

The operations are driven one by one with hypothesis (not schemathesis' pytest plugin, which
does not work with fixtures on this pytest version)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from agent_desk.app import create_app
from backend.db import make_engine, make_session_factory
from backend.models.users import Role
from backend.settings import Settings
from tests.conftest import migrated_database
from tests.desk_support import LOCAL, desk_settings, login, make_user

MAX_EXAMPLES = int(os.environ.get("CC_SCHEMATHESIS_EXAMPLES", "20"))
# The same examples every run, so that CI's verdict does not depend on luck; set
# CC_SCHEMATHESIS_RANDOM=1 (and more examples) to explore new inputs while developing.
DERANDOMIZE = os.environ.get("CC_SCHEMATHESIS_RANDOM", "") != "1"
# Call control and listening act on the real PBX over AMI: the acceptance tests on the real
# Asterisk cover them; here they would only measure that no PBX is running.
# Logging out would end the session the remaining operations run in.
SKIPPED = re.compile(
    r"^/api/(agent/call/(hold|resume|hangup|transfer)|supervisor/listen|auth/logout)$"
)


@pytest.fixture()
def own_database(settings: Settings, run_id: str) -> Iterator[Settings]:
    """Generated requests edit, retire and delete whatever they reach: they get a database
    of their own, so that no other test finds its data changed."""
    with migrated_database(f"cc_fuzz_{run_id}") as url:
        yield settings.model_copy(update={"database_url": url})


def test_no_generated_request_makes_the_app_fail_with_a_server_error(
    own_database: Settings, redis_namespace: str
) -> None:
    settings = own_database
    engine = make_engine(settings)
    session_factory = make_session_factory(engine)
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    app = create_app(
        desk_settings(settings, f"{redis_namespace}-fuzz"),
        session_factory=session_factory,
        redis_client=client,
    )
    with TestClient(app, client=LOCAL) as browser:
        login(browser, make_user(session_factory, Role.SUPERVISOR))
        token = browser.cookies.get("cc_desk") or ""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) > 50  # every feature's API is in the schema

    for operation in operations:
        if SKIPPED.match(operation.path):
            continue

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=MAX_EXAMPLES,
            derandomize=DERANDOMIZE,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            try:
                response = case.call(cookies={"cc_desk": token})
            except Exception as exc:  # the app raised instead of answering: a 500
                failures.append(f"{case.method} {case.formatted_path} raised {exc!r:.300}")
                return
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query or ''} {case.body!r:.200}"
                    f" -> {response.status_code} {response.text[:200]}"
                )

        run()
    client.close()
    engine.dispose()
    assert not failures, "\n".join(failures)
