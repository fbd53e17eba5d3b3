"""The reference worker repo keeps its conventions: one function per folder, per .tf file, per case folder.

These checks read files only (Terraform through python-hcl2); the harness relies on the same
conventions, so a slip here would show up as a confusing failure much later.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import hcl2
import pytest

REPO = Path(__file__).resolve().parents[3]
TERRAFORM = REPO / "terraform"
EVENTS = REPO / "tests" / "integration" / "events"
TF_FILES = sorted(TERRAFORM.glob("lambda_*.tf"))
SIDE_FILES = (".expected.json", ".error.json")  # a case's expectations, not a case


def unquote(value: Any) -> Any:
    """python-hcl2 8 keeps the quotes of string literals and block labels."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def resources(path: Path, kind: str) -> dict[str, dict[str, Any]]:
    with path.open() as handle:
        doc = hcl2.load(handle)
    found: dict[str, dict[str, Any]] = {}
    for block in doc.get("resource", []):
        for rtype, named in block.items():
            if unquote(rtype) == kind:
                found.update({unquote(name): body for name, body in named.items()})
    return found


def test_there_are_at_least_six_functions() -> None:
    assert len(TF_FILES) >= 6


@pytest.mark.parametrize("tf_file", TF_FILES, ids=lambda p: p.stem)
def test_function_file_folder_and_cases_agree(tf_file: Path) -> None:
    name = tf_file.stem.removeprefix("lambda_")
    functions = resources(tf_file, "aws_lambda_function")
    assert list(functions) == [name]
    fn = functions[name]
    assert unquote(fn["function_name"]) == name
    assert unquote(fn["handler"]) == f"{name}.app.handler"
    assert unquote(fn["runtime"]) == "python3.12"
    assert "aws_s3_object.dists.key" in fn["s3_key"]
    assert 'filebase64sha256("${path.module}/../dists.zip")' in fn["source_code_hash"].replace('\\"', '"')
    assert "filename" not in fn  # see the comment on aws_s3_object.dists in main.tf
    groups = resources(tf_file, "aws_cloudwatch_log_group")
    assert [unquote(g["name"]) for g in groups.values()] == [f"/aws/lambda/{name}"]

    app = REPO / "functions" / name / "app.py"
    tree = ast.parse(app.read_text(), filename=str(app))
    handlers = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "handler"]
    assert handlers, f"{app} defines no handler()"
    assert [a.arg for a in handlers[0].args.args] == ["event", "context"]

    cases = [p for p in (EVENTS / name).glob("*.json") if not p.name.endswith(SIDE_FILES)]
    assert cases, f"no event cases for {name}"


def test_every_case_file_is_json_with_a_matching_case() -> None:
    for path in sorted(EVENTS.glob("*/*.json")):
        data = json.loads(path.read_text())
        if path.name.endswith(".error.json"):
            assert set(data) == {"errorType"}
            assert not path.with_name(path.name.replace(".error.json", ".expected.json")).exists()
        for suffix in SIDE_FILES:
            if path.name.endswith(suffix):
                assert path.with_name(path.name.removesuffix(suffix) + ".json").exists(), path


def test_main_tf_has_the_remote_backend_and_no_endpoints() -> None:
    with (TERRAFORM / "main.tf").open() as handle:
        doc = hcl2.load(handle)
    backends = doc["terraform"][0]["backend"][0]
    assert list(map(unquote, backends)) == ["s3"]
    provider = doc["provider"][0]
    assert set(provider) == {'"aws"'} or set(provider) == {"aws"}
    assert set(next(iter(provider.values()))) <= {"region", "__is_block__"}
    dists = resources(TERRAFORM / "main.tf", "aws_s3_object")["dists"]
    assert "filemd5" in dists["source_hash"]
