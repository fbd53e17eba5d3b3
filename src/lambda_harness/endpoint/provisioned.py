"""Provisioned concurrency configs: accepted, kept and answered, with no behaviour.

moto does not serve ``/2019-09-30/functions/<name>/provisioned-concurrency`` at all, so
Terraform's ``aws_lambda_provisioned_concurrency_config`` failed the apply with a raw 404.
``front`` routes the four calls here (Put, Get, Delete, and List with ``?List=ALL``). Each
config is answered as AWS reports it once ready: ``Status: READY`` and every requested
environment allocated and available. Nothing is pre-warmed: an invocation starts its
environment on demand, as for any other function. The configs live on moto's ``$LATEST``
function object, so they go when the function goes.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from moto.awslambda.exceptions import InvalidParameterValueException, LambdaClientError

from lambda_harness.endpoint.lookup import function_arn, lambda_backend, parse_ref
from lambda_harness.endpoint.wsgi import JsonResponse, Request

PATH = re.compile(r"^/2019-09-30/functions/(?P<name>[^/]+)/provisioned-concurrency/?$")
_ATTR = "lh_provisioned_concurrency"  # on moto's $LATEST function: {qualifier: config}
_lock = threading.Lock()


class ConfigNotFound(LambdaClientError):
    """AWS's 404 for a qualifier without a provisioned concurrency config."""

    code = 404

    def __init__(self, arn: str) -> None:
        super().__init__(
            "ProvisionedConcurrencyConfigNotFoundException",
            f"No Provisioned Concurrency Config found for {arn}",
        )


def ready(requested: int, last_modified: str) -> dict[str, Any]:
    """A config as AWS reports it once every requested environment is allocated."""
    return {
        "RequestedProvisionedConcurrentExecutions": requested,
        "AvailableProvisionedConcurrentExecutions": requested,
        "AllocatedProvisionedConcurrentExecutions": requested,
        "Status": "READY",
        "LastModified": last_modified,
    }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


class ProvisionedConcurrency:
    """The four provisioned-concurrency calls of one account and region."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region

    def _locate(self, name_or_arn: str, qualifier: str | None) -> tuple[Any, str | None, str]:
        """(moto's $LATEST function, qualifier, unqualified ARN); moto's 404 for a missing one."""
        ref = parse_ref(name_or_arn, qualifier)
        backend = lambda_backend(ref.account_id or self.account_id, ref.region or self.region)
        latest = backend.get_function(ref.name)
        if ref.qualifier is not None and ref.qualifier != "$LATEST":
            backend.get_function(ref.name, ref.qualifier)  # the version or alias must exist
        return latest, ref.qualifier, function_arn(latest.region, latest.account_id, latest.function_name)

    def put(self, name_or_arn: str, qualifier: str | None, body: dict[str, Any]) -> dict[str, Any]:
        """PutProvisionedConcurrencyConfig on a published version or an alias."""
        latest, q, _arn = self._locate(name_or_arn, qualifier)
        if q is None or q == "$LATEST":
            raise InvalidParameterValueException(
                "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
            )
        requested = body.get("ProvisionedConcurrentExecutions")
        if not isinstance(requested, int) or isinstance(requested, bool) or requested < 1:
            raise InvalidParameterValueException(
                "ProvisionedConcurrentExecutions must be a whole number of at least 1."
            )
        config = ready(requested, _now())
        with _lock:
            configs = getattr(latest, _ATTR, None)
            if configs is None:
                configs = {}
                setattr(latest, _ATTR, configs)
            configs[q] = config
        return dict(config)

    def get(self, name_or_arn: str, qualifier: str | None) -> dict[str, Any]:
        """GetProvisionedConcurrencyConfig; 404 when that qualifier has none."""
        latest, q, arn = self._locate(name_or_arn, qualifier)
        config = getattr(latest, _ATTR, {}).get(q)
        if config is None:
            raise ConfigNotFound(f"{arn}:{q}" if q else arn)
        return dict(config)

    def delete(self, name_or_arn: str, qualifier: str | None) -> None:
        """DeleteProvisionedConcurrencyConfig; 404 when that qualifier has none."""
        latest, q, arn = self._locate(name_or_arn, qualifier)
        with _lock:
            if getattr(latest, _ATTR, {}).pop(q, None) is None:
                raise ConfigNotFound(f"{arn}:{q}" if q else arn)

    def list(self, name_or_arn: str) -> dict[str, Any]:
        """ListProvisionedConcurrencyConfigs: every qualifier's config, with its ARN."""
        latest, _q, arn = self._locate(name_or_arn, None)
        configs = dict(getattr(latest, _ATTR, {}))
        items = [{"FunctionArn": f"{arn}:{q}", **c} for q, c in sorted(configs.items())]
        return {"ProvisionedConcurrencyConfigs": items}


def answer(request: Request, name: str, store: ProvisionedConcurrency) -> JsonResponse:
    """One request to ``PATH``, answered as Lambda's REST-JSON API does (errors are raised:
    moto's ``LambdaClientError`` is itself the WSGI answer)."""
    name, qualifier = unquote(name), request.args.get("Qualifier") or None
    method = request.method
    if method == "GET" and request.args.get("List"):
        return JsonResponse(json.dumps(store.list(name)))
    if method == "GET":
        return JsonResponse(json.dumps(store.get(name, qualifier)))
    if method == "PUT":
        body = json.loads(request.get_data() or b"{}")
        return JsonResponse(json.dumps(store.put(name, qualifier, body)), 202)
    if method == "DELETE":
        store.delete(name, qualifier)
        return JsonResponse(b"", 204)
    raise LambdaClientError("MethodNotAllowed", f"use GET, PUT or DELETE {request.path}")
