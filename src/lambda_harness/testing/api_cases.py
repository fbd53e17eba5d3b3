"""Event cases that call an API route over HTTP, what they expect, and which routes they cover.

In the cases folder (``tests/integration/events`` by default), under ``<api>/`` (the API's
Terraform name, e.g. ``alerts`` for ``aws_apigatewayv2_api.alerts``) a case is a request,
not an event::

    {"request": {"method": "GET", "path": "/alerts", "headers": {...}, "query": {...},
                 "body": ..., "stage": "dev"}}

``path`` is relative to the stage's URL; ``stage`` is needed only when the API has
several stages and no ``$default``; a ``body`` that is not a string is sent as JSON
(``application/json``), a string as ``text/plain; charset=utf-8`` unless ``headers`` name a
``Content-Type``. Only the case's headers are sent, plus ``Host`` and ``Content-Length``.
Beside it, ``<case>.expected.json`` may hold ``{"status": 200, "headers": {...}, "body": ...}``:
headers match by name (any case) and value; a JSON body matches by subset (as event
cases do), a string body must be equal. Without it the case passes on any 2xx.

A case covers the route its request reaches (the same precedence as the endpoint:
literal > ``{name}`` > ``{proxy+}``, method > ``ANY``, then ``$default``); the gate
reports every Lambda proxy route no case covers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from lambda_harness import net
from lambda_harness.errors import ConfigError
from lambda_harness.terraform.inventory import DeployedApi
from lambda_harness.testing.cases import EventCase, GateProblem, Reader, load_json, subset_diff

#: A string body's Content-Type when the case names none (API Gateway sees it as text).
TEXT = "text/plain; charset=utf-8"
#: Header the embedded endpoint's gateway sets when it answers itself, saying why.
REASON_HEADER = "x-lambda-harness-reason"


@dataclass(frozen=True)
class HttpRequestSpec:
    """What one HTTP case sends."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    query: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    stage: str | None = None

    def url(self, base_url: str) -> str:
        """``base_url`` (a stage URL ending in ``/``) + path + query."""
        url = base_url.rstrip("/") + "/" + self.path.lstrip("/")
        return f"{url}?{urlencode(self.query)}" if self.query else url


@dataclass(frozen=True)
class HttpAnswer:
    """The response an HTTP case received."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """A header's value (case-insensitive; repeats joined with commas), or None."""
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(values) if values else None


def is_http_case(case: EventCase, read: Reader = load_json) -> bool:
    """Whether a case file is a request (``{"request": {"path": ...}}``) rather than an event."""
    data = read(case.event_path)
    return isinstance(data, dict) and isinstance(data.get("request"), dict) and "path" in data["request"]


def _query(value: Any, where: str) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise ConfigError(f'{where}: "query" must be an object like {{"region": "DE"}}, got {value!r}')
    pairs = []
    for key, item in value.items():
        for one in item if isinstance(item, list) else [item]:
            pairs.append((str(key), str(one)))
    return pairs


def load_request(case: EventCase, read: Reader = load_json) -> HttpRequestSpec:
    """The request of an HTTP case; ConfigError naming the file when it is not one."""
    data = read(case.event_path)
    spec = data.get("request") if isinstance(data, dict) else None
    where = str(case.event_path)
    if not isinstance(spec, dict) or not isinstance(spec.get("path"), str):
        raise ConfigError(f'{where}: an API case is {{"request": {{"method": "GET", "path": "/..."}}}}')
    headers = spec.get("headers") or {}
    if not isinstance(headers, Mapping):
        raise ConfigError(f'{where}: "headers" must be an object, got {headers!r}')
    headers = {str(k): str(v) for k, v in headers.items()}
    body = spec.get("body")
    data_bytes: bytes | None = None
    if isinstance(body, str):
        data_bytes = body.encode("utf-8")
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = TEXT
    elif body is not None:
        data_bytes = json.dumps(body).encode("utf-8")
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
    stage = spec.get("stage")
    return HttpRequestSpec(
        method=str(spec.get("method") or "GET").upper(),
        path=spec["path"],
        headers=headers,
        query=_query(spec.get("query"), where),
        body=data_bytes,
        stage=None if stage is None else str(stage),
    )


def send(url: str, spec: HttpRequestSpec, timeout: float = 120.0) -> HttpAnswer:
    """Send one case's request with only its own headers (plus ``Host`` and ``Content-Length``),
    never through a proxy; an HTTP error status is an answer too. OSError when nothing answers."""
    status, headers, body = net.exchange(spec.method, url, spec.headers, spec.body, timeout)
    return HttpAnswer(status, headers, body)


