"""Terraform's failures, turned into one message that names the file, the construct and the fix.

``terraform init`` reports each provider it cannot install in its own block, wrapped at 80
columns, without the version constraint or the file that asks for it; a runtime the provider
does not know fails in ``validate``/``plan`` with the provider's whole list of runtimes. The
functions here read those texts (flattened: ``flat``) and the configuration (``sources``) and
say it once: which provider, which constraint, where, and the command that fixes it.
"""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lambda_harness.terraform.hcl import Block
from lambda_harness.terraform.mirror import MIRROR_LAYOUT, PLUGIN_DIR_ENV, Mirror, versions_in
from lambda_harness.terraform.sources import ModuleSource, module_tree, shown

REGISTRY = "registry.terraform.io"
_UNAVAILABLE = re.compile(
    r"Could not retrieve the list of available versions for provider (?P<provider>[\w./-]+): "
    r"(?P<reason>.*?)(?= To see which modules| Error: |$)"
)
_NO_MATCH = re.compile(r"no available releases match the given constraints (?P<constraint>.+)$")
_PREVIOUS = re.compile(r"the previously-selected version (?P<version>\S+) is no longer available")
_OFFLINE = ("could not connect to", "no such host", "dial tcp", "i/o timeout", "connection refused")
_MODULE_ERRORS = ("Error accessing remote module registry", "Failed to download module")
_PROVIDER_LINE = re.compile(r"provider\[(?P<address>[^\]]+)\](?: (?P<constraint>.+))?")


def flat(output: str) -> str:
    """Terraform wraps its messages at ~80 columns; match phrases across the line breaks."""
    return " ".join(output.split())


@dataclass(frozen=True)
class Unavailable:
    """A provider ``init`` could not install, and Terraform's reason."""

    provider: str  # hashicorp/random (registry hostname dropped)
    reason: str

    @property
    def offline(self) -> bool:
        return any(marker in self.reason for marker in _OFFLINE)

    @property
    def unmatched_constraint(self) -> str | None:
        found = _NO_MATCH.search(self.reason)
        return found.group("constraint").strip() if found else None

    @property
    def previous_version(self) -> str | None:
        found = _PREVIOUS.search(self.reason)
        return found.group("version") if found else None


def unavailable_providers(output: str) -> list[Unavailable]:
    """Every provider ``terraform init`` reports as not installable, in order, once each."""
    seen: dict[str, Unavailable] = {}
    for match in _UNAVAILABLE.finditer(flat(output)):
        name = short(match.group("provider"))
        seen.setdefault(name, Unavailable(name, match.group("reason").strip()))
    return list(seen.values())


def short(address: str) -> str:
    """``registry.terraform.io/hashicorp/aws`` -> ``hashicorp/aws``."""
    return address.removeprefix(f"{REGISTRY}/")


def required_constraints(providers_output: str) -> dict[str, list[str]]:
    """Provider -> every constraint on it, from ``terraform providers`` (all modules)."""
    found: dict[str, list[str]] = {}
    for match in _PROVIDER_LINE.finditer(providers_output):
        constraints = found.setdefault(short(match.group("address")), [])
        constraint = (match.group("constraint") or "").strip()
        if constraint and constraint not in constraints:
            constraints.append(constraint)
    return found


def declarations(terraform_dir: Path, project_dir: Path) -> dict[str, str]:
    """Provider -> where it is asked for: its ``required_providers`` entry, else the first
    resource or data source of its type (an implied provider)."""
    found: dict[str, str] = {}
    folders = module_tree(terraform_dir)
    local_names: set[str] = set()  # a resource type's prefix names a required provider, if declared
    for folder in folders:
        for name, (source, _version, block) in ModuleSource(folder).required_providers().items():
            found.setdefault(short(source.lower()), _entry_where(block, name, project_dir))
            local_names.add(name)
    for folder in folders:
        for block in ModuleSource(folder).blocks:
            prefix = block.labels[0].split("_", 1)[0] if block.labels else ""
            if block.kind in ("resource", "data") and prefix and prefix not in local_names:
                found.setdefault(f"hashicorp/{prefix}", block.where(project_dir))
    return found


