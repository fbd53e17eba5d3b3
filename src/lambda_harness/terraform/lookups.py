"""The data sources the team's Terraform looks up, checked against the local endpoint first.

A lookup that finds nothing fails the plan only after the provider has retried: 3-12 s
each, and **~128 s** for ``data "aws_iam_policy"`` by name (measured). So before any
plan, every ``data "aws_*"`` block of the root module whose keys are literals (or
``var.``/``local.`` values the harness can resolve: defaults, tfvars, the harness's
tfvars) is asked for with one AWS call against the endpoint, in the region of the
provider it uses. Keys that only Terraform can resolve (another data source's id) are
left out, which can only widen a search: a lookup reported missing is missing.

``aws_caller_identity``, ``aws_region``, ``aws_partition`` and ``aws_iam_policy_document``
need nothing; types this table does not know are left to Terraform (``preflight``
then names them in the plan's error).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lambda_harness.packaging.tfconfig import TfConfig, evaluate_string
from lambda_harness.terraform import hcl

FAKE_KEY = "test"  # the documented fake credential of local emulators
_UNRESOLVED = object()


@dataclass(frozen=True)
class Lookup:
    """One ``data "aws_*"`` block with the keys the harness could resolve."""

    block: hcl.Block
    region: str
    keys: Mapping[str, Any] = field(default_factory=dict)
    provider: str = ""  # "aws.<alias>" when the block names a declared aliased provider, else ""

    @classmethod
    def on_provider(cls, block: hcl.Block, regions: Mapping[str, str], keys: Mapping[str, Any]) -> Lookup:
        """The lookup on the provider its block names (``regions``: alias -> region, ``""`` the default)."""
        return cls(block, region_of(block, regions), keys, provider_of(block, regions))

    @property
    def type(self) -> str:
        return self.block.labels[0]

    @property
    def label(self) -> str:
        return self.block.labels[1]

    def tags(self) -> dict[str, str]:
        """``tags = {...}`` plus ``filter { name = "tag:K" }`` (first value) as one map."""
        tags = {str(k): str(v) for k, v in (self.keys.get("tags") or {}).items()}
        for f in self.keys.get("filter") or []:
            if str(f["name"]).startswith("tag:") and f["values"]:
                tags.setdefault(str(f["name"])[4:], str(f["values"][0]))
        return tags

    def describe(self) -> str:
        """The keys as the user wrote them: ``tags Name = "x", name = "/a"``."""
        parts = []
        for key, value in self.keys.items():
            if key == "tags":
                parts += [f'tags {k} = "{v}"' for k, v in value.items()]
            elif key == "filter":
                parts += [f"filter {f['name']} = {list(f['values'])}" for f in value]
            else:
                parts.append(f'{key} = "{value}"' if isinstance(value, str) else f"{key} = {value}")
        return ", ".join(parts)


class Clients:
    """boto3 clients for the endpoint, one per (service, region), fake credentials, no retries."""

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        self._made: dict[tuple[str, str], Any] = {}
        self._config = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30)

    def __call__(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._made:
            self._made[key] = boto3.client(  # type: ignore[call-overload]
                service,
                endpoint_url=self.endpoint_url,
                region_name=region,
                config=self._config,
                aws_access_key_id=FAKE_KEY,
                aws_secret_access_key=FAKE_KEY,
            )
        return self._made[key]


ClientFactory = Callable[[str, str], Any]
Check = Callable[[ClientFactory, Lookup], bool | None]


# ------------------------------------------------------------------------ reading the lookups


def values_context(folder: Path, tfvars: list[Path]) -> TfConfig:
    """Locals and variable values (defaults, Terraform's own variable files, the harness's)."""
    config = TfConfig(terraform_dir=folder)
    module = hcl.read_module(folder)
    for block in module.of("locals"):
        config.locals.update(block.body)
    for block in module.of("variable"):
        if "default" in block.body:
            config.variables[block.labels[0]] = block.body["default"]
    for path in [*hcl.auto_var_files(folder), *(p for p in tfvars if p.is_file())]:
        config.variables.update(hcl.read_values(path))
    return config


def _resolve(config: TfConfig, value: Any) -> Any:
    """A literal value, or ``_UNRESOLVED`` when any part of it needs Terraform."""
    if isinstance(value, str):
        text = evaluate_string(config, value)
        return _UNRESOLVED if text is None else text
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, list):
        items = [_resolve(config, v) for v in value]
        return _UNRESOLVED if any(i is _UNRESOLVED for i in items) else items
    if isinstance(value, dict):
        pairs = {k: _resolve(config, v) for k, v in value.items()}
        return _UNRESOLVED if any(v is _UNRESOLVED for v in pairs.values()) else pairs
    return _UNRESOLVED


def resolved_keys(config: TfConfig, body: Mapping[str, Any]) -> dict[str, Any]:
    """The block's arguments whose values the harness can resolve (filters kept whole or dropped)."""
    keys: dict[str, Any] = {}
    for name, raw in body.items():
        if name in ("provider", "depends_on", "count", "for_each", "lifecycle"):
            continue
        if name == "filter":
            filters = [_resolve(config, f) for f in (raw if isinstance(raw, list) else [raw])]
            kept = [
                f
                for f in filters
                if isinstance(f, dict) and "name" in f and isinstance(f.get("values"), list)
            ]
            if kept:
                keys["filter"] = kept
            continue
        value = _resolve(config, raw)
        if value is not _UNRESOLVED:
            keys[name] = value
    return keys