@dataclass(frozen=True)
class HttpOutcome:
    """One API case run: where it went, the answer, what was wrong (empty: passed), how long."""

    url: str
    answer: HttpAnswer
    problems: list[str]
    wall_ms: float


def run_http_case(case: EventCase, spec: HttpRequestSpec, url: str) -> HttpOutcome:
    """Send a case's request to ``url`` and check the answer (adding the gateway's own reason)."""
    started = time.monotonic()
    answer = send(url, spec)
    wall_ms = round((time.monotonic() - started) * 1000, 2)
    problems = check_http_case(case, answer)
    reason = answer.header(REASON_HEADER)
    if problems and reason:
        problems.append(f"the endpoint says: {reason}")
    return HttpOutcome(url, answer, problems, wall_ms)


def check_http_case(case: EventCase, answer: HttpAnswer) -> list[str]:
    """What is wrong with an HTTP case's answer (empty: it passed)."""
    expected = load_json(case.expected_path) if case.expected_path is not None else None
    if expected is None:
        return [] if 200 <= answer.status < 300 else [f"expected a 2xx status, got {answer.status}"]
    if not isinstance(expected, dict) or not set(expected) <= {"status", "headers", "body"}:
        raise ConfigError(
            f'{case.expected_path}: an API case expects {{"status": 200, "headers": {{...}}, "body": ...}}'
        )
    problems = []
    if "status" in expected and expected["status"] != answer.status:
        problems.append(f"status: expected {expected['status']}, got {answer.status}")
    for name, value in (expected.get("headers") or {}).items():
        got = answer.header(str(name))
        if got != str(value):
            problems.append(f"header {name}: expected {value!r}, got {got!r}")
    if "body" in expected:
        problems.extend(_body_problems(expected["body"], answer.body))
    return problems


def _body_problems(expected: Any, body: bytes) -> list[str]:
    if isinstance(expected, str):
        text = body.decode("utf-8", "replace")
        return [] if text == expected else [f"body: expected {expected!r}, got {text[:300]!r}"]
    try:
        actual = json.loads(body)
    except ValueError:
        return [f"body: expected JSON, got {body[:300]!r}"]
    return [p.replace("$", "body", 1) for p in subset_diff(expected, actual)]


# --- route coverage ------------------------------------------------------------------------------


def _segments(path: str) -> list[str]:
    return [p for p in path.split("?", 1)[0].split("/") if p]


def _fits(template: str, path: str) -> tuple[bool, tuple[int, ...], int] | None:
    """(no greedy variable, segment kinds, length) when ``path`` fits ``template``, else None."""
    spec, parts = _segments(template), _segments(path)
    kinds: list[int] = []
    for index, part in enumerate(spec):
        if part.startswith("{") and part.endswith("+}"):
            if index != len(spec) - 1 or len(parts) <= index:
                return None
            return (False, (*kinds, 0), len(spec))
        if index >= len(parts) or (not part.startswith("{") and part != parts[index]):
            return None
        kinds.append(1 if part.startswith("{") else 2)
    return (True, tuple(kinds), len(spec)) if len(parts) == len(spec) else None


def route_for(routes: Iterable[str], method: str, path: str) -> str | None:
    """The route key (``GET /alerts/{id}``, ``$default``) a request reaches, or None."""
    best: tuple[tuple[bool, tuple[int, ...], int, bool], str] | None = None
    keys = list(routes)
    for key in keys:
        route_method, _, template = key.partition(" ")
        if key == "$default" or route_method not in (method.upper(), "ANY"):
            continue
        fit = _fits(template, path)
        if fit is not None and (best is None or (*fit, route_method != "ANY") > best[0]):
            best = ((*fit, route_method != "ANY"), key)
    if best is not None:
        return best[1]
    return "$default" if "$default" in keys else None


def route_gate(
    apis: Sequence[DeployedApi],
    cases: Mapping[str, list[EventCase]],
    cases_dir: Path,
    read: Reader = load_json,
) -> list[GateProblem]:
    """Every Lambda proxy route of a served API (one with a stage) needs a case reaching it."""
    problems = []
    for api in apis:
        if not api.stages or not api.routes:
            continue
        covered = set()
        for case in cases.get(api.name, []):
            spec = load_request(case, read)
            covered.add(route_for(api.routes, spec.method, "/" + spec.path.lstrip("/")))
        for route in api.routes:
            if route in covered:
                continue
            problems.append(
                GateProblem(
                    "no-route-case",
                    f"{api.name}/{route}",
                    f"route {route} of {api.kind} API {api.name} ({api.address}) has no case: add "
                    f'{cases_dir / api.name}/<case>.json with {{"request": {{"method": ..., "path": ...}}}} '
                    "reaching it (and optionally <case>.expected.json with the status and body).",
                )
            )
    return problems
