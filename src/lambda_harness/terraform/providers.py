"""Providers the configuration needs that no mirror holds, caught by ``build``.

When ``build`` reads the Terraform statically it runs no Terraform at all, so a provider
that cannot be installed (``hashicorp/random`` offline, with only ``hashicorp/aws`` mirrored)
used to surface only at ``run``'s ``terraform init``. ``check_providers`` lists what the root
and its local modules ask for (``required_providers`` entries, and the providers resource and
data types imply); when one of them is in no mirror and not installed in the staged copy yet,
it runs that ``init`` now, whose failure is the one message naming every missing provider.
Online, the same init installs them (``run`` reuses it). A build with no ``terraform`` on
``PATH`` (the build container of ``docker compose``) says so and leaves the check to ``run``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from lambda_harness.settings import Settings
from lambda_harness.terraform import diagnostics, mirror, staging
from lambda_harness.terraform.runner import Terraform, plugin_dir_setting
from lambda_harness.ui import UI

# Served without installing anything: Terraform's built-in provider, the harness's archive shim.
_BUILT_IN = frozenset({"hashicorp/terraform", "terraform.io/builtin/terraform"})


def needed(settings: Settings) -> set[str]:
    """``namespace/type`` of every provider the root and its local modules need."""
    wanted = set(diagnostics.declarations(settings.terraform_dir, settings.project_dir))
    if staging.uses_archive(settings.project_dir, settings.terraform_dir):
        wanted.discard("hashicorp/archive")
    return wanted - _BUILT_IN


def _installed(workdir: Path, provider: str) -> bool:
    return (workdir / ".terraform" / "providers" / diagnostics.REGISTRY / provider).is_dir()


def unavailable(settings: Settings, environ: Mapping[str, str]) -> list[str]:
    """Needed providers that no mirror holds and the staged copy has not installed."""
    held = {
        diagnostics.short(p)
        for m in mirror.find_mirrors(environ, plugin_dir_setting(settings))
        for p in m.providers
    }
    workdir = staging.layout(
        settings.harness_dir, settings.backend, settings.project_dir, settings.terraform_dir
    ).workdir
    return sorted(p for p in needed(settings) if p not in held and not _installed(workdir, p))


def check_providers(settings: Settings, ui: UI, *, environ: Mapping[str, str] | None = None) -> None:
    """``TerraformError`` (from ``init``) when a needed provider can be neither found nor installed."""
    env = os.environ if environ is None else environ
    if not settings.terraform_dir.is_dir():
        return
    missing = unavailable(settings, env)
    if not missing:
        return
    if shutil.which("terraform", path=env.get("PATH")) is None:
        ui.info(
            f"{', '.join(missing)}: in no provider mirror, and no terraform on PATH to install it; "
            "run's terraform init checks it"
        )
        return
    ui.info(f"{', '.join(missing)}: in no provider mirror; terraform init installs it now (or says why not)")
    Terraform(settings, ui, settings.endpoint_url, environ=environ, report=False).init()
