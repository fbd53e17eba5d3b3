"""Frozen settings and where each value comes from.

Precedence: CLI flag > environment (``LAMBDA_HARNESS_*``) > ``[tool.lambda-harness]``
in the worker repo's ``pyproject.toml`` > default. Nothing reads the environment
at import time: ``load_settings`` gets it passed in.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from lambda_harness import net
from lambda_harness.errors import ConfigError
from lambda_harness.paths import HARNESS_DIR, HarnessPaths

BACKENDS = ("embedded", "localstack")
#: Function roles on the embedded endpoint: refuse what the role does not allow, only report it, or neither.
IAM_MODES = ("enforce", "warn", "off")
#: What functions see: AWS's layout where the kernel allows (auto), always (aws), or host paths.
FILESYSTEMS = ("auto", "aws", "host")
TF_DRIVERS = ("terraform", "tflocal")
#: Looked for in this order, in the repo root and then in the functions folder; ``uv.lock`` and
#: ``poetry.lock`` only beside a ``pyproject.toml`` (they pin what it declares).
LOCK_FILES = ("requirements.txt", "Pipfile.lock", "uv.lock", "poetry.lock")
#: ``coverage``: off, line coverage (the default of ``--coverage``), or line + branch coverage.
COVERAGE_MODES = ("off", "line", "branch")
DEFAULT_WORLD = Path("tests/integration/world")
DEFAULT_TFVARS = Path("tests/integration/harness.tfvars")


@dataclass(frozen=True)
class Settings:
    """Everything a stage needs to know about the worker repo and the run.

    Paths are absolute. ``dist`` is None when it should follow what the
    Terraform references (``filename = ...``), else ``<project>/dists.zip``.
    ``cases_dir`` holds the event cases (``<function>/<case>.json``), not AWS's events.
    ``world_dir`` is applied before the team's Terraform when it exists;
    ``tfvars`` are the harness's own variable files (the default one only when
    it exists).
    """

    project_dir: Path
    functions_dir: Path
    terraform_dir: Path
    lock_file: Path | None
    dist: Path | None
    harness_dir: Path
    cache_dir: Path
    cases_dir: Path
    tf_plugin_dir: Path | None = None
    world_dir: Path | None = None
    tfvars: tuple[Path, ...] = ()
    host: str = "127.0.0.1"
    port: int = 4566
    region: str = "us-east-1"
    backend: str = "embedded"
    tf_driver: str = "terraform"
    allow_non_loopback: bool = False
    allow_runtime_fallback: bool = False
    max_concurrency: int = 50
    warm: bool = True
    coverage: str = "off"
    fail_on_memory_headroom: float | None = None
    fail_on_timeout_ratio: float | None = None
    iam: str = "enforce"
    filesystem: str = "auto"
    #: Seconds each terraform/tflocal command may take against the local endpoint (init, apply,
    #: plan, destroy); an apply can legitimately take minutes (queues wait ~25 s each).
    apply_timeout: int = 1800
    #: Seconds the pytest session of ``run`` may take (every case of every function).
    test_timeout: int = 3600
    #: Deployed functions excluded from testing on purpose (listed in the run and the attestation).
    skip_functions: tuple[str, ...] = ()
    #: ``<resource address>.<attribute>`` taken out of the idempotency check (listed, attested).
    idempotency_waive: tuple[str, ...] = ()
    #: The Terraform workspace the staged copy (and promote) runs in; None: the caller's
    #: ``TF_WORKSPACE`` when set, else ``default``.
    workspace: str | None = None
    verbose: bool = False
    quiet: bool = False
    #: field -> where its value came from ("--port", "LAMBDA_HARNESS_HOST", "<pyproject> ... key").
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def source_of(self, name: str) -> str:
        """Where setting ``name`` (a field name) came from, for messages: a flag, a variable,
        ``<path>/pyproject.toml [tool.lambda-harness] <key>``, or ``the default``."""
        return self.sources.get(name, "the default")

    @property
    def paths(self) -> HarnessPaths:
        """Every path under ``.harness/``."""
        return HarnessPaths(self.harness_dir)

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def measures_coverage(self) -> bool:
        """Whether ``run`` measures handler coverage (``coverage`` is ``line`` or ``branch``)."""
        return self.coverage != "off"

    def with_(self, **changes: Any) -> Settings:
        """A copy with some values changed (settings stay frozen)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class Key:
    """One setting: its ``[tool.lambda-harness]`` key, field, kind, flag and range check.

    ``kind`` is how a raw value is read: ``path``/``str`` (a string), ``int`` (an
    integer, never a bool or a float), ``float`` (a number, never a bool), ``coverage``
    (``off``/``line``/``branch``, or a bool: true is ``line``), ``bool`` (TOML true/false; in the environment
    1/true/yes/on or 0/false/no/off/empty), ``list`` (a TOML list of strings; in the
    environment comma-separated; a repeatable flag), ``paths`` (a TOML list of paths; in
    the environment separated by ``os.pathsep``). ``check`` returns what is wrong with a
    converted value, or None.
    """

    name: str
    field: str
    kind: str
    flag: str | None = None
    check: Callable[[Any], str | None] | None = None
    #: False for the opt-ins a pull request must not be able to flip (flag or environment only).
    in_pyproject: bool = True

    @property
    def env(self) -> str:
        """``LAMBDA_HARNESS_<KEY>``."""
        return _env_name(self.name)


