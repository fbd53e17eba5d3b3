"""Asynchronous invocation configuration: event invoke configs and the function's DLQ.

AWS keeps one event invoke config per function *and qualifier* (``$LATEST``, a version or
an alias): ``Put`` replaces it, ``Update`` changes only the fields given, ``Get`` answers
``FunctionArn`` with the qualifier (``...:fn:$LATEST`` when none was given). moto ignores
the qualifier, appends on every put (a second put is invisible to ``Get``) and drops
``DeadLetterConfig`` from the function altogether. ``hooks`` routes the five API calls
here; the configs live on moto's ``$LATEST`` function object, so they go when the
function goes or moto is reset.

``AsyncConfig.of(target)`` is what ``invoke`` needs for one Event invocation: retries,
maximum event age, destinations and the dead-letter target.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from moto.awslambda.exceptions import UnknownEventConfig
from moto.awslambda.models import EventInvokeConfig

from lambda_harness.endpoint.lookup import Target, function_arn, lambda_backend, parse_ref

#: AWS's defaults: two retries, six hours.
DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE_S = 21600
_FIELDS = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
_ATTR = "lh_event_invoke_configs"  # on moto's $LATEST function: {qualifier: config}
_lock = threading.Lock()


@dataclass(frozen=True)
class AsyncConfig:
    """How one function (version or alias) handles its asynchronous invocations."""

    max_retries: int = DEFAULT_RETRIES
    max_age_s: float = DEFAULT_MAX_AGE_S
    on_success: str | None = None
    on_failure: str | None = None
    dead_letter: str | None = None

    @classmethod
    def of(cls, target: Target) -> AsyncConfig:
        """The config for the qualifier the caller used (``$LATEST`` when unqualified)."""
        fn = target.fn
        latest = lambda_backend(fn.account_id, fn.region).get_function(fn.function_name)
        stored = dict(getattr(latest, _ATTR, {}).get(target.qualifier or "$LATEST", {}))
        destinations = stored.get("DestinationConfig") or {}
        return cls(
            max_retries=int(stored.get("MaximumRetryAttempts", DEFAULT_RETRIES)),
            max_age_s=float(stored.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE_S)),
            on_success=(destinations.get("OnSuccess") or {}).get("Destination") or None,
            on_failure=(destinations.get("OnFailure") or {}).get("Destination") or None,
            dead_letter=dead_letter_target(fn),
        )


def dead_letter_target(fn: Any) -> str | None:
    """The version's ``DeadLetterConfig.TargetArn`` (kept by ``hooks``; moto drops it)."""
    return getattr(fn, "lh_dead_letter_target", None) or None


class InvokeConfigs:
    """The five event-invoke-config calls of one account and region, qualifier-aware."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region

    def _locate(self, name_or_arn: str, qualifier: str | None) -> tuple[Any, str, str]:
        """(moto's $LATEST function, qualifier, unqualified ARN); 404 for a missing one."""
        ref = parse_ref(name_or_arn, qualifier)
        backend = lambda_backend(ref.account_id or self.account_id, ref.region or self.region)
        latest = backend.get_function(ref.name)
        q = ref.qualifier or "$LATEST"
        if q != "$LATEST":
            backend.get_function(ref.name, q)  # the version or alias must exist
        return latest, q, function_arn(latest.region, latest.account_id, latest.function_name)

    @staticmethod
    def _response(arn: str, qualifier: str, config: dict[str, Any]) -> dict[str, Any]:
        out = {"FunctionArn": f"{arn}:{qualifier}", "LastModified": config["LastModified"]}
        out.update({k: config[k] for k in _FIELDS if k in config})
        return out

    def put(self, name_or_arn: str, qualifier: str | None, body: dict[str, Any]) -> dict[str, Any]:
        """PutFunctionEventInvokeConfig: the given fields replace the whole config."""
        return self._store(name_or_arn, qualifier, body, merge=False)

    def update(self, name_or_arn: str, qualifier: str | None, body: dict[str, Any]) -> dict[str, Any]:
        """UpdateFunctionEventInvokeConfig: only the given fields change."""
        return self._store(name_or_arn, qualifier, body, merge=True)

    def _store(
        self, name_or_arn: str, qualifier: str | None, body: dict[str, Any], *, merge: bool
    ) -> dict[str, Any]:
        latest, q, arn = self._locate(name_or_arn, qualifier)
        given = {k: body[k] for k in _FIELDS if k in body}
        EventInvokeConfig(arn, "", given)  # moto's validation: ranges and destination ARNs
        with _lock:
            configs = getattr(latest, _ATTR, None)
            if configs is None:
                configs = {}
                setattr(latest, _ATTR, configs)
            config = {**configs.get(q, {}), **given} if merge else given
            config["LastModified"] = time.time()
            configs[q] = config
        return self._response(arn, q, config)

    def get(self, name_or_arn: str, qualifier: str | None) -> dict[str, Any]:
        """GetFunctionEventInvokeConfig; 404 when there is none for that qualifier."""
        latest, q, arn = self._locate(name_or_arn, qualifier)
        config = getattr(latest, _ATTR, {}).get(q)
        if config is None:
            raise UnknownEventConfig(f"{arn}:{q}")
        return self._response(arn, q, config)

    def delete(self, name_or_arn: str, qualifier: str | None) -> None:
        """DeleteFunctionEventInvokeConfig; 404 when there is none."""
        latest, q, arn = self._locate(name_or_arn, qualifier)
        with _lock:
            if getattr(latest, _ATTR, {}).pop(q, None) is None:
                raise UnknownEventConfig(f"{arn}:{q}")

    def list(self, name_or_arn: str) -> dict[str, Any]:
        """ListFunctionEventInvokeConfigs: every qualifier's config."""
        latest, _q, arn = self._locate(name_or_arn, None)
        configs = dict(getattr(latest, _ATTR, {}))
        return {"FunctionEventInvokeConfigs": [self._response(arn, q, c) for q, c in sorted(configs.items())]}
