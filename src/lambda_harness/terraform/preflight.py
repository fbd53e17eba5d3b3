"""Before the team's Terraform runs: the world applied, then everything it needs checked at once.

``apply_with_world`` is the apply stage's one call (``deploy``): apply the world (when
there is one), then list in ONE error every variable without a local value, every
remote-state output the world lacks and every lookup the endpoint cannot answer, each
with its file and line and the exact fix; only then ``terraform apply``. When Terraform
still fails on a lookup the pre-check could not evaluate, ``explain`` turns its
diagnostics into the same kind of sentence.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from lambda_harness.errors import CommandFailed, TerraformError
from lambda_harness.settings import DEFAULT_TFVARS, Settings
from lambda_harness.terraform import drafts, hcl, lookups, remote_state, variables
from lambda_harness.terraform.runner import Terraform
from lambda_harness.terraform.world import World, exists, world_dir

T = TypeVar("T")

# Terraform's diagnostics in -no-color text: "Error: <summary>" ... "with <address>," "on <file> line <n>".
_DIAGNOSTIC = re.compile(
    r"Error: (?P<summary>[^\n]+)\n(?:[^\n]*\n){0,6}?"
    r"\s*with (?P<address>[^,\n]+),\s*\n\s*on (?P<file>\S+) line (?P<line>\d+)"
)
_DATA_ADDRESS = re.compile(r"(?:^|\.)data\.(?P<type>aws_\w+)\.(?P<label>[\w-]+)")
_MISSING_VAR = re.compile(
    r"Error: No value for required variable\s*\n\s*\n\s*on (?P<file>\S+) line (?P<line>\d+):\s*\n"
    r"\s*\d+:\s*variable \"(?P<name>[\w-]+)\""
)


def apply_with_world(tf: Terraform, *, check: bool = True) -> None:
    """World apply, the pre-checks, then ``tf.apply(check=check)``; failures explained with the
    world's fix. ``check=False``: the caller runs the second plan itself (beside the tests)."""
    with_world(tf, lambda: tf.apply(check=check))
    attached, empty = vpc_notes(tf.staged.state)
    if attached:
        tf.ui.info(attached)
    if empty:
        tf.ui.warn(empty)


def with_world(tf: Terraform, then: Callable[[], T]) -> T:
    """World apply, the pre-checks, then ``then()`` (an apply, or the build's discovery plan);
    a Terraform failure on a lookup is explained with the world's fix."""
    settings = tf.settings
    outputs: dict[str, dict[str, Any]] = {}
    if exists(settings):
        outputs = World(settings, tf.ui, tf.endpoint.url, environ=tf.environ, driver=tf.driver).apply()
    found = problems(settings, lookups.Clients(tf.endpoint.url), outputs)
    if found:
        raise TerraformError(report(settings, found))
    try:
        return then()
    except TerraformError as exc:
        output = exc.__cause__.output if isinstance(exc.__cause__, CommandFailed) else str(exc)
        explained = explain(settings, output)
        if explained:
            raise TerraformError(
                report(settings, explained, planned=True) + f"\n\nTerraform said:\n{exc}"
            ) from exc
        raise


def _world_target(settings: Settings) -> str:
    folder = world_dir(settings)
    shown = hcl.shown(folder / "main.tf", settings.project_dir)
    if exists(settings):
        return f"Add to {shown}"
    return f"Create {shown} (`lambda-harness new-world` writes a first draft) with"


