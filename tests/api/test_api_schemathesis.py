"""Schemathesis against the OpenAPI schema of a live server (real planner): no request it
generates, valid or not, gets a server error, and answers match their documented schema."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from api_support import LiveServer, check, create_body, minute_body
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance

from optimizer.api.planning import Planner

EXAMPLES = 25  # per operation and generation mode


@pytest.fixture
def real_server(app_settings):
    with LiveServer(app_settings, Planner()) as live:
        yield live


def _fuzz(operation, url: str, mode: GenerationMode, **fixed) -> None:
    checks = [not_a_server_error]
    if mode is GenerationMode.POSITIVE:
        checks.append(response_schema_conformance)

    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        case.call_and_validate(base_url=url, checks=checks, timeout=60)

    try:
        run()
    except Unsatisfiable:  # nothing invalid to send (e.g. only a free-form string in the path)
        if mode is GenerationMode.POSITIVE:
            raise


@pytest.mark.slow
def test_no_server_error_for_generated_requests(real_server):
    url = real_server.url
    plan_id = check(httpx.post(f"{url}/v1/plans", json=create_body(), timeout=60), 201)["id"]
    for minute in range(3):  # a plan some way into its session
        check(httpx.post(f"{url}/v1/plans/{plan_id}/actuals",
                         json={"minutes": [minute_body(minute)]}, timeout=60))
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, url, mode)
            if "{plan_id}" in operation.path:  # the same on a plan that exists
                _fuzz(operation, url, mode, path_parameters={"plan_id": plan_id})
    assert check(httpx.get(f"{url}/v1/ready", timeout=10))["status"] == "ready"
