"""Stage 2, up: the AWS endpoint the rest of the pipeline talks to.

The embedded endpoint (``server.EmbeddedEndpoint``): moto for the AWS APIs
in-process, behind our WSGI front (``front``), with moto's Lambda execution
replaced (``hooks``) by a real runtime (``runtime/``: awslambdaric in real
processes) and AWS's invoke semantics (``invoke``), event sources
(``sources/``), and CloudWatch logs (``cloudwatch``). ``control`` runs it in the
foreground or detached (``up``/``down``); ``localstack`` is the other backend;
``session`` picks one for a run.

May import: the core modules (errors, proc, fsutil, settings, paths, ui, net).
Never imports ``packaging`` (and is never imported by it).
"""
