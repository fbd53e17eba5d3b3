"""Apply the team's own terraform/ to a local endpoint, without touching it.

``Terraform`` (from ``lambda_harness.terraform.runner``) stages a copy under
``.harness/tf/<backend>/`` with a ``backend "local"`` override, installs
providers from a local mirror, forces fake credentials and a loopback endpoint,
applies, and requires a second plan to be empty. ``deploy`` is the one call the
CLI and the pipeline make: apply, then write ``.harness/inventory.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from lambda_harness.settings import Settings
from lambda_harness.terraform import preflight
from lambda_harness.terraform.inventory import (
    HARNESS_API_PREFIX,
    LOCALSTACK_API_PREFIX,
    Inventory,
    module_dirs_from,
)
from lambda_harness.terraform.runner import Terraform
from lambda_harness.terraform.state import state_as_show_json
from lambda_harness.terraform.world import World
from lambda_harness.ui import UI

__all__ = ["Terraform", "deploy", "destroy", "inventory_path", "read_inventory", "state_as_show_json"]


def inventory_path(settings: Settings) -> Path:
    """``.harness/inventory.json``."""
    return settings.paths.inventory


def read_inventory(tf: Terraform) -> Inventory:
    """The inventory of what ``tf`` has deployed, from its state."""
    show = state_as_show_json(tf.staged.state) or tf.show_json()
    return Inventory.from_show_json(
        show,
        tf.settings.terraform_dir,
        endpoint_url=tf.endpoint.url,
        # The provider's region (often var.region) decides where functions live, not ours:
        # from_show_json reads it from the function ARNs.
        region=None,
        module_dirs=module_dirs_from(tf.staged.workdir, tf.settings.terraform_dir),
        api_prefix=LOCALSTACK_API_PREFIX if tf.settings.backend == "localstack" else HARNESS_API_PREFIX,
    )


def deploy(
    settings: Settings,
    ui: UI,
    endpoint_url: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    driver: str | None = None,
) -> Inventory:
    """``lambda-harness apply``: stage, init, apply, check the second plan, save the inventory."""
    tf = Terraform(settings, ui, endpoint_url or settings.endpoint_url, environ=environ, driver=driver)
    preflight.apply_with_world(tf)  # the world first, every missing piece named, then tf.apply()
    inventory = read_inventory(tf)
    inventory.save(inventory_path(settings))
    ui.table(
        f"deployed to {tf.endpoint.url}",
        ["function", "handler", "runtime", "triggers", "declared in"],
        [
            [
                f.name,
                f.handler,
                f.runtime,
                ", ".join(f"{t.kind}:{t.source}" for t in f.triggers) or "-",
                _where(f.tf_file, f.tf_line, settings.project_dir),
            ]
            for f in inventory.functions
        ],
    )
    if inventory.apis:
        ui.table(
            "APIs (curl either URL; Python clients use the first)",
            ["api", "kind", "stage", "URL", "host URL", "declared in"],
            [
                [
                    a.name,
                    f"{a.kind} API",
                    s.name,
                    s.url,
                    s.host_url,
                    _where(a.tf_file, a.tf_line, settings.project_dir),
                ]
                for a in inventory.apis
                for s in a.stages or []
            ],
        )
    return inventory


def destroy(
    settings: Settings,
    ui: UI,
    endpoint_url: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    driver: str | None = None,
) -> None:
    """``terraform destroy`` of the harness deployment (the endpoint keeps running)."""
    url = endpoint_url or settings.endpoint_url
    Terraform(settings, ui, url, environ=environ, driver=driver).destroy()
    World(settings, ui, url, environ=environ, driver=driver).destroy()  # after the stack that uses it
    inventory_path(settings).unlink(missing_ok=True)


def _where(tf_file: Path | None, line: int | None, project_dir: Path) -> str:
    if tf_file is None:
        return "?"
    try:
        shown = str(tf_file.relative_to(project_dir))
    except ValueError:
        shown = str(tf_file)
    return f"{shown}:{line}" if line else shown
