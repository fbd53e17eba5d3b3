"""Acceptance, end to end through the CLI: a broken handler fails `run` and `smoke` with a message
that points at the cause.

One tiny worker repo in the layout many teams have (flat handler modules, ``filename = "dists.zip"``
inside terraform/, a Pipfile.lock), no SQS queue (each costs ~25 s of provider waiting). Five
functions: one fine, one returning the wrong value, one raising, one importing a dependency the
lock does not carry, one whose top-level code raises; plus a failing hand-written test. The CLI
runs from another folder with ``--project``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_harness.endpoint.ports import free_port

MAIN_TF = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
  backend "s3" {
    bucket = "real-state-never-touched"
    key    = "tiny/terraform.tfstate"
    region = "us-west-2"
  }
}

provider "aws" {
  region = "us-west-2"
}

resource "aws_iam_role" "lambda" {
  name = "tiny-lambda"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}
"""

FUNCTION_TF = """
resource "aws_lambda_function" "{name}" {{
  function_name    = "{name}"
  filename         = "dists.zip"
  source_code_hash = filebase64sha256("dists.zip")
  handler          = "lambda_{name}.handler"
  runtime          = "python3.12"
  role             = aws_iam_role.lambda.arn
}}
"""

HANDLERS = {
    "fine": "def handler(event, context):\n    return {'ok': True, 'n': event.get('n')}\n",
    "wrong": "def handler(event, context):\n    return {'total': 41}\n",
    "raises": ("def handler(event, context):\n    raise ValueError('amount must be positive, got -1')\n"),
    "needs_dep": "import orjson\n\n\ndef handler(event, context):\n    return orjson.dumps(event).decode()\n",
    "bad_init": (
        "import os\n\nTABLE = os.environ['CONFIG_TABLE']\n\n\n"
        "def handler(event, context):\n    return {'table': TABLE}\n"
    ),
}

EXPECTED = {
    "fine": {"ok": True, "n": 1},
    "wrong": {"total": 42},
    "raises": {},
    "needs_dep": {},
    "bad_init": {},
}

HAND_WRITTEN = """
def test_fine_echoes(invoke):
    inv = invoke("fine", {"n": 2})
    assert inv.payload == {"ok": True, "n": 3}, "fine must add one"
"""

PIPFILE_LOCK = {
    "_meta": {"hash": {"sha256": "0"}, "pipfile-spec": 6, "requires": {}, "sources": []},
    "default": {},
    "develop": {"pytest": {"version": "==8.3.0"}},
}


def write_tiny_repo(root: Path) -> Path:
    (root / "terraform").mkdir(parents=True)
    (root / "functions").mkdir()
    (root / "terraform" / "main.tf").write_text(MAIN_TF)
    for name, code in HANDLERS.items():
        (root / "functions" / f"lambda_{name}.py").write_text(code)
        (root / "terraform" / f"lambda_{name}.tf").write_text(FUNCTION_TF.format(name=name))
        cases = root / "tests" / "integration" / "events" / name
        cases.mkdir(parents=True)
        (cases / "default.json").write_text(json.dumps({"n": 1}))
        (cases / "default.expected.json").write_text(json.dumps(EXPECTED[name]))
    (root / "tests" / "integration" / "test_tiny_hand_written.py").write_text(HAND_WRITTEN)
    (root / "Pipfile.lock").write_text(json.dumps(PIPFILE_LOCK))
    return root


def cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_HARNESS_")}
    env["CI"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "lambda_harness", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.mark.slow
def test_run_and_smoke_point_at_each_broken_function(tmp_path: Path) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform not installed")
    repo = write_tiny_repo(tmp_path / "worker")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    done = cli(["run", "--project", str(repo), "--port", str(free_port())], elsewhere)

    out = done.stderr + done.stdout
    assert done.returncode == 1, out
    # Handler tracebacks appear indented inside log excerpts; the harness itself must not crash.
    assert not [ln for ln in done.stderr.splitlines() if ln.startswith("Traceback")], done.stderr
    assert (repo / "terraform" / "dists.zip").is_file() and not (repo / "dists.zip").exists()
    # Each failure, then a last line that says the run failed and why, is marked "failed:".
    verdict = done.stderr.strip().splitlines()[-1]
    assert verdict.startswith("failed: ") and "problem(s), not attested: " in verdict, done.stderr
    assert "wrong/default: $.total: expected 42, got 41" in verdict
    assert "failed: raises/default: handler failed: ValueError" in done.stderr
    # (c) a wrong value: the path, the expected and the actual value.
    assert "wrong/default: $.total: expected 42, got 41" in out
    # (c) an exception: its type and message, and the line in functions/, not in the runtime's copy.
    assert "raises/default: handler failed: ValueError: amount must be positive, got -1" in out
    assert 'File "functions/lambda_raises.py", line 2, in handler' in out
    # (b) a dependency missing from the lock: the module and where to add it.
    assert "needs_dep/default: handler failed: Runtime.ImportModuleError" in out
    # The zip this repo really has (terraform/dists.zip) and its functions folder (the zip root).
    assert "fix: 'orjson' is not in terraform/dists.zip" in out and "Pipfile.lock" in out
    assert "it belongs under functions/ (the zip root)" in out
    # Top-level code that raises at import: the error, and that it happened at init.
    assert "bad_init/default: handler failed: KeyError: 'CONFIG_TABLE'" in out
    assert "top-level code raised KeyError while it was imported" in out
    # A failing hand-written test is named, with its assertion.
    assert "test_tiny_hand_written.py::test_fine_echoes: AssertionError: fine must add one" in out
    assert "LAMBDA_WARNING" not in out
    assert not (repo / ".harness" / "attestation.json").exists()
    results = json.loads((repo / ".harness" / "results.json").read_text())
    assert (results["functions"]["fine"]["passed"], results["functions"]["fine"]["failed"]) == (1, 0)

    smoke = cli(["smoke", "--project", str(repo), "--port", str(free_port())], elsewhere)

    assert smoke.returncode == 1, smoke.stderr
    failed = sorted(
        ln for ln in smoke.stderr.splitlines() if ln.startswith("failed: ") and "(declared in" in ln
    )
    assert len(failed) == 2, smoke.stderr
    assert "bad_init: KeyError: 'CONFIG_TABLE'" in failed[0] and "lambda_bad_init.tf" in failed[0]
    assert "needs_dep: Runtime.ImportModuleError" in failed[1]
    assert "terraform/lambda_needs_dep.tf" in failed[1]
    assert "'orjson' is not in terraform/dists.zip" in failed[1]
