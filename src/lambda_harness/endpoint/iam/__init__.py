"""Function roles enforced on the embedded endpoint, offline (docs/explanation/iam.md).

Each execution environment gets a role session for its function's execution role
(``credentials``); the WSGI ``guard`` evaluates every request signed with such a
session against the role's policies (``policy``, ``conditions``, ``evaluate``, with
``actions`` naming the IAM checks of an operation and ``lookups`` reading moto's
backends), answers refusals as AWS does (``responses``) and records everything in
the ``ledger``; ``trust`` checks that Lambda may assume a function's role; ``report``
computes least privilege against the action ``catalog``.

May import: the core modules, moto, ``endpoint.wsgi`` and ``endpoint.runtime.model``.
"""
