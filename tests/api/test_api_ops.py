"""Body limits, malformed requests, health, readiness, metrics and the OpenAPI schema."""

from __future__ import annotations

import httpx
import pytest
from api_support import LiveServer, check

from optimizer.api import Settings
from optimizer.api.db import head_revision


@pytest.fixture
def small_server(app_settings):
    """The app with a 4 KiB body limit."""
    with LiveServer(Settings(**{**app_settings.__dict__, "max_body_bytes": 4096})) as live:
        yield live


def test_oversized_body_is_413(small_server):
    big = b'{"config": {"room_id": "' + b"x" * 10_000 + b'"}}'
    response = httpx.post(f"{small_server.url}/v1/plans", content=big,
                          headers={"content-type": "application/json"}, timeout=10)
    assert check(response, 413)["field"] == "body"

    def chunks():  # no Content-Length: the limit applies while the body streams in
        yield b'{"config": {"room_id": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}}'

    response = httpx.post(f"{small_server.url}/v1/plans", content=chunks(),
                          headers={"content-type": "application/json"}, timeout=10)
    assert check(response, 413)["field"] == "body"
    small = httpx.post(f"{small_server.url}/v1/plans", json={"config": {}}, timeout=10)
    assert small.status_code == 422


@pytest.mark.parametrize(("content", "headers"), [
    (b'{"config": ', {"content-type": "application/json"}),
    (b"\xff\xfe", {"content-type": "application/json"}),
    (b"[1, 2]", {"content-type": "application/json"}),
    (b"config=1", {"content-type": "application/x-www-form-urlencoded"}),
    (b"[" * 100_000 + b"]" * 100_000, {"content-type": "application/json"}),
])
def test_malformed_bodies_are_4xx_naming_the_body(client, content, headers):
    response = client.post("/v1/plans", content=content, headers=headers)
    assert 400 <= response.status_code < 500
    assert response.json()["field"] in ("body", "config")


def test_wrong_method_names_the_method(client):
    assert check(client.delete("/v1/plans"), 405)["field"] == "method"


def test_health_ready_and_metrics(client):
    assert check(client.get("/v1/health")) == {"status": "ok"}
    ready = check(client.get("/v1/ready"))
    assert ready["status"] == "ready" and ready["schema_revision"] == head_revision()
    client.get("/v1/plans/0123456789abcdef0123456789abcdef")
    text = client.get("/metrics").text
    assert 'spendplan_http_requests_total{method="GET",route="/v1/plans/{plan_id}",' \
           'status="404"} 1.0' in text
    assert "spendplan_http_request_seconds_bucket" in text


def test_not_ready_when_the_database_is_gone(app_settings):
    from sqlalchemy import create_engine, text

    with LiveServer(app_settings) as live:
        engine = create_engine(app_settings.db_url)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'old'"))
        engine.dispose()
        ready = check(httpx.get(f"{live.url}/v1/ready", timeout=10), 503)
        assert ready["status"] == "not ready" and ready["schema_revision"] == "old"


def test_openapi_schema_has_versioned_paths_and_examples(client):
    schema = check(client.get("/openapi.json"))
    paths = schema["paths"]
    for path in ("/v1/plans", "/v1/plans/{plan_id}", "/v1/plans/{plan_id}/revisions",
                 "/v1/plans/{plan_id}/allocation/{minute}", "/v1/plans/{plan_id}/actuals",
                 "/v1/health", "/v1/ready", "/metrics"):
        assert path in paths
    components = schema["components"]["schemas"]
    for name in ("CreatePlan", "PostActuals", "Revision", "Allocation", "PlanInfo", "Error"):
        assert components[name].get("examples"), name
    assert "422" in paths["/v1/plans/{plan_id}/actuals"]["post"]["responses"]


def test_openapi_examples_are_valid_bodies():
    from optimizer.api import examples, schemas

    for model, example in ((schemas.CreatePlan, examples.CREATE_PLAN),
                           (schemas.PostActuals, examples.POST_ACTUALS),
                           (schemas.Revision, examples.REVISION),
                           (schemas.PlanInfo, examples.PLAN),
                           (schemas.Allocation, examples.ALLOCATION),
                           (schemas.Error, examples.ERROR)):
        model.model_validate(example)


def test_serve_names_a_bad_database_url():
    from optimizer.api.server import build_app
    from optimizer.errors import InputError

    for url in ("nosuch://x", "postgresql+psycopg://user:secret@127.0.0.1:1/db"):
        with pytest.raises(InputError) as error:
            build_app(Settings(db_url=url))
        assert error.value.where == "--db" and "secret" not in error.value.message
