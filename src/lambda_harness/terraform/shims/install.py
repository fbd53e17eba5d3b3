"""Put the archive shim where ``terraform init`` finds it: a filesystem mirror under ``.harness/``.

Terraform installs ``registry.terraform.io/lambda-harness/archive`` from
``.harness/providers/registry.terraform.io/lambda-harness/archive/<version>/<os>_<arch>/``: a
two-line launcher that runs this interpreter on ``lambda_harness.terraform.shims.archive``. The
harness's CLI config lists the folder as a mirror for ``lambda-harness/*`` only.
"""

from __future__ import annotations

import platform
import shlex
import sys
from pathlib import Path

from lambda_harness.terraform.mirror import Mirror

ADDRESS = "registry.terraform.io/lambda-harness/archive"
SOURCE = "lambda-harness/archive"
#: The shim's schema version, not the harness's: the staged lock records it.
VERSION = "0.1.0"


def platform_dir() -> str:
    """``linux_amd64``, ``darwin_arm64``: Terraform's name for this machine."""
    machine = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    return f"{platform.system().lower()}_{machine}"


def launcher_text(python: str) -> str:
    return f'#!/bin/sh\nexec {shlex.quote(python)} -m lambda_harness.terraform.shims.archive "$@"\n'


def install(providers_dir: Path, python: str | None = None) -> Mirror:
    """Write (or keep) the launcher; the mirror that holds it."""
    folder = providers_dir / ADDRESS / VERSION / platform_dir()
    launcher = folder / f"terraform-provider-archive_v{VERSION}"
    text = launcher_text(python or sys.executable)
    if not launcher.is_file() or launcher.read_text(encoding="utf-8") != text:
        folder.mkdir(parents=True, exist_ok=True)
        launcher.write_text(text, encoding="utf-8")
    launcher.chmod(0o755)
    return Mirror(providers_dir, (ADDRESS,))
