"""The warm loop: skip Terraform when nothing it reads has changed since it last applied here.

A developer who edits a handler should not wait for ``terraform apply`` (about a minute
on the reference repo, most of it the provider's own fixed waits) when only code changed.
After every successful apply (second plan empty), ``.harness/tf/<backend>/warm.json``
(``WarmRecord``) holds:

* the endpoint's identity (``net.endpoint_identity``). The kept state is trusted only on
  the same endpoint instance: a restarted endpoint holds nothing, so its state is
  discarded and the next apply starts from scratch;
* a fingerprint of every Terraform input the staged copy is made of (``staged_inputs``:
  the terraform folder, the local modules and files it names, the settings that change
  what Terraform does, the harness version), EXCLUDING the built artifacts (zips, the
  functions folder): those are code, which the warm loop updates in place. But when the
  configuration reads files (``file``, ``fileset``, ``templatefile``, ``archive_file``:
  ``reads.read_files``), every project file it may read counts too, Python source by its path
  only: a ``function.json`` holding a handler, or a new function folder, needs Terraform;
  a handler edit still does not;
* each function's code binding read from state (``s3_bucket``/``s3_key`` and the local
  file its ``aws_s3_object`` uploads, or ``filename``) and the sha256 of every artifact.

``decide`` compares the record with the endpoint and the inputs now; ``push_code``
uploads what changed (S3 ``PutObject`` to the same bucket/key, then ``UpdateFunctionCode``
for the functions bound to it; or ``UpdateFunctionCode`` with the zip's bytes) and waits
until every updated function is ``Active`` again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from lambda_harness import __version__, net
from lambda_harness.errors import HarnessError, TerraformError
from lambda_harness.fsutil import file_sha256, write_json_atomic
from lambda_harness.settings import Settings
from lambda_harness.terraform import reads

FORMAT_VERSION = 1
#: Never Terraform inputs: Terraform's working data, state and plans, caches, version control.
_SKIP_NAMES = frozenset({".terraform", ".terraform.tfstate.lock.info", ".git", "__pycache__", ".harness"})
_SKIP_SUFFIXES = (".tfstate", ".tfstate.backup", ".tfplan", ".pyc")
#: Built artifacts: code, which the warm loop pushes; a change to one never needs Terraform.
_ARTIFACT_SUFFIXES = (".zip", ".zip.json")
#: ``"${path.module}/../policies/x.json"``: a file or folder Terraform reads at plan time.
_PATH_REF = re.compile(r"\$\{path\.(module|root)\}/([^\"}$\s]+)")
#: ``source = "../modules/queue"``: a local module, copied into nothing but read all the same.
_MODULE_SOURCE = re.compile(r"^\s*source\s*=\s*\"(\.{1,2}/[^\"]*)\"", re.MULTILINE)


class NeedApply(HarnessError):
    """The warm loop cannot bring the endpoint up to date by itself: Terraform must apply."""


# --- the inputs ------------------------------------------------------------------------------


def staged_inputs(settings: Settings) -> list[Path]:
    """Every file Terraform reads from the repo, artifacts excluded; sorted, absolute.

    The terraform folder (what staging copies), each local module it names
    (``source = "./..."``/``"../..."``, followed into the module's own references), and
    every file or folder named as ``"${path.module}/..."``/``"${path.root}/..."``. A folder
    that holds the terraform folder itself (``"${path.module}/.."``) is not walked: that is
    the whole repo, and the files Terraform reads from it are named one by one anyway.
    This is the one list of inputs: features that stage more (tfvars of their own, a
    world folder) extend it here.
    """
    tf_dir = settings.terraform_dir.resolve()
    # The harness's own variable files and the world folder (applied first) are inputs too.
    found: set[Path] = {p.resolve() for p in settings.tfvars}
    folders, walked = [tf_dir], set()
    roots = {tf_dir}
    if settings.world_dir is not None and settings.world_dir.is_dir():
        folders.append(settings.world_dir.resolve())
        roots.add(settings.world_dir.resolve())
    while folders:
        folder = folders.pop()
        if folder in walked:
            continue
        if folder not in roots and (_is_artifact(folder, settings) or tf_dir.is_relative_to(folder)):
            continue
        walked.add(folder)
        for path in _files_below(folder):
            if _is_artifact(path, settings):
                continue
            found.add(path)
            if path.name.endswith((".tf", ".tf.json")):
                folders += _references(path, folder if folder in roots else tf_dir, settings, found)
    return sorted(found)


def _references(tf_file: Path, root: Path, settings: Settings, found: set[Path]) -> list[Path]:
    """Local module folders and ``${path.*}/...`` targets named in one .tf file (files go to ``found``)."""
    text = tf_file.read_text(encoding="utf-8", errors="replace")
    folders = [(tf_file.parent / rel).resolve() for rel in _MODULE_SOURCE.findall(text)]
    for which, rel in _PATH_REF.findall(text):
        target = ((root if which == "root" else tf_file.parent) / rel).resolve()
        if _is_artifact(target, settings):
            continue
        if target.is_dir():
            folders.append(target)
        else:
            found.add(target)  # a missing file counts too: creating it changes the plan
    return folders


def _files_below(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        return
    for entry in sorted(folder.iterdir()):
        if entry.name in _SKIP_NAMES or entry.name.endswith(_SKIP_SUFFIXES):
            continue
        if entry.is_dir():
            yield from _files_below(entry)
        elif entry.is_file():
            yield entry.resolve()


def _is_artifact(path: Path, settings: Settings) -> bool:
    if path.name.endswith(_ARTIFACT_SUFFIXES):
        return True
    code_roots = (settings.functions_dir, settings.harness_dir, settings.cache_dir)
    return any(path.is_relative_to(root.resolve()) for root in code_roots)


def relevant_settings(settings: Settings) -> dict[str, str]:
    """The settings that change what Terraform does, and the harness version."""
    return {
        "harness": __version__,
        "backend": settings.backend,
        "tf-driver": settings.tf_driver,
        "region": settings.region,
        "terraform": str(settings.terraform_dir),
        "tf-plugin-dir": str(settings.tf_plugin_dir or ""),
        "world": str(settings.world_dir or ""),
        "tfvars": ",".join(str(p) for p in settings.tfvars),
        "workspace": settings.workspace or "default",
    }


def fingerprint(settings: Settings, files: Sequence[Path] | None = None) -> tuple[str, dict[str, str]]:
    """(one hash, input label -> content hash) over ``staged_inputs``, the files the configuration
    reads (``reads.read_files``) and ``relevant_settings``."""
    inputs: dict[str, str] = {}
    for path in staged_inputs(settings) if files is None else files:
        inputs[_label(path, settings.project_dir)] = file_sha256(path).hex() if path.is_file() else "missing"
    for label, stands_for in (reads.read_files(settings) if files is None else {}).items():
        inputs.setdefault(label, stands_for)
    for key, value in relevant_settings(settings).items():
        inputs[f"setting {key}"] = value
    digest = hashlib.sha256()
    for label, value in sorted(inputs.items()):
        digest.update(f"{label}\0{value}\n".encode())
    return digest.hexdigest(), dict(sorted(inputs.items()))


def _label(path: Path, project_dir: Path) -> str:
    project = project_dir.resolve()
    return path.relative_to(project).as_posix() if path.is_relative_to(project) else str(path)


def changed_inputs(before: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    """Labels added, removed or changed between two input maps, sorted."""
    return sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))


# --- the record ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Binding:
    """Where one function's code comes from, read from state."""

    function: str
    region: str
    artifact: str  # absolute path of the local file that becomes its code; "" when none is known
    bucket: str = ""  # set for s3_bucket/s3_key functions
    key: str = ""
    versioned: bool = False  # s3_object_version is set: updates must name the new version

    @property
    def kind(self) -> str:
        """``s3`` or ``file``."""
        return "s3" if self.bucket else "file"


@dataclass
class WarmRecord:
    """``warm.json``: the endpoint the state belongs to and what its last good apply read.

    ``fingerprint`` is None from the start of an apply until its second plan is empty, so
    an apply that failed or was interrupted is never skipped next time.
    """

    endpoint_id: str
    endpoint_url: str
    fingerprint: str | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    bindings: list[Binding] = field(default_factory=list)
    artifacts: dict[str, str] = field(default_factory=dict)  # artifact -> sha256 the endpoint runs
    pinned: dict[str, str] = field(default_factory=dict)  # artifacts only Terraform updates (layers, ...)
    version: int = FORMAT_VERSION

    def save(self, path: Path) -> None:
        """Write atomically."""
        write_json_atomic(path, asdict(self))

    @classmethod
    def load(cls, path: Path) -> WarmRecord | None:
        """The record, or None when there is none (or it is unreadable: then nothing is trusted)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != FORMAT_VERSION:
                return None
            data["bindings"] = [Binding(**b) for b in data.get("bindings", [])]
            return cls(**data)
        except (OSError, ValueError, TypeError, AttributeError):
            return None


# --- the decision ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What the deploy stage does on this endpoint, and the sentence that says why."""

    warm: bool
    reason: str
    discard_state: bool = False  # the state describes an endpoint instance that is gone
    changed: tuple[str, ...] = ()


def decide(  # noqa: PLR0911 (one return per case, each with its own sentence)
    record: WarmRecord | None,
    identity: str | None,
    inputs_now: tuple[str, Mapping[str, str]],
    *,
    state_exists: bool,
    inventory_exists: bool,
    allow_warm: bool = True,
    url: str = "",
) -> Decision:
    """Skip Terraform only on the same endpoint, with unchanged inputs, after a complete apply."""
    where = url or "the endpoint"
    if identity is None:
        return Decision(
            False,
            f"no warm loop: {where} does not say which instance it is (no instance_id in "
            "/_harness/health, no session_id in /_localstack/info), so Terraform applies every time",
        )
    if record is None or record.endpoint_id != identity:
        if record is None:
            why = "no apply of this repo is recorded on this endpoint"
        else:
            why = "the endpoint was restarted since the last apply (a new instance holds none of it)"
        if state_exists:
            why += "; the kept Terraform state is discarded"
        return Decision(False, f"{why}: applying from scratch", discard_state=state_exists)
    fp, inputs = inputs_now
    if record.fingerprint is None:
        return Decision(False, "the last apply on this endpoint did not finish: applying again")
    if not allow_warm:
        off = "lambda-harness apply, run --no-warm, warm = false"
        return Decision(False, f"applying: the warm loop is off ({off})")
    if record.fingerprint != fp:
        changed = changed_inputs(record.inputs, inputs)
        shown = ", ".join(changed[:5]) + (f" (+{len(changed) - 5} more)" if len(changed) > 5 else "")
        return Decision(
            False, f"Terraform inputs changed since the last apply: {shown}", changed=tuple(changed)
        )
    if not state_exists or not inventory_exists:
        return Decision(False, "the kept state or inventory is missing: applying")
    return Decision(True, "Terraform inputs unchanged since the last apply on this endpoint")


# --- code bindings from state ----------------------------------------------------------------


def _resources(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _resources(child)


def _local(workdir: Path, value: Any, real_dir: Path | None = None) -> str:
    """A path attribute from state (relative to the staged workdir) as the repo file it names.

    Siblings of the terraform folder are symlinks in the staged tree, so they resolve to the
    repo's files; a file inside the staged terraform folder itself (an ``archive_file`` output
    under ``terraform/build/``) is a copy, so it is mapped back to the real folder, where the
    build writes it.
    """
    if not value:
        return ""
    path = (workdir / str(value)).resolve()
    staged = workdir.resolve()
    if real_dir is not None and path.is_relative_to(staged):
        path = real_dir.resolve() / path.relative_to(staged)
    return str(path)


def read_bindings(
    show: Mapping[str, Any], workdir: Path, real_dir: Path | None = None
) -> tuple[list[Binding], dict[str, str]]:
    """(each function's binding, pinned artifact -> sha256) from ``terraform show -json``-shaped state.

    Pinned artifacts are local files Terraform uploads that no function binding covers
    (layer zips, objects no function runs): when one changes, only Terraform can update it.
    """
    resources = list(_resources(show.get("values", {}).get("root_module", {})))
    objects: dict[tuple[str, str], str] = {}
    for res in resources:
        if res.get("type") in ("aws_s3_object", "aws_s3_bucket_object"):
            v = res.get("values") or {}
            objects[(str(v.get("bucket")), str(v.get("key")))] = _local(workdir, v.get("source"), real_dir)
    bindings = []
    for res in resources:
        if res.get("type") != "aws_lambda_function" or res.get("mode", "managed") != "managed":
            continue
        v = res.get("values") or {}
        arn = str(v.get("arn") or "")
        region = arn.split(":")[3] if arn.count(":") >= 6 else ""
        name = str(v.get("function_name") or "")
        if v.get("s3_bucket"):
            bucket, key = str(v["s3_bucket"]), str(v.get("s3_key") or "")
            bindings.append(
                Binding(
                    name,
                    region,
                    objects.get((bucket, key), ""),
                    bucket,
                    key,
                    bool(v.get("s3_object_version")),
                )
            )
        elif v.get("filename"):
            bindings.append(Binding(name, region, _local(workdir, v["filename"], real_dir)))
    bound = {b.artifact for b in bindings}
    pinned = [src for src in objects.values() if src and src not in bound]
    for res in resources:
        if res.get("type") == "aws_lambda_layer_version":
            pinned.append(_local(workdir, (res.get("values") or {}).get("filename"), real_dir))
    return sorted(bindings, key=lambda b: b.function), {
        p: artifact_sha256(p) for p in sorted(set(pinned)) if p
    }


def artifact_sha256(path: str) -> str:
    """Hex sha256 of an artifact, or ``missing``."""
    file = Path(path)
    return file_sha256(file).hex() if file.is_file() else "missing"


def completed_record(
    identity: str,
    url: str,
    inputs: tuple[str, Mapping[str, str]],
    show: Mapping[str, Any],
    workdir: Path,
    *,
    real_dir: Path | None = None,
) -> WarmRecord:
    """The record of an apply whose second plan was empty."""
    bindings, pinned = read_bindings(show, workdir, real_dir)
    artifacts = {b.artifact: artifact_sha256(b.artifact) for b in bindings if b.artifact}
    return WarmRecord(
        endpoint_id=identity,
        endpoint_url=url,
        fingerprint=inputs[0],
        inputs=dict(inputs[1]),
        bindings=bindings,
        artifacts=dict(sorted(artifacts.items())),
        pinned=pinned,
    )


# --- pushing code ----------------------------------------------------------------------------

ClientFactory = Callable[[str, str], Any]  # (service, region) -> boto3 client


@dataclass(frozen=True)
class Pushed:
    """What ``push_code`` changed on the endpoint."""

    functions: dict[str, str]  # function -> its new CodeSha256
    artifacts: tuple[str, ...]  # the changed artifacts (absolute paths)
    record: WarmRecord


def changed_artifacts(record: WarmRecord) -> tuple[list[str], list[str]]:
    """(bound artifacts whose bytes changed since the endpoint got them, changed pinned ones)."""
    bound = [a for a, sha in record.artifacts.items() if artifact_sha256(a) != sha]
    pinned = [a for a, sha in record.pinned.items() if artifact_sha256(a) != sha]
    return bound, pinned


def push_code(
    record: WarmRecord, clients: ClientFactory, *, wait_s: float = 60.0, project_dir: Path | None = None
) -> Pushed:
    """Bring every function's code up to date with its artifact; NeedApply when only Terraform can."""
    changed, pinned = changed_artifacts(record)
    if pinned:
        names = ", ".join(_shown(p, project_dir) for p in pinned)
        raise NeedApply(f"{names} changed and no function's code binding covers it (a layer, an object)")
    missing = [a for a in changed if not Path(a).is_file()]
    if missing:
        raise NeedApply(f"{', '.join(_shown(p, project_dir) for p in missing)} no longer exists")
    updated: dict[str, str] = {}
    for artifact in changed:
        body = Path(artifact).read_bytes()
        versions: dict[tuple[str, str], str] = {}
        for binding in (b for b in record.bindings if b.artifact == artifact):
            lam = clients("lambda", binding.region)
            if binding.kind == "s3":
                spot = (binding.bucket, binding.key)
                if spot not in versions:
                    put = clients("s3", binding.region).put_object(Bucket=spot[0], Key=spot[1], Body=body)
                    versions[spot] = str(put.get("VersionId") or "")
                code: dict[str, Any] = {"S3Bucket": binding.bucket, "S3Key": binding.key}
                if binding.versioned and versions[spot]:
                    code["S3ObjectVersion"] = versions[spot]
            else:
                code = {"ZipFile": body}
            updated[binding.function] = _update(lam, binding.function, code)
        for binding in (b for b in record.bindings if b.artifact == artifact):
            _wait_updated(clients("lambda", binding.region), binding.function, wait_s)
    artifacts = {**record.artifacts, **{a: artifact_sha256(a) for a in changed}}
    return Pushed(updated, tuple(changed), replace(record, artifacts=artifacts))


def stale_code(record: WarmRecord, clients: ClientFactory) -> WarmRecord:
    """``record`` with each artifact that a bound function does not run on the endpoint marked
    as unknown there, so ``push_code`` pushes it.

    After Terraform applied against a kept state: code a warm run pushed is unknown to that
    state, so when an artifact is back to the bytes the state holds (an edit undone),
    Terraform sees nothing to update and the endpoint keeps running the pushed code. Each
    function's ``CodeSha256`` says what it runs.
    """
    stale: set[str] = set()
    for binding in record.bindings:
        expected = record.artifacts.get(binding.artifact)
        if expected in (None, "missing") or binding.artifact in stale:
            continue
        try:
            config = clients("lambda", binding.region).get_function_configuration(
                FunctionName=binding.function
            )
            running = base64.b64decode(str(config.get("CodeSha256") or "")).hex()
        except Exception as exc:  # botocore errors, a malformed hash: the endpoint cannot tell
            raise NeedApply(f"reading the code of {binding.function} on the endpoint failed ({exc})") from exc
        if running != expected:
            stale.add(binding.artifact)
    artifacts = {a: ("unknown" if a in stale else sha) for a, sha in record.artifacts.items()}
    return replace(record, artifacts=artifacts)


def check_present(functions: Mapping[str, str], clients: ClientFactory) -> None:
    """NeedApply when a deployed function (name -> ARN) is no longer on the endpoint."""
    by_region: dict[str, set[str]] = {}
    for name, arn in functions.items():
        by_region.setdefault(arn.split(":")[3] if arn.count(":") >= 6 else "", set()).add(name)
    for region, names in sorted(by_region.items()):
        there: set[str] = set()
        try:
            for page in clients("lambda", region).get_paginator("list_functions").paginate():
                there.update(str(f["FunctionName"]) for f in page.get("Functions", []))
        except Exception as exc:  # botocore errors: the endpoint cannot tell, so Terraform must look
            raise NeedApply(f"listing the functions on the endpoint failed ({exc})") from exc
        gone = sorted(names - there)
        if gone:
            raise NeedApply(f"function(s) {', '.join(gone)} are no longer on the endpoint")


def _update(lam: Any, name: str, code: Mapping[str, Any]) -> str:
    try:
        return str(lam.update_function_code(FunctionName=name, **code).get("CodeSha256") or "")
    except Exception as exc:  # botocore's ClientError and friends: the function is gone or refused
        raise NeedApply(f"updating the code of {name} on the endpoint failed ({exc})") from exc


def _wait_updated(lam: Any, name: str, wait_s: float) -> None:
    """Until the function is Active and its last update Successful (LocalStack takes a moment)."""

    def settled() -> bool:
        config = lam.get_function_configuration(FunctionName=name)
        state, update = config.get("State", "Active"), config.get("LastUpdateStatus", "Successful")
        if "Failed" in (state, update):
            reason = config.get("LastUpdateStatusReason") or config.get("StateReason") or "no reason given"
            raise TerraformError(f"function {name}: the endpoint failed to take the new code: {reason}")
        return bool(state == "Active" and update in ("Successful", None))

    net.wait_until(settled, wait_s, what=f"function {name} to be Active with its new code", interval=0.05)


def _shown(path: str, project_dir: Path | None) -> str:
    return _label(Path(path), project_dir) if project_dir is not None else path
