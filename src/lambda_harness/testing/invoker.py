"""Invoke a deployed function on the endpoint and return a typed result.

A handler's failure (an exception, a timeout, an import error) is an
``Invocation`` with ``function_error`` set, never an exception: only an
endpoint that cannot be reached, or a function that is not there, raises
``InvocationError``.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, ReadTimeoutError

from lambda_harness import net
from lambda_harness.errors import InvocationError

if TYPE_CHECKING:
    from mypy_boto3_lambda.client import LambdaClient

    from lambda_harness.settings import Settings
    from lambda_harness.terraform.inventory import Inventory
    from lambda_harness.ui import UI

# Anything works against a local endpoint; fixed values keep the caller's real
# credentials (if any) out of every request the harness makes.
FAKE_ACCESS_KEY = "test"
FAKE_SECRET_KEY = "test"  # noqa: S105 (not a secret: local endpoints accept anything)

# Lambda's longest timeout is 900 s; the client must outwait the function, or a
# slow handler would look like an unreachable endpoint.
DEFAULT_READ_TIMEOUT_S = 905.0

_REPORT_FIELD = re.compile(r"(Init Duration|Billed Duration|Duration|Max Memory Used|Memory Size): ([\d.]+)")


def client_config(read_timeout: float = DEFAULT_READ_TIMEOUT_S, endpoint_url: str = "") -> Config:
    """botocore config for the harness: one attempt (a retry would re-run a handler), long reads.

    For a loopback ``endpoint_url``, ``proxies={}``: botocore then never consults HTTP(S)_PROXY
    (it only reads the environment when ``proxies`` is None), so payloads stay on this machine.
    """
    return Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        read_timeout=read_timeout,
        connect_timeout=5,
        proxies={} if net.is_loopback(net.url_host(endpoint_url)) else None,
    )


def make_session(region: str) -> boto3.Session:
    """A boto3 session with fake credentials: never the caller's real ones."""
    return boto3.Session(
        aws_access_key_id=FAKE_ACCESS_KEY, aws_secret_access_key=FAKE_SECRET_KEY, region_name=region
    )


@dataclass(frozen=True)
class ReportLine:
    """The figures of a Lambda ``REPORT`` log line."""

    duration_ms: float | None = None
    billed_ms: float | None = None
    init_ms: float | None = None
    memory_size_mb: int | None = None
    max_memory_mb: int | None = None


def parse_report(log: str) -> ReportLine:
    """Figures from the last ``REPORT RequestId: ...`` line of ``log`` (empty if none)."""
    lines = [ln for ln in log.splitlines() if ln.startswith("REPORT ")]
    if not lines:
        return ReportLine()
    values = {key: float(num) for key, num in _REPORT_FIELD.findall(lines[-1])}

    def as_int(key: str) -> int | None:
        return int(values[key]) if key in values else None

    return ReportLine(
        duration_ms=values.get("Duration"),
        billed_ms=values.get("Billed Duration"),
        init_ms=values.get("Init Duration"),
        memory_size_mb=as_int("Memory Size"),
        max_memory_mb=as_int("Max Memory Used"),
    )


