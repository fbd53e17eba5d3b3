"""The world: what exists around the team's stack, declared as plain Terraform and applied first.

A worker repo's Terraform looks up things it does not create: a VPC and subnets, SSM
parameters and secrets another stack owns, KMS keys, roles, buckets, another stack's
state. The team declares them once, reviewably, in a folder of ordinary Terraform
(setting ``world``, default ``tests/integration/world/``), using ``hashicorp/aws``
only. The harness applies it to the same local endpoint before the team's own
Terraform, in its own staged copy with its own local state
(``.harness/tf/world/<backend>/``), with the same scrubbed environment and provider
mirror. Its ``remote_state_<name>`` outputs answer ``terraform_remote_state``
(``remote_state``).

``write_draft`` (``lambda-harness new-world``) writes a first world from the lookups
the team's Terraform makes (``drafts``), plus a draft of the harness's tfvars for the
variables that have no value.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambda_harness import net, proc
from lambda_harness.errors import ConfigError
from lambda_harness.fsutil import write_json_atomic
from lambda_harness.settings import DEFAULT_TFVARS, Settings
from lambda_harness.terraform import drafts, hcl, lookups, remote_state, staging, variables
from lambda_harness.terraform.runner import Terraform
from lambda_harness.terraform.sources import module_tree
from lambda_harness.ui import UI


class WorldTerraform(Terraform):
    """``Terraform`` on the world folder: its own staged copy and state, no adaptations."""

    def __init__(
        self,
        settings: Settings,
        ui: UI,
        endpoint_url: str,
        *,
        environ: Mapping[str, str] | None = None,
        driver: str | None = None,
    ) -> None:
        world = world_dir(settings)
        super().__init__(
            settings.with_(terraform_dir=world, tfvars=(), workspace=None),
            ui,
            endpoint_url,
            environ=environ,
            driver=driver,
        )
        self.staged = staging.layout(
            settings.harness_dir,
            settings.backend,
            settings.project_dir,
            world,
            root=settings.paths.world_root(settings.backend),
        )

    def adapt_staged(self) -> None:
        """The world is applied as written."""

    def check_idempotent(self, *, announce: bool = True) -> None:
        """Not checked: the world is not what is under test (saves a plan, ~4 s)."""

    def _refuse_unbuilt_code(self, logged: list[dict[str, Any]]) -> None:
        """Not refused: a function the world zips for itself is scenery, never tested or attested."""


def world_dir(settings: Settings) -> Path:
    """The world folder (setting ``world``)."""
    assert settings.world_dir is not None  # load_settings always sets it
    return settings.world_dir


def exists(settings: Settings) -> bool:
    """True when the world folder holds Terraform files."""
    folder = world_dir(settings)
    return folder.is_dir() and bool(hcl.config_files(folder))


class World:
    """The world folder applied to the endpoint (``apply``), and what it declares (``outputs``)."""

    def __init__(
        self,
        settings: Settings,
        ui: UI,
        endpoint_url: str,
        *,
        environ: Mapping[str, str] | None = None,
        driver: str | None = None,
    ) -> None:
        self.settings = settings
        self.ui = ui
        self.terraform = WorldTerraform(settings, ui, endpoint_url, environ=environ, driver=driver)

    def exists(self) -> bool:
        return exists(self.settings)

    def apply(self) -> dict[str, dict[str, Any]]:
        """init + apply the world (no idempotency check: it is not what is under test); its outputs.

        Not again on the same endpoint instance from the same files: ``run`` reaches the world
        twice (the build's discovery plan, then the apply) and a world with a queue costs ~30 s.
        """
        shown = hcl.shown(world_dir(self.settings), self.settings.project_dir)
        marker = self.settings.paths.world_applied(self.settings.backend)
        identity = net.endpoint_identity(self.terraform.endpoint.url)
        now = {"endpoint": identity, "files": self._files_digest()}
        if identity is not None and self.terraform.staged.state.is_file() and _read_json(marker) == now:
            self.ui.info(f"the world: {shown} is already applied on this endpoint, unchanged")
            return self.outputs()
        self.ui.info(f"the world: applying {shown} first (what the Terraform looks up but does not create)")
        marker.unlink(missing_ok=True)
        self.terraform.apply()
        if identity is not None:
            write_json_atomic(marker, now)
        return self.outputs()

    def _files_digest(self) -> str:
        """The world's files, and how they are applied (driver, region)."""
        digest = hashlib.sha256(f"{self.terraform.driver}\0{self.settings.region}\0".encode())
        for folder in module_tree(world_dir(self.settings)):
            for path in sorted(folder.iterdir()):
                if path.is_file():
                    digest.update(f"{path}\0".encode() + path.read_bytes() + b"\0")
        return digest.hexdigest()

    def outputs(self) -> dict[str, dict[str, Any]]:
        """The world's outputs from its local state (empty before the first apply)."""
        return remote_state.state_outputs(self.terraform.staged.state)

    def destroy(self) -> None:
        if self.exists():
            self.settings.paths.world_applied(self.settings.backend).unlink(missing_ok=True)
            self.terraform.destroy()


# ------------------------------------------------------------------------------ new-world


@dataclass
class DraftResult:
    """What ``write_draft`` wrote, and what it could not draft."""

    written: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _header(settings: Settings) -> str:
    tf = hcl.shown_root(settings.terraform_dir, settings.project_dir)
    return (
        f"# The world around the stack in {tf}: what its Terraform looks up but does not create.\n"
        "# Applied by lambda-harness to the local endpoint before your own Terraform "
        "(hashicorp/aws only).\n"
        "# A first draft by `lambda-harness new-world`: review it, edit the values marked\n"
        "# `# local value`, and commit it.\n\n"
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n\n'
    )


def _providers(regions: Mapping[str, str]) -> str:
    blocks = []
    for alias, region in sorted(regions.items()):
        alias_line = f'  alias  = "{alias}"\n' if alias else ""
        blocks.append(f'provider "aws" {{\n{alias_line}  region = "{region}"\n}}\n')
    return "\n".join(blocks) + "\n"


def write_draft(settings: Settings, *, force: bool = False) -> DraftResult:
    """Write ``<world>/main.tf`` (and ``outputs.tf`` for remote states) from the team's lookups,
    and the harness tfvars for variables without a value. Refuses to overwrite without ``force``."""
    folder, tf_dir = world_dir(settings), settings.terraform_dir
    tfvars = settings.tfvars[0] if settings.tfvars else settings.project_dir / DEFAULT_TFVARS
    need = variables.missing(tf_dir, list(settings.tfvars))
    files = {
        folder / "main.tf": "",
        folder / "outputs.tf": _remote_state_outputs(settings, _regions(settings, need)[""]),
        tfvars: "",
    }
    present = [p for p in files if p.exists()]
    if present and not force:
        shown = ", ".join(hcl.shown(p, settings.project_dir) for p in present)
        raise ConfigError(
            f"new-world: {shown} already exist(s); the draft would overwrite it. "
            "Move it away, or pass --force"
        )
    if need:
        files[tfvars] = (
            "# Local values for variables CI passes with -var / TF_VAR_* (lambda-harness new-world draft).\n"
            + "".join(variables.placeholder(v) + "\n" for v in need)
        )
    result = DraftResult()
    main = _draft_main(settings, need, result)
    if main or files[folder / "outputs.tf"] or result.skipped:
        files[folder / "main.tf"] = main or _header(settings) + _providers(_regions(settings, need))
    else:
        # A world of providers only would add an apply to every run for nothing.
        tf = hcl.shown_root(tf_dir, settings.project_dir)
        result.notes.append(
            f"no world needed: {tf} looks up nothing the local endpoint lacks (no data sources to "
            f"answer, no terraform_remote_state); {hcl.shown(folder, settings.project_dir)}/ not written"
        )
    for path, text in files.items():
        if text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            result.written.append(path)
    _format(result.written)
    return result


def _context(settings: Settings, need: list[variables.Variable]) -> Any:
    context = lookups.values_context(settings.terraform_dir, list(settings.tfvars))
    for var in need:  # lookups named after a variable resolve with the draft's placeholder values
        value = variables.placeholder_value(var)
        if value is not None:
            context.variables[var.name] = value[1]
    return context


def _regions(settings: Settings, need: list[variables.Variable]) -> dict[str, str]:
    return lookups.provider_regions(settings.terraform_dir, _context(settings, need), settings.region)


def _draft_main(settings: Settings, need: list[variables.Variable], result: DraftResult) -> str:
    """``main.tf`` of the draft: provider(s) in the team's regions, a resource set per lookup;
    empty when no lookup needs a resource."""
    tf_dir = settings.terraform_dir
    context = _context(settings, need)
    draft = drafts.Draft(hcl.read_module(tf_dir).texts.values())
    for lookup in lookups.find(tf_dir, context, settings.region):
        if lookup.type in drafts.WRITERS:
            draft.add(lookup)
        elif lookup.type not in _NEEDS_NOTHING:
            result.skipped.append(
                f"{hcl.shown(lookup.block.file, settings.project_dir)}:{lookup.block.line}: "
                f"{lookup.block.header}: no template for {lookup.type}; declare what it finds by hand"
            )
    if not draft.blocks:
        return ""
    regions = lookups.provider_regions(tf_dir, context, settings.region)
    return _header(settings) + _providers(regions) + draft.text()


def _format(files: list[Path]) -> None:
    """``terraform fmt`` the draft when terraform is installed (only layout: skipped otherwise)."""
    terraform = shutil.which("terraform")
    if terraform:
        with contextlib.suppress(subprocess.TimeoutExpired):  # only layout: never wait long for it
            proc.run([terraform, "fmt", "-no-color", *map(str, files)], check=False, timeout=60)


_NEEDS_NOTHING = {
    "aws_caller_identity",
    "aws_region",
    "aws_partition",
    "aws_iam_policy_document",
    "aws_availability_zones",
}


def _remote_state_outputs(settings: Settings, region: str) -> str:
    tf_dir = settings.terraform_dir
    uses = remote_state.uses(tf_dir)
    parts = [
        remote_state.output_snippet(block, uses, region, settings.project_dir)
        for block in remote_state.blocks(tf_dir)
    ]
    if not parts:
        return ""
    return (
        '# Outputs of other stacks, read by terraform_remote_state: output "remote_state_<name>" answers\n'
        '# data "terraform_remote_state" "<name>"; values may refer to resources of the world (a policy\n'
        "# an ARN must name is declared beside its output). Keys the data source's defaults answer are\n"
        "# commented out: set one to test another value.\n\n" + "\n\n".join(parts) + "\n"
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def applied_on(settings: Settings, identity: str | None) -> bool:
    """Whether the world was last applied to the endpoint instance ``identity`` (its state is then
    that endpoint's, not a vanished one's)."""
    record = _read_json(settings.paths.world_applied(settings.backend))
    return identity is not None and isinstance(record, dict) and record.get("endpoint") == identity
