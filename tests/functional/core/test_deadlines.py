"""No stage can hang (issue 9, item 5): Terraform's commands and the pytest session have deadlines
(``apply-timeout``, ``test-timeout``) and an error that says what was waited for and how to
raise the limit. Stand-ins: a ``terraform`` that never finishes, a test that never finishes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from lambda_harness.errors import HarnessError, TerraformError
from lambda_harness.settings import load_settings
from lambda_harness.terraform.runner import Terraform
from lambda_harness.testing.session import run_pytest
from lambda_harness.ui import PlainUI

NEVER_ENDS = (
    "#!{python}\nimport sys, time\n"
    "if sys.argv[1:2] == ['version']:\n    print('1.9.0')\nelse:\n    time.sleep(600)\n"
)


def test_a_terraform_command_that_never_ends_is_stopped_at_apply_timeout(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "terraform"
    fake.write_text(NEVER_ENDS.format(python=sys.executable))
    fake.chmod(0o755)
    repo = tmp_path / "repo"
    (repo / "terraform").mkdir(parents=True)
    (repo / "terraform" / "main.tf").write_text("")
    plugins = tmp_path / "plugins" / "registry.terraform.io" / "hashicorp" / "aws" / "5.0.0" / "linux_amd64"
    plugins.mkdir(parents=True)
    environ = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "TF_CLI_CONFIG_FILE": "/nonexistent",
    }
    settings = load_settings(repo, {}, {**environ, "LAMBDA_HARNESS_APPLY_TIMEOUT": "1"})
    settings = settings.with_(tf_plugin_dir=tmp_path / "plugins")
    tf = Terraform(settings, PlainUI(quiet=True), "http://127.0.0.1:4566", environ=environ)
    with pytest.raises(TerraformError) as info:
        tf.apply()
    message = str(info.value)
    assert "terraform init did not finish within 1 s (apply-timeout)" in message
    assert "http://127.0.0.1:4566" in message and "LAMBDA_HARNESS_APPLY_TIMEOUT" in message


def test_a_pytest_session_that_never_ends_is_stopped_at_test_timeout(tmp_path: Path) -> None:
    (tmp_path / "test_stuck.py").write_text("import time\n\ndef test_stuck():\n    time.sleep(600)\n")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with pytest.raises(HarnessError) as info:
        run_pytest(["-p", "no:cacheprovider", str(tmp_path)], tmp_path, env, False, 2)
    assert "did not finish within 2 s (test-timeout)" in str(info.value)
    assert "LAMBDA_HARNESS_TEST_TIMEOUT" in str(info.value)


def test_the_timeouts_are_settings_checked_like_the_others(tmp_path: Path) -> None:
    from lambda_harness.errors import ConfigError

    (tmp_path / "pyproject.toml").write_text("[tool.lambda-harness]\napply-timeout = 0\n")
    with pytest.raises(ConfigError, match=r"apply-timeout = 0: must be between 1 and 86400"):
        load_settings(tmp_path, {}, {})
    (tmp_path / "pyproject.toml").write_text(
        "[tool.lambda-harness]\napply-timeout = 3600\ntest-timeout = 60\n"
    )
    settings = load_settings(tmp_path, {}, {})
    assert (settings.apply_timeout, settings.test_timeout) == (3600, 60)
    (tmp_path / "pyproject.toml").unlink()
    assert load_settings(tmp_path, {}, {}).apply_timeout == 1800
