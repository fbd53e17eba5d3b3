"""Find a local provider mirror and write the harness's own Terraform CLI config.

The harness never lets Terraform read the machine's CLI config: every terraform
call gets ``TF_CLI_CONFIG_FILE`` pointing at a file the harness writes under
``.harness/``. That file installs providers from the first folders below that
hold any, and from the registry only for the rest (which fails offline, with a
message saying what to set).

Search order (first match of each provider wins, all found folders are used):

1. ``LAMBDA_HARNESS_TF_PLUGIN_DIR`` (environment) or the ``tf_plugin_dir`` setting;
   an explicit folder that does not exist is an error, not a silent skip.
2. The user's CLI config: ``TF_CLI_CONFIG_FILE`` if that file exists, else
   ``~/.terraformrc``: every ``filesystem_mirror`` path of its ``provider_installation``
   block, then ``plugin_cache_dir``. The file is parsed (python-hcl2; JSON syntax too), so
   commented-out settings are ignored, and read as Terraform reads it: environment
   variables (``$HOME``, ``${HOME}``) are expanded in ``plugin_cache_dir`` only, and ``~``
   nowhere.
3. ``TF_PLUGIN_CACHE_DIR`` (as given: Terraform expands nothing in it either).
4. Terraform's implied local mirror folders: ``~/.terraform.d/plugins``,
   ``$XDG_DATA_HOME/terraform/plugins`` (``~/.local/share/terraform/plugins``),
   ``/usr/local/share/terraform/plugins``, ``/usr/share/terraform/plugins``.
5. ``/opt/tf-plugins`` (where baked CI images of this project keep it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_harness.errors import ConfigError
from lambda_harness.packaging.tfconfig import loads_hcl

PLUGIN_DIR_ENV = "LAMBDA_HARNESS_TF_PLUGIN_DIR"
EXTRA_SEARCH_DIRS = (Path("/opt/tf-plugins"),)
MIRROR_LAYOUT = (
    "<dir>/registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/terraform-provider-aws_v<version>_x5 "
    "(unpacked) or "
    "<dir>/registry.terraform.io/hashicorp/aws/terraform-provider-aws_<version>_<os>_<arch>.zip "
    "(packed); `terraform providers mirror <dir>` run once online in the terraform/ folder makes one"
)

_PACKED = re.compile(r"^terraform-provider-(?P<type>[a-z0-9-]+)_[^_]+_[a-z0-9]+_[a-z0-9]+\.zip$")
# Go's os.ExpandEnv, which Terraform applies to plugin_cache_dir: $NAME or ${NAME}, unset -> "".
_ENV_REF = re.compile(r"\$(?:\{([^}]*)\}|([A-Za-z0-9_]+))")


@dataclass(frozen=True)
class Mirror:
    """A folder in Terraform's mirror layout and the providers it holds (``host/ns/type``)."""

    path: Path
    providers: tuple[str, ...]


def providers_in(folder: Path) -> tuple[str, ...]:
    """Provider addresses (``registry.terraform.io/hashicorp/aws``) found in a mirror folder."""
    found: set[str] = set()
    if not folder.is_dir():
        return ()
    for host in _subdirs(folder):
        for namespace in _subdirs(host):
            for ptype in _subdirs(namespace):
                has_version = any(any(v.iterdir()) for v in _subdirs(ptype))
                has_zip = any(_PACKED.match(p.name) for p in ptype.iterdir() if p.is_file())
                if has_version or has_zip:
                    found.add(f"{host.name}/{namespace.name}/{ptype.name}")
    return tuple(sorted(found))


_VERSION = re.compile(r"^\d+\.\d+\.\d+([-+.][\w.]+)?$")


def versions_in(folder: Path, address: str) -> list[str]:
    """Versions of one provider (``registry.terraform.io/hashicorp/aws``) in a mirror, oldest first."""
    ptype = folder / address
    found = {v.name for v in _subdirs(ptype) if _VERSION.match(v.name) and any(v.iterdir())}
    try:
        files = [p.name for p in ptype.iterdir() if p.is_file()]
    except OSError:
        files = []
    for name in files:
        match = _PACKED.match(name)
        if match:
            found.add(name.split("_")[1])
    return sorted(found, key=lambda v: [int(x) if x.isdigit() else 0 for x in re.split(r"[.-]", v)])


def _subdirs(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir())
    except OSError:
        return []


def expand_env(raw: str, environ: Mapping[str, str]) -> str:
    """``$NAME`` and ``${NAME}`` replaced from ``environ`` (unset: empty), as Terraform does."""
    return _ENV_REF.sub(lambda m: environ.get(m.group(1) or m.group(2), ""), raw)


def cli_config_file(environ: Mapping[str, str], home: Path) -> Path | None:
    """The user's CLI config: ``TF_CLI_CONFIG_FILE`` if that file exists, else ``~/.terraformrc``."""
    configured = environ.get("TF_CLI_CONFIG_FILE")
    path = Path(configured) if configured and Path(configured).is_file() else home / ".terraformrc"
    return path if path.is_file() else None


