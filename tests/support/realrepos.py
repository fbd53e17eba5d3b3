"""Helpers for the real-repo fixtures (tests/fixtures/repos/<pattern>/): copy, vendor wheels, run the CLI.

Each fixture is a small worker repo written the way teams write them (root Terraform, modules,
archive_file, per-function zips, layers, ...). A test copies it to a temporary folder, writes the
hand-made wheels its lock files name into ``wheels/`` (so pip needs no index), and runs the real
``lambda-harness`` command in a child process, the way a user would.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from support.wheels import pure_wheel

REPOS = Path(__file__).resolve().parents[1] / "fixtures" / "repos"
PLUGIN_DIR = os.environ.get("LAMBDA_HARNESS_TF_PLUGIN_DIR", "/opt/tf-plugins")

#: The vendored packages the fixtures' locks name: name -> (version, {file: text}).
WHEELS: dict[str, tuple[str, dict[str, str]]] = {
    "orders-money": (
        "1.2.0",
        {
            "orders_money/__init__.py": (
                "from decimal import Decimal\n\n\ndef cents(text):\n"
                "    return int(Decimal(str(text)) * 100)\n"
            )
        },
    ),
    "orders-ids": (
        "0.4.1",
        {"orders_ids/__init__.py": "def order_key(order_id):\n    return order_id.upper()\n"},
    ),
    "lhtest-ledger": (
        "1.0.3",
        {"lhtest_ledger/__init__.py": "def post(kind, amount):\n    return f'{kind}:{amount}'\n"},
    ),
    "shared-geo": (
        "2.0.0",
        {"shared_geo/__init__.py": "REGIONS = ('eu-west-1', 'us-east-1')\n"},
    ),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def copy_repo(name: str, dst: Path) -> Path:
    """A copy of tests/fixtures/repos/<name> with its vendored wheels written into wheels/ (and,
    for the layers fixture, the prebuilt layer zip it ships)."""
    src = REPOS / name
    if not any(src.iterdir()):
        raise FileNotFoundError(f"empty fixture {src}")
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".harness", "build", "__pycache__", ".terraform"))
    for package, (version, files) in WHEELS.items():
        pure_wheel(dst / "wheels", package, version, files)
    if name == "layers":
        prebuilt_layer(dst / "layers" / "vendor.zip", "shared_geo", WHEELS["shared-geo"][1])
    return dst


def prebuilt_layer(path: Path, package: str, files: dict[str, str]) -> Path:
    """A layer zip as a team builds it by hand: packages under python/lib/python3.12/site-packages/."""
    site = "python/lib/python3.12/site-packages/"
    with zipfile.ZipFile(path, "w") as zf:
        for rel, text in sorted(files.items()):
            zf.writestr(zipfile.ZipInfo(site + rel, (2024, 5, 1, 12, 0, 0)), text)
    return path


def cli_env(**extra: str) -> dict[str, str]:
    """What a user's shell holds: PATH, HOME, the provider mirror, the shared harness cache."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LAMBDA_HARNESS_TF_PLUGIN_DIR": PLUGIN_DIR,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    for name in ("XDG_CACHE_HOME", "PIP_FIND_LINKS", "PIP_CERT", "PIP_INDEX_URL", "TMPDIR", "PYENV_ROOT"):
        if name in os.environ:
            env[name] = os.environ[name]
    env.update(extra)
    return env


@dataclass(frozen=True)
class CliRun:
    """One ``lambda-harness`` command: exit code, output, wall time."""

    args: tuple[str, ...]
    returncode: int
    output: str
    seconds: float

    def __str__(self) -> str:
        return (
            f"lambda-harness {' '.join(self.args)} -> {self.returncode} ({self.seconds:.1f} s)\n{self.output}"
        )


def run_cli(project: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600) -> CliRun:
    """``python -m lambda_harness <args> --project <project>`` with a free port, in a child process."""
    argv = [*args, "--project", str(project)]
    if args and args[0] in ("run", "apply", "smoke"):
        argv += ["--port", str(free_port())]
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "lambda_harness", *argv],
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return CliRun(tuple(argv), done.returncode, done.stdout + done.stderr, time.monotonic() - start)
