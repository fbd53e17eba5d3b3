"""Settings read from the function's environment when a handler runs, not at import time.

Reading at call time keeps modules importable without any environment, which is what the unit
tests rely on. (The one exception is ``LOG_LEVEL``, read when a module creates its logger.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from worker_lib.errors import MissingSetting


def require(name: str, environ: Mapping[str, str] | None = None) -> str:
    """Return a required setting or raise ``MissingSetting`` naming the variable."""
    env = os.environ if environ is None else environ
    value = env.get(name, "").strip()
    if not value:
        raise MissingSetting(f"environment variable {name} is not set on this function")
    return value


def optional(name: str, default: str, environ: Mapping[str, str] | None = None) -> str:
    """Return a setting, or ``default`` when it is unset or blank."""
    env = os.environ if environ is None else environ
    value = env.get(name, "").strip()
    return value or default


def integer(name: str, default: int, environ: Mapping[str, str] | None = None) -> int:
    """Return an integer setting; a non-integer value is a deployment mistake."""
    raw = optional(name, str(default), environ)
    try:
        return int(raw)
    except ValueError:
        raise MissingSetting(f"environment variable {name} must be an integer, got {raw!r}") from None


def region(environ: Mapping[str, str] | None = None) -> str:
    """The AWS region the function runs in (Lambda sets ``AWS_REGION``)."""
    env = os.environ if environ is None else environ
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "eu-west-1"
