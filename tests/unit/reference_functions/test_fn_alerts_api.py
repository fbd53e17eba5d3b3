"""alerts_api: routing, status codes and the JSON body, for URL (v2) and REST (v1) events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alerts_api.app import Request, route

from support.fn_fakes import FakeTable, dec


def url_event(method: str, path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "version": "2.0",
        "rawPath": path,
        "requestContext": {"http": {"method": method}},
    }
    if query is not None:
        event["queryStringParameters"] = query
    return event


@pytest.fixture
def fn_alerts_table() -> FakeTable:
    table = FakeTable("region", "alert_id")
    table.add(
        {"region": "DE", "alert_id": "a2", "severity_score": dec(74), "title": "Flood"},
        {"region": "DE", "alert_id": "a1", "severity_score": dec("45.5"), "title": "Strike"},
        {"region": "FR", "alert_id": "a3", "severity_score": dec(20), "title": "Fog"},
    )
    return table


def call(table: FakeTable, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = route(Request.from_event(event), table=table, max_page=200)
    return response["statusCode"], response["headers"], json.loads(response["body"])


def test_lists_a_regions_alerts(fn_alerts_table: FakeTable) -> None:
    status, headers, body = call(fn_alerts_table, url_event("GET", "/alerts", {"region": "de"}))
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert body["region"] == "DE"
    assert [alert["alert_id"] for alert in body["alerts"]] == ["a1", "a2"]
    assert body["alerts"][0]["severity_score"] == 45.5


def test_limit_caps_the_page(fn_alerts_table: FakeTable) -> None:
    _, _, body = call(fn_alerts_table, url_event("GET", "/alerts/", {"region": "DE", "limit": "1"}))
    assert body["count"] == 1


def test_rest_api_v1_event_is_understood(fn_alerts_table: FakeTable) -> None:
    event = {"httpMethod": "GET", "path": "/alerts", "queryStringParameters": {"region": "FR"}}
    status, _, body = call(fn_alerts_table, event)
    assert (status, body["count"]) == (200, 1)


@pytest.mark.parametrize(
    ("event", "status", "error"),
    [
        (url_event("GET", "/alerts"), 400, "missing query parameter: region"),
        (url_event("GET", "/alerts", {"region": "XX"}), 400, "unknown region: XX"),
        (url_event("GET", "/alerts", {"region": "DE", "limit": "many"}), 400, "limit must be an integer"),
        (url_event("GET", "/alerts", {"region": "DE", "limit": "500"}), 400, "limit must be 1..200"),
        (url_event("GET", "/incidents"), 404, "no route for /incidents"),
    ],
)
def test_client_errors(fn_alerts_table: FakeTable, event: dict[str, Any], status: int, error: str) -> None:
    assert call(fn_alerts_table, event)[0::2] == (status, {"error": error})
    assert not [name for name, _ in fn_alerts_table.calls if name == "query"]


def test_wrong_method_is_405_with_allow_header(fn_alerts_table: FakeTable) -> None:
    status, headers, _ = call(fn_alerts_table, url_event("POST", "/alerts", {"region": "DE"}))
    assert (status, headers["allow"]) == (405, "GET")


def test_health() -> None:
    assert call(FakeTable("region"), url_event("GET", "/health"))[0::2] == (200, {"status": "ok"})
