"""Stage 3, apply: the team's own Terraform against the local endpoint.

Stages a copy that Terraform may write into (``staging``), with a local backend
and the harness's own CLI config and provider mirror (``mirror``), in a
scrubbed environment that can only reach loopback (``env``); runs init, apply
and the idempotency plan (``runner``, ``plan``); reads what was deployed from
the local state (``inventory``, with its API Gateway APIs from ``apis``).
``deploy.deploy``/``deploy.destroy`` are the stage's verbs.

The staged copy's overrides neutralise provider settings for real AWS and serve
``data "archive_file"`` with the harness's own provider (``overrides``,
``shims``); ``diagnostics`` turns init's and the provider's failures into one
message. For the build, ``discovery`` reads what Terraform deploys from its own
plan when the static reading stops, and ``runtimes`` asks ``validate`` about
runtimes the provider may not know; ``sources`` answers with files and lines.

May import: the core modules and ``packaging`` (the repo's Terraform as read statically, the
build inputs discovery returns, the zips the archive provider builds).
"""
