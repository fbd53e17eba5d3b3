"""Root-module variables without a default, and the values the local run has for them.

CI passes such variables with ``-var``, ``TF_VAR_*`` or a generated ``*.auto.tfvars``;
none of that reaches the harness (its environment drops ``TF_VAR_*``). The team keeps
local values in its own variable file(s) (setting ``tfvars``, default
``tests/integration/harness.tfvars``). Checked before any Terraform command, so the
user sees every missing variable at once, each with its declaration's file and line,
instead of Terraform's prompt (or, with ``-input=false``, its error).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_harness.terraform import hcl

# Placeholder values for a draft, by the variable's declared type: (HCL, Python).
_PLACEHOLDERS: dict[str, tuple[str, Any]] = {
    "string": ('"local"', "local"),
    "number": ("0", 0),
    "bool": ("false", False),
}


@dataclass(frozen=True)
class Variable:
    """A root-module variable with no default."""

    name: str
    file: Path
    line: int
    type_expr: str | None
    sensitive: bool


def required(folder: Path) -> list[Variable]:
    """Variables of the root module in ``folder`` that declare no ``default`` (file order)."""
    out = []
    for block in hcl.read_module(folder).of("variable"):
        if "default" in block.body:
            continue
        kind = block.body.get("type")
        type_expr = str(kind).removeprefix("${").removesuffix("}") if kind is not None else None
        sensitive = block.body.get("sensitive") in (True, "true")
        out.append(Variable(block.labels[0], block.file, block.line, type_expr, sensitive))
    return out


def provided(folder: Path, tfvars: Sequence[Path]) -> set[str]:
    """Variable names given a value by Terraform's own variable files or the harness's."""
    names: set[str] = set()
    for path in [*hcl.auto_var_files(folder), *(p for p in tfvars if p.is_file())]:
        names |= set(hcl.read_values(path))
    return names


def missing(folder: Path, tfvars: Sequence[Path]) -> list[Variable]:
    """Required variables no variable file sets."""
    given = provided(folder, tfvars)
    return [v for v in required(folder) if v.name not in given]


def placeholder_value(variable: Variable) -> tuple[str, Any] | None:
    """A local value for a draft, as HCL and as Python, or None for types left to the user."""
    kind = (variable.type_expr or "string").strip()
    if kind in _PLACEHOLDERS:
        return _PLACEHOLDERS[kind]
    if re.match(r"(list|set|tuple)\s*\(", kind):
        return "[]", []
    if re.match(r"map\s*\(", kind):
        return "{}", {}
    return None


def placeholder(variable: Variable) -> str:
    """A draft line ``name = <value>`` for a harness tfvars file."""
    value = placeholder_value(variable)
    if value is None:
        kind = (variable.type_expr or "string").strip()
        return f"# {variable.name} = ...  # type {kind}: write a local value"
    return f"{variable.name} = {value[0]}  # local value"


def problem(found: Sequence[Variable], target: Path, project_dir: Path) -> str | None:
    """One sentence naming every variable still missing, and the file to add them to."""
    if not found:
        return None
    listed = ", ".join(
        f"{v.name} ({hcl.shown(v.file, project_dir)}:{v.line}{', sensitive' if v.sensitive else ''})"
        for v in found
    )
    noun = "variable has" if len(found) == 1 else "variables have"
    lines = "\n".join(placeholder(v) for v in found)
    return (
        f"{len(found)} {noun} no value locally: {listed}. CI passes them with -var, TF_VAR_* or "
        "*.auto.tfvars; the harness drops TF_VAR_* and passes no -var. Add local values to "
        f"{hcl.shown(target, project_dir)} (setting tfvars), e.g.:\n{lines}"
    )
