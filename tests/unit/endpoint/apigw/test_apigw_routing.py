"""Stage selection and route matching, as API Gateway chooses (no server, no moto)."""

from __future__ import annotations

import pytest

from lambda_harness.endpoint.apigw.model import ApiKind, Route
from lambda_harness.endpoint.apigw.routing import match_path, match_route, split_stage

REST, HTTP = ApiKind.REST, ApiKind.HTTP


@pytest.mark.parametrize(
    ("kind", "stages", "path", "expected"),
    [
        (REST, ["dev"], "/dev/alerts/1", ("dev", "/alerts/1")),
        (REST, ["dev"], "/dev", ("dev", "/")),
        (REST, ["dev"], "/prod/alerts", None),
        (REST, ["dev"], "/", None),
        (HTTP, ["$default"], "/alerts", ("$default", "/alerts")),
        (HTTP, ["$default", "dev"], "/dev/alerts", ("dev", "/alerts")),
        (HTTP, ["$default", "dev"], "/devx/alerts", ("$default", "/devx/alerts")),
        (HTTP, ["dev"], "/alerts", None),
        (HTTP, ["dev"], "/dev", ("dev", "/")),
    ],
)
def test_split_stage(kind: ApiKind, stages: list[str], path: str, expected: tuple[str, str] | None) -> None:
    assert split_stage(kind, stages, path) == expected


@pytest.mark.parametrize(
    ("template", "path", "params"),
    [
        ("/", "/", {}),
        ("/alerts", "/alerts/", {}),
        ("/alerts", "//alerts", {}),
        ("/alerts/{id}", "/alerts/a%20b", {"id": "a b"}),
        ("/alerts/{id}", "/alerts", None),
        ("/alerts/{id}", "/alerts/1/2", None),
        ("/{proxy+}", "/a/b/c", {"proxy": "a/b/c"}),
        ("/{proxy+}", "/", None),  # a greedy variable needs at least one segment
        ("/files/{key+}", "/files/x%2Fy/z", {"key": "x/y/z"}),
        ("/alerts", "/Alerts", None),  # literal segments are case-sensitive
    ],
)
def test_match_path(template: str, path: str, params: dict[str, str] | None) -> None:
    assert match_path(template, path) == params


ROUTES = (
    Route("GET", "/alerts"),
    Route("ANY", "/alerts"),
    Route("GET", "/alerts/{id}"),
    Route("GET", "/alerts/latest"),
    Route("ANY", "/{proxy+}"),
    Route("GET", "/files/{proxy+}"),
    Route("GET", "/{a}/b"),
)


@pytest.mark.parametrize(
    ("method", "path", "key"),
    [
        ("GET", "/alerts", "GET /alerts"),  # exact method beats ANY
        ("POST", "/alerts", "ANY /alerts"),
        ("GET", "/alerts/latest", "GET /alerts/latest"),  # literal beats {id}
        ("GET", "/alerts/7", "GET /alerts/{id}"),
        ("DELETE", "/alerts/7", "ANY /{proxy+}"),  # no DELETE on /alerts/{id}: the greedy route
        ("GET", "/files/a/b", "GET /files/{proxy+}"),  # the longer greedy prefix wins
        ("GET", "/x/b", "GET /{a}/b"),  # a full match beats a greedy one
        ("GET", "/files/b", "GET /{a}/b"),
    ],
)
def test_most_specific_route_wins(method: str, path: str, key: str) -> None:
    found = match_route(REST, ROUTES, method, path)
    assert found is not None and found.route.key == key


def test_rest_without_a_match_is_none_and_http_falls_back_to_default() -> None:
    routes = (Route("GET", "/alerts"), Route("$default", "$default"))
    assert match_route(REST, routes[:1], "POST", "/alerts") is None
    found = match_route(HTTP, routes, "POST", "/alerts")
    assert found is not None and found.route.key == "$default" and found.path_params == {}
    assert match_route(HTTP, routes[:1], "GET", "/nope") is None


def test_path_parameters_of_the_winner() -> None:
    found = match_route(HTTP, (Route("GET", "/users/{user}/items/{item}"),), "GET", "/users/u%2F1/items/9")
    assert found is not None and found.path_params == {"user": "u/1", "item": "9"}