def decode_payload(raw: bytes) -> Any:
    """The response body as JSON when it is JSON, else the raw bytes."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw


def decode_log_result(value: str | None) -> str:
    """``X-Amz-Log-Result`` (base64 of the log's last 4 KB) as text."""
    if not value:
        return ""
    try:
        return base64.b64decode(value).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return value


@dataclass(frozen=True)
class Invocation:
    """What one synchronous invoke returned.

    ``payload`` is the decoded JSON (or raw bytes when the body is not JSON).
    ``function_error`` is ``"Unhandled"``/``"Handled"`` when the handler failed;
    then ``error_type``/``error_message`` come from the error payload.
    """

    name: str
    status_code: int
    payload: Any
    raw_payload: bytes
    function_error: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    stack_trace: tuple[str, ...] = ()
    log_tail: str = ""
    duration_ms: float | None = None
    init_ms: float | None = None
    max_memory_mb: int | None = None
    wall_ms: float = 0.0
    executed_version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = None  # AWS's x-amzn-RequestId: the invocation's id on the endpoint

    @property
    def ok(self) -> bool:
        """True when the handler returned normally."""
        return self.function_error is None

    @property
    def cold(self) -> bool:
        """True when the REPORT line carried an ``Init Duration`` (a cold start)."""
        return self.init_ms is not None

    def describe_error(self) -> str:
        """``ErrorType: message`` for a failed invocation, ``""`` for a good one."""
        if self.ok:
            return ""
        return f"{self.error_type or self.function_error}: {self.error_message or ''}".rstrip(": ")


def build_invocation(name: str, response: dict[str, Any], raw: bytes, wall_ms: float) -> Invocation:
    """An ``Invocation`` from a boto3 ``invoke`` response whose body has been read into ``raw``."""
    payload = decode_payload(raw)
    log = decode_log_result(response.get("LogResult"))
    report = parse_report(log)
    function_error = response.get("FunctionError")
    error_type = error_message = None
    trace: tuple[str, ...] = ()
    if function_error and isinstance(payload, dict):
        error_type = _str_or_none(payload.get("errorType"))
        error_message = _str_or_none(payload.get("errorMessage"))
        stack = payload.get("stackTrace")
        if isinstance(stack, list):
            trace = tuple(str(s) for s in stack)
    return Invocation(
        name=name,
        status_code=int(response.get("StatusCode", 0)),
        payload=payload,
        raw_payload=raw,
        function_error=function_error,
        error_type=error_type,
        error_message=error_message,
        stack_trace=trace,
        log_tail=log,
        duration_ms=report.duration_ms,
        init_ms=report.init_ms,
        max_memory_mb=report.max_memory_mb,
        wall_ms=wall_ms,
        executed_version=response.get("ExecutedVersion"),
        request_id=(response.get("ResponseMetadata") or {}).get("RequestId"),
    )


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def encode_event(event: object) -> bytes:
    """The request body: bytes/str as given, anything else as JSON."""
    if isinstance(event, bytes):
        return event
    if isinstance(event, str):
        return event.encode("utf-8")
    return json.dumps(event).encode("utf-8")


class Invoker:
    """Synchronous ``Invoke`` calls against one endpoint, with fake credentials and no retries.

    Each function is invoked in its own region (``regions``: name -> region, from the ARNs
    in the inventory: a Lambda@Edge function on an aliased ``us-east-1`` provider lives
    there, not in the default provider's region); others in ``region``.
    """

    def __init__(
        self,
        endpoint_url: str,
        region: str = "us-east-1",
        *,
        regions: Mapping[str, str] | None = None,
        read_timeout: float = DEFAULT_READ_TIMEOUT_S,
        clock: Callable[[], float] = time.perf_counter,
        client: LambdaClient | None = None,
        client_for: Callable[[str], LambdaClient] | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self.regions = dict(regions or {})
        self._clock = clock
        self._read_timeout = read_timeout
        if client_for is None:
            client_for = (lambda _region: client) if client is not None else self._new_client
        self._client_for = client_for
        self._clients: dict[str, LambdaClient] = {}

    @classmethod
    def for_inventory(
        cls, endpoint_url: str, inventory: Inventory, region: str | None = None, **kwargs: Any
    ) -> Invoker:
        """An Invoker that calls each deployed function in the region of its ARN."""
        return cls(
            endpoint_url, region or deployed_region(inventory), regions=function_regions(inventory), **kwargs
        )

    def _new_client(self, region: str) -> LambdaClient:
        return make_session(region).client(
            "lambda",
            endpoint_url=self.endpoint_url,
            config=client_config(self._read_timeout, self.endpoint_url),
        )

    def client(self, name: str) -> LambdaClient:
        """The Lambda client for the region ``name`` is deployed in."""
        region = self.regions.get(name, self.region)
        if region not in self._clients:
            self._clients[region] = self._client_for(region)
        return self._clients[region]

    def invoke(
        self, name: str, event: object = None, *, qualifier: str | None = None, log_tail: bool = True
    ) -> Invocation:
        """Invoke ``name`` synchronously; a handler error is a result, not an exception."""
        # moto reads no ``Qualifier`` query parameter; ``name:qualifier`` means the same to AWS.
        target = f"{name}:{qualifier}" if qualifier else name
        start = self._clock()
        try:
            response = self.client(name).invoke(
                FunctionName=target,
                InvocationType="RequestResponse",
                LogType="Tail" if log_tail else "None",
                Payload=encode_event({} if event is None else event),
            )
            raw = response["Payload"].read()
        except ClientError as exc:
            raise self._client_error(name, target, exc) from exc
        except EndpointConnectionError as exc:
            raise InvocationError(
                f"cannot invoke {target}: nothing answers at {self.endpoint_url}. Start the endpoint "
                "(lambda-harness up --detach, or lambda-harness apply), or point at the running one "
                "(--port/--host on the command line, --harness-endpoint in pytest)."
            ) from exc
        except ReadTimeoutError as exc:
            raise InvocationError(
                f"invoking {target}: {self.endpoint_url} sent no answer in time ({exc}); "
                "is the endpoint stuck? Restart it (lambda-harness down; lambda-harness up)."
            ) from exc
        except BotoCoreError as exc:
            raise InvocationError(f"invoking {target} at {self.endpoint_url} failed: {exc}") from exc
        wall_ms = (self._clock() - start) * 1000.0
        return build_invocation(name, dict(response), raw, wall_ms)

    def _client_error(self, name: str, target: str, exc: ClientError) -> InvocationError:
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", str(exc))
        if code == "ResourceNotFoundException":
            return InvocationError(
                f"function {target} is not deployed at {self.endpoint_url}: {message}. "
                f"{self._name_hint(name)}Check the name (Terraform function_name) or deploy it: "
                "lambda-harness apply."
            )
        return InvocationError(f"invoking {target} at {self.endpoint_url} was refused: {code}: {message}")

    def _name_hint(self, name: str) -> str:
        """'Did you mean ...?' from the deployed names this invoker knows (the inventory's)."""
        known = sorted(self.regions)
        if name in known:
            return ""
        near = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        if near:
            return f'Did you mean "{near[0]}"? '
        if known:
            shown = ", ".join(known[:12]) + (f" and {len(known) - 12} more" if len(known) > 12 else "")
            return f"Deployed here: {shown}. "
        return ""


def function_regions(inventory: Inventory) -> dict[str, str]:
    """Function name -> the region in its ARN (functions without an ARN are left out)."""
    regions = {}
    for fn in inventory.functions:
        parts = str(fn.arn).split(":")
        if len(parts) > 3 and parts[0] == "arn" and parts[3]:
            regions[fn.name] = parts[3]
    return regions


def deployed_region(inventory: Inventory) -> str:
    """The region most functions really live in, from their ARNs (the provider's own ``region``
    setting wins over the harness's; an aliased provider's few functions do not), else what the
    inventory says. Ties go to the first function by name."""
    counts = Counter(function_regions(inventory).values())
    return counts.most_common(1)[0][0] if counts else inventory.region


def invoker_for(settings: Settings) -> Invoker:
    """An Invoker for ``settings``' endpoint: each deployed function in its ARN's region when
    ``.harness/inventory.json`` exists, else everything in the settings' region."""
    from lambda_harness.terraform.inventory import Inventory

    path = settings.paths.inventory
    if path.is_file():
        return Invoker.for_inventory(settings.endpoint_url, Inventory.load(path))
    return Invoker(settings.endpoint_url, settings.region)


def read_event_source(source: str | None, stdin: BinaryIO | None = None) -> bytes:
    """The event body from a file, ``-`` (stdin) or nothing (``{}``); it must be JSON, as for Lambda."""
    if source is None:
        return b"{}"
    if source == "-":
        body, where = (stdin or sys.stdin.buffer).read(), "the event on stdin"
    else:
        path = Path(source)
        if not path.is_file():
            what = "is a folder, not a file" if path.is_dir() else "does not exist"
            raise InvocationError(f"event file {path} {what}; pass --event FILE, --event - or nothing")
        body, where = path.read_bytes(), f"event file {path}"
    try:
        json.loads(body)
    except ValueError as exc:
        raise InvocationError(
            f'{where} is not JSON ({exc}); Lambda takes a JSON document, e.g. {{"key": "value"}}'
        ) from exc
    return body


def show_invocation(ui: UI, name: str, result: Invocation) -> bool:
    """Show an invocation's payload, log tail and timing (what ``invoke`` prints); True if it succeeded."""
    if isinstance(result.payload, bytes):
        ui.emit(result.payload.decode("utf-8", "replace"))
    else:
        ui.emit(json.dumps(result.payload, indent=2))
    if result.log_tail:
        ui.info("--- log tail ---\n" + result.log_tail.rstrip())
    timing = f"{result.wall_ms:.1f} ms wall"
    if result.duration_ms is not None:
        timing = f"{result.duration_ms:.1f} ms"
    if result.cold:
        timing += f" (cold start, init {result.init_ms:.1f} ms)"
    if not result.ok:
        ui.fail(f"{name}: {result.describe_error()} [{timing}]")
        return False
    ui.info(f"{name}: OK [{timing}]")
    return True
