"""``terraform_remote_state`` of another stack, answered by outputs the world declares.

Locally there is no other stack's state to read (and its real backend must never be
touched). The world folder declares, for each ``data "terraform_remote_state" "<name>"``,
one output ``remote_state_<name>`` whose value is an object of that stack's outputs::

    output "remote_state_network" {
      value = { private_subnet_ids = aws_subnet.private[*].id, lambda_sg_id = aws_security_group.lambda.id }
    }

After the world is applied, its state holds that value; the harness writes it as a
local state file (``.harness/tf/<backend>/remote-state/<name>.tfstate``, outputs only)
and an override in the staged root points the data source there (``backend = "local"``),
whatever backend and credentials the team's block names. Values may therefore refer to
what the world created (a security group's id), not only to literals.

Before any plan, every ``data.terraform_remote_state.<name>.outputs.<key>`` the root
module uses is checked against the world's object (and the block's ``defaults``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_harness.fsutil import private_dir, write_private
from lambda_harness.terraform import hcl, stand_ins

OUTPUT_PREFIX = "remote_state_"
OVERRIDE_NAME = "zz_lambda_harness_remote_state_override.tf"
_USE = re.compile(
    r"data\.terraform_remote_state\.(?P<name>[\w-]+)\.outputs"
    r"(?:\.(?P<key>[A-Za-z_][\w-]*)|\[\s*\"(?P<quoted>[^\"]+)\"\s*\])?"
)
# ``permissions_boundary = `` or ``managed_policy_arns = [`` before a use: the value is the output.
_ASSIGNED = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*=\s*(?:\[\s*)?$")
# Outputs is an object type in Terraform's JSON type syntax: ["object", {"key": <type>, ...}].
_OBJECT_TYPES = ("object", "map")


@dataclass(frozen=True)
class OutputUse:
    """One ``data.terraform_remote_state.<name>.outputs.<key>`` in the team's files (key None: all)."""

    name: str
    key: str | None
    file: Path
    line: int
    # The argument the output is the whole value of (``permissions_boundary = data...``), and the
    # type of the resource that argument is in: what shape a local stand-in needs.
    argument: str | None = None
    resource_type: str | None = None


def blocks(folder: Path) -> list[hcl.Block]:
    """The ``terraform_remote_state`` data sources of the root module in ``folder``."""
    return list(hcl.read_module(folder).of("data", "terraform_remote_state"))


def uses(folder: Path) -> list[OutputUse]:
    """Every reference to a remote state's outputs in the root module's files, in file order."""
    found = []
    module = hcl.read_module(folder)
    for path, text in module.texts.items():
        resources = [b for b in module.blocks if b.file == path and b.kind == "resource"]
        for match in _USE.finditer(text):
            key = match.group("key") or match.group("quoted")
            line = text.count("\n", 0, match.start()) + 1
            assigned = _ASSIGNED.match(text[text.rfind("\n", 0, match.start()) + 1 : match.start()])
            block = next((b for b in resources if b.line <= line <= (b.end_line or b.line)), None)
            found.append(
                OutputUse(
                    match.group("name"),
                    key,
                    path,
                    line,
                    assigned.group(1) if assigned else None,
                    block.labels[0] if block and block.labels else None,
                )
            )
    return found


def state_outputs(state_file: Path) -> dict[str, dict[str, Any]]:
    """``outputs`` of a local v4 state file (name -> {"value", "type"}); empty when unreadable."""
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    outputs = state.get("outputs") if isinstance(state, dict) else None
    return dict(outputs) if isinstance(outputs, dict) else {}


