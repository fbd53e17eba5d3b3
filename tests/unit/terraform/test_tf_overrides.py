"""Provider blocks written for real AWS, neutralised in the staged copy."""

from __future__ import annotations

from pathlib import Path

from lambda_harness.terraform import staging
from lambda_harness.terraform.overrides import LOCAL_ROLE, aws_provider_changes, providers_override_text

PROVIDERS = """
provider "aws" {
  region                   = "eu-west-1"
  profile                  = "default"
  shared_credentials_files = ["~/.aws/credentials"]
  allowed_account_ids      = ["111111111111"]

  assume_role {
    role_arn = "arn:aws:iam::111111111111:role/deploy"
  }
}

provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"
  assume_role_with_web_identity {
    role_arn                = "arn:aws:iam::111111111111:role/ci"
    web_identity_token_file = "/var/run/token"
  }
}

provider "aws" {
  alias  = "plain"
  region = "eu-central-1"
}
"""


def test_each_setting_for_real_aws_is_listed_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "providers.tf").write_text(PROVIDERS)
    changes = aws_provider_changes(tmp_path)
    described = [c.describe(tmp_path) for c in changes]
    assert described == [
        'providers.tf:2 provider "aws": profile, shared_credentials_files, allowed_account_ids, assume_role',
        'providers.tf:13 provider "aws" (alias us_east_1): assume_role_with_web_identity',
    ]


def test_the_override_unsets_and_replaces_per_alias(tmp_path: Path) -> None:
    (tmp_path / "providers.tf").write_text(PROVIDERS)
    text = providers_override_text(aws_provider_changes(tmp_path))
    assert 'provider "aws" {\n  profile = null\n  shared_credentials_files = null\n' in text
    assert "  allowed_account_ids = null\n" in text
    assert f'  assume_role {{\n    role_arn = "{LOCAL_ROLE}"\n  }}' in text
    assert 'alias = "us_east_1"' in text and "web_identity_token =" in text
    assert '"plain"' not in text  # nothing to change there


def test_staging_writes_module_provider_overrides_and_reports_them(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "terraform" / "legacy").mkdir(parents=True)
    (root / "terraform" / "main.tf").write_text(PROVIDERS + 'module "legacy" {\n  source = "./legacy"\n}\n')
    (root / "terraform" / "legacy" / "main.tf").write_text('provider "aws" {\n  profile = "ops"\n}\n')
    staged = staging.layout(root / ".harness", "embedded", root, root / "terraform")
    outcome = staging.stage(root, root / "terraform", staged)
    assert [c.block.file.name for c in outcome.neutralised] == ["main.tf", "main.tf", "main.tf"]
    assert not outcome.uses_archive
    root_override = (staged.workdir / staging.OVERRIDE_NAME).read_text()
    assert 'backend "local"' in root_override and "profile = null" in root_override
    module_override = (staged.workdir / "legacy" / staging.OVERRIDE_NAME).read_text()
    assert module_override.count("profile = null") == 1 and "backend" not in module_override
    assert not (root / "terraform" / "legacy" / staging.OVERRIDE_NAME).exists()


def test_staging_says_whether_a_module_uses_hashicorp_archive(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "terraform" / "zips").mkdir(parents=True)
    (root / "terraform" / "main.tf").write_text('module "zips" {\n  source = "./zips"\n}\n')
    (root / "terraform" / "zips" / "main.tf").write_text(
        'data "archive_file" "fn" {\n  type = "zip"\n  source_dir = "src"\n  output_path = "fn.zip"\n}\n'
    )
    staged = staging.layout(root / ".harness", "embedded", root, root / "terraform")
    assert staging.stage(root, root / "terraform", staged).uses_archive
    assert staging.uses_archive(root, root / "terraform")
    assert "lambda-harness/archive" in (staged.workdir / "zips" / staging.OVERRIDE_NAME).read_text()


def test_the_discovery_override_nulls_every_file_hash(tmp_path: Path) -> None:
    from lambda_harness.terraform.overrides import discovery_override_text

    (tmp_path / "main.tf").write_text(
        'resource "aws_lambda_function" "f" {\n  filename = "build/f.zip"\n'
        '  source_code_hash = filebase64sha256("build/f.zip")\n}\n'
        'resource "aws_s3_object" "o" {\n  source = "x.zip"\n  etag = filemd5("x.zip")\n}\n'
        'module "fn" {\n  source = "./m"\n'
        '  hash = filebase64sha256("${path.module}/b.zip")\n  name = "x"\n}\n'
        'resource "aws_iam_role" "r" {\n  name = "x"\n}\n'
    )
    text = discovery_override_text(tmp_path)
    assert 'resource "aws_lambda_function" "f" {\n  source_code_hash = null\n}' in text
    assert 'resource "aws_s3_object" "o" {\n  etag = null\n}' in text
    assert 'module "fn" {\n  hash = null\n}' in text
    assert "aws_iam_role" not in text
