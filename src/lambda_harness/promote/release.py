"""Promotion: ship exactly the zip that passed, with the Terraform it passed with.

``promote`` refuses (PromoteError, with the reason) when there is no
attestation, a test failed, or the zip, the Terraform sources or the lock file
changed since the tests ran. Otherwise it runs the team's REAL ``terraform
init``/``plan``/``apply`` (in a staged copy of terraform/, ``staged``), with the real backend
and the caller's own credentials and environment (nothing is scrubbed: this is
the real deploy), then asks Lambda for every tested function's ``CodeSha256``
and requires it to equal the attested zip's.

Tests stand a moto endpoint in for AWS (the one edge that cannot run here): the
"real" repo there has a local backend and its provider finds the endpoint
through ``AWS_ENDPOINT_URL`` in ``terraform_cmd_env``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from lambda_harness import proc
from lambda_harness.errors import CommandFailed, PromoteError
from lambda_harness.fsutil import PRIVATE_FILE, PRIVATE_UMASK, file_sha256
from lambda_harness.promote import staged
from lambda_harness.promote.attestation import (
    DEFAULT_WORKSPACE,
    Attestation,
    attestation_path,
    attested_zip,
    read_attestation,
    terraform_files,
    write_attestation,
)
from lambda_harness.settings import Settings
from lambda_harness.terraform import staging
from lambda_harness.terraform.plan import PlannedChange, planned_changes
from lambda_harness.terraform.runner import TERRAFORM_HINT
from lambda_harness.terraform.staging import OVERRIDE_NAME, TFLOCAL_OVERRIDE, anchor_of
from lambda_harness.ui import UI

__all__ = ["PromoteResult", "check_attestation", "promote", "verify_code", "write_attestation"]

Confirm = Callable[[Sequence[PlannedChange]], bool]


@dataclass(frozen=True)
class PromoteResult:
    """What promotion did: ``applied`` is False when it stopped after the plan (not confirmed)."""

    applied: bool
    plan_path: Path
    changes: list[PlannedChange] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)


def check_attestation(settings: Settings, att: Attestation) -> list[str]:
    """Every reason not to promote, as sentences naming the file and the fix (empty: go)."""
    problems = _result_problems(att, settings.cases_dir)
    now = settings.workspace or DEFAULT_WORKSPACE
    if att.workspace is not None and att.workspace != now:
        source = settings.source_of("workspace") if settings.workspace else "no workspace chosen"
        problems.append(
            f"the tests ran in Terraform workspace {att.workspace!r}, this promote would apply workspace "
            f"{now!r} ({source}): another workspace is other names and values than the ones tested. "
            f'Promote with workspace = "{att.workspace}" (LAMBDA_HARNESS_WORKSPACE, --workspace), or run the '
            f"tests in {now!r} first"
        )
    zip_path = attested_zip(settings, att)
    if not zip_path.is_file():
        problems.append(f"the tested zip {zip_path} is gone; rebuild, re-run the tests, then promote")
    elif file_sha256(zip_path).hex() != att.zip_sha256:
        problems.append(
            f"{zip_path} changed since the tests ran (sha256 {att.zip_sha256[:12]}... attested); "
            "re-run the tests on this zip, then promote"
        )
    problems += _artifact_problems(settings, att)
    changed = _tf_changes(att.terraform_files, terraform_files(settings.terraform_dir))
    if changed:
        problems.append(
            f"{settings.terraform_dir} changed since the tests ran ({'; '.join(changed)}); "
            "re-run the tests, then promote"
        )
    problems += _lock_problems(settings, att)
    for name in (TFLOCAL_OVERRIDE, OVERRIDE_NAME):
        if (settings.terraform_dir / name).exists():
            problems.append(
                f"{settings.terraform_dir / name} exists in the real terraform/ folder and would "
                "redirect the real deploy; delete it"
            )
    return problems


def _artifact_problems(settings: Settings, att: Attestation) -> list[str]:
    """Every zip of the tested build must still be there, byte for byte."""
    problems = []
    for rel, entry in sorted(att.artifacts.items()):
        if rel == att.zip_path:
            continue  # checked with the attested zip
        path = settings.project_dir / rel
        serves = ", ".join(entry.get("functions") or []) or str(entry.get("kind"))
        if not path.is_file():
            problems.append(
                f"the tested zip {path} ({serves}) is gone; rebuild, re-run the tests, then promote"
            )
        elif file_sha256(path).hex() != entry.get("sha256"):
            problems.append(
                f"{path} ({serves}) changed since the tests ran; re-run the tests on it, then promote"
            )
    return problems


def _result_problems(att: Attestation, cases_dir: Path) -> list[str]:
    if not att.results:
        return ["the attestation records no test results; run the tests (`lambda-harness run`) first"]
    failed = [
        f"{name} ({counts.get('failed', 0)} failed)"
        for name, counts in att.results.items()
        if counts.get("failed", 0)
    ]
    untested = [
        name
        for name, counts in att.results.items()
        if not counts.get("passed", 0) and not counts.get("failed", 0)
    ]
    problems = []
    if failed:
        problems.append(f"tests failed for: {', '.join(failed)}; fix them and re-run the tests")
    if untested:
        problems.append(
            f"no test ran for: {', '.join(untested)}; add event cases under {cases_dir}/<function>/"
        )
    return problems


def _tf_changes(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    out = [f"added {p}" for p in sorted(set(after) - set(before))]
    out += [f"removed {p}" for p in sorted(set(before) - set(after))]
    out += [f"modified {p}" for p in sorted(set(before) & set(after)) if before[p] != after[p]]
    return out


def _lock_problems(settings: Settings, att: Attestation) -> list[str]:
    lock = settings.lock_file if settings.lock_file is not None and settings.lock_file.is_file() else None
    now = file_sha256(lock).hex() if lock else None
    if now == att.lock_sha256:
        return []
    name = lock or att.lock_file or "the lock file"
    return [f"{name} changed since the tests ran (dependencies differ from the tested zip); rebuild, re-test"]


def promote(
    settings: Settings,
    ui: UI,
    *,
    terraform_cmd_env: Mapping[str, str] | None = None,
    auto_approve: bool = False,
    confirm: Confirm | None = None,
) -> PromoteResult:
    """Refuse with every reason, or plan and apply for real, then verify CodeSha256.

    Without ``auto_approve``, ``confirm`` (the CLI's yes/no prompt) sees the plan;
    with neither, promotion stops after saving the plan.
    """
    att = read_attestation(settings)
    problems = check_attestation(settings, att)
    if problems:
        raise PromoteError(
            f"promotion refused ({attestation_path(settings)}):\n  - " + "\n  - ".join(problems)
        )
    for name, why in sorted(att.skipped.items()):
        ui.warn(f"{name} was not tested ({why}); promote ships it as your Terraform declares it")
    for item in att.idempotency_waived:
        ui.warn(f"{item} was waived from the idempotency check (idempotency-waive) when this was tested")
    env = dict(os.environ) if terraform_cmd_env is None else dict(terraform_cmd_env)
    # Never in the team's folder: init would write .terraform/ and a lock file there (and the next
    # promote would find the Terraform changed).
    if settings.workspace:
        # The workspace the tests ran in: the real backend's state of that workspace.
        env["TF_WORKSPACE"] = settings.workspace
    cwd, env = staged.prepare(settings, env, att)
    where = f"a staged copy of {settings.terraform_dir} ({staged.describe(settings)})"
    if settings.workspace:
        where += f", workspace {settings.workspace}"
    real = _RealTerraform(settings, env, cwd)
    planfile = settings.paths.promote_plan
    settings.paths.ensure()
    with ui.step(f"terraform init + plan in {where} (real backend)"):
        real.run("init", "-input=false", "-no-color")
        real.run("plan", "-input=false", "-no-color", f"-out={planfile}")
        # The real plan may hold secrets: terraform writes it by the umask, the harness keeps it private.
        planfile.chmod(PRIVATE_FILE)
        changes = planned_changes(json.loads(real.run("show", "-json", "-no-color", str(planfile)).stdout))
    note = staged.lock_note(settings, cwd)
    if note:
        ui.info(note)
    ui.table("promotion plan", ["change"], [[c.describe()] for c in changes] or [["no changes"]])
    if not auto_approve and (confirm is None or not confirm(changes)):
        ui.info(f"not applied; the plan is saved at {planfile}. Re-run with auto-approve to apply it.")
        return PromoteResult(applied=False, plan_path=planfile, changes=changes)
    if file_sha256(attested_zip(settings, att)).hex() != att.zip_sha256:
        raise PromoteError(f"{att.zip_path} changed while planning; nothing applied. Re-test, then promote.")
    with ui.step("terraform apply (real)"):
        real.run("apply", "-input=false", "-no-color", str(planfile))
    shown = real.show()
    verified = verify_code(att, shown, env)
    layers = verify_layers(att, shown, real.cwd, settings)
    zips = len(att.artifacts) or 1
    if layers:
        ui.info(f"layers: {', '.join(layers)} published with the tested CodeSha256")
    renamed = [f"{t} -> {d}" for t, d in zip(sorted(att.results), verified, strict=True) if t != d]
    if renamed:
        ui.info(f"deployed under the names CI gives them (same Terraform address): {', '.join(renamed)}")
    ui.info(
        f"promoted: {len(verified)} function(s) run the tested code ({', '.join(verified)}; "
        f"{zips} zip(s), CodeSha256 checked)"
    )
    return PromoteResult(applied=True, plan_path=planfile, changes=changes, verified=verified)


class _RealTerraform:
    """terraform in promote's staged copy of the real folder, with the caller's environment."""

    def __init__(self, settings: Settings, env: Mapping[str, str], cwd: Path | None = None) -> None:
        self.cwd = cwd or settings.terraform_dir
        self.env = env
        self.bin = proc.which("terraform", TERRAFORM_HINT, path=env.get("PATH"))
        self.verbose = settings.verbose
        # In the staged copy under .harness/ (archive_file) what terraform writes is private; in
        # your real folder it follows your umask, as any terraform run there does.
        self.umask = (
            PRIVATE_UMASK if self.cwd.resolve().is_relative_to(settings.harness_dir.resolve()) else -1
        )

    def run(self, *args: str) -> proc.Completed:
        try:
            done = proc.run(
                [self.bin, *args], cwd=self.cwd, env=self.env, stream=self.verbose, umask=self.umask
            )
        except CommandFailed as exc:
            raise PromoteError(f"real terraform {args[0]} failed in {self.cwd}:\n{exc}") from exc
        if args[0] == "init" and self.umask != -1:
            staging.make_private(self.cwd)  # init writes .terraform.lock.hcl 0644 whatever the umask
        return done

    def show(self) -> dict[str, Any]:
        return dict(json.loads(self.run("show", "-json", "-no-color").stdout))


@dataclass(frozen=True)
class _Deployed:
    """One ``aws_lambda_function`` instance of the real state."""

    address: str
    name: str
    arn: str


def _state_functions(show: Mapping[str, Any]) -> list[_Deployed]:
    """Every function of ``terraform show -json``, with its address, name and ARN."""

    def walk(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        yield from module.get("resources", [])
        for child in module.get("child_modules", []):
            yield from walk(child)

    return [
        _Deployed(
            str(r.get("address") or ""),
            str(r["values"].get("function_name")),
            str(r["values"].get("arn") or ""),
        )
        for r in walk(show.get("values", {}).get("root_module", {}))
        if r.get("type") == "aws_lambda_function" and r.get("mode") == "managed"
    ]


def verify_layers(att: Attestation, show: Mapping[str, Any], cwd: Path, settings: Settings) -> list[str]:
    """Every layer built from an attested zip must report that zip's CodeSha256 after the apply."""
    staged_tree = settings.paths.tf_root(staged.STAGE) / "tree"
    anchor = anchor_of(settings.project_dir, settings.terraform_dir)
    checked, wrong = [], []

    def walk(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        yield from module.get("resources", [])
        for child in module.get("child_modules", []):
            yield from walk(child)

    for res in walk(show.get("values", {}).get("root_module", {})):
        if res.get("type") != "aws_lambda_layer_version" or not res.get("values", {}).get("filename"):
            continue
        values = res["values"]
        path = Path(os.path.normpath(cwd / str(values["filename"])))
        if path.is_relative_to(staged_tree):
            path = anchor / path.relative_to(staged_tree)
        try:
            rel = path.relative_to(settings.project_dir).as_posix()
        except ValueError:
            continue
        tested = att.artifacts.get(rel)
        if tested is None:
            continue
        if values.get("code_sha256") != tested.get("code_sha256"):
            actual, expected = values.get("code_sha256"), tested.get("code_sha256")
            wrong.append(f"{res.get('address')}: CodeSha256 {actual} != tested {expected}")
        checked.append(str(res.get("address")))
    if wrong:
        raise PromoteError(
            "applied, but these layers do not hold the tested zip:\n  - " + "\n  - ".join(wrong)
        )
    return checked


def lambda_client(env: Mapping[str, str], region: str) -> Any:
    """A boto3 Lambda client with the caller's credentials and endpoint from ``env``."""
    session = boto3.Session(
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=env.get("AWS_SESSION_TOKEN"),
        profile_name=None if env.get("AWS_ACCESS_KEY_ID") else env.get("AWS_PROFILE"),
        region_name=region,
    )
    endpoint = env.get("AWS_ENDPOINT_URL_LAMBDA") or env.get("AWS_ENDPOINT_URL")
    return session.client("lambda", endpoint_url=endpoint or None)


def verify_code(
    att: Attestation,
    show: Mapping[str, Any],
    env: Mapping[str, str],
    client_for: Callable[[Mapping[str, str], str], Any] = lambda_client,
) -> list[str]:
    """Every tested function must report the attested CodeSha256; PromoteError lists those that do not.

    Each is found in the real state by its Terraform address (the name may differ: a
    variable set by ``harness.tfvars`` locally and by CI for real); an attestation of an
    older format, without addresses, by name. Returns the names the real apply deployed, in the
    order of the tested names (sorted).
    """
    deployed = _state_functions(show)
    by_address = {d.address: d for d in deployed if d.address}
    by_name = {d.name: d for d in deployed}
    missing: list[str] = []
    wrong: list[str] = []
    verified: list[str] = []
    for name in sorted(att.results):
        address = att.addresses.get(name)
        found = by_address.get(address) if address else by_name.get(name)
        label = f"{address} (tested as {name})" if address else name
        if found is None:
            missing.append(f"{label}: not in the Terraform state after apply")
            continue
        shown = name if found.name == name else f"{found.name} ({label})"
        actual = _code_sha256(found, env, client_for, shown)
        expected = att.expected_code_sha256(name)
        if actual != expected:
            wrong.append(f"{shown}: CodeSha256 {actual} != tested {expected}")
        verified.append(found.name)
    problems = []
    if missing:
        problems.append(
            "applied, but these tested functions are not in the real deployment:\n  - "
            + "\n  - ".join(missing)
            + "\nThe real apply deploys other resources than the tested one (count/for_each or a "
            "variable that differs between harness.tfvars and CI?); test what CI deploys."
        )
    if wrong:
        problems.append(
            "applied, but these functions do not run the tested zip:\n  - "
            + "\n  - ".join(wrong)
            + "\nCheck that their s3_key/filename point at the built zip and that "
            "source_code_hash uses filebase64sha256 of it."
        )
    if problems:
        raise PromoteError("\n".join(problems))
    return verified


def _code_sha256(
    found: _Deployed,
    env: Mapping[str, str],
    client_for: Callable[[Mapping[str, str], str], Any],
    shown: str,
) -> str:
    """The CodeSha256 Lambda reports for a deployed function (its region from its ARN)."""
    arn = found.arn
    region = arn.split(":")[3] if arn.count(":") >= 6 else env.get("AWS_REGION", "us-east-1")
    try:
        config = client_for(env, region).get_function_configuration(FunctionName=arn or found.name)
    except (BotoCoreError, ClientError) as exc:
        raise PromoteError(
            f"applied, but the CodeSha256 of {shown} could not be read ({exc}); the deploy "
            f"is done, the check is not: let these credentials call lambda:GetFunctionConfiguration on "
            f"{arn or found.name}, then compare it with the attestation's zip_code_sha256"
        ) from exc
    return str(config["CodeSha256"])
