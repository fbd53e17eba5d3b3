"""terraform/drafts.py: the world resources that make each lookup find something."""

from __future__ import annotations

from pathlib import Path

from lambda_harness.terraform import drafts, hcl, lookups

LOOKUPS = """\
data "aws_vpc" "shared" {
  tags = { Name = "shared-vpc" }
}

data "aws_subnets" "private" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.shared.id]
  }
  tags = { Tier = "private", "kubernetes.io/role" = "internal" }
}

data "aws_security_group" "any" {
  name = "shared-lambda"
}

data "aws_subnet" "by_id" {
  id = "subnet-0abc"
}

data "aws_ssm_parameter" "api" {
  name = "/shared/${var.env}/api-url"
}

data "aws_secretsmanager_secret" "db" {
  name = "shared/db"
}

data "aws_secretsmanager_secret_version" "db" {
  secret_id = "shared/db"
}

data "aws_kms_key" "by_alias" {
  key_id = "alias/app"
}

data "aws_kms_alias" "app" {
  name = "alias/app"
}

data "aws_iam_policy" "logs" {
  arn = "arn:aws:iam::123456789012:policy/team/shared-logging"
}

data "aws_sqs_queue" "jobs" {
  name = "jobs"
}

data "aws_dynamodb_table" "customers" {
  name = "customers"
}

data "aws_route53_zone" "z" {
  name = "example.com"
}
"""
USES = "locals {\n  pw = jsondecode(data.aws_secretsmanager_secret_version.db.secret_string).password\n}\n"


def draft(tmp_path: Path) -> tuple[drafts.Draft, dict[str, str]]:
    (tmp_path / "main.tf").write_text(LOOKUPS)
    (tmp_path / "locals.tf").write_text(USES)
    found = lookups.find(tmp_path, lookups.values_context(tmp_path, []), "us-east-1")
    d = drafts.Draft(hcl.read_module(tmp_path).texts.values())
    return d, {lk.label + ":" + lk.type: d.add(lk) for lk in found}


def test_vpc_subnets_and_group_follow_the_lookup_keys(tmp_path: Path) -> None:
    _, out = draft(tmp_path)
    assert out["shared:aws_vpc"] == (
        'resource "aws_vpc" "shared" {\n  cidr_block = "10.0.0.0/16"\n  tags = { Name = "shared-vpc" }\n}\n'
    )
    subnets = out["private:aws_subnets"]
    assert "count      = 2" in subnets
    assert "vpc_id     = aws_vpc.shared.id" in subnets  # the VPC its filter names
    assert 'tags = { Tier = "private", "kubernetes.io/role" = "internal" }' in subnets
    # no VPC named: the group stays in the default VPC
    assert (
        out["any:aws_security_group"]
        == 'resource "aws_security_group" "any" {\n  name = "shared-lambda"\n}\n'
    )


def test_lookups_by_id_say_to_look_up_by_tags(tmp_path: Path) -> None:
    d, out = draft(tmp_path)
    assert (
        'looked up by id "subnet-0abc": the endpoint chooses ids; look the subnet up by tags'
        in out["by_id:aws_subnet"]
    )
    assert d.text().startswith('resource "aws_vpc" "world"')  # a VPC for the subnet to live in


def test_values_only_terraform_knows_become_replace_markers(tmp_path: Path) -> None:
    _, out = draft(tmp_path)
    assert (
        'name  = "/shared/REPLACE/api-url"  # the name "/shared/$${var.env}/api-url" resolves to'
        in out["api:aws_ssm_parameter"]
    )


def test_a_secret_is_drafted_once_and_its_version_carries_the_keys_the_code_reads(tmp_path: Path) -> None:
    _, out = draft(tmp_path)
    assert out["db:aws_secretsmanager_secret"].count("resource") == 1
    version = out["db:aws_secretsmanager_secret_version"]
    assert 'resource "aws_secretsmanager_secret" ' not in version  # no second secret of that name
    assert "secret_id     = aws_secretsmanager_secret.db.id" in version
    assert 'secret_string = jsonencode({ password = "local-password" })  # local value' in version


def test_a_key_looked_up_by_alias_and_the_alias_make_one_pair(tmp_path: Path) -> None:
    d, out = draft(tmp_path)
    assert 'name          = "alias/app"' in out["by_alias:aws_kms_key"]
    assert out["app:aws_kms_alias"] == ""
    assert d.text().count('resource "aws_kms_alias"') == 1


def test_policy_by_arn_queue_cost_and_unknown_types(tmp_path: Path) -> None:
    _, out = draft(tmp_path)
    assert 'name   = "shared-logging"' in out["logs:aws_iam_policy"]
    assert 'path = "/team/"' in out["logs:aws_iam_policy"]
    assert "~25 s" in out["jobs:aws_sqs_queue"]
    assert out["z:aws_route53_zone"] == ""


def test_a_looked_up_table_says_it_starts_empty(tmp_path: Path) -> None:
    """Explore report, repo C: the draft creates no item; a comment says where rows go."""
    _, out = draft(tmp_path)
    table = out["customers:aws_dynamodb_table"]
    assert 'name = "customers"' in table
    assert "  # add aws_dynamodb_table_item rows your cases read (the looked-up table starts empty)" in table


ALIASED = """\
provider "aws" {
  region = "eu-west-2"
}

provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"
}

data "aws_ssm_parameter" "edge_cfg" {
  provider = aws.us_east_1
  name     = "/cdn/edge/config"
}

data "aws_subnets" "edge" {
  provider = aws.us_east_1
  tags     = { Tier = "edge" }
}

data "aws_sns_topic" "jobs" {
  name = "cdn-jobs"
}
"""


def test_a_lookup_through_an_aliased_provider_is_drafted_on_that_provider(tmp_path: Path) -> None:
    """Else the world creates it in the default region and the lookup still finds nothing."""
    (tmp_path / "main.tf").write_text(ALIASED)
    found = {lk.label: lk for lk in lookups.find(tmp_path, lookups.values_context(tmp_path, []), "eu-west-2")}
    assert found["edge_cfg"].region == "us-east-1" and found["edge_cfg"].provider == "aws.us_east_1"
    assert found["jobs"].provider == ""
    d = drafts.Draft()
    assert d.add(found["edge_cfg"]).startswith(
        'resource "aws_ssm_parameter" "edge_cfg" {\n  provider = aws.us_east_1\n  name  = "/cdn/edge/config"'
    )
    assert "provider" not in d.add(found["jobs"])
    d.add(found["edge"])
    # the subnets' VPC lives in us-east-1 too
    assert d.text().startswith('resource "aws_vpc" "world_us_east_1" {\n  provider = aws.us_east_1\n')
    assert "vpc_id     = aws_vpc.world_us_east_1.id" in d.text()
    assert drafts.snippet(found["edge_cfg"]).count("provider = aws.us_east_1") == 1
