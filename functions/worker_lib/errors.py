"""Error types that handlers raise on purpose.

Lambda reports the exception's class name as ``errorType``, so callers (and the harness's event
cases) can tell a rejected input (``InvalidInput``) from a crash (``KeyError``, ...).
"""

from __future__ import annotations


class InvalidInput(ValueError):
    """The event is not something this function accepts; retrying it will not help."""


class MissingSetting(RuntimeError):
    """A required environment variable is not set on the function (a deployment mistake)."""
