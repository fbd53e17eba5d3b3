"""Runtimes the installed provider rejects, set through variables (follow-up 7), with real terraform.

``terraform validate`` does not evaluate variables: ``runtime = var.runtime`` with a default of
``python3.14`` passed ``build`` and failed only at the apply. ``check_runtimes`` now validates
each new runtime as a literal too and names every function that evaluates to it; inside a
module, the discovery plan's own error is turned into the same sentence.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_harness.errors import TerraformError
from lambda_harness.terraform import discovery
from lambda_harness.terraform.runtimes import PROBE_FILE, check_runtimes
from lambda_harness.ui import PlainUI
from support.terraform import PROVIDER, copy_repo, harness_environ, make_settings, write_project

pytestmark = pytest.mark.slow

ROOT = (
    PROVIDER
    + """
variable "runtime" {
  default = "python3.12"
}

resource "aws_lambda_function" "hello" {
  function_name = "hello"
  role          = "arn:aws:iam::123456789012:role/r"
  handler       = "hello.handler"
  runtime       = var.runtime
  filename      = "../dists.zip"
}
"""
)


def test_a_runtime_from_a_variable_is_checked_before_the_build(tmp_path: Path) -> None:
    repo = write_project(tmp_path / "repo", {"main.tf": ROOT})
    tfvars = repo / "tests" / "integration" / "harness.tfvars"
    tfvars.parent.mkdir(parents=True)
    tfvars.write_text('runtime = "python3.14"\n')  # the harness's tfvars count too
    with pytest.raises(TerraformError) as caught:
        check_runtimes(make_settings(repo), PlainUI(io.StringIO()), environ=harness_environ())
    message = str(caught.value)
    assert message.startswith(
        "terraform/main.tf:20 (runtime = var.runtime): runtime python3.14 is not accepted by hashicorp/aws"
    )
    assert "or use python3.13" in message and PROBE_FILE not in message
    assert not list(repo.rglob(PROBE_FILE))  # the probe lives in the staged copy, for validate only
    tfvars.write_text('runtime = "python3.13"\n')
    check_runtimes(make_settings(repo), PlainUI(io.StringIO()), environ=harness_environ())


def test_a_runtime_inside_a_module_is_named_from_the_discovery_plan(moto_url: str, tmp_path: Path) -> None:
    repo = copy_repo("module_for_each", tmp_path / "repo")
    variables = repo / "terraform" / "modules" / "lambda" / "variables.tf"
    variables.write_text(variables.read_text().replace('"python3.12"', '"python3.14"'))

    @contextlib.contextmanager
    def endpoint() -> Iterator[str]:
        yield moto_url

    settings = make_settings(repo)
    check_runtimes(settings, PlainUI(io.StringIO()), environ=harness_environ())  # sees no function
    with pytest.raises(TerraformError, match=r"runtime python3.14 is not accepted by hashicorp/aws"):
        discovery.discover(settings, PlainUI(io.StringIO()), endpoint)
