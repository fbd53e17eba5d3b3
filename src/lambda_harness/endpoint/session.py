"""The endpoint stage: use the AWS endpoint that answers, else start one for the run.

``endpoint_session`` is what ``run`` and ``smoke`` use: an endpoint that already
answers on the configured host:port is used and left running; otherwise the
embedded endpoint runs in-process (or, with ``--backend localstack``, the repo's
compose service is started) and stopped when the session ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from lambda_harness.net import endpoint_healthy
from lambda_harness.settings import Settings
from lambda_harness.ui import UI


@contextmanager
def endpoint_session(settings: Settings, ui: UI) -> Iterator[str]:
    """Use an endpoint that already answers (and leave it running), else run ours in-process."""
    if endpoint_healthy(settings.endpoint_url):
        ui.info(f"using the endpoint already running at {settings.endpoint_url} (left running)")
        yield settings.endpoint_url
        return
    if settings.backend == "localstack":
        if settings.iam != "off":
            ui.info(f"iam = {settings.iam} applies to the embedded endpoint only: LocalStack runs every call")
        # Nothing answers: start the repo's compose `localstack` service, and stop it when we end.
        from lambda_harness.endpoint.localstack import localstack_endpoint

        with localstack_endpoint(settings, ui) as url:
            yield url
        return
    # Late imports: the embedded endpoint pulls in moto, which costs a second the other commands need not pay.
    from lambda_harness.endpoint.runtime import make_runtime
    from lambda_harness.endpoint.server import EmbeddedEndpoint

    runtime = make_runtime(settings, ui)
    try:
        endpoint = EmbeddedEndpoint(settings, runtime, ui)
        with ui.step(f"start the embedded endpoint on {settings.endpoint_url}"):
            endpoint.start()
        try:
            yield str(endpoint.url)
        finally:
            endpoint.stop()
    finally:
        runtime.shutdown()