def provider_regions(folder: Path, config: TfConfig, default: str) -> dict[str, str]:
    """``""`` (the default provider) and each alias -> its region (``default`` when not literal)."""
    regions = {"": default}
    for block in hcl.read_module(folder).of("provider", "aws"):
        alias = _resolve(config, block.body.get("alias", ""))
        region = _resolve(config, block.body.get("region", default))
        if isinstance(alias, str) and isinstance(region, str):
            regions[alias] = region
    return regions


def _alias(block: hcl.Block) -> str:
    provider = str(block.body.get("provider", "")).removeprefix("${").removesuffix("}")
    return provider.split(".", 1)[1] if provider.startswith("aws.") else ""


def region_of(block: hcl.Block, regions: Mapping[str, str]) -> str:
    """The region of the provider a block uses (``provider = aws.<alias>``, else the default)."""
    return regions.get(_alias(block), regions[""])


def provider_of(block: hcl.Block, regions: Mapping[str, str]) -> str:
    """``aws.<alias>`` when the block uses a declared aliased provider (what a world resource
    answering it must name too), else ``""`` (the default provider)."""
    alias = _alias(block)
    return f"aws.{alias}" if alias and alias in regions else ""


_MODULE_STEP = re.compile(r"module\.([\w-]+)(?:\[[^\]]*\])?\.")


def _provider_ref(raw: Any) -> str | None:
    """``"${aws.edge}"``/``"aws.edge"`` -> ``"edge"``, ``"aws"`` -> ``""``; None for other providers."""
    text = str(raw).removeprefix("${").removesuffix("}")
    if text == "aws":
        return ""
    return text.split(".", 1)[1] if text.startswith("aws.") else None


def module_aliases(root: Path, address: str) -> dict[str, str]:
    """For a block inside the module ``address`` names (``module.a["k"].module.b.data...``): each
    aws provider it may name (``""`` its default, else the alias) -> the root's alias that is.

    A module inherits the caller's default ``aws`` provider unless its call passes
    ``providers = { aws = aws.<alias> }``; a chain of calls is followed from the root. Calls the
    harness cannot read (a registry module's own calls) keep what is known so far."""
    current: dict[str, str] = {"": ""}
    folder: Path | None = root
    for name in _MODULE_STEP.findall(address.split("data.", 1)[0]):
        if folder is None:
            break
        call = next((b for b in hcl.read_module(folder).of("module") if b.labels[:1] == (name,)), None)
        if call is None:
            break
        passed = call.body.get("providers")
        step: dict[str, str] = {}
        for key, value in passed.items() if isinstance(passed, dict) else ():
            child, parent = _provider_ref(key), _provider_ref(value)
            if child is not None and parent is not None:
                step[child] = current.get(parent, parent)
        step.setdefault("", current.get("", ""))
        current = step
        source = str(call.body.get("source", ""))
        folder = folder / source if source.startswith(("./", "../")) else None
    return current


