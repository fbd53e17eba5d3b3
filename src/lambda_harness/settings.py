"""Frozen settings and where each value comes from.

Precedence: CLI flag > environment (``LAMBDA_HARNESS_*``) > ``[tool.lambda-harness]``
in the worker repo's ``pyproject.toml`` > default. Nothing reads the environment
at import time: ``load_settings`` gets it passed in.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

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
    allow_remote_endpoint: bool = False
    allow_runtime_fallback: bool = False
    max_concurrency: int = 50
    warm: bool = True
    coverage: str = "off"
    fail_on_memory_headroom: float | None = None
    fail_on_timeout_ratio: float | None = None
    iam: str = "enforce"
    filesystem: str = "auto"
    verbose: bool = False
    quiet: bool = False

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


def coverage_mode(raw: Any) -> str:
    """``coverage``: ``"off"``, ``"line"`` or ``"branch"``; ``true``/``false`` (TOML, 1/0 in the
    environment) mean ``"line"``/``"off"``. (For issue 9's typed keys: a ``str`` kind with a
    one-of check that also takes a bool.)"""
    if isinstance(raw, bool):
        return "line" if raw else "off"
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return "line"
    if text in ("0", "false", "no", ""):
        return "off"
    if text not in COVERAGE_MODES:
        raise ValueError(f"must be one of {', '.join(COVERAGE_MODES)} (or true/false)")
    return text


coverage_mode.__name__ = "coverage mode (off, line, branch, true or false)"

# name in pyproject / env suffix -> (field, converter)
_KEYS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "functions": ("functions_dir", Path),
    "terraform": ("terraform_dir", Path),
    "lock-file": ("lock_file", Path),
    "dist": ("dist", Path),
    "cases": ("cases_dir", Path),
    "cache-dir": ("cache_dir", Path),
    "tf-plugin-dir": ("tf_plugin_dir", Path),
    "world": ("world_dir", Path),
    "host": ("host", str),
    "port": ("port", int),
    "region": ("region", str),
    "backend": ("backend", str),
    "tf-driver": ("tf_driver", str),
    "allow-remote-endpoint": ("allow_remote_endpoint", bool),
    "allow-runtime-fallback": ("allow_runtime_fallback", bool),
    "max-concurrency": ("max_concurrency", int),
    "warm": ("warm", bool),
    "coverage": ("coverage", coverage_mode),
    "fail-on-memory-headroom": ("fail_on_memory_headroom", float),
    "fail-on-timeout-ratio": ("fail_on_timeout_ratio", float),
    "iam": ("iam", str),
    "filesystem": ("filesystem", str),
}


def _path_list(raw: Any) -> tuple[str, ...]:
    """A TOML list of paths, or one string of paths separated by ``os.pathsep`` (environment)."""
    if isinstance(raw, str):
        return tuple(p for p in raw.split(os.pathsep) if p.strip())
    if isinstance(raw, list) and all(isinstance(p, str) for p in raw):
        return tuple(raw)
    raise ValueError(raw)


_path_list.__name__ = "list of paths"
# Keys whose value is a list; kept apart from _KEYS so their converter can take a list.
_LIST_KEYS: dict[str, tuple[str, Any]] = {"tfvars": ("tfvars", _path_list)}
# Former names, still accepted: old name -> current name (in pyproject and as LAMBDA_HARNESS_<OLD>).
ALIASES = {"events": "cases"}


def _env_name(key: str) -> str:
    return "LAMBDA_HARNESS_" + key.upper().replace("-", "_")


def _convert(key: str, raw: Any, source: str) -> Any:
    conv = _KEYS[key][1] if key in _KEYS else _LIST_KEYS[key][1]
    try:
        if conv is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        return conv(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: {key} = {raw!r} is not a valid {conv.__name__}") from exc


def read_pyproject(project_dir: Path) -> dict[str, Any]:
    """The ``[tool.lambda-harness]`` table of the worker repo, or ``{}``."""
    path = project_dir / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file or remove it") from exc
    table = data.get("tool", {}).get("lambda-harness", {})
    unknown = sorted(set(table) - set(_KEYS) - set(_LIST_KEYS) - set(ALIASES))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) in [tool.lambda-harness]: {', '.join(unknown)}; "
            f"known keys: {', '.join(sorted([*_KEYS, *_LIST_KEYS]))}"
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
    """Resolve settings for the worker repo at ``project`` (default: cwd)."""
    environ = dict(os.environ) if environ is None else environ
    cli = {k: v for k, v in (cli or {}).items() if v is not None}
    project_dir = Path(project or environ.get("LAMBDA_HARNESS_PROJECT") or Path.cwd()).resolve()
    if not project_dir.is_dir():
        raise ConfigError(f"project folder {project_dir} does not exist; pass --project DIR")
    values: dict[str, Any] = {}
    all_keys = {**_KEYS, **_LIST_KEYS}
    for key, raw in read_pyproject(project_dir).items():
        values[all_keys[key][0]] = _convert(key, raw, f"{project_dir / 'pyproject.toml'}")
    names = [_env_name(key) for key in [*all_keys, *ALIASES]]
    env = _resolve_aliases({n: environ[n] for n in names if n in environ}, _env_name, "environment")
    for key in all_keys:
        if _env_name(key) in env:
            values[all_keys[key][0]] = _convert(key, env[_env_name(key)], _env_name(key))
    known = {f.name for f in fields(Settings)}
    for name, raw in cli.items():
        if name not in known:
            raise ConfigError(f"internal: unknown setting {name!r}")
        values[name] = _convert("coverage", raw, "--coverage") if name == "coverage" else raw

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
        **{k: v for k, v in values.items() if k not in _PATH_FIELDS},
    )
    _validate(settings)
    return settings


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


def _validate(s: Settings) -> None:
    if s.backend not in BACKENDS:
        raise ConfigError(f"backend {s.backend!r} is not one of {', '.join(BACKENDS)}")
    if s.tf_driver not in TF_DRIVERS:
        raise ConfigError(f"tf-driver {s.tf_driver!r} is not one of {', '.join(TF_DRIVERS)}")
    if not 0 < s.port < 65536:
        raise ConfigError(f"port {s.port} is out of range 1-65535")
    if s.iam not in IAM_MODES:
        raise ConfigError(f"iam {s.iam!r} is not one of {', '.join(IAM_MODES)}")
    if s.filesystem not in FILESYSTEMS:
        raise ConfigError(f"filesystem {s.filesystem!r} is not one of {', '.join(FILESYSTEMS)}")
    if s.max_concurrency < 1:
        raise ConfigError(f"max-concurrency must be at least 1, got {s.max_concurrency}")
    if s.fail_on_memory_headroom is not None and not 1.0 <= s.fail_on_memory_headroom <= 100.0:
        raise ConfigError(
            f"fail-on-memory-headroom must be a factor between 1 and 100 (e.g. 1.5: the peak must stay "
            f"under declared/1.5), got {s.fail_on_memory_headroom}"
        )
    if s.fail_on_timeout_ratio is not None and not 0.0 < s.fail_on_timeout_ratio <= 1.0:
        raise ConfigError(
            f"fail-on-timeout-ratio must be above 0 and at most 1 (e.g. 0.8: the slowest case must stay "
            f"under 80% of the timeout), got {s.fail_on_timeout_ratio}"
        )
