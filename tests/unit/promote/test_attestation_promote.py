"""Attestation contents and every reason promotion refuses (no terraform runs here)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lambda_harness.errors import PromoteError
from lambda_harness.promote.attestation import (
    Exemptions,
    attestation_path,
    read_attestation,
    terraform_files,
    terraform_hash,
    write_attestation,
)
from lambda_harness.promote.release import check_attestation, promote, verify_code
from lambda_harness.settings import Settings, load_settings
from lambda_harness.ui import PlainUI

PASSED = {"hello": {"passed": 2, "failed": 0}, "other": {"passed": 1, "failed": 0}}


@pytest.fixture
def repo(tmp_path: Path) -> Settings:
    tf = tmp_path / "terraform"
    (tf / ".terraform" / "providers").mkdir(parents=True)
    (tf / "main.tf").write_text('resource "aws_s3_bucket" "b" {}\n')
    (tf / "prod.tfvars").write_text('x = "1"\n')
    (tf / ".terraform.lock.hcl").write_text("lock\n")
    (tf / ".terraform" / "providers" / "ignored.tf").write_text("")
    (tf / "terraform.tfstate").write_text("{}")
    (tf / "notes.md").write_text("not hashed")
    (tmp_path / "requirements.txt").write_text("orjson==3.10.0 --hash=sha256:aa\n")
    (tmp_path / "dists.zip").write_bytes(b"PK tested")
    return load_settings(tmp_path, {}, {"HOME": str(tmp_path)})


def refuse(settings: Settings, match: str) -> None:
    with pytest.raises(PromoteError, match=match):
        promote(settings, PlainUI(), terraform_cmd_env={"PATH": "/nonexistent"})


def test_attestation_contents(repo: Settings) -> None:
    path = write_attestation(repo, repo.project_dir / "dists.zip", PASSED)
    assert path == repo.harness_dir / "attestation.json"
    data = json.loads(path.read_text())
    digest = hashlib.sha256(b"PK tested").digest()
    assert data["zip_path"] == "dists.zip"
    assert data["zip_sha256"] == digest.hex()
    assert data["zip_code_sha256"] == base64.b64encode(digest).decode()
    assert sorted(data["terraform_files"]) == [".terraform.lock.hcl", "main.tf", "prod.tfvars"]
    assert data["lock_sha256"] == hashlib.sha256(b"orjson==3.10.0 --hash=sha256:aa\n").hexdigest()
    assert data["results"] == PASSED
    assert data["created_at"].endswith("+00:00")
    assert read_attestation(repo).zip_sha256 == digest.hex()
    assert check_attestation(repo, read_attestation(repo)) == []


def test_terraform_hash_is_deterministic_and_content_sensitive(repo: Settings) -> None:
    first = terraform_hash(terraform_files(repo.terraform_dir))
    assert first == terraform_hash(terraform_files(repo.terraform_dir))
    (repo.terraform_dir / "notes.md").write_text("changed, but not Terraform")
    assert terraform_hash(terraform_files(repo.terraform_dir)) == first
    (repo.terraform_dir / "main.tf").write_text("# edited\n")
    assert terraform_hash(terraform_files(repo.terraform_dir)) != first


def test_results_from_objects(repo: Settings) -> None:
    @dataclass
    class Counts:
        passed: int
        failed: int

    write_attestation(repo, repo.project_dir / "dists.zip", {"hello": Counts(3, 1)})
    assert read_attestation(repo).results == {"hello": {"passed": 3, "failed": 1}}


def test_no_attestation(repo: Settings) -> None:
    refuse(repo, "no attestation at .*attestation.json.*lambda-harness run")


def test_unreadable_attestation(repo: Settings) -> None:
    attestation_path(repo).parent.mkdir(parents=True)
    attestation_path(repo).write_text("{")
    refuse(repo, "unreadable")


def test_failed_test_refused(repo: Settings) -> None:
    write_attestation(
        repo, repo.project_dir / "dists.zip", {"hello": {"passed": 1, "failed": 2}, "ok": {"passed": 1}}
    )
    refuse(repo, r"tests failed for: hello \(2 failed\)")


def test_no_results_refused(repo: Settings) -> None:
    write_attestation(repo, repo.project_dir / "dists.zip", {})
    refuse(repo, "no test results")


def test_untested_function_refused(repo: Settings) -> None:
    write_attestation(repo, repo.project_dir / "dists.zip", {"hello": {"passed": 0, "failed": 0}})
    refuse(repo, f"no test ran for: hello; add event cases under {repo.cases_dir}/<function>/")


def test_zip_changed_refused(repo: Settings) -> None:
    write_attestation(repo, repo.project_dir / "dists.zip", PASSED)
    (repo.project_dir / "dists.zip").write_bytes(b"PK rebuilt")
    refuse(repo, "dists.zip changed since the tests ran")


def test_zip_gone_refused(repo: Settings) -> None:
    write_attestation(repo, repo.project_dir / "dists.zip", PASSED)
    (repo.project_dir / "dists.zip").unlink()
    refuse(repo, "is gone")


def test_terraform_changed_names_files(repo: Settings) -> None:
    write_attestation(repo, repo.project_dir / "dists.zip", PASSED)
    (repo.terraform_dir / "main.tf").write_text("# edited\n")
    (repo.terraform_dir / "new.tf").write_text("")
    (repo.terraform_dir / "prod.tfvars").unlink()
    refuse(
        repo,
        "terraform changed since the tests ran \\(added new.tf; removed prod.tfvars; modified main.tf\\)",
    )


def test_lock_changed_refused(repo: Settings) -> None:
    write_attestation(repo, repo.project_dir / "dists.zip", PASSED)
    (repo.project_dir / "requirements.txt").write_text("orjson==3.11.0\n")
    refuse(repo, "requirements.txt changed since the tests ran")


def test_every_reason_listed_at_once(repo: Settings) -> None:
    write_attestation(repo, repo.project_dir / "dists.zip", {"hello": {"passed": 0, "failed": 1}})
    (repo.project_dir / "dists.zip").write_bytes(b"other")
    (repo.terraform_dir / "main.tf").write_text("")
    (repo.terraform_dir / "localstack_providers_override.tf").write_text("")
    problems = check_attestation(repo, read_attestation(repo))
    assert len(problems) == 4
    assert "localstack_providers_override.tf exists" in problems[-1]


class FakeLambda:
    def __init__(self, shas: dict[str, str]) -> None:
        self.shas = shas
        self.calls: list[tuple[str, str]] = []

    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:
        return {"CodeSha256": self.shas[FunctionName.rsplit(":", 1)[-1]]}


def _show(*names: str) -> dict[str, Any]:
    return {
        "values": {
            "root_module": {
                "resources": [
                    {
                        "type": "aws_lambda_function",
                        "mode": "managed",
                        "address": f"aws_lambda_function.{n}",
                        "values": {"function_name": n, "arn": f"arn:aws:lambda:eu-west-1:1:function:{n}"},
                    }
                    for n in names
                ]
            }
        }
    }


def test_verify_code_lists_mismatches(repo: Settings) -> None:
    write_attestation(repo, repo.project_dir / "dists.zip", PASSED)
    att = read_attestation(repo)
    fake = FakeLambda({"hello": att.zip_code_sha256, "other": "WRONG="})
    regions: list[str] = []

    def client_for(env: object, region: str) -> FakeLambda:
        regions.append(region)
        return fake

    with pytest.raises(PromoteError, match="other: CodeSha256 WRONG= != tested") as info:
        verify_code(att, _show("hello", "other"), {}, client_for)
    assert "hello" not in str(info.value).split("tested zip:")[1]
    assert set(regions) == {"eu-west-1"}
    with pytest.raises(PromoteError, match="other: not in the Terraform state"):
        verify_code(att, _show("hello"), {}, client_for)
    fake.shas["other"] = att.zip_code_sha256
    assert verify_code(att, _show("hello", "other"), {}, client_for) == ["hello", "other"]


def test_functions_excluded_on_purpose_are_recorded_and_not_counted_as_untested(repo: Settings) -> None:
    skipped = {"web": "excluded by --skip-function (runtime nodejs20.x)"}
    waived = ["aws_s3_bucket.b.tags"]
    path = write_attestation(repo, repo.project_dir / "dists.zip", PASSED, Exemptions(skipped, waived))
    att = read_attestation(repo)
    assert att.skipped == skipped and "web" not in att.results
    assert att.idempotency_waived == waived
    assert check_attestation(repo, att) == []
    assert '"skipped"' in path.read_text()


def per_function_build(repo: Settings) -> dict[str, str]:
    """Two function zips recorded by a build, and their CodeSha256 on the endpoint."""
    build = repo.project_dir / "build"
    build.mkdir()
    codes = {}
    artifacts = []
    for name in ("hello", "other"):
        data = f"PK {name}".encode()
        (build / f"{name}.zip").write_bytes(data)
        digest = hashlib.sha256(data).digest()
        codes[name] = base64.b64encode(digest).decode()
        artifacts.append(
            {
                "path": f"build/{name}.zip",
                "kind": "function",
                "sha256": digest.hex(),
                "code_sha256": codes[name],
                "functions": [name],
            }
        )
    repo.harness_dir.mkdir(exist_ok=True)
    repo.paths.build_record.write_text(json.dumps({"artifacts": artifacts}))
    inventory = {"functions": [{"name": n, "code_sha256": c} for n, c in codes.items()]}
    repo.paths.inventory.write_text(json.dumps(inventory))
    return codes


def test_each_function_is_attested_with_its_own_zip(repo: Settings) -> None:
    codes = per_function_build(repo)
    write_attestation(repo, repo.project_dir / "build" / "hello.zip", PASSED)
    att = read_attestation(repo)
    assert att.functions == codes
    assert sorted(att.artifacts) == ["build/hello.zip", "build/other.zip"]
    assert att.expected_code_sha256("other") == codes["other"]
    fake = FakeLambda({"hello": codes["hello"], "other": codes["hello"]})
    expected = re.escape(f"other: CodeSha256 {codes['hello']} != tested {codes['other']}")
    with pytest.raises(PromoteError, match=expected):
        verify_code(att, _show("hello", "other"), {}, lambda env, region: fake)
    fake.shas["other"] = codes["other"]
    assert verify_code(att, _show("hello", "other"), {}, lambda env, region: fake) == ["hello", "other"]


def test_a_changed_function_zip_refuses_promotion(repo: Settings) -> None:
    per_function_build(repo)
    write_attestation(repo, repo.project_dir / "build" / "hello.zip", PASSED)
    (repo.project_dir / "build" / "other.zip").write_bytes(b"PK changed")
    problems = check_attestation(repo, read_attestation(repo))
    assert any("build/other.zip (other) changed since the tests ran" in p for p in problems)


def test_a_zip_changed_between_build_and_attestation_is_an_error(repo: Settings) -> None:
    per_function_build(repo)
    (repo.project_dir / "build" / "other.zip").write_bytes(b"PK changed")
    with pytest.raises(PromoteError, match=r"other\.zip changed since it was built and tested"):
        write_attestation(repo, repo.project_dir / "build" / "hello.zip", PASSED)


def test_layers_must_hold_the_tested_zip_after_the_apply(repo: Settings) -> None:
    from lambda_harness.promote.release import verify_layers

    codes = per_function_build(repo)
    write_attestation(repo, repo.project_dir / "build" / "hello.zip", PASSED)
    att = read_attestation(repo)
    layer = {
        "type": "aws_lambda_layer_version",
        "address": "aws_lambda_layer_version.deps",
        "values": {"filename": "./../build/other.zip", "code_sha256": codes["other"]},
    }
    show = {"values": {"root_module": {"resources": [layer]}}}
    assert verify_layers(att, show, repo.terraform_dir, repo) == ["aws_lambda_layer_version.deps"]
    layer["values"]["code_sha256"] = "OTHER="
    with pytest.raises(PromoteError, match=r"aws_lambda_layer_version\.deps: CodeSha256 OTHER= != tested"):
        verify_layers(att, show, repo.terraform_dir, repo)


def _state(*functions: tuple[str, str]) -> dict[str, Any]:
    """``show -json`` of the real apply: (address, deployed function name) per function."""
    resources = []
    for address, name in functions:
        resources.append(
            {
                "type": "aws_lambda_function",
                "mode": "managed",
                "address": address,
                "values": {"function_name": name, "arn": f"arn:aws:lambda:eu-west-1:1:function:{name}"},
            }
        )
    return {"values": {"root_module": {"resources": resources}}}


def deployed_locally_as(repo: Settings, functions: dict[str, str]) -> None:
    """An inventory of the tested deployment: local function name -> Terraform address."""
    code = base64.b64encode(hashlib.sha256(b"PK tested").digest()).decode()
    inventory = {"functions": [{"name": n, "address": a, "code_sha256": code} for n, a in functions.items()]}
    repo.harness_dir.mkdir(exist_ok=True)
    repo.paths.inventory.write_text(json.dumps(inventory))


def test_verify_code_finds_each_function_by_its_terraform_address_not_its_name(repo: Settings) -> None:
    """function_name = "hello-${var.env}": tested as hello-local, deployed by CI as hello-prod."""
    deployed_locally_as(
        repo,
        {"hello-local": "aws_lambda_function.hello", "m-local": 'module.m["k"].aws_lambda_function.this'},
    )
    write_attestation(
        repo, repo.project_dir / "dists.zip", {"hello-local": {"passed": 1}, "m-local": {"passed": 1}}
    )
    att = read_attestation(repo)
    assert att.addresses == {
        "hello-local": "aws_lambda_function.hello",
        "m-local": 'module.m["k"].aws_lambda_function.this',
    }
    asked: list[str] = []

    class Real(FakeLambda):
        def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:
            asked.append(FunctionName)
            return {"CodeSha256": att.zip_code_sha256}

    show = _state(
        ("aws_lambda_function.hello", "hello-prod"), ('module.m["k"].aws_lambda_function.this', "m-prod")
    )
    assert verify_code(att, show, {}, lambda env, region: Real({})) == ["hello-prod", "m-prod"]
    assert [a.rsplit(":", 1)[1] for a in asked] == ["hello-prod", "m-prod"]


def test_a_tested_address_missing_after_the_apply_is_named_without_the_code_hint(repo: Settings) -> None:
    deployed_locally_as(repo, {"hello-local": "aws_lambda_function.hello"})
    write_attestation(repo, repo.project_dir / "dists.zip", {"hello-local": {"passed": 1}})
    att = read_attestation(repo)
    with pytest.raises(PromoteError) as info:
        verify_code(
            att, _state(("aws_lambda_function.renamed", "hello-prod")), {}, lambda e, r: FakeLambda({})
        )
    text = str(info.value)
    assert "aws_lambda_function.hello (tested as hello-local): not in the Terraform state after apply" in text
    assert "source_code_hash" not in text


def test_a_tested_function_running_code_the_build_did_not_make_is_never_attested(repo: Settings) -> None:
    """explore P-B1: Terraform zipped a function folder the build never saw; it ran and passed."""
    codes = per_function_build(repo)
    inventory = json.loads(repo.paths.inventory.read_text())
    for fn in inventory["functions"]:
        fn["runtime"] = "python3.12"
    inventory["functions"].append(
        {
            "name": "report",
            "address": 'module.function["report"].aws_lambda_function.this',
            "runtime": "python3.12",
            "code_sha256": "UNBUILT=",
        }
    )
    repo.paths.inventory.write_text(json.dumps(inventory))
    results = {**PASSED, "report": {"passed": 1, "failed": 0}}
    expected = (
        r'report \(module\.function\["report"\]\.aws_lambda_function\.this\) ran with CodeSha256 UNBUILT='
    )
    with pytest.raises(PromoteError, match=expected + r", which is no zip the build made \(build/hello\.zip"):
        write_attestation(repo, repo.project_dir / "build" / "hello.zip", results)
    assert not attestation_path(repo).exists()
    # a container image (no runtime) or a function excluded from testing is not the build's to make
    inventory["functions"][-1]["runtime"] = ""
    repo.paths.inventory.write_text(json.dumps(inventory))
    write_attestation(repo, repo.project_dir / "build" / "hello.zip", results)
    assert read_attestation(repo).functions["hello"] == codes["hello"]


def test_the_workspace_tested_is_the_workspace_promoted(repo: Settings) -> None:
    write_attestation(repo, repo.project_dir / "dists.zip", PASSED)
    assert json.loads(repo.paths.attestation.read_text())["workspace"] == "default"
    dev = load_settings(repo.project_dir, {"workspace": "dev"}, {"HOME": str(repo.project_dir)})
    (problem,) = check_attestation(dev, read_attestation(dev))
    assert (
        "the tests ran in Terraform workspace 'default', this promote would apply workspace 'dev'" in problem
    )
    assert 'Promote with workspace = "default"' in problem

    write_attestation(dev, dev.project_dir / "dists.zip", PASSED)
    assert check_attestation(dev, read_attestation(dev)) == []
    prod = load_settings(repo.project_dir, {}, {"HOME": str(repo.project_dir), "TF_WORKSPACE": "prod"})
    (problem,) = check_attestation(prod, read_attestation(prod))
    assert "'dev', this promote would apply workspace 'prod' (TF_WORKSPACE)" in problem


def test_an_attestation_from_before_workspaces_is_not_refused_for_it(repo: Settings) -> None:
    path = write_attestation(repo, repo.project_dir / "dists.zip", PASSED)
    data = json.loads(path.read_text())
    del data["workspace"]
    path.write_text(json.dumps(data))
    dev = load_settings(repo.project_dir, {"workspace": "dev"}, {"HOME": str(repo.project_dir)})
    assert check_attestation(dev, read_attestation(dev)) == []
