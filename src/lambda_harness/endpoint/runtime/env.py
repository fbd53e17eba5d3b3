"""The environment of a worker process, built from scratch like Lambda's.

Nothing comes from the host (no HOME, no host AWS_* credentials): the function's
own variables, then Lambda's defaults it may extend (PATH, LANG, TZ, the X-Ray
variables, ...), then the reserved ones, which always win (AWS refuses to set them;
we just override). The key set is the one recorded in a python3.12 function on AWS
plus ``AWS_ENDPOINT_URL`` (the harness's one intended extra); ``bootstrap.py`` removes
its private ``_LAMBDA_HARNESS`` before the handler's module is imported.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

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

#: The keys CreateFunction and UpdateFunctionConfiguration refuse in ``Environment.Variables``
#: (AWS's *reserved environment variables*; a function may set AWS_ENDPOINT_URL on AWS).
AWS_REFUSED = RESERVED - {"AWS_ENDPOINT_URL"}


def reserved_keys_error(variables: Mapping[str, object] | None) -> str | None:
    """Lambda's InvalidParameterValueException message when ``variables`` set a reserved key."""
    used = [key for key in variables or {} if key in AWS_REFUSED]
    if not used:
        return None
    return (
        "Lambda was unable to configure your environment variables because the environment "
        "variables you have provided contains reserved keys that are currently not supported for "
        f"modification. Reserved keys used in this request: {', '.join(used)}"
    )


#: Where Lambda puts an environment's files, as the function sees them.
AWS_TASK_ROOT = "/var/task"
AWS_RUNTIME_DIR = "/var/runtime"
AWS_LANG = "/var/lang"
AWS_OPT = "/opt"

#: How a function sees its files: Lambda's paths (a private mount namespace) or the host's.
View = Literal["aws", "host"]


@dataclass(frozen=True)
class Seen:
    """An environment's folders as the function names them (``/var/task``, ... or host paths)."""

    task_root: str
    runtime_dir: str
    lang: str
    opt: str | None
    python: str


@dataclass(frozen=True)
class Paths:
    """Where an environment's files are: Lambda's /var/task, /opt, /var/runtime and /var/lang.

    The fields are real paths on this machine; ``seen`` is how the function names them:
    Lambda's own paths when ``view`` is ``"aws"`` (the mount namespace), else the same.
    """

    task_root: Path
    opt_dir: Path | None
    runtime_dir: Path
    interpreter: Path
    python_version: tuple[int, int]
    view: View = "host"
    #: coverage.py and the boot module (``runtime/coverage.py``), and what to measure (its JSON
    #: spec), when coverage is measured: ``bootstrap.py`` starts it (``boot.config``).
    coverage_dir: Path | None = None
    coverage_spec: Path | None = None

    @property
    def lang(self) -> Path:
        """The interpreter's prefix (Lambda's /var/lang)."""
        return self.interpreter.parent.parent

    @property
    def seen(self) -> Seen:
        if self.view == "aws":
            python = f"{AWS_LANG}/bin/{self.interpreter.name}"
            return Seen(AWS_TASK_ROOT, AWS_RUNTIME_DIR, AWS_LANG, AWS_OPT, python)
        opt = str(self.opt_dir) if self.opt_dir is not None else None
        return Seen(str(self.task_root), str(self.runtime_dir), str(self.lang), opt, str(self.interpreter))

    def translation(self) -> dict[str, str]:
        """Lambda's paths -> real ones, for a path the function names by AWS's layout (host view)."""
        if self.view == "aws":
            return {}
        out = {
            AWS_TASK_ROOT: str(self.task_root),
            AWS_RUNTIME_DIR: str(self.runtime_dir),
            AWS_LANG: str(self.lang),
        }
        if self.opt_dir is not None:
            out[AWS_OPT] = str(self.opt_dir)
        return out


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
    """PYTHONPATH when the worker starts: the function's own value, then the runtime folder.

    The runtime folder's real path, so its ``sitecustomize`` hides the host's site-packages
    from the first line; ``bootstrap.py`` then puts ``sys.path`` in Lambda's order (task
    root, ``/opt/python``...) and leaves ``PYTHONPATH`` as Lambda does.
    """
    return ":".join([*([extra] if extra else []), str(paths.runtime_dir)])


def search_paths(paths: Paths) -> dict[str, str]:
    """PATH and LD_LIBRARY_PATH in Lambda's order, with the folders as the function sees them.

    With AWS's layout these are AWS's strings exactly (``/var/lang/bin:/usr/local/bin:/usr/bin/:
    /bin:/opt/bin``, note ``/usr/bin/``); with host paths the same shape (no ``/opt`` entries
    when the function has no layers: the host's ``/opt`` is not Lambda's).
    """
    seen = paths.seen
    lang, runtime, task, opt = seen.lang, seen.runtime_dir, seen.task_root, seen.opt
    bin_path = [str(Path(seen.python).parent), "/usr/local/bin", "/usr/bin/", "/bin"]
    lib_path = [f"{lang}/lib", "/lib64", "/usr/lib64", runtime, f"{runtime}/lib", task, f"{task}/lib"]
    if opt is not None:
        bin_path.append(f"{opt}/bin")
        lib_path.append(f"{opt}/lib")
    return {"PATH": ":".join(bin_path), "LD_LIBRARY_PATH": ":".join(lib_path)}


#: X-Ray variables Lambda sets for every function (a function may override them). Nothing
#: listens on the daemon address: the SDK's UDP segments go nowhere, as with tracing off.
XRAY_DEFAULTS = {
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "AWS_XRAY_DAEMON_ADDRESS": "169.254.100.1:2000",
    "_AWS_XRAY_DAEMON_ADDRESS": "169.254.100.1",
    "_AWS_XRAY_DAEMON_PORT": "2000",
}


def _defaults(fn: FunctionConfig, paths: Paths) -> dict[str, str]:
    """Lambda's unreserved defaults; a function's configuration may replace them."""
    return {
        **search_paths(paths),
        "LANG": "en_US.UTF-8",
        # What CPython's locale coercion sets on Lambda (no en_US.UTF-8 locale there); set
        # here so a host that has that locale shows the same variables.
        "LC_CTYPE": "C.UTF-8",
        "TZ": ":UTC",
        **XRAY_DEFAULTS,
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


def shell_leftovers(paths: Paths) -> dict[str, str]:
    """What AWS's bash bootstrap leaves behind when it execs the runtime: PWD and SHLVL=0."""
    return {"PWD": paths.seen.task_root, "SHLVL": "0"}


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
    env.update(shell_leftovers(paths))
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
            "LAMBDA_TASK_ROOT": paths.seen.task_root,
            "LAMBDA_RUNTIME_DIR": paths.seen.runtime_dir,
            "_HANDLER": fn.handler,
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_RUNTIME_API": api_address,
            "AWS_ENDPOINT_URL": fn.endpoint_url,
        }
    )
    return env


def reserved_overrides(environment: Mapping[str, str]) -> list[str]:
    """Names in a function's variables that Lambda would refuse (we ignore them)."""
    return sorted(k for k in environment if k in RESERVED)
