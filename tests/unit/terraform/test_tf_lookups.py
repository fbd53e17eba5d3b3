"""terraform/lookups.py: which lookups the Terraform makes, with what keys, and whether the endpoint has them.

The endpoint is a hand-written fake (one object per AWS service) recording each call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from lambda_harness.terraform import lookups

MAIN = """\
provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "use1"
  region = "us-east-1"
}

variable "env" {
  type = string
}

locals {
  prefix = "/shared/${var.env}"
}

data "aws_vpc" "shared" {
  tags = { Name = "shared-vpc" }
}

data "aws_subnets" "private" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.shared.id]
  }
  filter {
    name   = "tag:Tier"
    values = ["private"]
  }
}

data "aws_ssm_parameter" "api" {
  name = "${local.prefix}/api-url"
}

data "aws_ssm_parameter" "chained" {
  name = data.aws_ssm_parameter.api.value
}

data "aws_iam_policy" "logs" {
  provider = aws.use1
  name     = "shared-logging"
}

data "aws_caller_identity" "me" {}
"""


def not_found(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "nope"}}, "Op")


class FakeEC2:
    def __init__(self, vpcs: list[dict[str, Any]], subnets: list[dict[str, Any]]) -> None:
        self.vpcs, self.subnets, self.calls = vpcs, subnets, []

    def describe_vpcs(self, Filters: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(("describe_vpcs", Filters))
        return {"Vpcs": [v for v in self.vpcs if matches(v, Filters)]}

    def describe_subnets(self, Filters: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(("describe_subnets", Filters))
        return {"Subnets": [s for s in self.subnets if matches(s, Filters)]}


def matches(item: dict[str, Any], filters: list[dict[str, Any]]) -> bool:
    return all(item.get(f["Name"]) in f["Values"] for f in filters)


class FakeSSM:
    def __init__(self, names: set[str]) -> None:
        self.names = names

    def get_parameter(self, Name: str) -> dict[str, Any]:
        if Name not in self.names:
            raise not_found("ParameterNotFound")
        return {"Parameter": {"Name": Name}}


class Pages:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        return self.pages


class FakeIAM:
    def __init__(self, policies: list[str]) -> None:
        self.policies = policies

    def get_paginator(self, name: str) -> Pages:
        assert name == "list_policies"
        return Pages([{"Policies": [{"PolicyName": p} for p in self.policies]}])


class Endpoint:
    """A ClientFactory: service -> fake, recording the region of every client asked for."""

    def __init__(self, **services: Any) -> None:
        self.services, self.regions = services, []

    def __call__(self, service: str, region: str) -> Any:
        self.regions.append((service, region))
        return self.services[service]


def repo(tmp_path: Path, tfvars: str = 'env = "local"\n') -> tuple[Path, list[lookups.Lookup]]:
    tf = tmp_path / "terraform"
    tf.mkdir()
    (tf / "main.tf").write_text(MAIN)
    harness = tmp_path / "harness.tfvars"
    harness.write_text(tfvars)
    context = lookups.values_context(tf, [harness])
    return tf, lookups.find(tf, context, "us-west-2")


def by_label(found: list[lookups.Lookup]) -> dict[str, lookups.Lookup]:
    return {lk.label: lk for lk in found}


def test_keys_resolve_through_locals_and_the_harness_tfvars(tmp_path: Path) -> None:
    _, found = repo(tmp_path)
    got = by_label(found)
    assert list(got) == ["shared", "private", "api", "chained", "logs", "me"]
    assert got["api"].keys == {"name": "/shared/local/api-url"}
    assert got["chained"].keys == {}  # only Terraform knows another lookup's value
    # the filter naming another lookup's id is dropped: the search can only get wider
    assert got["private"].keys == {"filter": [{"name": "tag:Tier", "values": ["private"]}]}
    assert got["private"].tags() == {"Tier": "private"}


def test_each_lookup_uses_its_providers_region(tmp_path: Path) -> None:
    _, found = repo(tmp_path)
    assert {lk.label: lk.region for lk in found}["shared"] == "eu-west-1"
    assert {lk.label: lk.region for lk in found}["logs"] == "us-east-1"


def test_missing_lists_only_what_the_endpoint_lacks(tmp_path: Path) -> None:
    _, found = repo(tmp_path)
    ec2 = FakeEC2(vpcs=[{"tag:Name": "shared-vpc"}], subnets=[])
    endpoint = Endpoint(ec2=ec2, ssm=FakeSSM({"/shared/local/api-url"}), iam=FakeIAM(["other"]))
    assert [lk.label for lk in lookups.missing(endpoint, found)] == ["private", "logs"]
    assert ec2.calls == [
        ("describe_vpcs", [{"Name": "tag:Name", "Values": ["shared-vpc"]}]),
        ("describe_subnets", [{"Name": "tag:Tier", "Values": ["private"]}]),
    ]
    assert ("iam", "us-east-1") in endpoint.regions


def test_unknown_types_and_unanswerable_questions_are_left_to_terraform(tmp_path: Path) -> None:
    _, found = repo(tmp_path)
    got = by_label(found)
    assert lookups.check(Endpoint(), got["me"]) is None
    assert lookups.check(Endpoint(ssm=FakeSSM(set())), got["chained"]) is None

    class Broken:
        def get_parameter(self, Name: str) -> None:
            raise not_found("InternalFailure")

    assert lookups.check(Endpoint(ssm=Broken()), got["api"]) is None


def test_lookups_waiting_for_a_missing_variable(tmp_path: Path) -> None:
    tf, found = repo(tmp_path, tfvars="")
    api = by_label(found)["api"]
    assert api.keys == {}
    local_values = lookups.values_context(tf, []).locals
    assert lookups.waiting_for(api, {"env"}, local_values)  # through local.prefix
    assert not lookups.waiting_for(api, {"environment"}, local_values)
    assert not lookups.waiting_for(by_label(found)["shared"], {"env"}, local_values)


def test_aws_managed_policies_are_not_the_worlds_business(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'data "aws_iam_policy" "ro" {\n  arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"\n}\n'
    )
    (found,) = lookups.find(tmp_path, lookups.values_context(tmp_path, []), "us-east-1")
    assert lookups.check(Endpoint(), found) is None  # no client asked for: Terraform decides


def test_a_child_module_names_the_root_provider_its_calls_hand_it(tmp_path: Path) -> None:
    """Follow-up 11: inherited default, passed alias, and a chain of calls."""
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "main.tf").write_text(
        'module "plain" {\n  source = "./a"\n}\n'
        'module "edge" {\n  source = "./a"\n  providers = {\n    aws = aws.us_east_1\n  }\n}\n'
    )
    (tmp_path / "a" / "main.tf").write_text(
        'module "inner" {\n  source = "./b"\n  providers = {\n    aws.other = aws\n  }\n}\n'
    )
    assert lookups.module_aliases(tmp_path, "module.plain.data.aws_vpc.x") == {"": ""}
    assert lookups.module_aliases(tmp_path, 'module.edge["k"].data.aws_vpc.x') == {"": "us_east_1"}
    assert lookups.module_aliases(tmp_path, "module.edge.module.inner.data.aws_vpc.x") == {
        "other": "us_east_1",
        "": "us_east_1",
    }