def _entry_where(block: Block, name: str, project_dir: Path) -> str:
    """``file:line`` of ``<name> = ...`` inside the block's ``required_providers`` (else that key)."""
    start = block.attribute_lines.get("required_providers", block.line)
    try:
        lines = block.file.read_text(encoding="utf-8").splitlines()
    except OSError:
        return block.where(project_dir, "required_providers")
    entry = re.compile(rf"^\s*{re.escape(name)}\s*=")
    for number in range(start, len(lines) + 1):
        if entry.match(lines[number - 1]):
            return f"{shown(block.file, project_dir)}:{number}"
    return block.where(project_dir, "required_providers")


def mirror_command(terraform_dir: Path, project_dir: Path) -> str:
    """The command that fills a mirror with every provider of this configuration."""
    machine = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), "amd64"
    )
    system = platform.system().lower() or "linux"
    return (
        f"on a machine that can reach {REGISTRY}, in {shown(terraform_dir, project_dir) or '.'}: "
        f"`terraform providers mirror -platform={system}_{machine} <dir>`; bring <dir> here and set "
        f'{PLUGIN_DIR_ENV}=<dir> (or tf-plugin-dir = "<dir>" in [tool.lambda-harness])'
    )


def describe_mirrors(mirrors: Sequence[Mirror]) -> str:
    """``/opt/tf-plugins (hashicorp/aws 5.100.0)`` for each mirror, or ``none``."""
    parts = []
    for mirror in mirrors:
        held = [f"{short(p)} {', '.join(versions_in(mirror.path, p)) or '?'}" for p in mirror.providers]
        parts.append(f"{mirror.path} ({'; '.join(held)})")
    return ", ".join(parts) or "none"


def missing_providers_message(
    missing: Sequence[Unavailable],
    constraints: Mapping[str, list[str]],
    where: Mapping[str, str],
    *,
    mirrors: Sequence[Mirror],
    terraform_dir: Path,
    project_dir: Path,
) -> str:
    """One message listing every provider that is neither mirrored nor downloadable."""
    lines = [f"{len(missing)} provider(s) are not in the local mirror(s) and {REGISTRY} cannot be reached:"]
    for item in missing:
        wanted = " and ".join(constraints.get(item.provider) or []) or "any version"
        lines.append(f"  - {item.provider} {wanted} ({where.get(item.provider, 'implied')})")
    lines.append(f"Mirrors: {describe_mirrors(mirrors)}.")
    lines.append(f"Fix: {mirror_command(terraform_dir, project_dir)}.")
    if any(item.provider == "hashicorp/aws" for item in missing):  # the layout it names is aws's
        lines.append(f"A mirror is laid out as {MIRROR_LAYOUT}.")
    return "\n".join(lines)


def pin_message(
    item: Unavailable,
    pins: Sequence[str],
    *,
    mirrors: Sequence[Mirror],
    terraform_dir: Path,
    project_dir: Path,
) -> str:
    """A version constraint no mirrored (or downloadable) version satisfies."""
    have = [
        v for m in mirrors for p in m.providers if short(p) == item.provider for v in versions_in(m.path, p)
    ]
    where = "; ".join(pins) or shown(terraform_dir, project_dir)
    return (
        f"{where}: pins {item.provider} {item.unmatched_constraint}; the mirror(s) have "
        f"{', '.join(have) or 'no version of it'} ({describe_mirrors(mirrors)}). Fix: add a version "
        f"matching the pin to a mirror ({mirror_command(terraform_dir, project_dir)}), or widen the pin "
        f"to accept {have[-1] if have else 'a mirrored version'}"
    )


def pins_of(provider: str, constraint: str, terraform_dir: Path, project_dir: Path) -> list[str]:
    """``file:line`` of each ``required_providers`` entry pinning ``provider`` to ``constraint``."""
    found = []
    for folder in module_tree(terraform_dir):
        for _name, (source, version, block) in ModuleSource(folder).required_providers().items():
            if short(source.lower()) == provider and version is not None and _same(version, constraint):
                found.append(block.where(project_dir, "required_providers"))
    return found


