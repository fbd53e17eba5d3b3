"""The environment of a worker process, built from scratch like Lambda's.

Nothing comes from the host (no HOME, no host AWS_* credentials): the function's
own variables, then Lambda's defaults it may extend (PATH, LANG, TZ, ...), then the
reserved ones, which always win (AWS refuses to set them; we just override).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lambda_harness.endpoint.runtime.model import FunctionConfig

#: Variables Lambda sets and a function's configuration may not override (plus the
#: harness's AWS_ENDPOINT_URL, which must point handlers at the endpoint).
RESERVED = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "AWS_ENDPOINT_URL",
    }
)


@dataclass(frozen=True)
class Paths:
    """Where an environment's files are: Lambda's /var/task, /opt, /var/runtime and /var/lang."""

    task_root: Path
    opt_dir: Path | None
    runtime_dir: Path
    interpreter: Path
    python_version: tuple[int, int]


def fake_credentials(role_arn: str) -> dict[str, str]:
    """Test credentials for the function's execution role, tagged with the role name.

    The embedded endpoint accepts any key; the tag lets a log reader (or the endpoint) see
    which role a request came from.
    """
    role_name = role_arn.rsplit("/", 1)[-1] or "lambda-role"
    digest = hashlib.sha256(role_arn.encode()).hexdigest()[:16].upper()
    return {
        "AWS_ACCESS_KEY_ID": f"ASIA{digest}",
        "AWS_SECRET_ACCESS_KEY": f"harness-secret-{role_name}",
        "AWS_SESSION_TOKEN": f"harness-session-token/{role_name}",
    }


def python_path(paths: Paths, extra: str | None = None) -> str:
    """Lambda's search order: task root, /opt/python(+site-packages), then the runtime folder.

    A function's own PYTHONPATH comes first (Lambda lets it extend the variable);
    the runtime folder stays last so awslambdaric is always importable.
    """
    major, minor = paths.python_version
    entries = [extra] if extra else []
    entries.append(str(paths.task_root))
    if paths.opt_dir is not None:
        entries += [
            str(paths.opt_dir / "python" / "lib" / f"python{major}.{minor}" / "site-packages"),
            str(paths.opt_dir / "python"),
        ]
    entries.append(str(paths.runtime_dir))
    return ":".join(entries)


def _defaults(fn: FunctionConfig, paths: Paths) -> dict[str, str]:
    """Lambda's unreserved defaults; a function's configuration may replace them."""
    prefix = paths.interpreter.parent.parent
    opt = paths.opt_dir
    lib_path = [
        str(prefix / "lib"),
        "/lib64",
        "/usr/lib64",
        str(paths.runtime_dir),
        str(paths.runtime_dir / "lib"),
        str(paths.task_root),
        str(paths.task_root / "lib"),
    ]
    if opt is not None:
        lib_path.append(str(opt / "lib"))
    bin_path = [str(paths.interpreter.parent), "/usr/local/bin", "/usr/bin", "/bin"]
    if opt is not None:
        bin_path.append(str(opt / "bin"))
    return {
        "PATH": ":".join(bin_path),
        "LD_LIBRARY_PATH": ":".join(lib_path),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
    }


def credential_variables(fn: FunctionConfig, credentials: Mapping[str, str] | None) -> dict[str, str]:
    """The credentials of the environment: the role session the endpoint issued for it, or
    (no credential source, e.g. a bare runtime in tests) test credentials tagged with the role."""
    if credentials is None:
        return fake_credentials(fn.role_arn)
    return {
        name: credentials[name]
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
        if name in credentials
    }


def build_env(
    fn: FunctionConfig,
    paths: Paths,
    *,
    api_address: str,
    log_stream: str,
    credentials: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The complete environment of one worker process (nothing inherited from the host)."""
    env = _defaults(fn, paths)
    env.update({k: v for k, v in fn.environment.items() if k not in RESERVED})
    env["PYTHONPATH"] = python_path(paths, fn.environment.get("PYTHONPATH"))
    env.update(credential_variables(fn, credentials))
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_VERSION": fn.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": fn.region,
            "AWS_DEFAULT_REGION": fn.region,
            # The declared runtime, not the interpreter's: awslambdaric keys behaviour on it.
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.runtime}",
            "LAMBDA_TASK_ROOT": str(paths.task_root),
            "LAMBDA_RUNTIME_DIR": str(paths.runtime_dir),
            "_HANDLER": fn.handler,
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_RUNTIME_API": api_address,
            "AWS_ENDPOINT_URL": fn.endpoint_url,
            # Lambda has no user site-packages; never pick up the host user's.
            "PYTHONNOUSERSITE": "1",
        }
    )
    return env


def reserved_overrides(environment: Mapping[str, str]) -> list[str]:
    """Names in a function's variables that Lambda would refuse (we ignore them)."""
    return sorted(k for k in environment if k in RESERVED)
