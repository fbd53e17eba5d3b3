"""``.harness/attestation.json``: what was tested, so promotion ships exactly that.

An attestation records the sha256 of the tested zip (and the base64 form AWS
reports as ``CodeSha256``), every zip of the build (``.harness/build.json``: per
function and layer zips, with their hashes), the ``CodeSha256`` each function had
in the tested deployment and its Terraform address (``.harness/inventory.json``),
a hash of every Terraform source file in terraform/ (``*.tf``, ``*.tf.json``,
``*.tfvars``, ``*.tfvars.json``, ``*.hcl``; not ``.terraform/`` or state), the
lock file's hash, pass/fail counts per function, the harness version and the time.
``promote`` recomputes the hashes and names whatever changed since.

Results are keyed by the name each function had in the tested deployment; the real apply may
name it otherwise (``function_name = "hello-${var.env}"`` with ``env`` set by
``harness.tfvars`` locally and by CI for real). The Terraform address
(``aws_lambda_function.hello``, ``module.m["k"].aws_lambda_function.this``) is the same in
both, so ``promote`` finds each tested function in the real state by its address.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lambda_harness import __version__
from lambda_harness.errors import PromoteError
from lambda_harness.fsutil import file_sha256, write_json_atomic
from lambda_harness.settings import Settings

FORMAT_VERSION = 4
#: Terraform's workspace when none is selected.
DEFAULT_WORKSPACE = "default"
TF_PATTERNS = ("*.tf", "*.tf.json", "*.tfvars", "*.tfvars.json", "*.hcl")
# Never part of the configuration, also when terraform = "." (the repo root): Terraform's working
# data, the harness's own staged copies, version control, virtualenvs, caches.
_SKIP_DIRS = {".terraform", ".harness", ".git", ".venv", "venv", "node_modules", "__pycache__"}


@dataclass(frozen=True)
class Attestation:
    """The tested artefacts and the test results, as written after a test run."""

    zip_path: str
    zip_sha256: str
    zip_code_sha256: str
    terraform_dir: str
    terraform_sha256: str
    terraform_files: dict[str, str]
    lock_file: str | None
    lock_sha256: str | None
    results: dict[str, dict[str, int]]
    harness_version: str
    created_at: str
    version: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)
    #: Deployed functions excluded from testing on purpose -> why (``excluded by --skip-function
    #: (runtime nodejs20.x)``); never in ``results``, so promote neither counts nor verifies them.
    skipped: dict[str, str] = field(default_factory=dict)
    #: ``address.attribute`` the idempotency check waived (``idempotency-waive``) for this deployment.
    idempotency_waived: list[str] = field(default_factory=list)
    # Format 2: every zip of the build (path -> sha256, code_sha256, kind, functions) and the
    # CodeSha256 each function had in the tested deployment (name -> base64 sha256).
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)
    # Format 3: each tested function's Terraform address (name -> address), which the real
    # apply keeps when the name itself comes from a variable.
    addresses: dict[str, str] = field(default_factory=dict)
    # Format 4: the Terraform workspace the tests ran in ("default" when none was chosen); None in
    # older attestations (not checked then).
    workspace: str | None = None

    def expected_code_sha256(self, function: str) -> str:
        """The CodeSha256 ``function`` must have after the real apply."""
        return self.functions.get(function) or self.zip_code_sha256


@dataclass(frozen=True)
class Exemptions:
    """What a green run did not check, on the user's explicit word: recorded in the attestation."""

    skipped: Mapping[str, str] = field(default_factory=dict)
    idempotency_waived: Sequence[str] = ()


def attestation_path(settings: Settings) -> Path:
    """``.harness/attestation.json``."""
    return settings.paths.attestation


def terraform_files(terraform_dir: Path) -> dict[str, str]:
    """Relative path (posix) -> sha256 hex of every Terraform source file, sorted by path."""
    found: dict[str, str] = {}
    for pattern in TF_PATTERNS:
        for path in terraform_dir.rglob(pattern):
            rel = path.relative_to(terraform_dir)
            folders = rel.parts[:-1]
            hidden = any(part.startswith(".") for part in folders)
            skipped = hidden or _SKIP_DIRS.intersection(folders)
            if path.is_file() and not skipped and ".tfstate" not in path.name:
                found[rel.as_posix()] = file_sha256(path).hex()
    return dict(sorted(found.items()))


def terraform_hash(files: Mapping[str, str]) -> str:
    """One deterministic hash over sorted relative paths and their content hashes."""
    digest = hashlib.sha256()
    for rel, content in sorted(files.items()):
        digest.update(f"{rel}\0{content}\n".encode())
    return digest.hexdigest()


def normalise_results(results: Mapping[str, object]) -> dict[str, dict[str, int]]:
    """Function name -> {"passed": n, "failed": m} from mappings or objects with those fields."""
    out: dict[str, dict[str, int]] = {}
    for name, value in results.items():
        if isinstance(value, Mapping):
            passed, failed = value.get("passed", 0), value.get("failed", 0)
        else:
            passed, failed = getattr(value, "passed", 0), getattr(value, "failed", 0)
        out[str(name)] = {"passed": int(passed), "failed": int(failed)}
    return dict(sorted(out.items()))


