"""Before the team's Terraform runs: everything it needs checked at once.

``apply_with_world`` is the apply stage's one call (``deploy``): list in ONE error every
variable without a local value, with the file and line of its declaration and the exact
fix; only then ``terraform apply``. When Terraform still fails on a missing variable,
``explain`` turns its diagnostics into the same sentence.
"""

from __future__ import annotations

import re
from pathlib import Path

from lambda_harness.errors import CommandFailed, TerraformError
from lambda_harness.settings import DEFAULT_TFVARS, Settings
from lambda_harness.terraform import hcl, variables
from lambda_harness.terraform.runner import Terraform

_MISSING_VAR = re.compile(
    r"Error: No value for required variable\s*\n\s*\n\s*on (?P<file>\S+) line (?P<line>\d+):\s*\n"
    r"\s*\d+:\s*variable \"(?P<name>[\w-]+)\""
)


def apply_with_world(tf: Terraform) -> None:
    """The pre-checks, then ``tf.apply()``; failures explained with the fix."""
    settings = tf.settings
    found = problems(settings)
    if found:
        raise TerraformError(report(settings, found))
    try:
        tf.apply()
    except TerraformError as exc:
        output = exc.__cause__.output if isinstance(exc.__cause__, CommandFailed) else str(exc)
        explained = explain(settings, output)
        if explained:
            raise TerraformError(
                report(settings, explained, planned=True) + f"\n\nTerraform said:\n{exc}"
            ) from exc
        raise


def problems(settings: Settings) -> list[str]:
    """Every missing piece, as sentences naming file:line and the fix (empty: go ahead)."""
    return [
        *(
            f"tfvars: {path} does not exist; create it or fix tfvars = [...] in [tool.lambda-harness]"
            for path in settings.tfvars
            if not path.is_file()
        ),
        *_variable_problem(settings),
    ]


def _tfvars_target(settings: Settings) -> Path:
    """Where missing variables go: the first harness tfvars file, else the default one."""
    return settings.tfvars[0] if settings.tfvars else settings.project_dir / DEFAULT_TFVARS


def _variable_problem(settings: Settings) -> list[str]:
    """The variables without a value."""
    unset = variables.missing(settings.terraform_dir, list(settings.tfvars))
    text = variables.problem(unset, _tfvars_target(settings), settings.project_dir)
    return [] if text is None else [text]


def report(settings: Settings, found: list[str], *, planned: bool = False) -> str:
    """One message for every problem, numbered."""
    tf = hcl.shown(settings.terraform_dir, settings.project_dir)
    when = "Terraform's plan failed" if planned else "nothing was planned or applied"
    head = f"{tf} needs {len(found)} thing(s) the local endpoint does not have ({when}):"
    return head + "".join(f"\n\n{n}. {text}" for n, text in enumerate(found, start=1))


def explain(settings: Settings, output: str) -> list[str]:
    """Terraform's own errors about variables, as the harness's sentence (may be empty)."""
    found: list[str] = []
    names = list(dict.fromkeys(m.group("name") for m in _MISSING_VAR.finditer(output)))
    if names:
        declared = {v.name: v for v in variables.required(settings.terraform_dir)}
        text = variables.problem(
            [declared[n] for n in names if n in declared], _tfvars_target(settings), settings.project_dir
        )
        if text:
            found.append(text)
    return found
