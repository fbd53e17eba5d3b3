"""A minimal worker repo for functional tests that run real commands (build, apply, run): one IAM
role, Python functions deployed from ``dists.zip`` by ``filename``, one event case each.

Small on purpose: a function with ``filename`` costs Terraform's fixed 5 s wait, a queue ~25 s.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

PROVIDER = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}

provider "aws" {
  region = "us-east-1"
}

resource "aws_iam_role" "fn" {
  name = "tiny-fn"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{
      Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}
"""

FUNCTION = """
resource "aws_lambda_function" "{name}" {{
  function_name    = "{name}"
  handler          = "{handler}"
  runtime          = "{runtime}"
  role             = aws_iam_role.fn.arn
  filename         = "${{path.module}}/../dists.zip"
  source_code_hash = filebase64sha256("${{path.module}}/../dists.zip")
  timeout          = 30
{environment}}}
"""

HANDLER = """
def handler(event, context):
    return {"ok": True, "event": event}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_tiny_repo(
    root: Path,
    functions: tuple[str, ...] = ("hello",),
    *,
    other_runtimes: dict[str, str] | None = None,
    extra_tf: str = "",
    pyproject: str = "",
    handler_source: str = HANDLER,
    environment: dict[str, str] | None = None,
    tests: dict[str, str] | None = None,
) -> Path:
    """``root`` as a worker repo: each name in ``functions`` is a Python function with one passing
    case; ``other_runtimes`` (name -> runtime) are deployed too, with no code the harness can run;
    ``environment`` is every function's variables; ``tests`` are hand-written test files
    (name -> source) under tests/integration/."""
    (root / "functions").mkdir(parents=True)
    (root / "terraform").mkdir()
    events = root / "tests" / "integration" / "events"
    tf = [PROVIDER]
    env_block = ""
    if environment:
        assignments = "".join(f"      {k} = {json.dumps(v)}\n" for k, v in environment.items())
        env_block = f"  environment {{\n    variables = {{\n{assignments}    }}\n  }}\n"
    for name in functions:
        (root / "functions" / f"{name}.py").write_text(handler_source)
        tf.append(
            FUNCTION.format(name=name, handler=f"{name}.handler", runtime="python3.12", environment=env_block)
        )
        (events / name).mkdir(parents=True)
        (events / name / "default.json").write_text(json.dumps({"hello": name}))
    for name, runtime in (other_runtimes or {}).items():
        tf.append(FUNCTION.format(name=name, handler="index.handler", runtime=runtime, environment=""))
    for file_name, source in (tests or {}).items():
        (root / "tests" / "integration" / file_name).write_text(source)
    tf.append(extra_tf)
    (root / "terraform" / "main.tf").write_text("\n".join(tf))
    (root / "requirements.txt").write_text("")
    if pyproject:
        (root / "pyproject.toml").write_text(pyproject)
    return root


def tiny_environ(**extra: str) -> dict[str, str]:
    """The caller's environment without AWS_*, LAMBDA_HARNESS_* and proxy variables, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "LAMBDA_HARNESS_")) and k.upper() not in ("HTTP_PROXY", "HTTPS_PROXY")
    }
    env.update(extra)
    return env
