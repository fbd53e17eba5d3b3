"""World resources that make a lookup find something: the snippets in errors, and ``new-world``.

For each data source type the harness knows, the resource (or two) that the lookup
finds once applied to the endpoint, written from the keys it looks up by: a
``data "aws_vpc" { tags = { Name = "shared-vpc" } }`` becomes ``resource "aws_vpc"``
with that tag. Values the lookup does not determine (a parameter's value, a
secret's string) are placeholders marked ``# local value``. Lookups by id cannot be
satisfied (the endpoint chooses ids): the snippet says to look up by tags or name.
A lookup through an aliased provider (``provider = aws.us_east_1``, as Lambda@Edge stacks
do) gets resources on that same provider, so they exist in the region it searches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from lambda_harness.terraform.lookups import Lookup, data_reference

LOCAL = "# local value"
_ASSUME_LAMBDA = (
    'jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", '
    'Principal = { Service = "lambda.amazonaws.com" } }] })'
)
_TEMPLATE_PART = re.compile(r"\$\{[^}]*\}")
_IDENTIFIER = re.compile(r"[A-Za-z_][\w-]*")
_RESOURCE_HEAD = re.compile(r'^(resource "[^"]+" "[^"]+" \{\n)', re.MULTILINE)


def _q(value: Any) -> str:
    """An HCL string literal (``${`` escaped so the world never interpolates)."""
    return json.dumps(str(value)).replace("${", "$${")


def _key(name: str) -> str:
    """A map key: bare when it is an identifier, quoted otherwise (``"kubernetes.io/role"``)."""
    return name if _IDENTIFIER.fullmatch(name) else _q(name)


def _tags(tags: dict[str, str]) -> str:
    if not tags:
        return ""
    pairs = ", ".join(f"{_key(k)} = {_q(v)}" for k, v in tags.items())
    return f"  tags = {{ {pairs} }}\n"


def _block(rtype: str, name: str, body: str) -> str:
    return f'resource "{rtype}" "{name}" {{\n{body}}}\n'


def _on(provider: str, text: str) -> str:
    """Every resource of ``text`` on ``provider`` (``aws.<alias>``; ``""``: the default one)."""
    if not provider:
        return text
    return _RESOURCE_HEAD.sub(lambda m: f"{m.group(1)}  provider = {provider}\n", text)


def _name(lookup: Lookup, key: str) -> tuple[str, str]:
    """The looked-up name (or a REPLACE placeholder when only Terraform knows it) and a comment."""
    value = lookup.keys.get(key)
    if isinstance(value, str):
        return _q(value), ""
    raw = lookup.block.body.get(key)
    if isinstance(raw, str):
        return _q(_TEMPLATE_PART.sub("REPLACE", raw)), f"  # the name {_q(raw)} resolves to"
    return _q(f"REPLACE-{lookup.label}"), f"  # the {key} your lookup uses"


class Draft:
    """World resources built one lookup at a time (unique subnet numbers, one fallback VPC)."""

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self.blocks: list[str] = []
        self.next_net = 1
        self.world_vpcs: set[str] = set()  # the providers that have a fallback VPC already
        self._texts = list(texts)
        self._claimed: dict[tuple[str, str, str], str] = {}
        self._provider = ""  # the provider of the lookup being added

    def claim(self, rtype: str, name: str, label: str) -> str | None:
        """Record ``rtype.label`` as the resource named ``name`` (on the current lookup's provider);
        the label already holding that AWS name when there is one (the draft then refers to it
        instead of a duplicate)."""
        key = (rtype, name, self._provider)
        if key in self._claimed:
            return self._claimed[key]
        self._claimed[key] = label
        return None

    def add(self, lookup: Lookup) -> str:
        """The resources for ``lookup`` on its provider (also kept for ``text``); empty when the
        type is unknown."""
        writer = WRITERS.get(lookup.type)
        self._provider = lookup.provider
        added = _on(lookup.provider, writer(self, lookup)) if writer else ""
        if added:
            self.blocks.append(added)
        return added

    def vpc(self, lookup: Lookup) -> str:
        """The world VPC a subnet or security group of ``lookup`` belongs in."""
        raws = [lookup.block.body.get("vpc_id")] + [
            (f.get("values") or [None])[0] for f in _filters(lookup.block.body) if f.get("name") == "vpc-id"
        ]
        for raw in raws:
            ref = data_reference(raw)
            if ref and ref[0] == "aws_vpc":
                return f"aws_vpc.{ref[1]}"
        # one fallback VPC per provider: a subnet must be in its VPC's region
        name = "world" + (f"_{lookup.provider.split('.', 1)[1]}" if lookup.provider else "")
        if lookup.provider not in self.world_vpcs:
            self.world_vpcs.add(lookup.provider)
            vpc = _block("aws_vpc", name, '  cidr_block = "10.0.0.0/16"\n')
            self.blocks.insert(0, _on(lookup.provider, vpc))
        return f"aws_vpc.{name}"

    def subnet_number(self, count: int = 1) -> int:
        first = self.next_net
        self.next_net += count
        return first

    def secret_keys(self, label: str) -> list[str]:
        """Keys the team reads from ``jsondecode(data.aws_secretsmanager_secret_version.<label>...)``."""
        pattern = re.compile(
            rf"jsondecode\(\s*data\.aws_secretsmanager_secret_version\.{re.escape(label)}\.secret_string\s*\)"
            r"(?:\.([A-Za-z_]\w*)|\[\s*\"([^\"]+)\"\s*\])"
        )
        keys = [m.group(1) or m.group(2) for text in self._texts for m in pattern.finditer(text)]
        return list(dict.fromkeys(keys))

    def text(self) -> str:
        return "\n".join(self.blocks)


def _filters(body: Any) -> list[dict[str, Any]]:
    raw = body.get("filter", []) if isinstance(body, dict) else []
    return [f for f in (raw if isinstance(raw, list) else [raw]) if isinstance(f, dict)]


def _by_id(lookup: Lookup, what: str) -> str:
    if "id" in lookup.keys:
        looked = _q(lookup.keys["id"])
        return f"  # looked up by id {looked}: the endpoint chooses ids; look the {what} up by tags instead\n"
    return ""


def _vpc(d: Draft, lk: Lookup) -> str:
    if lk.keys.get("default") is True:
        return ""  # the endpoint has a default VPC in every region
    cidr = lk.keys.get("cidr_block", "10.0.0.0/16")
    return _block("aws_vpc", lk.label, f"{_by_id(lk, 'VPC')}  cidr_block = {_q(cidr)}\n{_tags(lk.tags())}")


def _subnet(d: Draft, lk: Lookup) -> str:
    vpc = d.vpc(lk)
    cidr = (
        _q(lk.keys["cidr_block"])
        if "cidr_block" in lk.keys
        else f"cidrsubnet({vpc}.cidr_block, 8, {d.subnet_number()})"
    )
    az = (
        f"  availability_zone = {_q(lk.keys['availability_zone'])}\n"
        if "availability_zone" in lk.keys
        else ""
    )
    body = f"{_by_id(lk, 'subnet')}  vpc_id     = {vpc}.id\n  cidr_block = {cidr}\n{az}{_tags(lk.tags())}"
    return _block("aws_subnet", lk.label, body)


def _subnets(d: Draft, lk: Lookup) -> str:
    vpc = d.vpc(lk)
    first = d.subnet_number(2)
    body = (
        "  count      = 2  # two subnets, as a VPC function usually has\n"
        f"  vpc_id     = {vpc}.id\n"
        f"  cidr_block = cidrsubnet({vpc}.cidr_block, 8, {first} + count.index)\n"
        f"{_tags(lk.tags())}"
    )
    return _block("aws_subnet", lk.label, body)


def _security_group(d: Draft, lk: Lookup) -> str:
    name = _q(lk.keys.get("name", lk.label))
    vpc = (
        f"  vpc_id = {d.vpc(lk)}.id\n"
        if "vpc_id" in lk.block.body or any(f.get("name") == "vpc-id" for f in _filters(lk.block.body))
        else ""
    )
    return _block(
        "aws_security_group",
        lk.label,
        f"{_by_id(lk, 'security group')}  name = {name}\n{vpc}{_tags(lk.tags())}",
    )


def _ssm_parameter(d: Draft, lk: Lookup) -> str:
    name, note = _name(lk, "name")
    return _block(
        "aws_ssm_parameter",
        lk.label,
        f'  name  = {name}{note}\n  type  = "String"\n  value = "local-value"  {LOCAL}\n',
    )


def _secret_name(lk: Lookup, key: str) -> tuple[str, str]:
    value = lk.keys.get(key)
    if isinstance(value, str) and value.startswith("arn:"):
        # arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 random characters>
        return _q(
            re.sub(r"-[A-Za-z0-9]{6}$", "", value.split(":secret:", 1)[-1])
        ), "  # the ARN differs locally"
    return _name(lk, key)


def _secret(d: Draft, lk: Lookup) -> str:
    name, note = _secret_name(lk, "arn" if "arn" in lk.keys else "name")
    if d.claim("aws_secretsmanager_secret", name, lk.label):
        return ""
    return _block("aws_secretsmanager_secret", lk.label, f"  name = {name}{note}\n")


def _secret_version(d: Draft, lk: Lookup) -> str:
    ref = data_reference(lk.block.body.get("secret_id"))
    out = ""
    if ref and ref[0] == "aws_secretsmanager_secret":
        secret = f"aws_secretsmanager_secret.{ref[1]}.id"
    else:
        name, note = _secret_name(lk, "secret_id")
        holder = d.claim("aws_secretsmanager_secret", name, lk.label)
        if holder is None:
            out = _block("aws_secretsmanager_secret", lk.label, f"  name = {name}{note}\n") + "\n"
        secret = f"aws_secretsmanager_secret.{holder or lk.label}.id"
    keys = d.secret_keys(lk.label)
    value = (
        "jsonencode({ " + ", ".join(f'{k} = "local-{k}"' for k in keys) + " })" if keys else '"local-secret"'
    )
    body = f"  secret_id     = {secret}\n  secret_string = {value}  {LOCAL}\n"
    return out + _block("aws_secretsmanager_secret_version", lk.label, body)


def _kms(d: Draft, lk: Lookup) -> str:
    alias = lk.keys.get("name") if lk.type == "aws_kms_alias" else lk.keys.get("key_id")
    if not (isinstance(alias, str) and alias.startswith("alias/")):
        what = f"by id {_q(alias)}" if isinstance(alias, str) else "by an id only Terraform knows"
        return _block(
            "aws_kms_key",
            lk.label,
            f"  # looked up {what}: the endpoint chooses key ids; look the key up by alias\n",
        )
    if d.claim("aws_kms_alias", alias, lk.label):
        return ""
    key = _block("aws_kms_key", lk.label, '  description = "local stand-in"\n')
    return (
        key
        + "\n"
        + _block(
            "aws_kms_alias",
            lk.label,
            f"  name          = {_q(alias)}\n  target_key_id = aws_kms_key.{lk.label}.key_id\n",
        )
    )


def _iam_role(d: Draft, lk: Lookup) -> str:
    name, note = _name(lk, "name")
    return _block(
        "aws_iam_role",
        lk.label,
        f"  name               = {name}{note}\n  assume_role_policy = {_ASSUME_LAMBDA}\n",
    )


def _iam_policy(d: Draft, lk: Lookup) -> str:
    arn = lk.keys.get("arn")
    if isinstance(arn, str):
        path, _, name = arn.split(":policy", 1)[-1].rpartition("/")
        extra = f"  path = {_q(path + '/')}\n" if path else ""
        note = "  # the ARN matches only when the account is the endpoint's (123456789012)"
        body = f"  name   = {_q(name)}{note}\n{extra}"
    else:
        name, note = _name(lk, "name")
        body = f"  name   = {name}{note}\n"
    policy = (
        'jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", '
        'Action = "logs:CreateLogGroup", Resource = "*" }] })'
    )
    return _block("aws_iam_policy", lk.label, f"{body}  policy = {policy}  {LOCAL}\n")


def _named(rtype: str, key: str, attribute: str, extra: str = "") -> Callable[[Draft, Lookup], str]:
    def write(d: Draft, lk: Lookup) -> str:
        name, note = _name(lk, key)
        return _block(rtype, lk.label, f"  {attribute} = {name}{note}\n{extra}")

    return write


WRITERS: dict[str, Callable[[Draft, Lookup], str]] = {
    "aws_vpc": _vpc,
    "aws_subnet": _subnet,
    "aws_subnets": _subnets,
    "aws_security_group": _security_group,
    "aws_ssm_parameter": _ssm_parameter,
    "aws_secretsmanager_secret": _secret,
    "aws_secretsmanager_secret_version": _secret_version,
    "aws_kms_key": _kms,
    "aws_kms_alias": _kms,
    "aws_iam_role": _iam_role,
    "aws_iam_policy": _iam_policy,
    "aws_s3_bucket": _named("aws_s3_bucket", "bucket", "bucket"),
    "aws_sns_topic": _named("aws_sns_topic", "name", "name"),
    "aws_sqs_queue": _named(
        "aws_sqs_queue",
        "name",
        "name",
        "  # each queue adds ~25 s to the world's apply (the provider waits)\n",
    ),
    "aws_dynamodb_table": _named(
        "aws_dynamodb_table",
        "name",
        "name",
        '  billing_mode = "PAY_PER_REQUEST"\n  hash_key     = "id"  # the key your code uses\n'
        '  attribute {\n    name = "id"\n    type = "S"\n  }\n'
        "  # add aws_dynamodb_table_item rows your cases read (the looked-up table starts empty)\n",
    ),
}


def snippet(lookup: Lookup) -> str:
    """The world resources for one lookup (empty when the type is not in the table)."""
    return Draft().add(lookup)