def find(folder: Path, config: TfConfig, default_region: str) -> list[Lookup]:
    """Every ``data "aws_*"`` block of the root module in ``folder``, with its resolved keys."""
    regions = provider_regions(folder, config, default_region)
    return [
        Lookup.on_provider(block, regions, resolved_keys(config, block.body))
        for block in hcl.read_module(folder).of("data")
        if block.labels and block.labels[0].startswith("aws_")
    ]


def waiting_for(
    lookup: Lookup, variable_names: set[str], local_values: Mapping[str, Any] | None = None
) -> bool:
    """True when one of the lookup's keys needs a variable in ``variable_names`` (directly, or
    through locals that do)."""
    refs = [rf"\bvar\.{re.escape(name)}\b" for name in variable_names]
    tainted: set[str] = set()
    changed = True
    while changed:  # locals that need such a variable, through other locals too
        changed = False
        for name, value in (local_values or {}).items():
            if name not in tainted and any(re.search(r, repr(value)) for r in refs):
                tainted.add(name)
                refs.append(rf"\blocal\.{re.escape(name)}\b")
                changed = True
    text = repr(dict(lookup.block.body))
    return any(re.search(r, text) for r in refs)


# ------------------------------------------------------------------------ checking them


def _ec2_filters(lookup: Lookup, by_key: Mapping[str, str]) -> list[dict[str, Any]] | None:
    filters = [
        {
            "Name": name,
            "Values": [
                str(lookup.keys[key]).lower() if isinstance(lookup.keys[key], bool) else str(lookup.keys[key])
            ],
        }
        for key, name in by_key.items()
        if key in lookup.keys
    ]
    filters += [{"Name": f"tag:{k}", "Values": [str(v)]} for k, v in (lookup.keys.get("tags") or {}).items()]
    filters += [
        {"Name": str(f["name"]), "Values": [str(v) for v in f["values"]]}
        for f in lookup.keys.get("filter", [])
    ]
    return filters or None


def _ec2(operation: str, result_key: str, by_key: Mapping[str, str]) -> Check:
    def check(clients: ClientFactory, lookup: Lookup) -> bool | None:
        filters = _ec2_filters(lookup, by_key)
        if filters is None:
            return None  # nothing literal to look for: Terraform will say
        answer = getattr(clients("ec2", lookup.region), operation)(Filters=filters)
        return bool(answer[result_key])

    return check


