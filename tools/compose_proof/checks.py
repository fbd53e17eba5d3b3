"""What the proof checks from the host: zip equality, and a smoke run against the endpoint.

The full check (Terraform apply + one pytest case per event file) is the
pipeline's; the proof takes it as a ``HostTests`` hook. Without one, the
smoke check here still shows the containerized endpoint serves AWS APIs and
runs a handler from the container-built zip under its runtime's CPython.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lambda_harness.errors import ContainerError
from lambda_harness.fsutil import file_sha256
from lambda_harness.packaging.tfconfig import read_functions
from lambda_harness.settings import Settings, load_settings
from lambda_harness.testing.invoker import client_config, make_session
from lambda_harness.ui import UI

# (endpoint_url, project folder whose dists.zip the container built) -> raises on failure.
HostTests = Callable[[str, Path], None]

# Names that never belong in the proof's copy of the project, at any depth.
_SKIP_ANYWHERE = frozenset(
    {
        ".git",
        ".venv",
        ".nox",
        ".harness",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "__pycache__",
        ".terraform",
        "node_modules",
    }
)
# Build outputs at the top level only ("build" is also a package name under src/).
_SKIP_TOP = frozenset({"dists.zip", "dists.zip.json", "build", "dist", ".env"})
_SKIP_SUFFIXES = (".pyc", ".egg-info", ".tfstate", ".tfstate.backup")


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    return file_sha256(path).hex()


def copy_project(src: Path, dst: Path) -> Path:
    """Copy the worker repo without its venvs, caches, state and build outputs.

    The proof builds and applies in the copy: it never overwrites the user's
    dists.zip, and files the root-run containers write stay in the temp folder.
    """

    def ignore(folder: str, names: list[str]) -> set[str]:
        top = Path(folder).resolve() == src.resolve()
        return {
            n for n in names if n in _SKIP_ANYWHERE or (top and n in _SKIP_TOP) or n.endswith(_SKIP_SUFFIXES)
        }

    shutil.copytree(src, dst, ignore=ignore, symlinks=True)
    return dst


@dataclass(frozen=True)
class SmokeResult:
    """What the smoke check saw."""

    buckets: tuple[str, ...]
    function: str
    handler: str
    runtime: str
    function_error: str | None
    error_type: str | None


def smoke(endpoint_url: str, project_dir: Path, region: str = "us-east-1") -> SmokeResult:
    """S3 round trip, then one function from the project's dists.zip created and invoked.

    A handler that raises on an empty event still passes (it was imported and
    ran); ``Runtime.*`` errors (import failed, no interpreter) fail the smoke.
    """
    session = make_session(region)
    s3 = session.client("s3", endpoint_url=endpoint_url, config=client_config(60))
    s3.create_bucket(Bucket="lambda-harness-proof")
    s3.put_object(Bucket="lambda-harness-proof", Key="hello.txt", Body=b"hello")
    buckets = tuple(b["Name"] for b in s3.list_buckets()["Buckets"])
    functions = [f for f in read_functions(project_dir / "terraform") if f.handler]
    if not functions:
        raise ContainerError(f"{project_dir / 'terraform'}: no aws_lambda_function with a handler to run")
    fn = functions[0]
    runtime = fn.runtime or "python3.12"
    lam = session.client("lambda", endpoint_url=endpoint_url, config=client_config(120))
    name = f"proof-{fn.name or 'function'}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}
        ],
    }
    iam = session.client("iam", endpoint_url=endpoint_url, config=client_config(60))
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    spec: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": runtime,
        "Handler": str(fn.handler),
        "Timeout": 30,
        "Role": role,
        "Code": {"ZipFile": (project_dir / "dists.zip").read_bytes()},
    }
    lam.create_function(**spec)
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    response = lam.invoke(FunctionName=name, Payload=json.dumps({}).encode())
    payload = json.loads(response["Payload"].read() or b"null")
    error = response.get("FunctionError")
    error_type = payload.get("errorType") if error and isinstance(payload, dict) else None
    if error_type is not None and str(error_type).startswith(("Runtime.", "Sandbox.")):
        raise ContainerError(
            f"{fn.tf_file}: {name} ({fn.handler}, {runtime}) failed to run in the endpoint container: "
            f"{error_type}: {payload.get('errorMessage')}"
        )
    return SmokeResult(buckets, name, str(fn.handler), runtime, error, error_type)


@dataclass(frozen=True)
class ContainerBuilt:
    """The build stage's result when the zip came from the builder container (no host rebuild)."""

    zip_path: Path


def pipeline_tests(ui: UI) -> HostTests:
    """The real check as a ``HostTests`` hook: ``lambda-harness run`` against the container's endpoint.

    Terraform applies the project to the endpoint and pytest invokes every
    function with every event case, on the zip the builder container wrote
    (the build stage is replaced, so nothing rebuilds it on the host).
    """

    def run_tests(endpoint_url: str, project: Path) -> None:
        from lambda_harness import pipeline  # late: moto and terraform load only here

        settings = _settings_for(project, endpoint_url)
        zip_path = project / "dists.zip"
        stages = dataclasses.replace(pipeline.default_stages(), build=lambda _s, _u: ContainerBuilt(zip_path))
        report = pipeline.run(settings, ui, stages=stages)
        if not report.ok:
            raise ContainerError(
                f"lambda-harness run against the containerized endpoint {endpoint_url} failed: "
                + "; ".join(report.failures or ["see the table above"])
            )

    return run_tests


def _settings_for(project: Path, endpoint_url: str) -> Settings:
    parts = urlsplit(endpoint_url)
    return load_settings(project, {"host": parts.hostname, "port": parts.port})
