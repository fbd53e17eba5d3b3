"""Apply the team's own terraform/ to a local endpoint, without touching it.

``Terraform`` (from ``lambda_harness.terraform.runner``) stages a copy under
``.harness/tf/<backend>/`` with a ``backend "local"`` override, installs
providers from a local mirror, forces fake credentials and a loopback endpoint,
applies, and requires a second plan to be empty. ``deploy`` is the one call the
CLI and the pipeline make: apply, then write ``.harness/inventory.json``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lambda_harness import net
from lambda_harness.errors import TerraformError
from lambda_harness.settings import Settings
from lambda_harness.terraform import plan as plan_module
from lambda_harness.terraform import preflight
from lambda_harness.terraform import warm as warm_inputs
from lambda_harness.terraform.inventory import (
    HARNESS_API_PREFIX,
    LOCALSTACK_API_PREFIX,
    Inventory,
    describe_triggers,
    module_dirs_from,
)
from lambda_harness.terraform.runner import IdempotencyCheck, Terraform
from lambda_harness.terraform.state import state_as_show_json
from lambda_harness.terraform.warm import ClientFactory
from lambda_harness.terraform.world import World, applied_on
from lambda_harness.ui import UI

__all__ = [
    "Deployment",
    "Terraform",
    "deploy",
    "deploy_for_run",
    "destroy",
    "inventory_path",
    "plan",
    "read_inventory",
    "state_as_show_json",
]


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
    """``lambda-harness apply``: stage, init, apply, check the second plan, save the inventory.

    Always applies (incrementally against the kept state on the same endpoint, from
    scratch on a new one) and records the apply for the warm loop of the next ``run``.
    """
    deployment = deploy_for_run(
        settings, ui, endpoint_url, environ=environ, driver=driver, warm=False, background_check=False
    )
    return deployment.inventory


@dataclass
class Deployment:
    """What the deploy stage did on the endpoint, and the second plan if it still runs.

    ``mode``: ``from-scratch`` (no state before the apply), ``incremental`` (applied
    against the kept state) or ``warm`` (Terraform skipped, code updated in place).
    Only a from-scratch apply whose second plan is empty is what an attestation may vouch for.
    """

    inventory: Inventory
    mode: str
    reason: str = ""
    check: IdempotencyCheck | None = None
    on_checked: Callable[[], None] | None = None
    check_seconds: float | None = None
    checked: bool = False

    def finish(self, ui: UI) -> None:
        """Wait for the second plan (TerraformError when it is not empty), then record the apply."""
        if self.check is not None and not self.checked:
            self.check_seconds = self.check.wait()
            ui.info(
                f"terraform plan (must be empty after apply, ran beside the tests): empty, "
                f"{self.check_seconds:.1f}s"
            )
        self.checked = True
        if self.on_checked is not None:
            self.on_checked()
            self.on_checked = None

    def cancel(self) -> None:
        """Stop a second plan that still runs (nothing is recorded then)."""
        if self.check is not None:
            self.check.cancel()

    @property
    def attestable(self) -> bool:
        """Applied from scratch on a fresh endpoint, and the second plan came back empty."""
        return self.mode == "from-scratch" and self.checked

    def not_attested_reason(self) -> str:
        """Why no attestation is written for this deployment ("" when it may be)."""
        if self.mode == "warm":
            return "warm run"
        if self.mode == "incremental":
            return "incremental apply on a kept endpoint (run on a fresh endpoint to attest)"
        return "" if self.checked else "the second plan did not finish"


def deploy_for_run(
    settings: Settings,
    ui: UI,
    endpoint_url: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    driver: str | None = None,
    warm: bool = True,
    background_check: bool = True,
    clients: ClientFactory | None = None,
) -> Deployment:
    """The deploy stage of ``run``: the warm loop when it may, else apply.

    ``warm``: skip Terraform on the same endpoint when its inputs are unchanged (code is
    updated in place). ``background_check``: the second plan starts after the apply and
    runs while the caller tests; ``Deployment.finish`` waits for it.
    """
    tf = Terraform(settings, ui, endpoint_url or settings.endpoint_url, environ=environ, driver=driver)
    record_path = settings.paths.warm_record(settings.backend)
    identity = net.endpoint_identity(tf.endpoint.url)
    inputs = warm_inputs.fingerprint(settings)
    decision = warm_inputs.decide(
        warm_inputs.WarmRecord.load(record_path),
        identity,
        inputs,
        state_exists=tf.staged.state.is_file(),
        inventory_exists=inventory_path(settings).is_file(),
        allow_warm=warm,
        url=tf.endpoint.url,
    )
    if decision.warm:
        try:
            return _warm_update(settings, ui, tf, record_path, reason=decision.reason, clients=clients)
        except warm_inputs.NeedApply as exc:
            decision = warm_inputs.Decision(False, f"{exc}: applying")
    ui.info(decision.reason)
    if decision.discard_state:  # the team's state and the world's describe the same vanished endpoint
        # (the world's, unless this run's build has just applied it to this very endpoint)
        world_state = (
            () if applied_on(settings, identity) else (settings.paths.world_state(settings.backend),)
        )
        for state in (tf.staged.state, *world_state):
            for stale in (state, state.with_name(state.name + ".backup")):
                stale.unlink(missing_ok=True)
    mode = "incremental" if tf.staged.state.is_file() else "from-scratch"
    if identity is not None:  # the state belongs to this endpoint from now on; complete only when checked
        warm_inputs.WarmRecord(identity, tf.endpoint.url).save(record_path)
    else:
        record_path.unlink(missing_ok=True)
    # the world first, every missing piece named, then the apply (its second plan: now, or beside the tests)
    preflight.apply_with_world(tf, check=not background_check)
    inventory = read_inventory(tf)
    if mode == "incremental" and identity is not None:
        inventory = _push_stale_code(settings, ui, tf, inventory, (identity, inputs), clients=clients)
    retire_environments(ui, tf.endpoint.url, incremental=mode == "incremental")
    inventory.save(inventory_path(settings))
    _show(settings, ui, tf, inventory)

    def record() -> None:
        # The second plan is done: what it waived goes into the inventory and the run's output.
        checked = replace(inventory, waived=list(tf.waived))
        checked.save(inventory_path(settings))
        deployment.inventory = checked
        warn_waived(settings, ui, checked.waived)
        if identity is None:
            return
        show = state_as_show_json(tf.staged.state) or tf.show_json()
        record = warm_inputs.completed_record(
            identity, tf.endpoint.url, inputs, show, tf.staged.workdir, real_dir=settings.terraform_dir
        )
        record.save(record_path)

    deployment = Deployment(inventory, mode, decision.reason, on_checked=record)
    if background_check:
        deployment.check = tf.start_idempotency_check()
    else:
        deployment.finish(ui)
    return deployment


def _warm_update(
    settings: Settings,
    ui: UI,
    tf: Terraform,
    record_path: Path,
    *,
    reason: str,
    clients: ClientFactory | None,
) -> Deployment:
    """Terraform skipped: push the code that changed, update the inventory's code hashes."""
    record = warm_inputs.WarmRecord.load(record_path)
    assert record is not None  # decide() said warm
    inventory = Inventory.load(inventory_path(settings))
    factory = clients or default_clients(tf.endpoint.url)
    warm_inputs.check_present({fn.name: fn.arn for fn in inventory.functions}, factory)
    pushed = warm_inputs.push_code(record, factory, project_dir=settings.project_dir)
    pushed.record.save(record_path)
    if pushed.functions:
        inventory = replace(_with_code(inventory, pushed.functions), endpoint_url=tf.endpoint.url)
        inventory.save(inventory_path(settings))
        changed = ", ".join(_where(Path(a), None, settings.project_dir) for a in pushed.artifacts)
        ui.info(
            f"warm: terraform skipped ({reason}); {changed} changed: code of "
            f"{len(pushed.functions)} function(s) updated in place"
        )
    else:
        ui.info(f"warm: terraform skipped ({reason}); code unchanged")
    return Deployment(inventory, "warm", reason, checked=True)