def problems(
    settings: Settings, clients: lookups.ClientFactory, outputs: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """Every missing piece, as sentences naming file:line and the fix (empty: go ahead)."""
    tf_dir = settings.terraform_dir
    context = lookups.values_context(tf_dir, list(settings.tfvars))
    found = lookups.find(tf_dir, context, settings.region)
    return [
        *(
            f"tfvars: {path} does not exist; create it or fix tfvars = [...] in [tool.lambda-harness]"
            for path in settings.tfvars
            if not path.is_file()
        ),
        *_variable_problem(settings, context, found),
        *remote_state.problems(
            tf_dir,
            outputs,
            world_dir(settings),
            settings.project_dir,
            lookups.provider_regions(tf_dir, context, settings.region)[""],
        ),
        *(lookup_problem(settings, lookup) for lookup in lookups.missing(clients, found)),
    ]


def _tfvars_target(settings: Settings) -> Path:
    """Where missing variables go: the first harness tfvars file, else the default one."""
    return settings.tfvars[0] if settings.tfvars else settings.project_dir / DEFAULT_TFVARS


def _variable_problem(settings: Settings, context: Any, found: list[lookups.Lookup]) -> list[str]:
    """The variables without a value, and the lookups that cannot be checked until they have one."""
    unset = variables.missing(settings.terraform_dir, list(settings.tfvars))
    text = variables.problem(unset, _tfvars_target(settings), settings.project_dir)
    if text is None:
        return []
    names = {v.name for v in unset}
    waiting = [
        lk for lk in found if lk.type in lookups.CHECKS and lookups.waiting_for(lk, names, context.locals)
    ]
    if waiting:
        listed = ", ".join(
            f"{lk.block.header} ({hcl.shown(lk.block.file, settings.project_dir)}:{lk.block.line})"
            for lk in waiting
        )
        text += f"\nLookups named after them are checked once they have values: {listed}."
    return [text]


def lookup_problem(settings: Settings, lookup: lookups.Lookup, why: str = "") -> str:
    """``file:line: data "T" "L" (keys) finds nothing on the local endpoint ...`` + the world snippet."""
    where = f"{hcl.shown(lookup.block.file, settings.project_dir)}:{lookup.block.line}"
    keys = f" ({lookup.describe()})" if lookup.keys else ""
    said = f": {why}" if why else ""
    region = f"region {lookup.region}"
    head = f"{where}: {lookup.block.header}{keys} finds nothing on the local endpoint ({region}){said}."
    snippet = drafts.snippet(lookup)
    if snippet and lookup.provider and lookup.provider not in _world_providers(settings):
        alias = lookup.provider.split(".", 1)[1]
        snippet = f'provider "aws" {{\n  alias  = "{alias}"\n  region = "{lookup.region}"\n}}\n\n{snippet}'
    if not snippet:
        return (
            f"{head} Declare what it should find in {hcl.shown(world_dir(settings), settings.project_dir)}/."
        )
    return f"{head} {_world_target(settings)}:\n{snippet.rstrip()}"


def _world_providers(settings: Settings) -> set[str]:
    """``aws.<alias>`` for each aliased provider the world declares already."""
    if not exists(settings):
        return set()
    blocks = hcl.read_module(world_dir(settings)).of("provider", "aws")
    return {f"aws.{b.body['alias']}" for b in blocks if isinstance(b.body.get("alias"), str)}


def report(settings: Settings, found: list[str], *, planned: bool = False) -> str:
    """One message for every problem, numbered."""
    tf = hcl.shown_root(settings.terraform_dir, settings.project_dir)
    when = "Terraform's plan failed" if planned else "nothing was planned or applied"
    head = f"{tf} needs {len(found)} thing(s) the local endpoint does not have ({when}):"
    return head + "".join(f"\n\n{n}. {text}" for n, text in enumerate(found, start=1))


def explain(settings: Settings, output: str) -> list[str]:
    """Terraform's own errors about lookups and variables, as the harness's sentences (may be empty).

    For lookups the pre-check could not evaluate: keys only Terraform knows, lookups in
    child modules. Terraform names the file relative to the staged root, which mirrors
    the real folder, so the same relative path is read in the real one.
    """
    tf_dir = settings.terraform_dir
    found: list[str] = []
    context = lookups.values_context(tf_dir, list(settings.tfvars))
    for match in _DIAGNOSTIC.finditer(output):
        data = _DATA_ADDRESS.search(match.group("address"))
        if not data:
            continue
        summary = match.group("summary").strip()
        real = tf_dir / match.group("file")
        block = _block_at(real, int(match.group("line")), data.group("type"), data.group("label"))
        if block is None:
            found.append(
                f"{hcl.shown(real, settings.project_dir)}:{match.group('line')}: "
                f"{match.group('address').strip()} finds nothing on the local endpoint: {summary}. "
                f"Declare what it should find in {hcl.shown(world_dir(settings), settings.project_dir)}/."
            )
            continue
        in_root = real.parent.resolve() == tf_dir.resolve()
        keys = dict(lookups.resolved_keys(context, block.body)) if in_root else {}
        keys.update(_keys_from_summary(block.labels[0], summary))
        regions = lookups.provider_regions(tf_dir, context, settings.region)
        if in_root:
            lookup = lookups.Lookup.on_provider(block, regions, keys)
        else:  # in a child module: on the root provider its module call hands it (or inherits)
            aliases = lookups.module_aliases(tf_dir, match.group("address"))
            lookup = _child_lookup(block, keys, regions, aliases)
        found.append(lookup_problem(settings, lookup, summary))
    names = list(dict.fromkeys(m.group("name") for m in _MISSING_VAR.finditer(output)))
    if names:
        declared = {v.name: v for v in variables.required(tf_dir)}
        text = variables.problem(
            [declared[n] for n in names if n in declared], _tfvars_target(settings), settings.project_dir
        )
        if text:
            found.append(text)
    return found


def _child_lookup(
    block: hcl.Block, keys: dict[str, Any], regions: Mapping[str, str], aliases: Mapping[str, str]
) -> lookups.Lookup:
    own = str(block.body.get("provider", "")).removeprefix("${").removesuffix("}")
    alias = aliases.get(own.split(".", 1)[1] if own.startswith("aws.") else "", aliases.get("", ""))
    root_alias = alias if alias in regions else ""
    provider = f"aws.{root_alias}" if root_alias else ""
    return lookups.Lookup(block, regions[root_alias], keys, provider)


def _block_at(path: Path, line: int, dtype: str, label: str) -> hcl.Block | None:
    if not path.is_file():
        return None
    for block in hcl.read_blocks(path, path.read_text(encoding="utf-8")):
        if block.kind == "data" and block.labels == (dtype, label) and block.line == line:
            return block
    return None


# The key a data source's error names in parentheses: "reading SSM Parameter (/shared/api-url): ...".
_SUMMARY_KEYS = {
    "aws_ssm_parameter": "name",
    "aws_secretsmanager_secret": "name",
    "aws_secretsmanager_secret_version": "secret_id",
    "aws_kms_key": "key_id",
    "aws_kms_alias": "name",
    "aws_iam_role": "name",
    "aws_s3_bucket": "bucket",
    "aws_sns_topic": "name",
    "aws_sqs_queue": "name",
    "aws_dynamodb_table": "name",
}


def _keys_from_summary(dtype: str, summary: str) -> dict[str, str]:
    key = _SUMMARY_KEYS.get(dtype)
    match = re.search(r"\(([^()]+)\)", summary)
    if key is None or match is None:
        return {}
    # A secret version is named "<secret>|<stage>".
    return {key: match.group(1).split("|", 1)[0]}


def vpc_notes(state_file: Path) -> tuple[str | None, str | None]:
    """(a note naming the functions in a VPC: recorded, not enforced; a warning naming those whose
    vpc_config has no subnets, i.e. no VPC at all), from the deployment's state."""
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    attached, empty = [], []
    for res in state.get("resources", []) if isinstance(state, dict) else []:
        if res.get("mode") != "managed" or res.get("type") != "aws_lambda_function":
            continue
        for inst in res.get("instances", []):
            attrs = inst.get("attributes", {})
            vpc = (attrs.get("vpc_config") or [{}])[0]
            if vpc.get("subnet_ids"):
                attached.append(str(attrs.get("function_name")))
            elif attrs.get("vpc_config") and not vpc.get("subnet_ids"):
                empty.append(str(attrs.get("function_name")))
    note = warning = None
    if attached:
        note = (
            f"{len(attached)} function(s) run in a VPC ({', '.join(sorted(attached))}): subnets and security "
            "groups are recorded on the local endpoint, not enforced. Locally a function reaches every "
            "service on the endpoint and whatever the host reaches; nothing checks routes, NAT or security "
            "group rules."
        )
    if empty:
        warning = (
            f"vpc_config with no subnets ({', '.join(sorted(empty))}): such a function is not in a VPC "
            "at all. "
            "An aws_subnets lookup that finds nothing gives an empty list; declare the subnets in the world."
        )
    return note, warning
