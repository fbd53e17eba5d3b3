"""What the staged copy's override files change, and why: provider blocks written for real AWS.

Teams write their ``provider "aws"`` blocks for their real accounts: a ``profile``, shared
credentials and config files, an ``assume_role`` into a deploy role, ``allowed_account_ids``.
Against the local endpoint each of those fails (there is no such profile; the role's account is
not the endpoint's). The staged copy gets an override per provider configuration (the default
one and every alias, in the root module and in local modules that still declare providers) that:

* unsets ``profile``, ``shared_credentials_files``, ``shared_config_files``, ``access_key``,
  ``secret_key``, ``token``: the harness's test credentials from the environment apply;
* unsets ``allowed_account_ids`` and ``forbidden_account_ids``: the endpoint's account is
  ``123456789012``;
* points ``assume_role`` (and ``assume_role_with_web_identity``) at a role in the endpoint's
  account: an override's nested block replaces the team's, so the session lands in the account
  the harness reads (``assume_role = null`` would be ignored: the block stays);
* replaces an ``endpoints {}`` block with an empty one (``AWS_ENDPOINT_URL`` does the routing).

Each change is listed (``Neutralised``) so the run can say what it changed; the real files and
``promote`` keep the team's settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_harness.terraform.hcl import Block
from lambda_harness.terraform.sources import ModuleSource

#: The endpoint's account (moto's default, what the test credentials map to).
LOCAL_ACCOUNT = "123456789012"
LOCAL_ROLE = f"arn:aws:iam::{LOCAL_ACCOUNT}:role/lambda-harness"
_UNSET = (
    "profile",
    "shared_credentials_files",
    "shared_config_files",
    "access_key",
    "secret_key",
    "token",
    "allowed_account_ids",
    "forbidden_account_ids",
)
_ROLE_BLOCKS = {
    "assume_role": {"role_arn": LOCAL_ROLE},
    "assume_role_with_web_identity": {"role_arn": LOCAL_ROLE, "web_identity_token": "lambda-harness"},
}


@dataclass(frozen=True)
class Neutralised:
    """The settings of one provider configuration the staged copy overrides."""

    block: Block
    alias: str | None
    settings: tuple[str, ...]

    def describe(self, project_dir: Path) -> str:
        name = f'provider "aws"{f" (alias {self.alias})" if self.alias else ""}'
        return f"{self.block.where(project_dir)} {name}: {', '.join(self.settings)}"


def provider_changes(block: Block) -> Neutralised | None:
    """What to override in one ``provider "aws"`` block (None: nothing to change)."""
    body = block.body
    changed = [name for name in _UNSET if body.get(name) is not None]
    changed += [name for name in (*_ROLE_BLOCKS, "endpoints") if body.get(name)]
    if not changed:
        return None
    alias = body.get("alias")
    return Neutralised(block, str(alias) if alias else None, tuple(changed))


def _hcl(value: Any) -> str:
    if value is None:
        return "null"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${") + '"'


def provider_override(change: Neutralised) -> str:
    """The override block for one provider configuration."""
    lines = ['provider "aws" {']
    if change.alias:
        lines.append(f"  alias = {_hcl(change.alias)}")
    for name in change.settings:
        if name in _UNSET:
            lines.append(f"  {name} = null")
        elif name in _ROLE_BLOCKS:
            lines.append(f"  {name} {{")
            lines += [f"    {key} = {_hcl(value)}" for key, value in _ROLE_BLOCKS[name].items()]
            lines.append("  }")
        elif name == "endpoints":
            lines.append("  endpoints {}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def aws_provider_changes(folder: Path) -> list[Neutralised]:
    """Every ``provider "aws"`` configuration of one module folder that needs an override."""
    changes = []
    for block in ModuleSource(folder).of_kind("provider"):
        if block.labels[:1] == ("aws",):
            change = provider_changes(block)
            if change is not None:
                changes.append(change)
    return changes


def providers_override_text(changes: list[Neutralised]) -> str:
    """Override blocks for ``changes`` (empty text when there are none)."""
    if not changes:
        return ""
    head = (
        "# Provider settings for real AWS, neutralised for the local endpoint (see the run's output);\n"
        "# the real files and `lambda-harness promote` keep them.\n"
    )
    return head + "\n".join(provider_override(c) for c in changes)


# -- discovery: plan (or validate) before the zips exist -------------------------------------------

DISCOVERY_OVERRIDE_NAME = "zz_lambda_harness_discovery_override.tf"
_FILE_HASH = re.compile(r"\bfile(?:base64sha256|base64sha512|md5|sha1|sha256|sha512)\s*\(")
_HASHED = {
    "aws_lambda_function": ("source_code_hash",),
    "aws_lambda_layer_version": ("source_code_hash",),
    "aws_s3_object": ("etag", "source_hash"),
    "aws_s3_bucket_object": ("etag", "source_hash"),
}


def _hashes_a_file(value: Any) -> bool:
    return bool(_FILE_HASH.search(str(value)))


def discovery_override_text(folder: Path) -> str:
    """Overrides that let ``plan``/``validate`` run before the zips exist (staged copy only).

    Terraform evaluates ``filebase64sha256("build/x.zip")`` while planning and stops at the
    first missing file. Here every ``source_code_hash`` of a function or layer, every
    ``etag``/``source_hash`` of an S3 object and every module argument that hashes a file is
    null, so the plan shows every function with its ``filename`` before anything is built. Such
    a plan is only read, never applied.
    """
    blocks = []
    for block in ModuleSource(folder).blocks:
        if block.kind == "resource" and block.labels[0] in _HASHED:
            names = [n for n in _HASHED[block.labels[0]] if n in block.body]
            if names:
                lines = "".join(f"  {n} = null\n" for n in names)
                blocks.append(f'resource "{block.labels[0]}" "{block.labels[1]}" {{\n{lines}}}\n')
        elif block.kind == "module":
            names = [n for n, v in block.body.items() if n != "source" and _hashes_a_file(v)]
            if names:
                lines = "".join(f"  {n} = null\n" for n in names)
                blocks.append(f'module "{block.labels[0]}" {{\n{lines}}}\n')
    if not blocks:
        return ""
    return "# lambda-harness discovery: plan before the zips exist (never applied).\n" + "\n".join(blocks)


# -- data "archive_file": served by the harness's own provider -----------------------------------

ARCHIVE_SOURCES = ("hashicorp/archive", "registry.terraform.io/hashicorp/archive")


def archive_local_names(folder: Path) -> list[str]:
    """The local names under which a module folder uses hashicorp/archive (usually ``archive``)."""
    source = ModuleSource(folder)
    names = [
        name
        for name, (address, _version, _block) in source.required_providers().items()
        if address.lower() in ARCHIVE_SOURCES
    ]
    if not names and any(b.kind == "data" and b.labels[0] == "archive_file" for b in source.blocks):
        names = ["archive"]  # an implied provider
    return names


def archive_override_text(folder: Path) -> str:
    """Redirect ``archive`` to ``lambda-harness/archive`` in this module folder (staged copy only)."""
    names = archive_local_names(folder)
    if not names:
        return ""
    entries = "".join(f'    {name} = {{ source = "lambda-harness/archive" }}\n' for name in names)
    return (
        '# data "archive_file" is served by lambda-harness\'s own provider: it builds the zip the\n'
        "# harness tested (reproducible, with dependencies) instead of hashicorp/archive.\n"
        f"terraform {{\n  required_providers {{\n{entries}  }}\n}}\n"
    )
