"""Apply the team's own terraform/ to a local endpoint, without touching it.

``Terraform`` (from ``lambda_harness.terraform.runner``) stages a copy under
``.harness/tf/<backend>/`` with a ``backend "local"`` override, installs
providers from a local mirror, forces fake credentials and a loopback endpoint,
applies, and requires a second plan to be empty. ``deploy`` is the one call the
CLI and the pipeline make: apply, then write ``.harness/inventory.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from lambda_harness import net
from lambda_harness.errors import TerraformError
from lambda_harness.settings import Settings
from lambda_harness.terraform import plan as plan_module
from lambda_harness.terraform import preflight
from lambda_harness.terraform.inventory import (
    HARNESS_API_PREFIX,
    LOCALSTACK_API_PREFIX,
    Inventory,
    module_dirs_from,
)
from lambda_harness.terraform.runner import Terraform
from lambda_harness.terraform.world import World
from lambda_harness.ui import UI

__all__ = ["Terraform", "deploy", "destroy", "inventory_path", "plan", "read_inventory"]


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


def state_as_show_json(state_file: Path) -> dict[str, Any] | None:
    """The managed resources of a local v4 state file, shaped like ``terraform show -json``.

    Reading the file ourselves saves ``terraform show``'s provider start and schema load
    (3-5 s an apply, measured by bench/pipeline.py). None when the file is missing or of
    another format version: then the caller asks terraform.
    """
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("version") != 4:
        return None
    modules: dict[str, dict[str, Any]] = {}
    root: dict[str, Any] = {"resources": [], "child_modules": []}
    for res in state.get("resources", []):
        if res.get("mode") != "managed":
            continue
        module = res.get("module", "")
        target = root
        if module:
            target = modules.setdefault(module, {"address": module, "resources": []})
        base = f"{module + '.' if module else ''}{res['type']}.{res['name']}"
        for inst in res.get("instances", []):
            key = inst.get("index_key")
            address = base if key is None else f"{base}[{json.dumps(key)}]"
            entry = {"address": address, "mode": "managed", "type": res["type"], "name": res["name"]}
            entry["values"] = inst.get("attributes", {})
            if key is not None:
                entry["index"] = key
            target["resources"].append(entry)
    root["child_modules"] = list(modules.values())
    return {"values": {"root_module": root}}


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
    inventory = replace(read_inventory(tf), waived=list(tf.waived))
    inventory.save(inventory_path(settings))
    warn_waived(settings, ui, inventory.waived)
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


def warn_waived(settings: Settings, ui: UI, waived: Sequence[str]) -> None:
    """Say, every time, what the idempotency check did not look at; and what no change needed."""
    source = settings.source_of("idempotency_waive")
    for item in waived:
        ui.warn(f"idempotency check: {item} changes on every plan and is waived ({source})")
    unused = [w for w in settings.idempotency_waive if not any(_under(item, w) for item in waived)]
    for item in unused:
        ui.warn(f"idempotency-waive {item} waived nothing in this plan; remove it from {source} once fixed")


def _under(item: str, waiver: str) -> bool:
    return item == waiver or item.startswith(waiver + ".")


def plan(settings: Settings, ui: UI, *, environ: Mapping[str, str] | None = None) -> bool:
    """``lambda-harness plan``: the staged plan, with the harness's environment, against the running
    endpoint; prints Terraform's diff and what it means. True when nothing (unwaived) would change."""
    url = settings.endpoint_url
    if not net.endpoint_healthy(url):
        raise TerraformError(
            f"no endpoint answers at {url}: `lambda-harness plan` compares your Terraform with what "
            "`lambda-harness apply` deployed there. Run `lambda-harness apply` first (it leaves the endpoint "
            "running), or point --port at the endpoint it used."
        )
    tf = Terraform(settings, ui, url, environ=environ)
    if not tf.staged.state.exists():
        raise TerraformError(
            f"nothing applied yet (no harness state at {tf.staged.state}); run `lambda-harness apply`"
        )
    text, changes = tf.plan(f"terraform plan ({tf.driver}) of the staged copy against {tf.endpoint.url}")
    ui.emit(text.rstrip())
    remaining, waived = plan_module.apply_waivers(changes, settings.idempotency_waive)
    warn_waived(settings, ui, waived)
    if remaining:
        ui.warn(plan_module.perpetual_diff_message(remaining, "lambda-harness plan"))
        return False
    ui.info(
        "no changes: the deployment matches the configuration"
        + (" (with the waivers above)" if waived else "")
    )
    return True


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