def read_cli_config(path: Path) -> dict[str, Any]:
    """A Terraform CLI config file as data (native or JSON syntax); ConfigError naming the file."""
    fix = "fix it, or point TF_CLI_CONFIG_FILE at another CLI config file"
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"{path}: cannot read this Terraform CLI config ({reason}); {fix}") from exc
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else loads_hcl(text)
    except Exception as exc:  # lark raises many exception types for bad syntax; json a ValueError
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"{path}: cannot parse this Terraform CLI config ({first}); {fix}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a Terraform CLI config holds settings and blocks at the top level; {fix}")
    return data


def _blocks(value: object) -> list[dict[str, Any]]:
    """A block's bodies: hcl2 gives a list of dicts, JSON syntax a dict or a list of them."""
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


def cli_config_dirs(config: Mapping[str, Any], environ: Mapping[str, str]) -> list[Path]:
    """Every ``filesystem_mirror`` path, in order, then ``plugin_cache_dir`` (env vars expanded)."""
    dirs = [
        Path(mirror["path"])
        for installation in _blocks(config.get("provider_installation"))
        for mirror in _blocks(installation.get("filesystem_mirror"))
        if isinstance(mirror.get("path"), str) and mirror["path"]
    ]
    cache = config.get("plugin_cache_dir")
    if isinstance(cache, str) and expand_env(cache, environ):
        dirs.append(Path(expand_env(cache, environ)))
    return dirs


def _from_cli_config(environ: Mapping[str, str], home: Path) -> list[Path]:
    path = cli_config_file(environ, home)
    return [] if path is None else cli_config_dirs(read_cli_config(path), environ)


def candidate_dirs(environ: Mapping[str, str], explicit: Path | None = None) -> list[Path]:
    """Every folder searched, in order (the documented search list)."""
    home = Path(environ.get("HOME", str(Path.home())))
    dirs: list[Path] = []
    if explicit is not None:
        dirs.append(explicit)
    if environ.get(PLUGIN_DIR_ENV):
        dirs.append(Path(environ[PLUGIN_DIR_ENV]))
    dirs += _from_cli_config(environ, home)
    if environ.get("TF_PLUGIN_CACHE_DIR"):
        dirs.append(Path(environ["TF_PLUGIN_CACHE_DIR"]))
    xdg = Path(environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    dirs += [
        home / ".terraform.d" / "plugins",
        xdg / "terraform" / "plugins",
        Path("/usr/local/share/terraform/plugins"),
        Path("/usr/share/terraform/plugins"),
        *EXTRA_SEARCH_DIRS,
    ]
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def find_mirrors(environ: Mapping[str, str], explicit: Path | None = None) -> list[Mirror]:
    """Mirrors with at least one provider, in search order; explicit folders must exist."""
    for name, value in (("tf_plugin_dir setting", explicit), (PLUGIN_DIR_ENV, environ.get(PLUGIN_DIR_ENV))):
        if value and not Path(value).is_dir():
            raise ConfigError(
                f"{name} = {value}: folder does not exist; point it at a provider mirror laid out as "
                f"{MIRROR_LAYOUT}"
            )
    mirrors = []
    for folder in candidate_dirs(environ, explicit):
        providers = providers_in(folder)
        if providers:
            mirrors.append(Mirror(folder, providers))
    return mirrors


def cli_config_text(mirrors: Sequence[Mirror]) -> str:
    """A CLI config installing each mirrored provider from its first mirror, the rest directly."""
    lines = ["# written by lambda-harness; regenerated on every run", "provider_installation {"]
    claimed: list[str] = []
    for mirror in mirrors:
        mine = [p for p in mirror.providers if p not in claimed]
        if not mine:
            continue
        claimed += mine
        lines += [
            "  filesystem_mirror {",
            f"    path    = {_hcl_string(str(mirror.path))}",
            f"    include = [{', '.join(_hcl_string(p) for p in mine)}]",
            "  }",
        ]
    excluded = ", ".join(_hcl_string(p) for p in claimed)
    lines += ["  direct {", f"    exclude = [{excluded}]", "  }", "}", ""]
    return "\n".join(lines)


def _hcl_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def missing_provider_hint(mirrors: Sequence[Mirror], searched: Sequence[Path]) -> str:
    """What to tell the user when ``terraform init`` could not install a provider."""
    have = ", ".join(f"{m.path} ({', '.join(m.providers)})" for m in mirrors) or "none"
    return (
        "terraform could not install a provider (offline, and no local mirror holds it).\n"
        f"Mirrors used: {have}.\nSearched: {', '.join(str(p) for p in searched)}.\n"
        f"Fix: set {PLUGIN_DIR_ENV}=<dir> (or tf-plugin-dir in [tool.lambda-harness]) "
        f"to a folder laid out as {MIRROR_LAYOUT}."
    )
