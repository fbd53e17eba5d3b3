"""Static Terraform reading: where the zip goes, runtimes, handlers, line numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_harness.errors import BuildError, ConfigError
from lambda_harness.packaging import tfconfig
from lambda_harness.settings import load_settings


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "functions").mkdir(exist_ok=True)
    return root


def settings(root: Path, **cli: object):
    return load_settings(root, {"cache_dir": root / ".cache", **cli}, environ={"HOME": str(root)})


FN = """
resource "aws_lambda_function" "{name}" {{
  function_name = "{name}"
  handler       = "{name}.app.handler"
  runtime       = "python3.11"
  {code}
}}
"""


def test_reads_function_attributes_and_lines(tmp_path):
    write(
        tmp_path,
        {
            "terraform/lambda_a.tf": "# header\n"
            + FN.format(name="a", code='filename = "x.zip"').replace(
                "runtime", 'memory_size = 256\n  timeout = 30\n  architectures = ["arm64"]\n  runtime'
            )
        },
    )
    (fn,) = tfconfig.read_functions(tmp_path / "terraform")
    assert fn.address == "aws_lambda_function.a" and fn.name == "a"
    assert fn.handler == "a.app.handler" and fn.runtime == "python3.11"
    assert fn.architectures == ("arm64",) and fn.memory_size == 256 and fn.timeout == 30
    assert fn.line == 3 and fn.handler_line == 5
    assert fn.filename == tmp_path / "terraform" / "x.zip"


def test_filename_with_path_module_and_hash_wrappers(tmp_path):
    code = 'filename = "${path.module}/../build/dists.zip"\n  source_code_hash = filebase64sha256("x")'
    write(tmp_path, {"terraform/main.tf": FN.format(name="a", code=code)})
    assert tfconfig.find_dist_target(settings(tmp_path)).path == tmp_path / "build" / "dists.zip"


def test_s3_object_source_through_filemd5_and_locals(tmp_path):
    write(
        tmp_path,
        {
            "terraform/main.tf": """
locals {
  zip = "${path.module}/../out/dists.zip"
}
resource "aws_s3_object" "code" {
  bucket      = "b"
  key         = "code.zip"
  source      = local.zip
  source_hash = filemd5(local.zip)
}
""",
            "terraform/fn.tf": FN.format(name="a", code='s3_bucket = "b"\n  s3_key = aws_s3_object.code.key'),
        },
    )
    target = tfconfig.find_dist_target(settings(tmp_path))
    assert target.path == tmp_path / "out" / "dists.zip"
    assert target.direct_upload is False
    assert "aws_lambda_function.a" in target.reason


def test_s3_key_literal_matches_object_key_and_var_defaults(tmp_path):
    write(
        tmp_path,
        {
            "terraform/main.tf": """
variable "dist" {
  default = "../dists.zip"
}
resource "aws_s3_object" "code" {
  bucket = "b"
  key    = "lambda/code.zip"
  source = var.dist
}
""",
            "terraform/fn.tf": FN.format(name="a", code='s3_bucket = "b"\n  s3_key = "lambda/code.zip"'),
        },
    )
    assert tfconfig.find_dist_target(settings(tmp_path)).path == tmp_path / "dists.zip"


def test_tfvars_override_variable_defaults(tmp_path):
    write(
        tmp_path,
        {
            "terraform/main.tf": 'variable "zip" {\n  default = "a.zip"\n}\n'
            + FN.format(name="a", code="filename = var.zip"),
            "terraform/terraform.tfvars": 'zip = "b.zip"\n',
        },
    )
    assert tfconfig.find_dist_target(settings(tmp_path)).path == tmp_path / "terraform" / "b.zip"


def test_unresolvable_expression_falls_back_with_a_note(tmp_path):
    write(
        tmp_path,
        {"terraform/main.tf": FN.format(name="a", code="filename = data.archive_file.x.output_path")},
    )
    target = tfconfig.find_dist_target(settings(tmp_path))
    assert target.path == tmp_path / "dists.zip"
    assert any("cannot be resolved statically" in n for n in target.notes)
    assert any("set dist under [tool.lambda-harness]" in n for n in target.notes)
    assert target.direct_upload is True


def test_dist_setting_wins(tmp_path):
    write(tmp_path, {"terraform/main.tf": FN.format(name="a", code='filename = "x.zip"')})
    assert (
        tfconfig.find_dist_target(settings(tmp_path, dist=tmp_path / "custom.zip")).path
        == tmp_path / "custom.zip"
    )


def test_no_terraform_means_default(tmp_path):
    write(tmp_path, {})
    assert tfconfig.find_dist_target(settings(tmp_path)).path == tmp_path / "dists.zip"


def test_functions_pointing_at_different_zips_is_an_error(tmp_path):
    write(
        tmp_path,
        {
            "terraform/main.tf": FN.format(name="a", code='filename = "one.zip"')
            + FN.format(name="b", code='filename = "two.zip"')
        },
    )
    with pytest.raises(BuildError, match="functions reference different zips"):
        tfconfig.find_dist_target(settings(tmp_path))


def test_unresolved_names_are_none(tmp_path):
    write(
        tmp_path,
        {
            "terraform/main.tf": """