def coverage_mode(raw: Any) -> str:
    """``coverage``: ``"off"``, ``"line"`` or ``"branch"``; ``true``/``false`` (TOML, 1/0 in the
    environment) mean ``"line"``/``"off"``. Raises ValueError(why)."""
    if isinstance(raw, bool):
        return "line" if raw else "off"
    if not isinstance(raw, str):
        raise ValueError(f"must be one of {', '.join(COVERAGE_MODES)} (or true/false), not {_type_name(raw)}")
    text = raw.strip().lower()
    if text in _TRUE:
        return "line"
    if text in _FALSE:
        return "off"
    if text not in COVERAGE_MODES:
        raise ValueError(f"must be one of {', '.join(COVERAGE_MODES)} (or true/false)")
    return text


def _env_name(key: str) -> str:
    return "LAMBDA_HARNESS_" + key.upper().replace("-", "_")


def _between(low: int, high: int) -> Callable[[Any], str | None]:
    return lambda v: None if low <= v <= high else f"must be between {low} and {high}"


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str | None]:
    return lambda v: None if v in choices else f"must be one of {', '.join(choices)}"


_HOST = re.compile(r"^[A-Za-z0-9._:-]+$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


def _host(value: str) -> str | None:
    if "://" in value or "/" in value or not _HOST.match(value):
        return "must be a host name or address (no scheme, no path), e.g. 127.0.0.1"
    return None


_WAIVER = re.compile(
    r"^(module\.[\w-]+(\[[^\]]+\])?\.)*(data\.)?[a-z][a-z0-9]*_[a-z0-9_]+\.[\w-]+(\[[^\]]+\])?(\.\w+)+$"
)


def _waivers(values: tuple[str, ...]) -> str | None:
    wrong = [v for v in values if not _WAIVER.match(v)]
    if wrong:
        return (
            f"{wrong[0]!r} does not name an attribute of a resource: write the resource's address, then "
            "the attribute, e.g. aws_cloudfront_distribution.cdn.default_cache_behavior"
        )
    return None


def _factor(value: float) -> str | None:
    if 1.0 <= value <= 100.0:
        return None
    return "must be a factor between 1 and 100 (e.g. 1.5: the peak must stay under declared/1.5)"


def _ratio(value: float) -> str | None:
    if 0.0 < value <= 1.0:
        return None
    return "must be above 0 and at most 1 (e.g. 0.8: the slowest case must stay under 80% of the timeout)"


_WORKSPACE = re.compile(r"^[A-Za-z0-9_-]+$")


def _workspace(value: str) -> str | None:
    # Terraform's own rule for workspace names (letters, digits, "-" and "_"; no "/").
    return (
        None if _WORKSPACE.match(value) else "must be a Terraform workspace name (letters, digits, - and _)"
    )


def _region(value: str) -> str | None:
    return None if _REGION.match(value) else "must look like us-east-1"


KEYS: tuple[Key, ...] = (
    Key("functions", "functions_dir", "path"),
    Key("terraform", "terraform_dir", "path"),
    Key("lock-file", "lock_file", "path"),
    Key("dist", "dist", "path", "--dist"),
    Key("cases", "cases_dir", "path"),
    Key("cache-dir", "cache_dir", "path"),
    Key("tf-plugin-dir", "tf_plugin_dir", "path"),
    Key("world", "world_dir", "path"),
    Key("tfvars", "tfvars", "paths"),
    Key("host", "host", "str", "--host", _host),
    Key("port", "port", "int", "--port", _between(1, 65535)),
    Key("region", "region", "str", None, _region),
    Key("backend", "backend", "str", "--backend", _one_of(BACKENDS)),
    Key("tf-driver", "tf_driver", "str", "--tf-driver", _one_of(TF_DRIVERS)),
    Key("allow-non-loopback", "allow_non_loopback", "bool", net.ALLOW_FLAG, in_pyproject=False),
    Key("allow-runtime-fallback", "allow_runtime_fallback", "bool"),
    Key("max-concurrency", "max_concurrency", "int", None, _between(1, 10_000)),
    Key("warm", "warm", "bool", "--no-warm"),
    Key("coverage", "coverage", "coverage", "--coverage"),
    Key("fail-on-memory-headroom", "fail_on_memory_headroom", "float", None, _factor),
    Key("fail-on-timeout-ratio", "fail_on_timeout_ratio", "float", None, _ratio),
    Key("iam", "iam", "str", "--iam", _one_of(IAM_MODES)),
    Key("filesystem", "filesystem", "str", None, _one_of(FILESYSTEMS)),
    Key("apply-timeout", "apply_timeout", "int", None, _between(1, 86_400)),
    Key("test-timeout", "test_timeout", "int", None, _between(1, 86_400)),
    Key("skip-functions", "skip_functions", "list", "--skip-function"),
    Key("idempotency-waive", "idempotency_waive", "list", None, _waivers),
    Key("workspace", "workspace", "str", "--workspace", _workspace),
)
_BY_NAME = {k.name: k for k in KEYS}
#: Keys a repo's pyproject.toml may not hold, and the setting that replaced each.
_NOT_IN_PYPROJECT = {
    **{k.name: k for k in KEYS if not k.in_pyproject},
    "allow-remote-endpoint": _BY_NAME["allow-non-loopback"],
}
_BY_FIELD = {k.field: k for k in KEYS}
# Former names, still accepted: old name -> current name (in pyproject and as LAMBDA_HARNESS_<OLD>).
ALIASES = {"events": "cases"}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {int: "an integer", float: "a float", str: "a string", list: "a list", dict: "a table"}.get(
        type(value), type(value).__name__
    )


def _shown(value: Any) -> str:
    """A value as the user wrote it (TOML spelling for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _from_toml(key: Key, raw: Any) -> Any:
    """A ``[tool.lambda-harness]`` value: TOML types must match exactly. Raises ValueError(why)."""
    if key.kind == "bool":
        if not isinstance(raw, bool):
            raise ValueError(f"must be true or false, not {_type_name(raw)}")
        return raw
    if key.kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError(f"must be an integer, not {_type_name(raw)}")
        return raw
    if key.kind == "float":
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise ValueError(f"must be a number, not {_type_name(raw)}")
        return float(raw)
    if key.kind == "coverage":
        return coverage_mode(raw)
    if key.kind in ("list", "paths"):
        return _strings(raw)
    if not isinstance(raw, str):
        what = "a path (a string)" if key.kind == "path" else "a string"
        raise ValueError(f"must be {what}, not {_type_name(raw)}")
    return raw


def _text_bool(text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError("must be true or false (1/true/yes/on or 0/false/no/off)")


def _text_int(text: str) -> int:
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError("must be an integer")
    return int(text)


def _text_float(text: str) -> float:
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        raise ValueError("must be a number")
    return float(text)


def _split(separator: str) -> Callable[[str], tuple[str, ...]]:
    return lambda text: _strings([item for item in text.split(separator) if item.strip()])


#: How an environment value (always text, stripped) is read, by kind; ``str``/``path`` as written.
_TEXT_READERS: dict[str, Callable[[str], Any]] = {
    "bool": _text_bool,
    "int": _text_int,
    "float": _text_float,
    "coverage": coverage_mode,
    "list": _split(","),
    "paths": _split(os.pathsep),
}


def _from_text(key: Key, raw: str) -> Any:
    """An environment value (always text). Raises ValueError(why)."""
    reader = _TEXT_READERS.get(key.kind)
    return raw if reader is None else reader(raw.strip())


def _from_flag(key: Key, raw: Any) -> Any:
    """A command-line value (argparse already converted it); kinds still must match."""
    if key.kind == "int" and (isinstance(raw, bool) or not isinstance(raw, int)):
        raise ValueError(f"must be an integer, not {_type_name(raw)}")
    if key.kind == "bool" and not isinstance(raw, bool):
        raise ValueError(f"must be true or false, not {_type_name(raw)}")
    if key.kind == "coverage":
        return coverage_mode(raw)
    if key.kind in ("list", "paths"):
        return _strings(list(raw))
    return raw


def _strings(raw: Any) -> tuple[str, ...]:
    """A list of non-empty strings, stripped, as a tuple (settings stay hashable)."""
    if not isinstance(raw, list) or not all(isinstance(item, str) and item.strip() for item in raw):
        what = _type_name(raw) if not isinstance(raw, list) else "a list with other items"
        raise ValueError(f"must be a list of strings, not {what}")
    return tuple(item.strip() for item in raw)


def _checked(key: Key, raw: Any, source: str, convert: Callable[[Key, Any], Any]) -> Any:
    """Convert and range-check one raw value; ConfigError naming ``source`` (its prefix) and the key."""
    try:
        value = convert(key, raw)
        if key.kind in ("str", "path") and not str(value).strip():
            raise ValueError("must not be empty")
        problem = key.check(value) if key.check is not None else None
        if problem:
            raise ValueError(problem)
    except ValueError as exc:
        raise ConfigError(f"{source}{key.name} = {_shown(raw)}: {exc}") from None
    return value


def pyproject_path(project_dir: Path) -> Path:
    """The worker repo's ``pyproject.toml``."""
    return project_dir / "pyproject.toml"


def read_pyproject(project_dir: Path) -> dict[str, Any]:
    """The ``[tool.lambda-harness]`` table of the worker repo, or ``{}``."""
    path = pyproject_path(project_dir)
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file or remove it") from exc
    table = data.get("tool", {}).get("lambda-harness", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.lambda-harness] must be a table")
    for name in sorted(set(table) & set(_NOT_IN_PYPROJECT)):
        key = _NOT_IN_PYPROJECT[name]
        raise ConfigError(
            f"{path} [tool.lambda-harness] {name} is not read from pyproject.toml: the repo's own files "
            "can be changed by a pull request, and this opt-in must come from whoever runs the harness. "
            f"Remove it from {path.name}; pass {key.flag} on the command line or set {key.env}=1."
        )
    unknown = sorted(set(table) - set(_BY_NAME) - set(ALIASES))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) in [tool.lambda-harness]: {', '.join(unknown)}; "
            f"known keys: {', '.join(sorted(_BY_NAME))}"
        )
    return _resolve_aliases(dict(table), lambda key: key, f"{path} [tool.lambda-harness]")


