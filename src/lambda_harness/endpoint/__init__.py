"""Stage 2, up: the AWS endpoint the rest of the pipeline talks to.

The embedded endpoint (``server.EmbeddedEndpoint``): moto for the AWS APIs
in-process, behind our WSGI front (``front``, werkzeug requests and responses
from ``wsgi``), with moto's Lambda execution replaced (``hooks``) by a real
runtime (``runtime/``: awslambdaric in real processes, built by
``runtime.make_runtime``) and AWS's invoke semantics (``invoke``), event sources
(``sources/``), API Gateway APIs over HTTP (``apigw/``), and CloudWatch logs
(``cloudwatch``). ``control`` runs it in the foreground or detached
(``up``/``down``; ``pidfile`` records which process ``down`` may stop);
``localstack`` is the other backend; ``session`` picks one for a run; ``compose``
is the one docker-compose wrapper (the LocalStack backend and the CI compose proof
use it).

May import: the core modules (errors, proc, fsutil, settings, paths, ui, net, events).
Never imports ``packaging`` (and is never imported by it).
"""
