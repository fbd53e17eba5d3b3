"""A warm run gives a fresh run's verdict after a Terraform change to a function's role (P-A2).

The fixture repo tests/fixtures/repos/warm_iam has one function whose handler reads an SSM
parameter once per execution environment (``functools.lru_cache``), allowed by a statement of
its role's inline policy. A real detached endpoint process (``up --detach``) is kept for the
module and ``lambda-harness run`` runs in this process without ``--port`` (it finds the
endpoint from ``.harness/endpoint.json``), in order:

1. the first run applies from scratch and passes, leaving the function's environment warm;
2. the statement is removed: the run applies incrementally, retires every environment, and the
   case fails with the AccessDenied a fresh endpoint gives;
3. a fresh run (``--port`` of a new endpoint: an explicit port wins) fails the same way.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_harness import cli
from lambda_harness.endpoint import control
from lambda_harness.endpoint.ports import free_port
from lambda_harness.settings import Settings, load_settings

pytestmark = pytest.mark.slow
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "repos" / "warm_iam"

if shutil.which("terraform") is None:  # pragma: no cover - depends on the machine
    pytest.skip("terraform is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def detached(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    repo = tmp_path_factory.mktemp("warm_iam") / "repo"
    shutil.copytree(FIXTURE, repo)
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("LAMBDA_HARNESS_") and name != "LAMBDA_HARNESS_CACHE_DIR":
                mp.delenv(name)
        mp.setenv(
            "LAMBDA_HARNESS_TF_PLUGIN_DIR", os.environ.get("LAMBDA_HARNESS_TF_PLUGIN_DIR", "/opt/tf-plugins")
        )
        mp.delenv("CI", raising=False)
        settings = load_settings(repo, {"port": free_port()})
        control.start_detached(settings)
        try:
            yield settings
        finally:
            control.stop_detached(settings)


def run(capsys: pytest.CaptureFixture[str], settings: Settings, *extra: str) -> tuple[int, str, dict]:
    code = cli.main(["run", "--project", str(settings.project_dir), *extra])
    captured = capsys.readouterr()
    results = json.loads(settings.paths.results.read_text()) if settings.paths.results.is_file() else {}
    return code, captured.out + captured.err, results


def test_1_first_run_on_the_detached_endpoint_passes(
    detached: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output, results = run(capsys, detached)
    assert code == 0, output
    assert f"using this project's endpoint on 127.0.0.1:{detached.port} (up --detach)" in output
    assert results["functions"]["cached"]["passed"] == 1


def test_2_warm_run_after_a_role_policy_change_fails_as_a_fresh_run(
    detached: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    main = detached.terraform_dir / "main.tf"
    text = main.read_text()
    main.write_text(re.sub(r"  # READ-GREETING.*?# END READ-GREETING\n", "", text, flags=re.S))

    code, output, results = run(capsys, detached)

    assert code == 1, output
    assert "Terraform inputs changed since the last apply: terraform/main.tf" in output
    assert "Terraform changed: every function starts cold" in output
    assert results["functions"]["cached"]["failed"] == 1
    assert "ssm:GetParameter" in output and "AccessDenied" in output


def test_3_fresh_run_on_an_explicit_port_fails_the_same_way(
    detached: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    other = free_port()
    code, output, results = run(capsys, detached, "--port", str(other))
    assert code == 1, output
    assert "using this project's endpoint" not in output
    assert f"start the embedded endpoint on http://127.0.0.1:{other}" in output
    assert results["functions"]["cached"]["failed"] == 1
    assert "ssm:GetParameter" in output and "AccessDenied" in output
