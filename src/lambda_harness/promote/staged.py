"""The real apply, run in a staged copy so the team's terraform/ folder is never written.

``terraform init`` writes into its working folder (``.terraform/``, a ``.terraform.lock.hcl``
when the repo has none); in the team's folder that would change the Terraform the tests
attested, and the next ``promote`` would refuse. So ``promote`` always runs the real init,
plan and apply in ``.harness/tf/promote/``: a copy of the configuration like the test
deployment's, with the team's providers, credentials and backend as written. A
configuration without a backend (local state in the Terraform folder) gets that same state
file by absolute path: the real state stays where the team's own ``terraform apply`` keeps it.

When the configuration uses ``data "archive_file"``, the tested zips were built by the
harness's archive provider (``terraform.shims``); hashicorp's would build other bytes (its
timestamps), and Terraform would upload those. Then the copy's only other override redirects
``archive`` to the harness's provider, in *verify* mode: every archive is built again and must
have the sha256 the attestation recorded, or the plan fails naming it. The caller's Terraform
CLI config is kept, with its ``provider_installation`` replaced by one that adds the harness's
mirror (without archive_file, the caller's CLI config is used unchanged).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lambda_harness.errors import PromoteError
from lambda_harness.fsutil import write_private
from lambda_harness.promote.attestation import Attestation
from lambda_harness.settings import Settings
from lambda_harness.terraform import mirror, staging
from lambda_harness.terraform.shims.archive import (
    ANCHOR_ENV,
    LOCKS_ENV,
    LOG_ENV,
    STAGED_TREE_ENV,
    TARGETS_ENV,
)
from lambda_harness.terraform.shims.install import install
from lambda_harness.terraform.sources import ModuleSource

STAGE = "promote"


def needs_staged_promote(settings: Settings) -> bool:
    """Whether the configuration uses ``data "archive_file"`` (hashicorp/archive): the staged
    copy then builds its archives with the harness's provider, verified."""
    return staging.uses_archive(settings.project_dir, settings.terraform_dir)


def backend_override(terraform_dir: Path) -> str:
    """The team's local state by absolute path (no backend, or ``backend "local"``); else nothing."""
    declared: list[Mapping[str, Any]] = []
    for block in ModuleSource(terraform_dir).of_kind("terraform"):
        backends = block.body.get("backend") or []
        declared += backends if isinstance(backends, list) else [backends]
    path = terraform_dir / "terraform.tfstate"
    # Workspaces other than default: relative to the working folder, so the team's folder too.
    workspaces = terraform_dir / "terraform.tfstate.d"
    for backend in declared:
        if "local" not in backend:
            return ""  # a remote backend: the staged copy uses it as it is
        local = backend["local"] if isinstance(backend["local"], Mapping) else {}
        if local.get("path"):
            path = terraform_dir / str(local["path"])
        if local.get("workspace_dir"):
            workspaces = terraform_dir / str(local["workspace_dir"])
    quoted = json.dumps(str(path.resolve()))
    quoted_dir = json.dumps(str(workspaces.resolve()))
    return (
        f'terraform {{\n  backend "local" {{\n    path = {quoted}\n'
        f"    workspace_dir = {quoted_dir}\n  }}\n}}\n"
    )


def _without_provider_installation(text: str) -> str:
    start = re.search(r"(?m)^\s*provider_installation\s*\{", text)
    if start is None:
        return text
    depth, i = 0, text.index("{", start.start())
    while i < len(text):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[: start.start()] + text[i + 1 :]
        i += 1
    return text[: start.start()]


def cli_config(env: Mapping[str, str], shim: mirror.Mirror) -> str:
    """The caller's CLI config, its provider installation extended with the harness's mirror."""
    home = Path(env.get("HOME", str(Path.home())))
    user = Path(env["TF_CLI_CONFIG_FILE"]) if env.get("TF_CLI_CONFIG_FILE") else home / ".terraformrc"
    text = user.read_text(encoding="utf-8") if user.is_file() else ""
    mirrors = [*mirror.find_mirrors(env), shim]
    return _without_provider_installation(text).rstrip() + "\n\n" + mirror.cli_config_text(mirrors)


def archive_targets(settings: Settings, att: Attestation) -> dict[str, Any]:
    """The build's archive targets, each with the sha256 the tests ran on."""
    try:
        data = json.loads(settings.paths.archive_targets.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PromoteError(
            f"{settings.paths.archive_targets} is missing or unreadable: the archives' build settings "
            "are gone; run `lambda-harness run` again, then promote"
        ) from exc
    for key, target in (data.get("targets") or {}).items():
        tested = att.artifacts.get(key)
        if tested is None:
            raise PromoteError(f"{key}: built, but not in the attestation; run `lambda-harness run` again")
        target["expected_sha256"] = tested["sha256"]
    return dict(data)


def prepare(settings: Settings, env: Mapping[str, str], att: Attestation) -> tuple[Path, dict[str, str]]:
    """Stage the promote copy; its working directory and the environment terraform runs with."""
    staged = staging.layout(settings.harness_dir, STAGE, settings.project_dir, settings.terraform_dir)
    staging.stage_for_promote(
        settings.project_dir, settings.terraform_dir, staged, backend_override(settings.terraform_dir)
    )
    if not needs_staged_promote(settings):
        return staged.workdir, dict(env)
    shim = install(settings.paths.providers)
    write_private(staged.cli_config, cli_config(env, shim))
    targets = staged.root / "archives.json"
    write_private(targets, json.dumps(archive_targets(settings, att), indent=2))
    return staged.workdir, {
        **env,
        "TF_CLI_CONFIG_FILE": str(staged.cli_config),
        TARGETS_ENV: str(targets),
        LOG_ENV: str(staged.root / "archives.log"),
        LOCKS_ENV: str(settings.paths.archive_locks),
        STAGED_TREE_ENV: str(staged.tree),
        ANCHOR_ENV: str(staging.anchor_of(settings.project_dir, settings.terraform_dir)),
    }


def describe(settings: Settings) -> str:
    """What the staged copy changes, for the promote step's line."""
    if needs_staged_promote(settings):
        return "archive_file built by lambda-harness, verified; backend, providers and credentials yours"
    return "nothing changed: your backend, providers and credentials"


def lock_note(settings: Settings, workdir: Path) -> str | None:
    """When the team commits no lock file: where init wrote one (the provider versions it chose)."""
    if (settings.terraform_dir / staging.LOCK_FILE).is_file() or not (workdir / staging.LOCK_FILE).is_file():
        return None
    return (
        f"{settings.terraform_dir} has no {staging.LOCK_FILE}: init chose the provider versions "
        f"recorded in {workdir / staging.LOCK_FILE} (your folder is unchanged); commit a lock file "
        "to pin them"
    )
