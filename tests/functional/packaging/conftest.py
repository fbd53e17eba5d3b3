"""Fixtures for build tests: a local wheelhouse of hand-made wheels, a hermetic pip, worker repos.

The wheels are real wheels (zips with dist-info), built here so the tests need
no network and no index; pip runs for real with ``--no-index --find-links``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_harness.packaging.wheels import PipInstaller
from lambda_harness.settings import Settings, load_settings
from lambda_harness.ui import RecordingUI
from support.wheels import make_wheel


def _native(arch: str) -> list[str]:
    return [f"cp312-cp312-manylinux_2_17_{arch}", f"cp312-cp312-manylinux2014_{arch}"]


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """nativepkg (x86_64 + aarch64 manylinux), purepkg (py3-none-any), macpkg (macOS arm64 only)."""
    folder = tmp_path_factory.mktemp("wheelhouse")
    for arch in ("x86_64", "aarch64"):
        make_wheel(
            folder,
            "nativepkg",
            "1.0",
            _native(arch),
            {
                "nativepkg/__init__.py": b"from nativepkg._native import *  # noqa\n",
                f"nativepkg/_native.cpython-312-{arch}-linux-gnu.so": f"ELF {arch} dummy".encode() * 50,
            },
        )
    make_wheel(
        folder,
        "purepkg",
        "1.0",
        ["py3-none-any"],
        {
            "purepkg/__init__.py": b"VALUE = 42\n",
            "purepkg/data/table.txt": b"x" * 5000,
        },
    )
    make_wheel(
        folder,
        "macpkg",
        "1.0",
        ["cp312-cp312-macosx_11_0_arm64"],
        {
            "macpkg/__init__.py": b"",
            "macpkg/_m.cpython-312-darwin.so": b"macho",
        },
    )
    return folder


@pytest.fixture
def pip_env(wheelhouse: Path, tmp_path: Path) -> dict[str, str]:
    """An environment for pip that sees only the wheelhouse (no /etc/pip.conf, no index)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
        "PIP_CACHE_DIR": str(tmp_path / "pip-cache"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


@pytest.fixture
def installer(pip_env: dict[str, str]) -> PipInstaller:
    """The real pip installer, isolated to the wheelhouse; ``.runs`` counts pip runs."""
    return PipInstaller(python=sys.executable, env=pip_env)


S3_MAIN = """
resource "aws_s3_bucket" "artifacts" {
  bucket = "artifacts"
}

resource "aws_s3_object" "dists" {
  bucket      = aws_s3_bucket.artifacts.id
  key         = "lambda/dists.zip"
  source      = "${path.module}/../dists.zip"
  source_hash = filemd5("${path.module}/../dists.zip")
}
"""

FUNCTION_TF = """
resource "aws_lambda_function" "{name}" {{
  function_name    = "{name}"
  role             = "arn:aws:iam::000000000000:role/lambda"
  handler          = "{handler}"
  runtime          = "{runtime}"
  architectures    = ["{arch}"]
{code}
}}
"""

S3_CODE = """  s3_bucket        = aws_s3_bucket.artifacts.id
  s3_key           = aws_s3_object.dists.key
  source_code_hash = filebase64sha256("${path.module}/../dists.zip")"""

FILENAME_CODE = """  filename         = "dists.zip"
  source_code_hash = filebase64sha256("dists.zip")"""


def write_repo(
    root: Path,
    *,
    names: tuple[str, ...] = ("alpha", "beta"),
    layout: str = "package",
    tf: str = "s3",
    runtime: str = "python3.12",
    arch: str = "x86_64",
    requirements: str | None = "nativepkg==1.0\npurepkg==1.0\n",
    handlers: dict[str, str] | None = None,
    order: Callable[[list[str]], list[str]] = lambda x: x,
) -> Path:
    """A worker repo: functions/ (flat or package handlers + shared lib), terraform/, requirements.txt."""
    files: dict[str, str] = {
        "functions/shared_lib/__init__.py": "def greet(name):\n    return f'hello {name}'\n",
        "functions/tests/test_ignored.py": "def test_x():\n    pass\n",
        "functions/requirements.txt": "# dev only\n",
        "functions/.hidden": "secret\n",
    }
    tf_files: dict[str, str] = {"terraform/main.tf": S3_MAIN if tf == "s3" else ""}
    for name in names:
        body = f"from shared_lib import greet\n\n\ndef handler(event, context):\n    return greet('{name}')\n"
        if layout == "package":
            files[f"functions/{name}/__init__.py"] = ""
            files[f"functions/{name}/app.py"] = body
            default_handler = f"{name}.app.handler"
        else:
            files[f"functions/lambda_{name}.py"] = body
            default_handler = f"lambda_{name}.handler"
        handler = (handlers or {}).get(name, default_handler)
        code = S3_CODE if tf == "s3" else FILENAME_CODE
        tf_files[f"terraform/lambda_{name}.tf"] = FUNCTION_TF.format(
            name=name, handler=handler, runtime=runtime, arch=arch, code=code
        )
    files.update(tf_files)
    if requirements is not None:
        files["requirements.txt"] = requirements
    for rel in order(sorted(files)):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[rel], encoding="utf-8")
    return root


def settings_for(project: Path, cache: Path, **cli: object) -> Settings:
    """Settings for a test repo with its own cache dir and no ambient environment."""
    return load_settings(project, {"cache_dir": cache, **cli}, environ={"HOME": str(project)})


def cli_build(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``lambda-harness build`` for ``project`` in a child process with exactly ``env``."""
    return subprocess.run(
        [sys.executable, "-m", "lambda_harness", "build", "--project", str(project)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def run_cli() -> Callable[[Path, dict[str, str]], subprocess.CompletedProcess[str]]:
    """``cli_build`` as a fixture."""
    return cli_build


@pytest.fixture
def ui() -> RecordingUI:
    return RecordingUI()


@pytest.fixture
def make_repo() -> Callable[..., Path]:
    """``write_repo`` as a fixture (test modules cannot import conftest reliably)."""
    return write_repo


@pytest.fixture
def make_settings() -> Callable[..., Settings]:
    """``settings_for`` as a fixture."""
    return settings_for