def _call(
    service: str, operation: str, key: str, param: str, not_found: tuple[str, ...], **extra: str
) -> Check:
    """Found when ``operation(param=keys[key])`` answers; missing on one of the ``not_found`` codes."""

    def check(clients: ClientFactory, lookup: Lookup) -> bool | None:
        if not isinstance(lookup.keys.get(key), str):
            return None
        kwargs = {
            param: lookup.keys[key],
            **{p: lookup.keys[k] for k, p in extra.items() if k in lookup.keys},
        }
        try:
            getattr(clients(service, lookup.region), operation)(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in not_found:
                return False
            raise
        return True

    return check


def _listed(
    service: str,
    operation: str,
    key: str,
    items: str,
    match: Callable[[dict[str, Any], str], bool],
    **kwargs: str,
) -> Check:
    """Found when some item of a paginated listing matches ``keys[key]``."""

    def check(clients: ClientFactory, lookup: Lookup) -> bool | None:
        if not isinstance(lookup.keys.get(key), str):
            return None
        pages = clients(service, lookup.region).get_paginator(operation).paginate(**kwargs)
        return any(match(item, lookup.keys[key]) for page in pages for item in page.get(items, []))

    return check


def _iam_policy(clients: ClientFactory, lookup: Lookup) -> bool | None:
    arn = lookup.keys.get("arn")
    if isinstance(arn, str) and ":iam::aws:policy/" in arn:
        # AWS-managed: the endpoint loads them (or not); a world cannot create one.
        return None
    if isinstance(arn, str):
        return _call("iam", "get_policy", "arn", "PolicyArn", ("NoSuchEntity",))(clients, lookup)
    name = lookup.keys.get("name")
    if not isinstance(name, str):
        return None
    prefix = str(lookup.keys.get("path_prefix", "/"))
    pages = (
        clients("iam", lookup.region).get_paginator("list_policies").paginate(Scope="All", PathPrefix=prefix)
    )
    return any(p["PolicyName"] == name for page in pages for p in page.get("Policies", []))


def _kms_key(clients: ClientFactory, lookup: Lookup) -> bool | None:
    return _call("kms", "describe_key", "key_id", "KeyId", ("NotFoundException",))(clients, lookup)


CHECKS: dict[str, Check] = {
    "aws_vpc": _ec2(
        "describe_vpcs",
        "Vpcs",
        {"id": "vpc-id", "cidr_block": "cidr", "default": "is-default", "state": "state"},
    ),
    "aws_subnet": _ec2(
        "describe_subnets",
        "Subnets",
        {
            "id": "subnet-id",
            "cidr_block": "cidr-block",
            "availability_zone": "availability-zone",
            "vpc_id": "vpc-id",
            "default_for_az": "default-for-az",
        },
    ),
    "aws_subnets": _ec2("describe_subnets", "Subnets", {}),
    "aws_security_group": _ec2(
        "describe_security_groups",
        "SecurityGroups",
        {"id": "group-id", "name": "group-name", "vpc_id": "vpc-id"},
    ),
    "aws_ssm_parameter": _call("ssm", "get_parameter", "name", "Name", ("ParameterNotFound",)),
    "aws_secretsmanager_secret": lambda c, lk: _call(
        "secretsmanager",
        "describe_secret",
        "arn" if "arn" in lk.keys else "name",
        "SecretId",
        ("ResourceNotFoundException",),
    )(c, lk),
    "aws_secretsmanager_secret_version": _call(
        "secretsmanager",
        "get_secret_value",
        "secret_id",
        "SecretId",
        ("ResourceNotFoundException",),
        version_stage="VersionStage",
        version_id="VersionId",
    ),
    "aws_kms_key": _kms_key,
    "aws_kms_alias": _listed("kms", "list_aliases", "name", "Aliases", lambda a, n: a.get("AliasName") == n),
    "aws_iam_role": _call("iam", "get_role", "name", "RoleName", ("NoSuchEntity",)),
    "aws_iam_policy": _iam_policy,
    "aws_s3_bucket": _call("s3", "head_bucket", "bucket", "Bucket", ("404", "NoSuchBucket", "NotFound")),
    "aws_sns_topic": _listed(
        "sns", "list_topics", "name", "Topics", lambda t, n: str(t.get("TopicArn", "")).endswith(f":{n}")
    ),
    "aws_sqs_queue": _call(
        "sqs",
        "get_queue_url",
        "name",
        "QueueName",
        ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"),
    ),
    "aws_dynamodb_table": _call(
        "dynamodb", "describe_table", "name", "TableName", ("ResourceNotFoundException",)
    ),
}


def check(clients: ClientFactory, lookup: Lookup) -> bool | None:
    """True: found; False: the endpoint has nothing matching; None: not checked (unknown type,
    keys only Terraform knows, or the endpoint could not answer this question)."""
    checker = CHECKS.get(lookup.type)
    if checker is None:
        return None
    try:
        return checker(clients, lookup)
    except (ClientError, BotoCoreError):
        return None  # e.g. a filter the endpoint does not implement: let Terraform decide


def missing(clients: ClientFactory, found: list[Lookup]) -> Iterator[Lookup]:
    """The lookups the endpoint has nothing for."""
    for lookup in found:
        if check(clients, lookup) is False:
            yield lookup


_REFERENCE = re.compile(r"^\$\{data\.(aws_\w+)\.([\w-]+)\.(\w+)\}$")


def data_reference(raw: Any) -> tuple[str, str, str] | None:
    """``"${data.aws_vpc.shared.id}"`` -> ("aws_vpc", "shared", "id")."""
    match = _REFERENCE.match(str(raw)) if isinstance(raw, str) else None
    return (match.group(1), match.group(2), match.group(3)) if match else None
