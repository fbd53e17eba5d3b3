"""``lambda-harness new``: generated files parse, import and answer their own event case."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_harness.errors import ConfigError
from lambda_harness.packaging.tfconfig import read_functions
from lambda_harness.scaffold.new import TRIGGERS, new_function
from lambda_harness.settings import Settings, load_settings
from lambda_harness.testing.cases import check_case, discover

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def worker(tmp_path: Path) -> Settings:
    """A minimal worker repo: this repo's shared main.tf and an empty functions/ folder."""
    (tmp_path / "terraform").mkdir()
    shutil.copy(REPO / "terraform" / "main.tf", tmp_path / "terraform" / "main.tf")
    (tmp_path / "functions").mkdir()
    return load_settings(tmp_path, environ={"HOME": str(tmp_path)})


def run_handler(settings: Settings, name: str, event_path: Path) -> object:
    code = (
        "import json, sys, importlib\n"
        f"mod = importlib.import_module('{name}.app')\n"
        "event = json.loads(open(sys.argv[1]).read())\n"
        "print(json.dumps(mod.handler(event, None)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(event_path)],
        cwd=settings.functions_dir,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_new_function_is_complete_and_passes_its_case(worker: Settings, trigger: str) -> None:
    name = f"new_{trigger}_job"
    written = new_function(worker, name, trigger)
    rel = sorted(str(p.relative_to(worker.project_dir)) for p in written)
    assert rel == sorted(
        [
            f"functions/{name}/__init__.py",
            f"functions/{name}/app.py",
            f"terraform/lambda_{name}.tf",
            f"tests/integration/events/{name}/default.json",
            f"tests/integration/events/{name}/default.expected.json",
        ]
    )
    (fn,) = read_functions(worker.terraform_dir)
    assert (fn.name, fn.handler, fn.runtime) == (name, f"{name}.app.handler", "python3.12")
    assert fn.tf_file == worker.terraform_dir / f"lambda_{name}.tf"
    (case,) = discover(worker.cases_dir)[name]
    payload = run_handler(worker, name, case.event_path)
    assert check_case(case, payload, None, None) == []


def test_generated_terraform_is_formatted(worker: Settings) -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform not installed")
    for trigger in TRIGGERS:
        new_function(worker, f"fmt_{trigger}", trigger)
    done = subprocess.run(
        [terraform, "fmt", "-check", "-diff", str(worker.terraform_dir)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_refuses_existing_and_bad_names(worker: Settings) -> None:
    new_function(worker, "report", "manual")
    with pytest.raises(ConfigError, match="function report already exists"):
        new_function(worker, "report", "schedule")
    for bad in ("1job", "daily-report", "x" * 65, "class", "json", "worker_lib"):
        with pytest.raises(ConfigError, match=repr(bad)):
            new_function(worker, bad, "manual")
    with pytest.raises(ConfigError, match="trigger 'cron' is not one of"):
        new_function(worker, "ok_name", "cron")


def test_refuses_when_shared_terraform_is_missing(worker: Settings) -> None:
    main = worker.terraform_dir / "main.tf"
    main.write_text(
        main.read_text().replace('resource "aws_iam_role" "worker"', 'resource "aws_iam_role" "other"')
    )
    with pytest.raises(
        ConfigError, match=r"missing: resource aws_iam_role.worker \(the functions' shared role\)"
    ) as refused:
        new_function(worker, "job", "manual")
    assert "add the function by hand" in str(refused.value)
    assert "docs/how-to/add-a-function.md" in str(refused.value)
    assert not (worker.functions_dir / "job").exists()
