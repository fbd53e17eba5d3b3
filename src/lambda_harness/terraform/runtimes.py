"""Runtimes the installed aws provider may not know, caught before anything is built.

The aws provider validates ``runtime`` and ``compatible_runtimes`` against a list compiled
into each release: ``python3.14`` needs hashicorp/aws 6.20.0 or later, and 5.x rejects it in
``terraform validate`` with its whole list of runtimes. When a runtime is newer than every 5.x
release knows (``KNOWN``), ``check_runtimes`` runs ``terraform validate -json`` in the staged
copy (offline, no endpoint, ~4 s, only then) and turns a rejection into one message naming
the file and line, the provider version and the fixes.

``validate`` does not evaluate variables: ``runtime = var.runtime`` passes it whatever the
value. So the runtimes are read statically with variable defaults, Terraform's variable files
and the harness's tfvars, and each new one is also validated as a literal on a probe resource
(a file in the staged copy only, removed after); a rejected probe is reported at the
``runtime =`` line of every function that evaluates to it. Runtimes only Terraform can evaluate
(inside modules) are caught from the discovery plan's or the apply's output
(``Terraform._raise_for_known``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from lambda_harness.errors import TerraformError
from lambda_harness.packaging.tfconfig import TfConfig, TfFunction, read_config
from lambda_harness.settings import Settings
from lambda_harness.terraform import diagnostics
from lambda_harness.terraform.runner import Terraform
from lambda_harness.terraform.sources import shown
from lambda_harness.ui import UI

#: Python runtimes every hashicorp/aws release since 5.76 accepts.
KNOWN = frozenset(f"python3.{minor}" for minor in range(8, 14))


def new_runtimes(config: TfConfig) -> set[str]:
    """Python runtimes of functions and layers (as read statically) that some provider releases reject."""
    runtimes = {fn.runtime for fn in config.functions if fn.runtime}
    runtimes |= {r for layer in config.layers for r in layer.compatible_runtimes}
    return {r for r in runtimes if r.startswith("python") and r not in KNOWN}


PROBE_FILE = "zz_lambda_harness_runtime_probe.tf"


def probe_text(runtimes: set[str]) -> str:
    """One never-applied function per runtime, with the runtime as a literal ``validate`` checks."""
    return "".join(
        f'resource "aws_lambda_function" "lambda_harness_runtime_probe_{n}" {{\n'
        '  function_name = "lambda-harness-runtime-probe"\n'
        '  role          = "arn:aws:iam::123456789012:role/probe"\n'
        '  handler       = "probe.handler"\n'
        '  filename      = "probe.zip"\n'
        f'  runtime       = "{runtime}"\n'
        "}\n"
        for n, runtime in enumerate(sorted(runtimes))
    )


_RUNTIME_LINE = re.compile(r"^\s*runtime\s*=\s*(?P<expr>.+?)\s*$")


def runtime_expression(fn: TfFunction) -> tuple[int, str] | None:
    """(line, expression as written) of a function's ``runtime =`` in its ``.tf`` file."""
    if fn.line is None or fn.tf_file.suffix != ".tf" or not fn.tf_file.is_file():
        return None
    lines = fn.tf_file.read_text(encoding="utf-8").splitlines()
    for number in range(fn.line, len(lines) + 1):
        text = lines[number - 1]
        if number > fn.line and re.match(r"^(resource|data|module|variable|locals|output)\b", text):
            return None
        found = _RUNTIME_LINE.match(text)
        if found:
            return number, found.group("expr")
    return None


def _through_variables(
    config: TfConfig, probed: Mapping[str, diagnostics.RuntimeRejected], project_dir: Path
) -> list[diagnostics.RuntimeRejected]:
    """The functions whose runtime is not a literal and evaluates to a rejected one."""
    out = []
    for fn in config.functions:
        rejected = probed.get(fn.runtime or "")
        found = runtime_expression(fn)
        if rejected is None or found is None or found[1].strip('"') == fn.runtime:
            continue  # a literal: validate reports it itself
        where = f"{shown(fn.tf_file, project_dir)}:{found[0]} (runtime = {found[1]})"
        out.append(diagnostics.RuntimeRejected(rejected.runtime, rejected.accepted_python, where))
    return out


def check_runtimes(settings: Settings, ui: UI, *, environ: Mapping[str, str] | None = None) -> None:
    """``TerraformError`` when the installed provider rejects a runtime the repo uses."""
    config = read_config(settings.terraform_dir, settings.tfvars)
    new = new_runtimes(config)
    if not new or not settings.terraform_dir.is_dir():
        return
    tf = Terraform(settings, ui, settings.endpoint_url, environ=environ, report=False)
    with ui.step(f"terraform validate: does the aws provider accept {', '.join(sorted(new))}?"):
        found = tf.validate_diagnostics(extra={PROBE_FILE: probe_text(new)})
    rejected = diagnostics.rejected_runtimes(found, settings.project_dir, settings.terraform_dir)
    direct = [r for r in rejected if PROBE_FILE not in r.where]
    probed = {r.runtime: r for r in rejected if PROBE_FILE in r.where}
    reported = direct + _through_variables(config, probed, settings.project_dir)
    if reported:
        raise TerraformError(diagnostics.runtime_message(reported, tf.provider_version()))
