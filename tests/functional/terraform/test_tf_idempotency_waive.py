"""A non-empty second plan (issue 9, item 10): the hint offers only ``lambda-harness plan`` (the staged
plan with the harness's environment), never a command that could reach AWS; a diff the emulator
causes (CloudFront's Lambda@Edge association, which moto does not store) is told apart from a
configuration problem (a tag set from timestamp()); ``idempotency-waive`` takes named attributes out
of the check, and the run lists them and the attestation records them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from lambda_harness import cli
from support.tiny_repo import free_port, tiny_environ, write_tiny_repo

pytestmark = pytest.mark.slow

CHURN = """
resource "aws_s3_bucket" "churn" {
  bucket = "churn"
  tags   = { stamp = timestamp() }
}
"""

CDN = """
resource "aws_lambda_function" "edge" {
  function_name    = "edge"
  handler          = "hello.handler"
  runtime          = "python3.12"
  role             = aws_iam_role.fn.arn
  filename         = "${path.module}/../dists.zip"
  source_code_hash = filebase64sha256("${path.module}/../dists.zip")
  publish          = true
}

resource "aws_cloudfront_distribution" "cdn" {
  enabled             = true
  wait_for_deployment = false
  origin {
    domain_name = "example.com"
    origin_id   = "web"
    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
  }
  default_cache_behavior {
    target_origin_id       = "web"
    viewer_protocol_policy = "redirect-to-https"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    forwarded_values {
      query_string = false
      cookies {
        forward = "none"
      }
    }
    lambda_function_association {
      event_type = "viewer-request"
      lambda_arn = aws_lambda_function.edge.qualified_arn
    }
  }
  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }
  viewer_certificate {
    cloudfront_default_certificate = true
  }
}
"""

WAIVE = [
    "aws_cloudfront_distribution.cdn.default_cache_behavior.lambda_function_association",
    "aws_cloudfront_distribution.cdn.viewer_certificate.ssl_support_method",
    "aws_s3_bucket.churn.tags",
    "aws_s3_bucket.churn.tags_all",
]


def test_perpetual_diffs_are_explained_inspected_with_lambda_harness_plan_and_waived_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform not installed")
    for name in [k for k in os.environ if k.startswith(("AWS_", "LAMBDA_HARNESS_"))]:
        monkeypatch.delenv(name)
    for name, value in tiny_environ().items():
        monkeypatch.setenv(name, value)
    repo = write_tiny_repo(tmp_path / "repo", extra_tf=CHURN + CDN)
    (repo / "tests" / "integration" / "events" / "edge").mkdir()
    (repo / "tests" / "integration" / "events" / "edge" / "default.json").write_text("{}")
    monkeypatch.chdir(repo)
    port = ["--port", str(free_port())]
    try:
        assert cli.main(["apply", *port]) == 1
        err = capsys.readouterr().err
        cdn = next(line for line in err.splitlines() if "aws_cloudfront_distribution.cdn" in line)
        assert "caused by the emulator" in cdn and "Lambda@Edge" in cdn
        churn = next(line for line in err.splitlines() if "perpetual diff: aws_s3_bucket.churn" in line)
        assert "emulator" not in churn
        assert "Fix the configuration" in err and "idempotency-waive = [" in err
        assert "Inspect with: lambda-harness plan" in err
        assert "cd " not in err and "terraform plan" not in err.replace("terraform plan (", "")

        assert cli.main(["plan", *port]) == 1
        out = capsys.readouterr().out
        assert "# aws_s3_bucket.churn will be updated in-place" in out
        assert "+ lambda_function_association {" in out

        waivers = ", ".join(json.dumps(w) for w in WAIVE)
        (repo / "pyproject.toml").write_text(f"[tool.lambda-harness]\nidempotency-waive = [{waivers}]\n")
        assert cli.main(["plan", *port]) == 0
        # Only a from-scratch apply is attested: the run gets an endpoint of its own.
        assert cli.main(["run", "--port", str(free_port())]) == 0, capsys.readouterr().err
        err = capsys.readouterr().err
        for waiver in WAIVE:
            assert f"idempotency check: {waiver} changes on every plan and is waived" in err
        attestation = json.loads((repo / ".harness" / "attestation.json").read_text())
        assert sorted(attestation["idempotency_waived"]) == sorted(WAIVE)
    finally:
        cli.main(["down", *port])
