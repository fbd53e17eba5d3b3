"""Lambda authorizer of the alerts HTTP API: who may read alerts.

API Gateway calls it with the HTTP API authorizer event (payload format 2.0) and reads a
*simple response*: ``{"isAuthorized": true|false, "context": {...}}``. A client sends
``Authorization: Bearer <token>``; ``API_TOKENS`` maps client names to the SHA-256 (hex) of
their token, so the function never holds a token itself. An allowed request carries
``{"client": <name>}`` to alerts_api (``requestContext.authorizer.lambda``).
API Gateway answers 401 itself when the header is missing; a wrong token is a 403.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from worker_lib import config
from worker_lib.log import get_logger

log = get_logger("alerts_authorizer")


def token_of(event: Mapping[str, Any]) -> str | None:
    """The bearer token of the request (identity source first, then the header), or None."""
    sources = event.get("identitySource") or []
    header = sources[0] if sources else (event.get("headers") or {}).get("authorization", "")
    scheme, _, token = str(header or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def client_for(token: str | None, hashes: Mapping[str, str]) -> str | None:
    """The client whose token hash matches (compared in constant time), or None."""
    if not token:
        return None
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
    for client, expected in hashes.items():
        if hmac.compare_digest(digest, str(expected).lower()):
            return client
    return None


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Lambda entry point: a simple authorizer response."""
    hashes = json.loads(config.require("API_TOKENS"))
    client = client_for(token_of(event), hashes)
    route = event.get("routeKey", "")
    if client is None:
        log.info("denied", extra={"route": route})
        return {"isAuthorized": False}
    log.info("allowed", extra={"route": route, "client": client})
    return {"isAuthorized": True, "context": {"client": client}}
