"""alerts_authorizer: bearer tokens checked against hashes, as an HTTP API simple response."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from alerts_authorizer.app import client_for, handler, token_of

HASHES = {"dashboard": hashlib.sha256(b"dev-dashboard-token").hexdigest()}


def event(header: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"version": "2.0", "type": "REQUEST", "routeKey": "GET /alerts", "headers": {}}
    if header is not None:
        out["identitySource"] = [header]
        out["headers"]["authorization"] = header
    return out


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("", None),
    ],
)
def test_token_of_reads_only_bearer_tokens(header: str, token: str | None) -> None:
    assert token_of(event(header)) == token


def test_token_of_falls_back_to_the_header() -> None:
    assert token_of({"headers": {"authorization": "Bearer xyz"}}) == "xyz"
    assert token_of({}) is None


def test_client_for_matches_the_hash_only() -> None:
    assert client_for("dev-dashboard-token", HASHES) == "dashboard"
    assert client_for("DEV-dashboard-token", HASHES) is None
    assert client_for(None, HASHES) is None
    assert client_for("dev-dashboard-token", {"x": HASHES["dashboard"].upper()}) == "x"


def test_handler_allows_a_known_token_with_the_client_in_the_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TOKENS", json.dumps(HASHES))
    assert handler(event("Bearer dev-dashboard-token"), None) == {
        "isAuthorized": True,
        "context": {"client": "dashboard"},
    }


@pytest.mark.parametrize("header", ["Bearer wrong", "Basic ZGFzaDpwdw==", None])
def test_handler_denies_anything_else(monkeypatch: pytest.MonkeyPatch, header: str | None) -> None:
    monkeypatch.setenv("API_TOKENS", json.dumps(HASHES))
    assert handler(event(header), None) == {"isAuthorized": False}