def _resolve_aliases(values: dict[str, Any], name: Callable[[str], str], where: str) -> dict[str, Any]:
    """Former key names under their current name; both, with different values, is an error."""
    for old, new in ALIASES.items():
        if name(old) not in values:
            continue
        if name(new) in values and values[name(new)] != values[name(old)]:
            raise ConfigError(
                f"{where}: both {name(new)} and its former name {name(old)} are set; keep {name(new)} only"
            )
        values[name(new)] = values.pop(name(old))
    return values


def find_lock_file(project_dir: Path, functions_dir: Path | None = None) -> Path | None:
    """The first of ``LOCK_FILES`` at the repo root, else in the functions folder (default functions/)."""
    for folder in (project_dir, functions_dir or project_dir / "functions"):
        for name in LOCK_FILES:
            path = folder / name
            if path.is_file() and (
                name.endswith(("txt", "Pipfile.lock")) or (folder / "pyproject.toml").is_file()
            ):
                return path
    return None


def _is_project(folder: Path) -> bool:
    """``[tool.lambda-harness]`` in its pyproject.toml, or the conventional functions/ + terraform/."""
    if (folder / "functions").is_dir() and (folder / "terraform").is_dir():
        return True
    path = pyproject_path(folder)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return path.is_file()  # read_pyproject reports what is wrong with it
    return isinstance(data.get("tool"), dict) and "lambda-harness" in data["tool"]