def _push_stale_code(
    settings: Settings,
    ui: UI,
    tf: Terraform,
    inventory: Inventory,
    endpoint: tuple[str, tuple[str, Mapping[str, str]]],
    *,
    clients: ClientFactory | None,
) -> Inventory:
    """After an incremental apply: push the code a warm run left behind that Terraform did not replace.

    A warm run's pushes are not in Terraform's state; an artifact back to the bytes the state
    holds (an edit undone) is not uploaded again by the apply, and the endpoint would keep
    testing the pushed code.
    """
    identity, inputs = endpoint
    show = state_as_show_json(tf.staged.state) or tf.show_json()
    applied = warm_inputs.completed_record(
        identity, tf.endpoint.url, inputs, show, tf.staged.workdir, real_dir=settings.terraform_dir
    )
    factory = clients or default_clients(tf.endpoint.url)
    pushed = warm_inputs.push_code(
        warm_inputs.stale_code(applied, factory), factory, project_dir=settings.project_dir
    )
    if not pushed.functions:
        return inventory
    changed = ", ".join(_where(Path(a), None, settings.project_dir) for a in pushed.artifacts)
    ui.info(
        f"{changed}: the endpoint still ran code an earlier warm run pushed, which this apply "
        f"did not replace; pushed again to {len(pushed.functions)} function(s)"
    )
    return _with_code(inventory, pushed.functions)


