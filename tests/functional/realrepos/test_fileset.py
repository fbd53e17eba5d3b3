"""Functions the Terraform finds itself (``fileset``) with settings it reads (``file``), no .tf change.

The build's discovery plan is cached (``.harness/discovery.json``); its key covers the files such
a configuration reads: an edited ``function.json`` or a new function folder plans again, a handler
edit does not. And should a plan ever miss a function, the apply stops before anything is tested
or attested (explore report P-B1).
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from lambda_harness.settings import load_settings
from lambda_harness.terraform import discovery
from support.realrepos import CliRun, cli_env, copy_repo, run_cli

pytestmark = pytest.mark.slow

PLANS = "reading what Terraform deploys from its own plan"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repo("fileset", tmp_path_factory.mktemp("realrepo") / "fileset")


@pytest.fixture(scope="module")
def built(repo: Path) -> CliRun:
    done = run_cli(repo, "build")
    assert done.returncode == 0, str(done)
    assert PLANS in done.output
    return done


@pytest.fixture(scope="module")
def two_function_plan(repo: Path, built: CliRun) -> dict[str, object]:
    """The cached plan of the repo as copied: geo-export and geo-lookup."""
    return dict(json.loads((repo / ".harness" / "discovery.json").read_text())["show"])


@pytest.fixture(scope="module")
def handler_edited(repo: Path, built: CliRun) -> tuple[bytes, CliRun, bytes]:
    """(discovery.json before, the build after a handler edit, discovery.json after)."""
    before = (repo / ".harness" / "discovery.json").read_bytes()
    main = repo / "functions" / "export" / "main.py"
    main.write_text(main.read_text().replace('event.get("rows", 0)', 'int(event.get("rows", 0))'))
    done = run_cli(repo, "build")
    return before, done, (repo / ".harness" / "discovery.json").read_bytes()


@pytest.fixture(scope="module")
def settings_fixed(repo: Path, handler_edited: object) -> tuple[CliRun, CliRun]:
    """(the build with a handler typo in function.json, the build once it is fixed)."""
    settings = repo / "functions" / "export" / "function.json"
    good = settings.read_text()
    settings.write_text(good.replace('"main.handler"', '"main.hander"'))
    typo = run_cli(repo, "build")
    settings.write_text(good)
    return typo, run_cli(repo, "build")


@pytest.fixture(scope="module")
def new_folder(repo: Path, settings_fixed: object, two_function_plan: object) -> CliRun:
    """``run`` after adding functions/report/ (main.py, function.json) and its event case."""
    (repo / "functions" / "report").mkdir()
    (repo / "functions" / "report" / "main.py").write_text(
        'def handler(event, context):\n    return {"report": "ok"}\n'
    )
    (repo / "functions" / "report" / "function.json").write_text('{"handler": "main.handler"}\n')
    cases = repo / "tests" / "integration" / "events" / "geo-report"
    cases.mkdir()
    (cases / "default.json").write_text("{}\n")
    (cases / "default.expected.json").write_text('{"report": "ok"}\n')
    return run_cli(repo, "run")


def code_sha(path: Path) -> str:
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def test_a_handler_edit_keeps_the_cached_plan(handler_edited: tuple[bytes, CliRun, bytes]) -> None:
    before, done, after = handler_edited
    assert done.returncode == 0, str(done)
    assert PLANS not in done.output
    assert after == before


def test_a_handler_changed_in_a_file_the_terraform_reads_plans_again(
    settings_fixed: tuple[CliRun, CliRun],
) -> None:
    typo, fixed = settings_fixed
    assert typo.returncode != 0 and 'handler "main.hander": not found in build/geo-export.zip' in typo.output
    assert fixed.returncode == 0, str(fixed)
    assert "changed since the last plan: functions/export/function.json" in fixed.output
    assert "hander" not in fixed.output


def test_a_new_function_folder_is_built_tested_and_attested(repo: Path, new_folder: CliRun) -> None:
    assert new_folder.returncode == 0, str(new_folder)
    assert "functions/report/function.json, functions/report/main.py" in new_folder.output
    assert "-> build/geo-report.zip" in new_folder.output  # built and its handler checked
    att = json.loads((repo / ".harness" / "attestation.json").read_text())
    assert att["results"]["geo-report"] == {"passed": 1, "failed": 0}
    assert att["artifacts"]["build/geo-report.zip"]["functions"] == ["geo-report"]
    assert att["functions"]["geo-report"] == code_sha(repo / "build" / "geo-report.zip")


def test_an_apply_of_code_the_build_did_not_make_stops_the_run(
    repo: Path, new_folder: CliRun, two_function_plan: dict[str, object]
) -> None:
    """A plan that misses the new folder (forced here: the old plan under today's key): the
    shim zips geo-report without a build target, and the run stops after the apply."""
    settings = load_settings(repo, {}, cli_env())
    discovery.save_plan(settings, two_function_plan)
    done = run_cli(repo, "run")
    assert done.returncode == 1, str(done)
    assert (
        'terraform apply zipped build/geo-report.zip (module.function["report"].data.archive_file.this)'
        in done.output
    )
    assert 'module.function["report"].aws_lambda_function.this deploys it' in done.output
    assert "run `lambda-harness build` again" in done.output
    assert "pytest:" not in done.output
    assert not (repo / ".harness" / "attestation.json").exists()
