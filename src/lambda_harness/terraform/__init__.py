"""Stage 3, apply: the team's own Terraform against the local endpoint.

Stages a copy that Terraform may write into (``staging``), with a local backend
and the harness's own CLI config and provider mirror (``mirror``), in a
scrubbed environment that can only reach loopback (``env``); runs init, apply
and the idempotency plan (``runner``, ``plan``); reads what was deployed from
the local state (``inventory``, with its API Gateway APIs from ``apis``).
``deploy.deploy``/``deploy.destroy`` are the stage's verbs.

May import: the core modules and ``packaging`` (the repo's Terraform as read statically).
"""