def make_attestation(
    settings: Settings,
    zip_path: Path,
    results: Mapping[str, object],
    exemptions: Exemptions | None = None,
) -> Attestation:
    """Hash the artefacts as they are now."""
    if not zip_path.is_file():
        raise PromoteError(f"{zip_path}: the tested zip does not exist; run `lambda-harness build` first")
    raw = file_sha256(zip_path)
    files = terraform_files(settings.terraform_dir)
    lock = settings.lock_file if settings.lock_file is not None and settings.lock_file.is_file() else None
    return Attestation(
        zip_path=_portable(zip_path, settings.project_dir),
        zip_sha256=raw.hex(),
        zip_code_sha256=base64.b64encode(raw).decode("ascii"),
        terraform_dir=str(settings.terraform_dir),
        terraform_sha256=terraform_hash(files),
        terraform_files=files,
        lock_file=str(lock) if lock else None,
        lock_sha256=file_sha256(lock).hex() if lock else None,
        results=normalise_results(results),
        harness_version=__version__,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        skipped=dict(sorted((exemptions or Exemptions()).skipped.items())),
        idempotency_waived=sorted((exemptions or Exemptions()).idempotency_waived),
        artifacts=(artifacts := built_artifacts(settings)),
        functions=deployed_code(inventory := _inventory(settings), results, artifacts),
        addresses=deployed_addresses(inventory, results),
        workspace=settings.workspace or DEFAULT_WORKSPACE,
    )


def built_artifacts(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every zip of the last build (``.harness/build.json``), checked unchanged since."""
    try:
        record = json.loads(settings.paths.build_record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    artifacts: dict[str, dict[str, Any]] = {}
    for entry in record.get("artifacts", []):
        path = settings.project_dir / str(entry["path"])
        if not path.is_file() or file_sha256(path).hex() != entry["sha256"]:
            raise PromoteError(f"{path} changed since it was built and tested; build and run the tests again")
        artifacts[str(entry["path"])] = {k: entry[k] for k in ("sha256", "code_sha256", "kind", "functions")}
    return artifacts


def _inventory(settings: Settings) -> list[dict[str, Any]]:
    """The tested deployment's functions (``inventory.json``), or none when it is unreadable."""
    try:
        inventory = json.loads(settings.paths.inventory.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [f for f in inventory.get("functions", []) if isinstance(f, dict)]


def deployed_addresses(inventory: list[dict[str, Any]], results: Mapping[str, object]) -> dict[str, str]:
    """name -> the Terraform address of each tested function."""
    addresses = {str(f.get("name")): str(f.get("address") or "") for f in inventory}
    return {name: addresses[name] for name in sorted(results) if addresses.get(name)}


def deployed_code(
    inventory: list[dict[str, Any]], results: Mapping[str, object], artifacts: Mapping[str, Mapping[str, Any]]
) -> dict[str, str]:
    """name -> the CodeSha256 each tested function had on the endpoint (``inventory.json``),
    which must be that of the zip the build made for it, and in any case that of a zip the
    build made (PromoteError otherwise: nothing is attested)."""
    deployed = {str(f.get("name")): str(f.get("code_sha256") or "") for f in inventory}
    built = {fn: (rel, entry) for rel, entry in artifacts.items() for fn in entry.get("functions") or []}
    for name, (rel, entry) in sorted(built.items()):
        if deployed.get(name) and deployed[name] != entry.get("code_sha256"):
            raise PromoteError(
                f"{name} ran with CodeSha256 {deployed[name]}, but the build made {rel} for it "
                f"(CodeSha256 {entry.get('code_sha256')}): Terraform uploaded other code than the build "
                "wrote; check its filename / s3_key and source_code_hash"
            )
    made = {str(entry.get("code_sha256")) for entry in artifacts.values()}
    for fn in inventory:
        name, code = str(fn.get("name")), str(fn.get("code_sha256") or "")
        python = str(fn.get("runtime") or "").startswith("python")  # not a container image
        if artifacts and name in results and python and code and code not in made:
            raise PromoteError(
                f"{name} ({fn.get('address') or 'address unknown'}) ran with CodeSha256 {code}, which is "
                f"no zip the build made ({', '.join(sorted(artifacts))}): the tests ran code the build "
                "neither checked nor recorded, so nothing is attested. Run `lambda-harness build`, then "
                "`lambda-harness run` again; if it persists, check which file the function's filename / "
                "s3_key names"
            )
    return {name: deployed[name] for name in sorted(results) if deployed.get(name)}


def _portable(path: Path, project_dir: Path) -> str:
    """Relative to the project when inside it, so a CI job on another checkout can check it."""
    try:
        return path.resolve().relative_to(project_dir.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def attested_zip(settings: Settings, att: Attestation) -> Path:
    """The attested zip's path on this machine."""
    return settings.project_dir / att.zip_path


def write_attestation(
    settings: Settings,
    zip_path: Path,
    results: Mapping[str, object],
    exemptions: Exemptions | None = None,
) -> Path:
    """Write ``.harness/attestation.json`` atomically; returns its path."""
    path = attestation_path(settings)
    write_json_atomic(path, asdict(make_attestation(settings, zip_path, results, exemptions)))
    return path


def read_attestation(settings: Settings) -> Attestation:
    """Load the attestation; PromoteError saying how to make one when missing or unreadable."""
    path = attestation_path(settings)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Attestation(**data)  # formats 1-2 lack artifacts/functions/addresses: defaults apply
    except FileNotFoundError as exc:
        raise PromoteError(
            f"no attestation at {path}: nothing has been tested. Run `lambda-harness run` "
            "(build, apply, test) first; it writes the attestation when the tests finish."
        ) from exc
    except (OSError, ValueError, TypeError) as exc:
        raise PromoteError(f"{path} is unreadable ({exc}); run `lambda-harness run` again") from exc
