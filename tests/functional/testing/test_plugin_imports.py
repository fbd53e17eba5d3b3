"""The plugin loads in every pytest run (``pytest11``), so it must not import boto3 until a
fixture needs it: a unit-test run of any project pays nothing for it."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

HEAVY = ("boto3", "botocore", "lambda_harness.testing.invoker")


def test_importing_the_plugin_imports_no_boto3() -> None:
    code = f"import sys, lambda_harness.testing.plugin; print([m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_a_run_without_harness_options_imports_no_boto3(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LAMBDA_HARNESS_INVENTORY", "LAMBDA_HARNESS_ENDPOINT", "PYTEST_ADDOPTS"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(
        f"""
        import sys

        HEAVY = {HEAVY!r}


        def test_plugin_loaded_without_boto3(pytestconfig):
            assert pytestconfig.pluginmanager.hasplugin("lambda_harness")
            assert [m for m in HEAVY if m in sys.modules] == []


        def test_deployed_functions_skips_without_boto3(deployed_functions):
            raise AssertionError("no inventory: the fixture skips")


        def test_after_the_skip_still_no_boto3():
            assert [m for m in HEAVY if m in sys.modules] == []


        def test_a_fixture_that_needs_boto3_imports_it(aws_session):
            assert "boto3" in sys.modules and type(aws_session).__module__ == "boto3.session"
        """
    )
    # A fresh interpreter: this process imported boto3 long ago.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, skipped=1)
