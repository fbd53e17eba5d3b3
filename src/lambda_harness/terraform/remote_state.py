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

from lambda_harness.terraform import hcl

OUTPUT_PREFIX = "remote_state_"
OVERRIDE_NAME = "zz_lambda_harness_remote_state_override.tf"
_USE = re.compile(
    r"data\.terraform_remote_state\.(?P<name>[\w-]+)\.outputs"
    r"(?:\.(?P<key>[A-Za-z_][\w-]*)|\[\s*\"(?P<quoted>[^\"]+)\"\s*\])?"
)
# Outputs is an object type in Terraform's JSON type syntax: ["object", {"key": <type>, ...}].
_OBJECT_TYPES = ("object", "map")


@dataclass(frozen=True)
class OutputUse:
    """One ``data.terraform_remote_state.<name>.outputs.<key>`` in the team's files (key None: all)."""

    name: str
    key: str | None
    file: Path
    line: int


def blocks(folder: Path) -> list[hcl.Block]:
    """The ``terraform_remote_state`` data sources of the root module in ``folder``."""
    return list(hcl.read_module(folder).of("data", "terraform_remote_state"))


def uses(folder: Path) -> list[OutputUse]:
    """Every reference to a remote state's outputs in the root module's files, in file order."""
    found = []
    for path in hcl.config_files(folder):
        text = path.read_text(encoding="utf-8")
        for match in _USE.finditer(text):
            key = match.group("key") or match.group("quoted")
            found.append(OutputUse(match.group("name"), key, path, text.count("\n", 0, match.start()) + 1))
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
        target.parent.mkdir(parents=True, exist_ok=True)
        document = state_document(name, world_outputs.get(OUTPUT_PREFIX + name))
        target.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
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
        (workdir / OVERRIDE_NAME).write_text(override_text(states), encoding="utf-8")


# ------------------------------------------------------------------------------------ checks


def output_snippet(name: str, keys: list[str]) -> str:
    """The world output to add for remote state ``name`` (placeholder values to replace)."""
    body = "".join(f'    {key} = "local-{key}"  # local value\n' for key in keys) or "    # key = value\n"
    return f'output "{OUTPUT_PREFIX}{name}" {{\n  value = {{\n{body}  }}\n}}'


def problems(
    folder: Path,
    world_outputs: Mapping[str, Mapping[str, Any]],
    world_dir: Path | None,
    project_dir: Path,
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
        keys = list(dict.fromkeys(u.key for u in mine if u.key))
        where = f"{hcl.shown(block.file, project_dir)}:{block.line}"
        declared = declared_keys(world_outputs.get(OUTPUT_PREFIX + name))
        if declared is None:
            state = "declares no" if OUTPUT_PREFIX + name not in world_outputs else "has a non-object"
            out.append(
                f"{where}: {block.header} reads another stack's state; locally its outputs come from the "
                f'world, which {state} output "{OUTPUT_PREFIX}{name}". Add to {world}/outputs.tf:\n'
                + output_snippet(name, keys)
            )
            continue
        defaults = block.body.get("defaults")
        present = set(declared) | (set(defaults) if isinstance(defaults, dict) else set())
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