def declared_keys(output: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The world output's value as ``key -> value``; None when it is not an object or map."""
    if output is None or not isinstance(output.get("value"), dict):
        return None
    return dict(output["value"])


def _key_types(output: Mapping[str, Any]) -> dict[str, Any]:
    kind = output.get("type")
    if isinstance(kind, list) and len(kind) == 2 and kind[0] == "object" and isinstance(kind[1], dict):
        return dict(kind[1])
    if isinstance(kind, list) and len(kind) == 2 and kind[0] == "map":
        return dict.fromkeys(output.get("value", {}), kind[1])
    return {}


def state_document(name: str, output: Mapping[str, Any] | None) -> dict[str, Any]:
    """A v4 state file holding only the outputs of ``remote_state_<name>`` (none when absent)."""
    values = declared_keys(output) or {}
    types = _key_types(output or {})
    return {
        "version": 4,
        # An old version on purpose: Terraform refuses a state written by a newer Terraform.
        "terraform_version": "1.0.0",
        "serial": 1,
        "lineage": f"lambda-harness-remote-state-{name}",
        "outputs": {
            key: {"value": value, "type": types.get(key, "dynamic" if value is None else _type_of(value))}
            for key, value in values.items()
        },
        "resources": [],
    }


def _type_of(value: Any) -> Any:
    """Terraform's JSON type for a plain value (used when the world's output type says nothing)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return ["tuple", [_type_of(v) for v in value]]
    if isinstance(value, dict):
        return ["object", {k: _type_of(v) for k, v in value.items()}]
    return "dynamic"


def write_states(
    names: list[str], world_outputs: Mapping[str, Mapping[str, Any]], path_of: Callable[[str], Path]
) -> dict[str, Path]:
    """Write one local state file per remote state name; name -> its path (``path_of(name)``)."""
    written = {}
    for name in names:
        target = path_of(name)
        private_dir(target.parent)
        document = state_document(name, world_outputs.get(OUTPUT_PREFIX + name))
        write_private(target, json.dumps(document, indent=2) + "\n")
        written[name] = target
    return written


def override_text(states: Mapping[str, Path]) -> str:
    """Override blocks pointing each ``terraform_remote_state`` at its local state file."""
    parts = [
        "# Written by lambda-harness in its staged copy only: each remote state reads the outputs\n"
        '# the world declares (output "remote_state_<name>"), never the other stack\'s real state.\n'
    ]
    for name, path in sorted(states.items()):
        quoted = json.dumps(str(path.resolve()))
        parts.append(
            f'data "terraform_remote_state" "{name}" {{\n'
            '  backend   = "local"\n'
            "  workspace = null\n"
            f"  config    = {{ path = {quoted} }}\n"
            "}\n"
        )
    return "\n".join(parts)


def write_overrides(workdir: Path, states: Mapping[str, Path]) -> None:
    """Write the override into the staged root (nothing when the root has no remote state)."""
    if states:
        write_private(workdir / OVERRIDE_NAME, override_text(states))


# ------------------------------------------------------------------------------------ checks


def output_snippet(
    block: hcl.Block, uses: list[OutputUse], region: str, project_dir: Path | None = None
) -> str:
    """The world output to add for the remote state ``block``: a local stand-in per key it reads,
    shaped as it is used (``stand_ins``), preceded by the world resources a stand-in names; a key
    its ``defaults`` answer is a commented line with the default (same type), not demanded."""
    name = block.labels[1]
    keys = list(dict.fromkeys(u.key for u in uses if u.name == name and u.key))
    defaults = defaults_of(block)
    where = f"{hcl.shown(block.file, project_dir)}:{block.line}" if project_dir else block.header
    lines, resources = [], []
    for key in keys:
        if key in defaults:
            literal = stand_ins.hcl_literal(defaults[key])
            lines.append(f"    # {key} = {literal or '<value>'}  # optional: defaults in {where} answer it\n")
            continue
        found = [stand_ins.Use(u.argument, u.resource_type) for u in uses if u.name == name and u.key == key]
        value = stand_ins.stand_in(name, key, found, region)
        lines.append(f"    {key} = {value.value}  {value.comment}\n")
        if value.resources:
            resources.append(value.resources)
    body = "".join(lines) or "    # key = value\n"
    return "\n".join([*resources, f'output "{OUTPUT_PREFIX}{name}" {{\n  value = {{\n{body}  }}\n}}'])


def defaults_of(block: hcl.Block) -> dict[str, Any]:
    """The ``defaults`` of a ``terraform_remote_state`` block (key -> value; empty when none)."""
    defaults = block.body.get("defaults")
    return dict(defaults) if isinstance(defaults, dict) else {}


def demanded(block: hcl.Block, uses: list[OutputUse]) -> bool:
    """Whether the world must declare an output for ``block``: some key it reads has no default
    (an unused remote state, or one whose whole ``outputs`` is read, needs the output too)."""
    mine = [u for u in uses if u.name == block.labels[1]]
    defaults = defaults_of(block)
    return not mine or any(u.key is None or u.key not in defaults for u in mine)


def problems(
    folder: Path,
    world_outputs: Mapping[str, Mapping[str, Any]],
    world_dir: Path | None,
    project_dir: Path,
    region: str = "us-east-1",
) -> list[str]:
    """What the world lacks for the root module's remote states: one sentence each, with the fix."""
    found = blocks(folder)
    if not found:
        return []
    all_uses = uses(folder)
    world = hcl.shown(world_dir, project_dir) if world_dir else "the world folder"
    out = []
    for block in found:
        name = block.labels[1]
        mine = [u for u in all_uses if u.name == name]
        where = f"{hcl.shown(block.file, project_dir)}:{block.line}"
        declared = declared_keys(world_outputs.get(OUTPUT_PREFIX + name))
        if declared is None:
            if not demanded(block, all_uses):
                continue  # every key it reads has a default: the empty local state answers it
            state = "declares no" if OUTPUT_PREFIX + name not in world_outputs else "has a non-object"
            out.append(
                f"{where}: {block.header} reads another stack's state; locally its outputs come from the "
                f'world, which {state} output "{OUTPUT_PREFIX}{name}". Add to {world}/outputs.tf:\n'
                + output_snippet(block, all_uses, region, project_dir)
            )
            continue
        present = set(declared) | set(defaults_of(block))
        for use in mine:
            if use.key and use.key not in present:
                has = ", ".join(sorted(declared)) or "nothing"
                out.append(
                    f"{hcl.shown(use.file, project_dir)}:{use.line}: uses data.terraform_remote_state.{name}."
                    f'outputs.{use.key}; the world\'s output "{OUTPUT_PREFIX}{name}" has {{{has}}}. '
                    f'Add {use.key} = <value> to output "{OUTPUT_PREFIX}{name}" in {world}.'
                )
                present.add(use.key)  # one message per missing key
    return out
