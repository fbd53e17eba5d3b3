"""``lambda-harness new NAME --trigger KIND``: a new function that passes ``lambda-harness run`` at once.

Writes three things, in the worker repo's own layout, and nothing else:
``functions/<name>/app.py`` (+ ``__init__.py``), ``terraform/lambda_<name>.tf``
(same shape as the other ``lambda_*.tf`` files, reusing the shared role,
artifacts bucket and ``dists.zip`` object from main.tf), and an event case
``<cases>/<name>/default.json`` with its expected payload (``<cases>``: the ``cases``
setting, ``tests/integration/events`` by default).
Deleting those files removes the function again.

The text comes from the package's ``templates/`` folder (package data, read with
``importlib.resources``): ``handler.py.tmpl`` around one ``handler_<trigger>.py.tmpl``;
``lambda_function.tf.tmpl`` with the trigger's ``env_``/``policy_`` lines in its slots and
its ``trigger_`` resources after it. ``__NAME__``-style tokens are replaced verbatim, so
HCL's ``${...}`` and Python's braces stay as written.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from lambda_harness.errors import ConfigError
from lambda_harness.settings import Settings
from lambda_harness.testing.generate import Options, generate, trigger_target

TRIGGERS = ("schedule", "s3", "sqs", "api", "manual")
SUMMARY = {
    "schedule": "runs every hour on an EventBridge schedule.",
    "s3": "runs for every object created in its bucket.",
    "sqs": "consumes its queue, 10 messages a batch, with partial batch failures.",
    "api": "answers HTTP requests behind a public function URL.",
    "manual": "run by hand (aws lambda invoke), no trigger.",
}
TEMPLATES = resources.files("lambda_harness.scaffold") / "templates"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

# What each generated .tf refers to in the shared Terraform (kind, name) -> why.
REQUIRED = {
    ("resource", "aws_s3_bucket.artifacts"): "the bucket holding dists.zip",
    ("resource", "aws_s3_object.dists"): "the dists.zip object every function runs",
    ("resource", "aws_iam_role.worker"): "the functions' shared role",
    ("local", "common_env"): "the environment every function gets",
    ("variable", "log_retention_days"): "the log groups' retention",
    ("variable", "prefix"): "the prefix of every resource name",
}


def validate_name(name: str) -> None:
    """A function name that works as a Python package, a Lambda name and a Terraform label."""
    if not _NAME.match(name):
        raise ConfigError(
            f"function name {name!r} is not usable: it must be a Python identifier (letters, digits, "
            "underscores, not starting with a digit) of at most 64 characters, e.g. daily_report"
        )
    if keyword.iskeyword(name) or name in sys.stdlib_module_names or name in ("worker_lib", "tests"):
        raise ConfigError(
            f"function name {name!r} would shadow a Python module in the Lambda package; pick another name"
        )


def declared_names(terraform_dir: Path) -> set[tuple[str, str]]:
    """(kind, name) of every resource, variable and local declared in ``terraform_dir/*.tf``."""
    found: set[tuple[str, str]] = set()
    for tf in sorted(terraform_dir.glob("*.tf")):
        text = tf.read_text(encoding="utf-8", errors="replace")
        resources = re.findall(r'^\s*resource\s+"([^"]+)"\s+"([^"]+)"', text, re.M)
        found |= {("resource", f"{t}.{n}") for t, n in resources}
        found |= {("variable", n) for n in re.findall(r'^\s*variable\s+"([^"]+)"', text, re.M)}
        for block in re.findall(r"^\s*locals\s*\{(.*?)^\}", text, re.M | re.S):
            found |= {("local", n) for n in re.findall(r"^\s{1,4}([A-Za-z_][A-Za-z0-9_-]*)\s*=", block, re.M)}
    return found


def check_shared_terraform(terraform_dir: Path) -> None:
    """ConfigError naming every shared declaration the generated .tf needs but main.tf lacks."""
    missing = [
        f"{kind} {name} ({why})"
        for (kind, name), why in REQUIRED.items()
        if (kind, name) not in declared_names(terraform_dir)
    ]
    if missing:
        raise ConfigError(
            f"{terraform_dir}: cannot add a function in the house style, missing: {'; '.join(missing)}. "
            "Declare them (the reference repo's terraform/main.tf in lambda-harness's own repository "
            "shows each), or add the function by hand: a handler under the functions folder, its "
            "aws_lambda_function in your own style and an event case (docs/how-to/add-a-function.md, "
            '"By hand").'
        )


def planned_files(settings: Settings, name: str) -> dict[str, Path]:
    """Where each generated file goes."""
    case = settings.cases_dir / name
    return {
        "init": settings.functions_dir / name / "__init__.py",
        "app": settings.functions_dir / name / "app.py",
        "tf": settings.terraform_dir / f"lambda_{name}.tf",
        "event": case / "default.json",
        "expected": case / "default.expected.json",
    }


def new_function(settings: Settings, name: str, trigger: str) -> list[Path]:
    """Write the function, its Terraform and its event case; return the files written."""
    validate_name(name)
    if trigger not in TRIGGERS:
        raise ConfigError(f"trigger {trigger!r} is not one of {', '.join(TRIGGERS)}")
    files = planned_files(settings, name)
    taken = [p for p in (files["app"].parent, files["tf"], files["event"].parent) if p.exists()]
    if taken:
        raise ConfigError(
            f"function {name} already exists ({', '.join(str(p) for p in taken)}); pick another name, "
            "or delete those files to remove it first"
        )
    if not settings.terraform_dir.is_dir():
        raise ConfigError(f"terraform folder {settings.terraform_dir} does not exist; pass --project DIR")
    check_shared_terraform(settings.terraform_dir)
    contents = render(name, trigger, cases=shown_path(settings.cases_dir, settings.project_dir))
    for key, path in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(contents[key], encoding="utf-8")
    return list(files.values())


def template(name: str) -> str:
    """The text of ``templates/<name>``."""
    return TEMPLATES.joinpath(name).read_text(encoding="utf-8")


def optional_templates(*names: str) -> list[str]:
    """The texts of those of ``names`` that exist (a trigger without env or policy lines has none)."""
    return [template(name) for name in names if TEMPLATES.joinpath(name).is_file()]


def _fill(text: str, values: Mapping[str, str]) -> str:
    for token, value in values.items():
        text = text.replace(token, value)
    return text


def _lines(parts: Iterable[str]) -> str:
    """What goes in a slot: each part on its own new line(s), at the slot's end of line."""
    return "".join("\n" + part.rstrip("\n") for part in parts)


def render(name: str, trigger: str, cases: str = "tests/integration/events") -> dict[str, str]:
    """The text of every generated file (``cases``: the event cases folder, as the user sees it)."""
    values = {
        "__CASES__": cases,
        "__NAME__": name,
        "__TRIGGER__": trigger,
        "__SUMMARY__": SUMMARY[trigger],
        "__DESCRIPTION__": f"{name}: {SUMMARY[trigger].rstrip('.')}",
        "__BUCKET__": name.lower().replace("_", "-"),
    }
    app = template("handler.py.tmpl").replace("__HANDLER__", _lines([template(f"handler_{trigger}.py.tmpl")]))
    tf = (
        template("lambda_function.tf.tmpl")
        .replace("__ENV__", _lines(optional_templates(f"env_{trigger}.tf.tmpl")))
        .replace(
            "__STATEMENTS__",
            _lines(optional_templates("policy_logs.tf.tmpl", f"policy_{trigger}.tf.tmpl")),
        )
    )
    tf += "".join("\n" + text for text in optional_templates(f"trigger_{trigger}.tf.tmpl"))
    event, expected = example_event(name, trigger)
    return {
        "init": "",
        "app": _fill(app, values),
        "tf": _fill(tf, values),
        "event": json.dumps(event, indent=2) + "\n",
        "expected": json.dumps(expected, indent=2) + "\n",
    }


def example_event(name: str, trigger: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """An event of the trigger's shape (what ``generate-event`` writes), and the payload subset the
    generated handler returns for it."""
    if trigger == "schedule":
        event = generate("eventbridge-schedule", trigger_target("schedule", f"{name}-hourly"))
        return event, {"ok": True, "function": name, "time": event["time"]}
    if trigger == "s3":
        event = generate("s3-put", trigger_target("s3", "example-bucket"), Options(key="example.json"))
        return event, {"ok": True, "objects": ["example-bucket/example.json"]}
    if trigger == "sqs":
        return generate("sqs"), {"batchItemFailures": []}
    if trigger == "api":
        return generate("function-url", options=Options(path="/?q=1")), {"statusCode": 200}
    return {"dry_run": True}, {"ok": True, "function": name, "dry_run": True}


def shown_path(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
