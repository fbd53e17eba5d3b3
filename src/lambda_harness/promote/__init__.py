"""Stage 5, promote: ship exactly what passed.

``attestation`` records what a green run tested (the zip's sha256, the
Terraform's hash, per-function results); ``release`` refuses to promote
anything else and runs the real plan/apply with the user's own credentials
(the only place the harness reaches real AWS).

May import: the core modules, ``packaging``, ``terraform`` and ``testing``.
"""