resource "aws_lambda_function" "a" {
  function_name = "svc-${var.env}"
  handler       = var.handler
  runtime       = "python3.12"
  timeout       = var.timeout
}
"""
        },
    )
    (fn,) = tfconfig.read_functions(tmp_path / "terraform")
    assert fn.name is None and fn.handler is None and fn.timeout is None
    assert fn.label == "aws_lambda_function.a"
    assert fn.architectures == ("x86_64",)


def test_bad_hcl_is_a_config_error(tmp_path):
    write(tmp_path, {"terraform/main.tf": 'resource "x" {\n'})
    with pytest.raises(ConfigError, match=r"main\.tf: cannot parse Terraform"):
        tfconfig.read_config(tmp_path / "terraform")


def test_unresolvable_architecture_is_unknown(tmp_path):
    write(tmp_path, {"terraform/main.tf": FN.format(name="a", code="architectures = [var.arch]")})
    (fn,) = tfconfig.read_functions(tmp_path / "terraform")
    assert fn.architectures == ()


def test_json_syntax_files_are_read_with_their_tfvars(tmp_path):
    main = {
        "variable": {"zip": {"default": "ignored.zip"}},
        "resource": {
            "aws_s3_bucket": {"artifacts": {"bucket": "artifacts"}},
            "aws_s3_object": {
                "dists": {
                    "bucket": "${aws_s3_bucket.artifacts.id}",
                    "key": "lambda/dists.zip",
                    "source": "${path.module}/../${var.zip}",
                }
            },
        },
    }
    fn = {
        "resource": {
            "aws_lambda_function": {
                "j": {
                    "function_name": "j",
                    "handler": "j.app.handler",
                    "runtime": "python3.12",
                    "architectures": ["arm64"],
                    "s3_bucket": "${aws_s3_bucket.artifacts.id}",
                    "s3_key": "${aws_s3_object.dists.key}",
                }
            }
        }
    }
    write(
        tmp_path,
        {
            "terraform/main.tf.json": json.dumps(main),
            "terraform/lambda_j.tf.json": json.dumps(fn),
            "terraform/terraform.tfvars.json": json.dumps({"zip": "from-json.zip"}),
        },
    )
    (found,) = tfconfig.read_functions(tmp_path / "terraform")
    assert (found.name, found.handler, found.runtime, found.architectures) == (
        "j",
        "j.app.handler",
        "python3.12",
        ("arm64",),
    )
    assert tfconfig.find_dist_target(settings(tmp_path)).path == tmp_path / "from-json.zip"


def test_bad_json_syntax_names_the_file(tmp_path):
    write(tmp_path, {"terraform/broken.tf.json": "{not json"})
    with pytest.raises(ConfigError, match=r"broken\.tf\.json: not valid JSON"):
        tfconfig.read_functions(tmp_path / "terraform")


def test_the_parse_cache_is_bounded_least_recently_used_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tfconfig, "_HCL_PARSED_MAX", 2)
    monkeypatch.setattr(tfconfig, "_hcl_parsed", {})
    first, second, third = (f'variable "lru_{i}" {{}}\n' for i in range(3))
    parsed = tfconfig.parsed_hcl(first)
    tfconfig.parsed_hcl(second)
    assert tfconfig.parsed_hcl(first) is parsed  # a hit: now the most recently used
    tfconfig.parsed_hcl(third)  # past the bound: `second` goes, `first` stays
    assert len(tfconfig._hcl_parsed) == 2
    assert tfconfig.parsed_hcl(first) is parsed