def find_project(start: Path) -> Path:
    """The worker repo ``start`` is in, as git finds its root: ``start`` or the nearest folder
    above it that is a project (``_is_project``), not past the repository root (``.git``);
    ``start`` itself when none is."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if _is_project(folder):
            return folder
        if (folder / ".git").exists():
            break
    return start


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    if environ.get("XDG_CACHE_HOME"):
        return Path(environ["XDG_CACHE_HOME"]) / "lambda-harness"
    home = Path(environ["HOME"]) if environ.get("HOME") else Path.home()
    return home / ".cache" / "lambda-harness"


def load_settings(
    project: Path | None = None,
    cli: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings for the worker repo at ``project`` (default: cwd).

    ``cli`` maps field names to flag values (None: not given). Every value is
    type- and range-checked where it is read, so an error names its source.
    """
    environ = dict(os.environ) if environ is None else environ
    cli = {k: v for k, v in (cli or {}).items() if v is not None}
    named = project or environ.get("LAMBDA_HARNESS_PROJECT")
    project_dir = Path(named).resolve() if named else find_project(Path.cwd())
    if not project_dir.is_dir():
        raise ConfigError(f"project folder {project_dir} does not exist; pass --project DIR")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    table = f"{pyproject_path(project_dir)} [tool.lambda-harness]"
    for name, raw in read_pyproject(project_dir).items():
        key = _BY_NAME[name]
        values[key.field] = _checked(key, raw, f"{table} ", _from_toml)
        sources[key.field] = f"{table} {key.name}"
    names = [_env_name(key) for key in [*_BY_NAME, *ALIASES]]
    env = _resolve_aliases({n: environ[n] for n in names if n in environ}, _env_name, "environment")
    for key in KEYS:
        if key.env in env:
            values[key.field] = _checked(key, env[key.env], f"{key.env}: ", _from_text)
            sources[key.field] = key.env
    _workspace_from_terraform(values, sources, environ)
    known = {f.name for f in fields(Settings)}
    for name, raw in cli.items():
        if name not in known:
            raise ConfigError(f"internal: unknown setting {name!r}")
        given = _BY_FIELD.get(name)
        if given is not None:
            flag = given.flag or f"--{given.name}"
            values[name] = _checked(given, raw, f"{flag}: ", _from_flag)
            sources[name] = flag
        else:
            values[name] = raw

    def path_of(name: str, default: Path | None) -> Path | None:
        value = values.get(name, default)
        if value is None:
            return None
        value = Path(value)
        return value if value.is_absolute() else (project_dir / value).resolve()

    functions_dir: Path = path_of("functions_dir", Path("functions"))  # type: ignore[assignment]
    settings = Settings(
        project_dir=project_dir,
        functions_dir=functions_dir,
        terraform_dir=path_of("terraform_dir", Path("terraform")),  # type: ignore[arg-type]
        lock_file=path_of("lock_file", find_lock_file(project_dir, functions_dir)),
        dist=path_of("dist", None),
        harness_dir=project_dir / HARNESS_DIR,
        cache_dir=path_of("cache_dir", default_cache_dir(environ)),  # type: ignore[arg-type]
        cases_dir=path_of("cases_dir", Path("tests/integration/events")),  # type: ignore[arg-type]
        tf_plugin_dir=path_of("tf_plugin_dir", None),
        world_dir=path_of("world_dir", DEFAULT_WORLD),
        tfvars=_tfvars(project_dir, values.get("tfvars")),
        sources=sources,
        **{k: v for k, v in values.items() if k not in _PATH_FIELDS},
    )
    # Before any stage probes, binds or sends: a non-loopback host needs the user's own opt-in.
    net.require_loopback(
        settings.host, source=settings.source_of("host"), allowed=settings.allow_non_loopback
    )
    return settings


def _workspace_from_terraform(
    values: dict[str, Any], sources: dict[str, str], environ: Mapping[str, str]
) -> None:
    """No ``workspace`` setting: the caller's own ``TF_WORKSPACE`` (as Terraform itself would read it)."""
    raw = environ.get("TF_WORKSPACE", "").strip()
    if "workspace" in values or not raw:
        return
    values["workspace"] = _checked(_BY_NAME["workspace"], raw, "TF_WORKSPACE: ", _from_text)
    sources["workspace"] = "TF_WORKSPACE"


def _tfvars(project_dir: Path, given: tuple[str, ...] | None) -> tuple[Path, ...]:
    """The harness's variable files: as given, else the default file when it exists."""
    if given is None:
        default = project_dir / DEFAULT_TFVARS
        return (default,) if default.is_file() else ()
    return tuple(p if p.is_absolute() else (project_dir / p).resolve() for p in map(Path, given))


_PATH_FIELDS = {
    "tfvars",
    "world_dir",
    "functions_dir",
    "terraform_dir",
    "lock_file",
    "dist",
    "cache_dir",
    "cases_dir",
    "tf_plugin_dir",
}
