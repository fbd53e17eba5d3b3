"""data "archive_file" per function (in a module, for_each) and shared (a layer), without hashicorp/archive.

The harness serves the data source with its own provider in the staged copy; the zips Terraform
uploads are the ones the build checked, and promote ships them (verified) through the same provider.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import boto3
import pytest

from lambda_harness.promote.release import promote
from lambda_harness.settings import load_settings
from lambda_harness.terraform import mirror
from lambda_harness.ui import PlainUI
from support.realrepos import PLUGIN_DIR, CliRun, copy_repo, run_cli

pytestmark = pytest.mark.slow

FUNCTIONS = ("events-ingest", "events-notify")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repo("archive_file", tmp_path_factory.mktemp("realrepo") / "archive_file")


@pytest.fixture(scope="module")
def ran(repo: Path) -> CliRun:
    return run_cli(repo, "run")


def code_sha(path: Path) -> str:
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def test_run_passes_unmodified_without_hashicorp_archive(repo: Path, ran: CliRun) -> None:
    assert ran.returncode == 0, str(ran)
    assert not (repo / "terraform" / "zz_lambda_harness_override.tf").exists()
    override = repo / ".harness" / "tf" / "embedded" / "tree" / "terraform" / "zz_lambda_harness_override.tf"
    assert 'archive = { source = "lambda-harness/archive" }' in override.read_text()
    module = override.parent / "modules" / "function" / "zz_lambda_harness_override.tf"
    assert "lambda-harness/archive" in module.read_text()


def test_each_archive_is_what_it_names_plus_its_dependencies(repo: Path, ran: CliRun) -> None:
    with zipfile.ZipFile(repo / "build" / "events-ingest.zip") as zf:
        names = set(zf.namelist())
    assert {"handler.py", "requirements.txt", "lhtest_ledger/__init__.py"} <= names
    assert not any(n.startswith("tests/") or n == "README.md" for n in names)  # excludes
    with zipfile.ZipFile(repo / "build" / "common-layer.zip") as zf:
        assert zf.namelist() == ["python/common_utils/__init__.py"]
    # Beside each output only the zip and its manifest; the build locks live under .harness/locks/.
    assert sorted(p.name for p in (repo / "build").iterdir()) == sorted(
        f"{name}{suffix}" for name in ("common-layer", *FUNCTIONS) for suffix in (".zip", ".zip.json")
    )
    assert not [p for p in repo.rglob("*.lock") if ".harness" not in p.parts and p.name != "uv.lock"]
    assert len(list((repo / ".harness" / "locks").iterdir())) == 3


def test_terraform_uploaded_the_built_zips_and_they_are_attested(repo: Path, ran: CliRun) -> None:
    att = json.loads((repo / ".harness" / "attestation.json").read_text())
    for name in FUNCTIONS:
        assert att["functions"][name] == code_sha(repo / "build" / f"{name}.zip")
        assert att["artifacts"][f"build/{name}.zip"]["kind"] == "archive"
    assert att["artifacts"]["build/common-layer.zip"]["kind"] == "archive"
    built = {
        json.loads(line)["output"] for line in (repo / ".harness" / "archives.log").read_text().splitlines()
    }
    assert built == {"build/events-ingest.zip", "build/events-notify.zip", "build/common-layer.zip"}


def deployer_env(url: str, tmp: Path) -> dict[str, str]:
    rc = tmp / "deployer.tfrc"
    rc.write_text(mirror.cli_config_text(mirror.find_mirrors({"HOME": str(tmp)}, Path(PLUGIN_DIR))))
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp),
        "AWS_ACCESS_KEY_ID": "deployer",
        "AWS_SECRET_ACCESS_KEY": "deployer-secret",
        "AWS_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": url,
        "TF_CLI_CONFIG_FILE": str(rc),
    }


def test_promote_ships_the_tested_archives_verified(
    repo: Path, ran: CliRun, moto_url: str, tmp_path: Path
) -> None:
    settings = load_settings(repo, {}, {"HOME": str(tmp_path)})
    env = deployer_env(moto_url, tmp_path)
    result = promote(settings, PlainUI(), terraform_cmd_env=env, auto_approve=True)
    assert result.applied and sorted(result.verified) == list(FUNCTIONS)
    client = boto3.client(
        "lambda",
        endpoint_url=moto_url,
        region_name="eu-west-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    for name in FUNCTIONS:
        assert client.get_function_configuration(FunctionName=name)["CodeSha256"] == code_sha(
            repo / "build" / f"{name}.zip"
        )
    assert (repo / "terraform" / "terraform.tfstate").is_file()  # the team's own (local) state
    # verify mode: each archive was built again against the attested sha256 (a mismatch fails the
    # plan and keeps the tested zip: tests/unit/terraform/test_tf_archive_shim.py)
    promote_copy = repo / ".harness" / "tf" / "promote"
    targets = json.loads((promote_copy / "archives.json").read_text())["targets"]
    att = json.loads((repo / ".harness" / "attestation.json").read_text())
    assert {k: t["expected_sha256"] for k, t in targets.items()} == {
        k: att["artifacts"][k]["sha256"] for k in targets
    }
    logged = [json.loads(line) for line in (promote_copy / "archives.log").read_text().splitlines()]
    assert {entry["output"] for entry in logged} == set(targets) and all(e["complete"] for e in logged)