def _normal(constraint: str) -> str:
    """``~>4.8`` -> ``~>4.8.0``: Terraform reports constraints with three version parts."""
    return re.sub(r"(?<![\d.])(\d+)\.(\d+)(?![\d.])", r"\1.\2.0", constraint.replace(" ", ""))


def _same(written: str, reported: str) -> bool:
    """``~> 4.8`` as written and ``~> 4.8.0`` as Terraform reports it."""
    return _normal(written) == _normal(reported)


def module_download_message(output: str) -> str | None:
    """Registry or git modules that ``init`` could not download, with Terraform's own lines."""
    text = flat(output)
    if not any(marker in text for marker in _MODULE_ERRORS):
        return None
    calls = re.findall(r'(?:for module|Could not download module) "([\w-]+)" \(([^)]+)\)', text)
    named = ", ".join(f'module "{name}" ({where})' for name, where in dict(calls).items()) or "a module"
    return (
        f"{named}: cannot be downloaded (its registry or git host cannot be reached). Fix: vendor it "
        'into the repo and call it with a local source (source = "./modules/<name>"), or run '
        "`terraform get` in the Terraform folder once where the network is reachable and keep its "
        ".terraform/modules (the harness copies it into its staged copy)"
    )


# -- runtimes the provider does not know ------------------------------------------------------

_RUNTIME = re.compile(
    r"expected (?P<field>runtime|compatible_runtimes(?:\.\d+)?) to be one of \[(?P<allowed>[^\]]*)\], "
    r"got (?P<got>[\w.-]+)"
)


@dataclass(frozen=True)
class RuntimeRejected:
    """A runtime the installed aws provider does not accept."""

    runtime: str
    accepted_python: tuple[str, ...]
    where: str


def rejected_runtimes(
    diagnostics: Iterable[Mapping[str, object]], project_dir: Path, terraform_dir: Path
) -> list[RuntimeRejected]:
    """From ``validate -json``/``plan -json`` diagnostics: each rejected runtime with its file:line
    (file names are relative to the root module; the staged copy mirrors the real one)."""
    out: list[RuntimeRejected] = []
    for diag in diagnostics:
        text = f"{diag.get('summary', '')} {diag.get('detail', '')}"
        found = _RUNTIME.search(text)
        if not found:
            continue
        allowed = re.findall(r'"(python3\.\d+)"', found.group("allowed"))
        out.append(
            RuntimeRejected(found.group("got"), tuple(allowed), _range(diag, project_dir, terraform_dir))
        )
    return out


_TEXT_WHERE = re.compile(r"on (?P<file>\S+) line (?P<line>\d+)")


def rejected_runtimes_in_text(output: str, project_dir: Path, terraform_dir: Path) -> list[RuntimeRejected]:
    """The same, from the text Terraform prints (``apply``/``plan`` without ``-json``)."""
    text = flat(output)
    out = []
    for found in _RUNTIME.finditer(text):
        where = _TEXT_WHERE.search(text, found.end(), found.end() + 400)
        place = "?"
        if where:
            path = Path(os.path.normpath(terraform_dir / where.group("file")))
            place = f"{shown(path, project_dir)}:{where.group('line')}"
        allowed = tuple(re.findall(r'"?(python3\.\d+)"?', found.group("allowed")))
        out.append(RuntimeRejected(found.group("got"), allowed, place))
    return out


#: The first hashicorp/aws release that accepts a runtime (newer ones are not known here).
FIRST_PROVIDER_FOR = {"python3.14": "6.20.0"}


