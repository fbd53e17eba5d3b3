"""``EmbeddedEndpoint``: one AWS endpoint (moto in-process + our Lambda runtime) on host:port.

A werkzeug threaded server runs ``HarnessApp`` (our routes, then moto's
``DomainDispatcherApplication``, as ``Dispatcher``) behind the IAM guard (``iam.guard.IamGuard``:
function roles enforced per ``settings.iam``). Starting binds the socket ourselves
(werkzeug would ``sys.exit`` on a taken port), installs the moto hooks, gives the
runtime its credential source (one role session per execution environment), and
starts the SQS poller and the EventBridge scheduler. The runtime is the caller's:
``stop`` does not shut it down.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from moto.core.config import default_user_config
from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from lambda_harness import net, proc
from lambda_harness.endpoint import hooks
from lambda_harness.endpoint.apigw.catalog import Catalog
from lambda_harness.endpoint.apigw.gaps import HttpApiGaps
from lambda_harness.endpoint.apigw.gateway import ApiGateway
from lambda_harness.endpoint.apigw.snapshots import DeploymentSnapshots
from lambda_harness.endpoint.cloudwatch import LogSink, LogWriter
from lambda_harness.endpoint.front import HarnessApp, InvokeRoute
from lambda_harness.endpoint.http import Connections, HarnessRequestHandler
from lambda_harness.endpoint.iam.credentials import SessionRegistry, StsCredentialSource
from lambda_harness.endpoint.iam.guard import IamGuard
from lambda_harness.endpoint.iam.ledger import Ledger
from lambda_harness.endpoint.iam.lookups import MotoLookups
from lambda_harness.endpoint.iam.trust import TrustGate
from lambda_harness.endpoint.invoke import AsyncPolicy, InvokeService, Runtime
from lambda_harness.endpoint.ports import bind
from lambda_harness.endpoint.runtime.model import CredentialSource
from lambda_harness.endpoint.sources.eventbridge import EventBridge, Scheduler
from lambda_harness.endpoint.sources.sqs import SqsPoller
from lambda_harness.endpoint.sources.streams import StreamDelivery
from lambda_harness.errors import EndpointError
from lambda_harness.settings import Settings
from lambda_harness.ui import UI

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timing:
    """Background timings; tests shorten them (AWS retries async after ~1 and ~2 minutes)."""

    async_retry_delays_s: tuple[float, ...] = (60.0, 120.0)
    sqs_poll_interval_s: float = 0.05
    schedule_tick_s: float = 1.0


class Dispatcher(DomainDispatcherApplication):
    """moto's dispatcher to its services, remembering which service answers each host.

    moto works that out on every request, under one lock: a ``listdir`` and an ``isdir``
    of each of its ~170 service folders, then the request's host against every service's
    URL patterns (1-2 ms a request here, while every other request waits). A plan of 50
    functions makes thousands of requests. The answer depends only on the host: remembered.
    """

    _REMEMBERED_MAX = 4096  # S3's virtual-hosted style makes a host per bucket

    def __init__(self, create_app: Any = create_backend_app) -> None:
        super().__init__(create_app)
        self._backends: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        """moto's answer for ``host``, worked out once (called under moto's lock)."""
        try:
            return self._backends[host]
        except KeyError:
            backend = super().get_backend_for_host(host)
            if len(self._backends) < self._REMEMBERED_MAX:
                self._backends[host] = backend
            return backend


def reset_moto() -> None:
    """Forget every AWS resource moto holds in this process (a fresh endpoint starts empty)."""
    moto_api_backend.reset()


def load_aws_managed_policies(on: bool) -> bool:
    """Make moto's IAM know AWS's managed policies (``arn:aws:iam::aws:policy/...``); returns the
    previous value.

    Terraform written for real AWS attaches them (``AWSLambdaBasicExecutionRole``) or reads them
    (``data "aws_iam_policy"``); moto only has them when this is on. It is read when an account's
    IAM backend is created (lazily, on first IAM use: 1582 policies, ~0.1 s), so it is set before
    the reset, in moto's own config rather than through the environment.
    """
    iam = default_user_config.setdefault("iam", {"load_aws_managed_policies": False})
    before = bool(iam.get("load_aws_managed_policies", False))
    iam["load_aws_managed_policies"] = on
    return before


class EmbeddedEndpoint:
    """The embedded AWS endpoint; use as a context manager or ``start``/``stop``."""

    def __init__(
        self,
        settings: Settings,
        runtime: Runtime,
        ui: UI,
        *,
        timing: Timing | None = None,
        reset: bool = True,
        logs: LogWriter | None = None,
    ) -> None:
        self.settings = settings
        self.runtime = runtime
        self.ui = ui
        self.timing = timing or Timing()
        self.reset = reset
        self.logs = logs  # where invocation logs go (default: a new LogSink, bounded, at each start)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self.service: InvokeService | None = None
        self.events: EventBridge | None = None
        self.apigw: ApiGateway | None = None
        self.poller: SqsPoller | None = None  # both run while the endpoint is started
        self.scheduler: Scheduler | None = None
        self._patched = False  # only the endpoint that patched moto may unpatch it
        self._scrubbed = contextlib.ExitStack()
        self.ledger = Ledger()  # what the IAM guard saw (served on /_harness/iam)
        self.guard: IamGuard | None = None
        self.instance_id = ""  # a new uuid at every start: /_harness/health says it
        self._managed_policies_before: bool | None = None

    @property
    def port(self) -> int:
        """The bound port (the real one when settings.port is 0)."""
        if self._port is None:
            raise EndpointError("the endpoint is not started")
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port`` clients and functions use (0.0.0.0 is reached via 127.0.0.1)."""
        host = "127.0.0.1" if self.settings.host in ("0.0.0.0", "") else self.settings.host
        return f"http://{host}:{self.port}"

    def start(self) -> EmbeddedEndpoint:
        """Bind, patch moto, start the server and the background pollers."""
        s = self.settings
        net.require_loopback(s.host, source=s.source_of("host"), allowed=s.allow_non_loopback)
        sock = bind(s.host, s.port)
        if hooks.installed():
            sock.close()
            raise EndpointError("an endpoint is already running in this process; stop it first")
        self._port = sock.getsockname()[1]
        try:
            # moto reads os.environ (its boto3 sessions raise ProfileNotFound for a bad AWS_PROFILE):
            # while it serves, this process has no AWS identity of the host's; stop() restores it.
            self._scrubbed.enter_context(proc.scrubbed_aws_environ())
            self._managed_policies_before = load_aws_managed_policies(True)
            if self.reset:
                reset_moto()
            self.service = InvokeService(
                self.runtime,
                self.logs or LogSink(),
                endpoint_url=self.url,
                policy=AsyncPolicy(retry_delays_s=self.timing.async_retry_delays_s),
            )
            self.events = EventBridge(self.service)
            snapshots = DeploymentSnapshots()
            mode = self.settings.iam
            lookups = MotoLookups()
            trust = TrustGate(self.ledger, lookups, mode) if mode != "off" else None
            hooks.install(
                hooks.Targets(self.service, self.events, StreamDelivery(self.service), snapshots, trust)
            )
            self._patched = True
            self.instance_id = uuid.uuid4().hex
            self.apigw = ApiGateway(Catalog(snapshots), self.service)
            app = HarnessApp(
                Dispatcher(),
                InvokeRoute(self.service, self.settings.region),
                self.events.trigger,
                instance_id=self.instance_id,
                apigw=self.apigw,
                gaps=HttpApiGaps(snapshots),
            )
            registry = SessionRegistry()
            self.guard = IamGuard(app, mode=mode, registry=registry, ledger=self.ledger, lookups=lookups)
            self.runtime.use_credentials(self.credential_source(registry))
            self._server = make_server(
                self.settings.host,
                self._port,
                self.guard,
                threaded=True,
                request_handler=HarnessRequestHandler,
                fd=sock.fileno(),
            )
            self._server.lh_connections = Connections()  # HarnessRequestHandler keeps connections open
        except BaseException:
            self._unpatch()
            self._scrubbed.close()
            raise
        finally:
            sock.close()  # make_server duplicated the descriptor
        self._thread = threading.Thread(target=self._server.serve_forever, name="lh-endpoint", daemon=True)
        self._thread.start()
        self.poller = SqsPoller(self.service, interval_s=self.timing.sqs_poll_interval_s)
        self.poller.start()
        self.scheduler = Scheduler(self.events, tick_s=self.timing.schedule_tick_s)
        self.scheduler.start()
        logger.info("endpoint listening on %s", self.url)
        return self

    def credential_source(self, registry: SessionRegistry) -> CredentialSource:
        """Role sessions for the runtime's environments (each start checks Lambda's own log writes)."""
        guard = self.guard
        return StsCredentialSource(registry, on_issue=guard.platform_checks if guard is not None else None)

    def stop(self) -> None:
        """Stop serving and polling, cancel queued retries, unpatch moto (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.lh_connections.close_all()  # idle keep-alive connections end with us
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        for background in (self.poller, self.scheduler):
            if background is not None:
                background.stop()
        self.poller = self.scheduler = None
        if self.apigw is not None:
            self.apigw.close()
            self.apigw = None
        if self.service is not None:
            self.service.shutdown()  # cancels queued retries; running invocations finish
        self._unpatch()
        self._scrubbed.close()

    def _unpatch(self) -> None:
        if self._patched:
            hooks.uninstall()
            self._patched = False
            self.runtime.use_credentials(None)
        if self._managed_policies_before is not None:
            load_aws_managed_policies(self._managed_policies_before)
            self._managed_policies_before = None

    def __enter__(self) -> EmbeddedEndpoint:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
