"""Runtimes the installed aws provider may not know, caught before anything is built.

The aws provider validates ``runtime`` and ``compatible_runtimes`` against a list compiled
into each release: ``python3.14`` needs hashicorp/aws 6.20.0 or later, and 5.x rejects it in
``terraform validate`` with its whole list of runtimes. When a literal runtime is newer than
every 5.x release knows (``KNOWN``), ``check_runtimes`` runs ``terraform validate -json`` in
the staged copy (offline, no endpoint, ~4 s, only then) and turns a rejection into one message
naming the file and line, the provider version and the fixes. Runtimes set through variables
are caught the same way from ``plan``/``apply`` output (``Terraform._raise_for_runtimes``).
"""

from __future__ import annotations

from collections.abc import Mapping

from lambda_harness.errors import TerraformError
from lambda_harness.packaging.tfconfig import TfConfig, read_config
from lambda_harness.settings import Settings
from lambda_harness.terraform import diagnostics
from lambda_harness.terraform.runner import Terraform
from lambda_harness.ui import UI

#: Python runtimes every hashicorp/aws release since 5.76 accepts.
KNOWN = frozenset(f"python3.{minor}" for minor in range(8, 14))


def new_runtimes(config: TfConfig) -> set[str]:
    """Literal Python runtimes of functions and layers that some provider releases reject."""
    runtimes = {fn.runtime for fn in config.functions if fn.runtime}
    runtimes |= {r for layer in config.layers for r in layer.compatible_runtimes}
    return {r for r in runtimes if r.startswith("python") and r not in KNOWN}


def check_runtimes(settings: Settings, ui: UI, *, environ: Mapping[str, str] | None = None) -> None:
    """``TerraformError`` when the installed provider rejects a runtime the repo uses."""
    new = new_runtimes(read_config(settings.terraform_dir))
    if not new or not settings.terraform_dir.is_dir():
        return
    tf = Terraform(settings, ui, settings.endpoint_url, environ=environ, report=False)
    with ui.step(f"terraform validate: does the aws provider accept {', '.join(sorted(new))}?"):
        found = tf.validate_diagnostics()
    rejected = diagnostics.rejected_runtimes(found, settings.project_dir, settings.terraform_dir)
    if rejected:
        raise TerraformError(diagnostics.runtime_message(rejected, tf.provider_version()))