def runtime_message(rejected: Sequence[RuntimeRejected], provider_version: str | None) -> str:
    """One line per rejected runtime: where, which provider, what it accepts, the two fixes."""
    provider = f"hashicorp/aws {provider_version}" if provider_version else "the installed hashicorp/aws"
    lines = []
    for item in dict.fromkeys(rejected):
        newest = max(item.accepted_python, key=lambda r: int(r.rsplit(".", 1)[1]), default=None)
        need = FIRST_PROVIDER_FOR.get(item.runtime)
        upgrade = f"hashicorp/aws >= {need}" if need else "a hashicorp/aws release that knows it"
        lines.append(
            f"{item.where}: runtime {item.runtime} is not accepted by {provider}"
            + (f" (its newest Python runtime is {newest})" if newest else "")
            + f". Fix: put {upgrade} in the provider mirror (and allow it in required_providers), "
            f"or use {newest or 'an older runtime'}"
        )
    return "\n".join(lines)


def locked_version(lock_file: Path, provider: str = "hashicorp/aws") -> str | None:
    """The version a ``.terraform.lock.hcl`` selects for ``provider``."""
    try:
        text = lock_file.read_text(encoding="utf-8")
    except OSError:
        return None
    found = re.search(
        rf'provider\s+"(?:{re.escape(REGISTRY)}/)?{re.escape(provider)}"\s*\{{[^}}]*?version\s*=\s*"([^"]+)"',
        text,
    )
    return found.group(1) if found else None


def _range(diag: Mapping[str, object], project_dir: Path, terraform_dir: Path) -> str:
    rng = diag.get("range")
    if not isinstance(rng, Mapping):
        return str(diag.get("address") or "?")
    filename = Path(str(rng.get("filename", "?")))
    start = rng.get("start")
    line = start.get("line") if isinstance(start, Mapping) else None
    path = filename if filename.is_absolute() else Path(os.path.normpath(terraform_dir / filename))
    return f"{shown(path, project_dir)}:{line}" if line else shown(path, project_dir)


_INVALID_INDEX = re.compile(r"Error: Invalid index\s+on (?P<file>\S+) line (?P<line>\d+)")
_BY_WORKSPACE = re.compile(r"(?:local|var)\.(?P<name>\w+)\s*\[\s*terraform\.workspace\s*\]")


def workspace_index_message(
    output: str, project_dir: Path, terraform_dir: Path, workspace: str
) -> str | None:
    """An ``Invalid index`` on a line that indexes by ``terraform.workspace``: the line, the
    workspace the staged copy runs in, and the setting that selects another (None: not that)."""
    for found in _INVALID_INDEX.finditer(output):
        path = Path(os.path.normpath(terraform_dir / found.group("file")))
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
            source = lines[int(found.group("line")) - 1]
        except (OSError, IndexError, UnicodeDecodeError):
            continue
        if "terraform.workspace" not in source:
            continue
        by_name = _BY_WORKSPACE.search(source)
        keys = map_keys("\n".join(lines), by_name.group("name")) if by_name else []
        choice = f'"{keys[0]}"' if keys else '"<workspace>"'
        known = f" (its keys: {', '.join(keys)})" if keys else ""
        return (
            f"{shown(path, project_dir)}:{found.group('line')} indexes by terraform.workspace, which is "
            f'"{workspace}" here{known}: set workspace = {choice} in [tool.lambda-harness] '
            "(or LAMBDA_HARNESS_WORKSPACE, or --workspace); the staged copy and promote then run in it"
        )
    return None


def map_keys(text: str, name: str) -> list[str]:
    """The top-level keys of ``name = { key = ..., ... }`` in a .tf text, as written ([] if not found)."""
    start = re.search(rf"(?m)^\s*{re.escape(name)}\s*=\s*\{{", text)
    if start is None:
        return []
    keys: list[str] = []
    depth, i = 1, start.end()
    line_start = True
    while i < len(text) and depth > 0:
        if depth == 1 and line_start:
            key = re.match(r'\s*"?([\w-]+)"?\s*=', text[i:])
            if key:
                keys.append(key.group(1))
        char = text[i]
        depth += {"{": 1, "}": -1}.get(char, 0)
        line_start = char in "\n,{"
        i += 1
    return list(dict.fromkeys(keys))  # a key is seen again from each blank before it