def retire_environments(ui: UI, url: str, *, incremental: bool) -> None:
    """After an apply: every function's next invocation starts a new execution environment.

    An apply on a kept endpoint can change what a warm environment already did at init or
    cached on first use (a role's policies, environment variables, layers): without new
    environments a warm run would pass where a fresh one fails. All of them are retired (the
    embedded endpoint's ``/_harness/retire``); code the warm loop pushes without Terraform makes
    new environments anyway (a new CodeSha256). An endpoint without the route (LocalStack) keeps
    its containers: said after an incremental apply, where it matters.
    """
    answer = net.post_json(url.rstrip("/") + net.HARNESS_RETIRE, {}, timeout=30.0)
    retired = _retired_count(answer)
    if retired is None:
        if incremental:
            ui.warn(
                f"Terraform changed, but the endpoint at {url} cannot retire its execution environments "
                f"(no {net.HARNESS_RETIRE}: LocalStack keeps its warm containers): what a handler did at "
                "init or cached on first use still comes from before this apply. For the verdict a fresh "
                "run gives, restart the endpoint (`lambda-harness down`, then `run`: applied from scratch)"
            )
        return
    if incremental or retired:
        ui.info(f"Terraform changed: every function starts cold ({retired} warm environment(s) retired)")


def _retired_count(answer: tuple[int, bytes] | str) -> int | None:
    """How many environments ``/_harness/retire`` closed; None when the endpoint cannot retire them."""
    doc = net.json_of(answer)
    retired = doc.get("retired") if isinstance(doc, dict) else None
    return retired if isinstance(retired, int) else None


def _with_code(inventory: Inventory, pushed: Mapping[str, str]) -> Inventory:
    """The inventory with each pushed function's new CodeSha256."""
    functions = [replace(fn, code_sha256=pushed.get(fn.name, fn.code_sha256)) for fn in inventory.functions]
    return replace(inventory, functions=functions)


def default_clients(url: str) -> ClientFactory:
    """boto3 clients (by service and region) on ``url`` with fake credentials, made once each."""
    import boto3  # ~0.3 s: only a warm run pays it here
    from botocore.config import Config

    # proxies={} for loopback: botocore then never sends these through HTTP(S)_PROXY (issue 9).
    direct = net.is_loopback(net.url_host(url))
    config = Config(
        retries={"mode": "standard", "total_max_attempts": 2},
        connect_timeout=5,
        read_timeout=120,
        proxies={} if direct else None,
    )
    cache: dict[tuple[str, str], Any] = {}

    def client(service: str, region: str) -> Any:
        if (service, region) not in cache:
            session = boto3.Session(
                aws_access_key_id="test",
                aws_secret_access_key="test",  # noqa: S106 (not a secret: local endpoints accept anything)
                region_name=region or "us-east-1",
            )
            cache[(service, region)] = session.client(service, endpoint_url=url, config=config)  # type: ignore[call-overload]
        return cache[(service, region)]

    return client


def _show(settings: Settings, ui: UI, tf: Terraform, inventory: Inventory) -> None:
    ui.table(
        f"deployed to {tf.endpoint.url}",
        ["function", "handler", "runtime", "triggers", "declared in"],
        [
            [
                f.name,
                f.handler,
                f.runtime,
                describe_triggers(f.triggers) or "-",
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
    settings.paths.warm_record(settings.backend).unlink(missing_ok=True)


def _where(tf_file: Path | None, line: int | None, project_dir: Path) -> str:
    if tf_file is None:
        return "?"
    try:
        shown = str(tf_file.relative_to(project_dir))
    except ValueError:
        shown = str(tf_file)
    return f"{shown}:{line}" if line else shown
