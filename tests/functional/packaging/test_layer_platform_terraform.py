"""A layer is built for the functions that use it, read through a real Terraform plan (explore P-B2).

Terraform returns ``compatible_architectures`` as a sorted set: ``["x86_64", "arm64"]`` comes back
``["arm64", "x86_64"]``. The layer below serves only x86_64 functions (declared in a local module,
so the build reads them from the plan) and must hold the x86_64 build of its native wheel.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_harness.errors import BuildError
from lambda_harness.packaging.builder import Builder
from lambda_harness.packaging.wheels import PipInstaller
from lambda_harness.settings import load_settings
from lambda_harness.terraform import discovery
from lambda_harness.ui import PlainUI, RecordingUI
from support.wheels import make_wheel

pytestmark = pytest.mark.slow

ROOT_TF = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}

provider "aws" {
  region = "us-east-1"
}

resource "aws_lambda_layer_version" "shared" {
  layer_name               = "geo-shared"
  filename                 = "${path.module}/../build/shared.zip"
  compatible_runtimes      = ["python3.12"]
  compatible_architectures = ["x86_64", "arm64"]
}

module "function" {
  source   = "./modules/function"
  for_each = { export = "%(export)s", enrich = "x86_64" }

  name         = "geo-${each.key}"
  architecture = each.value
  layers       = [aws_lambda_layer_version.shared.arn]
}
"""

MODULE_TF = """
variable "name" { type = string }
variable "architecture" { type = string }
variable "layers" { type = list(string) }

resource "aws_lambda_function" "this" {
  function_name = var.name
  role          = "arn:aws:iam::000000000000:role/lambda"
  handler       = "main.handler"
  runtime       = "python3.12"
  architectures = [var.architecture]
  filename      = "${path.module}/../../../build/${trimprefix(var.name, "geo-")}.zip"
  layers        = var.layers
}
"""


@pytest.fixture(scope="module")
def orjson_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """orjson for CPython 3.12 on both Lambda CPUs, hand-made (no index here)."""
    folder = tmp_path_factory.mktemp("orjson-wheels")
    for machine in ("x86_64", "aarch64"):
        make_wheel(
            folder,
            "orjson",
            "3.10.7",
            [f"cp312-cp312-manylinux_2_17_{machine}", f"cp312-cp312-manylinux2014_{machine}"],
            {
                "orjson/__init__.py": b"from .orjson import *\n",
                f"orjson/orjson.cpython-312-{machine}-linux-gnu.so": f"ELF {machine}".encode(),
            },
        )
    return folder


def repo(root: Path, export_arch: str) -> Path:
    (root / "terraform" / "modules" / "function").mkdir(parents=True)
    (root / "terraform" / "main.tf").write_text(ROOT_TF % {"export": export_arch})
    (root / "terraform" / "modules" / "function" / "main.tf").write_text(MODULE_TF)
    for name in ("export", "enrich"):
        (root / "functions" / name).mkdir(parents=True)
        handler = "import orjson\n\n\ndef handler(e, c):\n    return 1\n"
        (root / "functions" / name / "main.py").write_text(handler)
    (root / "layers" / "shared").mkdir(parents=True)
    (root / "layers" / "shared" / "requirements.txt").write_text("orjson==3.10.7\n")
    return root


def build(root: Path, wheels: Path, moto_url: str) -> Builder:
    settings = load_settings(root, {"cache_dir": root / "cache"}, {"HOME": str(root)})

    @contextlib.contextmanager
    def endpoint() -> Iterator[str]:
        yield moto_url

    config = discovery.discover(settings, PlainUI(io.StringIO()), endpoint)
    assert config is not None  # a local module: the build reads the plan
    assert config.layers[0].compatible_architectures == ("arm64", "x86_64")  # sorted by Terraform
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheels),
        "PIP_CACHE_DIR": str(root / "pip-cache"),
    }
    builder = Builder(
        settings, RecordingUI(), installer=PipInstaller(python=sys.executable, env=env), config=config
    )
    builder.build()
    return builder


def test_a_layer_listing_both_cpus_is_built_for_its_x86_64_users(
    tmp_path: Path, orjson_wheels: Path, moto_url: str
) -> None:
    root = repo(tmp_path / "geo", "x86_64")
    builder = build(root, orjson_wheels, moto_url)
    with zipfile.ZipFile(root / "build" / "shared.zip") as zf:
        names = zf.namelist()
    assert "python/orjson/orjson.cpython-312-x86_64-linux-gnu.so" in names
    assert not [n for n in names if "aarch64" in n]
    assert builder.warnings == []


def test_native_layer_users_on_two_cpus_fail_the_build_naming_them(
    tmp_path: Path, orjson_wheels: Path, moto_url: str
) -> None:
    root = repo(tmp_path / "geo", "arm64")
    with pytest.raises(BuildError) as err:
        build(root, orjson_wheels, moto_url)
    message = str(err.value)
    assert message.startswith("terraform/main.tf:12: aws_lambda_layer_version.shared is used by functions")
    assert "python3.12/arm64: geo-export; python3.12/x86_64: geo-enrich" in message
    assert "orjson-3.10.7" in message and "split the layer per platform" in message
    assert not (root / "build" / "shared.zip").exists()  # nothing half-built is left in place
