"""A function the harness cannot run never passes silently (issue 9, item 8): ``build`` says it does
not run it; ``run`` fails its gate with the function untested, unless the user excludes it
explicitly, and then the exclusion is in the run's output and in the attestation."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from lambda_harness import cli
from support.tiny_repo import free_port, tiny_environ, write_tiny_repo

pytestmark = pytest.mark.slow


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if shutil.which("terraform") is None:
        pytest.skip("terraform not installed")
    for name in [k for k in os.environ if k.startswith(("AWS_", "LAMBDA_HARNESS_"))]:
        monkeypatch.delenv(name)
    for name, value in tiny_environ().items():
        monkeypatch.setenv(name, value)
    return write_tiny_repo(tmp_path / "repo", other_runtimes={"web": "nodejs20.x"})


def test_build_says_which_functions_it_does_not_run(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["build", "--project", str(repo)]) == 0
    err = capsys.readouterr().err
    assert "1 handler(s) checked" in err
    line = next(ln for ln in err.splitlines() if "web" in ln)
    assert "nodejs20.x" in line and "not run" in line and "terraform/main.tf" in line


def test_run_fails_an_unrunnable_function_as_untested_until_it_is_excluded(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = str(free_port())
    assert cli.main(["run", "--project", str(repo), "--port", port]) == 1
    err = capsys.readouterr().err
    assert "function web has runtime nodejs20.x, which lambda-harness cannot run: it is untested" in err
    assert not (repo / ".harness" / "attestation.json").exists()

    assert cli.main(["run", "--project", str(repo), "--port", port, "--skip-function", "web"]) == 0
    err = capsys.readouterr().err
    assert "not tested, excluded by --skip-function: web (runtime nodejs20.x)" in err
    attestation = json.loads((repo / ".harness" / "attestation.json").read_text())
    assert attestation["skipped"] == {"web": "excluded by --skip-function (runtime nodejs20.x)"}
    assert set(attestation["results"]) == {"hello"}
