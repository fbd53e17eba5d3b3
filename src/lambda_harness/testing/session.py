"""The test stage's pytest session: its arguments, its environment, running it.

``run`` calls pytest in a child process (so the plugin, the team's conftest and
their fixtures load exactly as in ``nox -s integration``); this module builds
that child's arguments and environment and turns its exit code into a verdict.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from lambda_harness import net, proc
from lambda_harness.errors import HarnessError
from lambda_harness.fsutil import PRIVATE_UMASK
from lambda_harness.settings import Settings
from lambda_harness.testing.plugin import ALLOW_OPTION

PYTEST_NO_TESTS = 5


def run_pytest(args: Sequence[str], cwd: Path, env: Mapping[str, str], stream: bool, timeout: float) -> int:
    """``python -m pytest ARGS`` in ``cwd``; its exit code (output streamed when verbose).

    After ``timeout`` seconds (the test-timeout setting) the session is stopped: HarnessError.
    """
    try:
        done = proc.run(
            [sys.executable, "-m", "pytest", *args],
            cwd=cwd,
            env=env,
            stream=stream,
            check=False,
            umask=PRIVATE_UMASK,  # its reports land in .harness/
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise HarnessError(
            f"the pytest session in {cwd} did not finish within {timeout:g} s (test-timeout); it was "
            "stopped. A test or a function may be stuck: run with -v to watch it, or `lambda-harness "
            "invoke NAME` the function by hand. If the tests legitimately take longer, raise test-timeout "
            "in [tool.lambda-harness] or LAMBDA_HARNESS_TEST_TIMEOUT (seconds)."
        ) from None
    if done.returncode not in (0, 1) and not stream:
        # Usage errors and crashes print nothing into the results file: keep their words.
        tail = "\n".join(done.output.strip().splitlines()[-30:])
        raise_for_pytest(done.returncode, tail)
    return done.returncode


def raise_for_pytest(code: int, tail: str) -> None:
    """pytest exit codes other than 0/1 are harness-level failures."""
    if code == PYTEST_NO_TESTS:
        return
    raise HarnessError(f"pytest could not run the tests (exit code {code}):\n{tail}")


def harness_test_env(environ: Mapping[str, str], endpoint_url: str, region: str) -> dict[str, str]:
    """The tests' environment: every AWS SDK call goes to the endpoint with fake credentials.

    No AWS setting of the host's (profile, keys, config files, a service's own endpoint URL that
    would send its calls elsewhere): ``proc.without_aws``, then the endpoint and the region.
    """
    env = {k: v for k, v in proc.without_aws(environ).items() if not k.startswith("LAMBDA_HARNESS_")}
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "LAMBDA_HARNESS_ENDPOINT": endpoint_url,
            # The tests' SDK calls go to loopback: never through the user's proxy.
            **net.no_proxy_env(environ),
        }
    )
    return env


def pytest_arguments(settings: Settings, endpoint_url: str, extra: Sequence[str] = ()) -> list[str]:
    """Test paths and ``--harness-*`` options for the integration run."""
    out = settings.paths
    tests_dir = settings.project_dir / "tests" / "integration"
    paths = [str(tests_dir)] if tests_dir.is_dir() else []
    if not paths or not settings.cases_dir.resolve().is_relative_to(tests_dir.resolve()):
        paths.append(str(settings.cases_dir))
    return [
        *paths,
        "--harness-inventory",
        str(out.inventory),
        "--harness-endpoint",
        endpoint_url,
        "--harness-cases",
        str(settings.cases_dir),
        "--harness-results",
        str(out.results),
        "--harness-workers",
        str(case_workers(settings)),
        "--junitxml",
        str(out.junit),
        "-p",
        "no:cacheprovider",
        # The user's own opt-in (flag or environment) reaches the plugin as a flag: the child's
        # environment drops every LAMBDA_HARNESS_* variable.
        *([ALLOW_OPTION] if settings.allow_non_loopback else []),
        *[arg for name in settings.skip_functions for arg in ("--harness-skip-function", name)],
        *extra,
    ]


def case_workers(settings: Settings) -> int:
    """How many functions' cases the plugin invokes side by side: the cores, within max-concurrency."""
    return max(1, min(os.cpu_count() or 1, settings.max_concurrency))


def source_paths(text: str, settings: Settings) -> str:
    """Point tracebacks at functions/ instead of the runtime's extracted copy of the zip.

    The runtime runs each zip from ``.harness/runtime/code/<sha256>/``, which a function
    sees as ``/var/task`` when the endpoint gives it AWS's filesystem layout; a file that
    also exists under functions/ is shown there, where the user edits it. Dependencies
    (not under functions/) keep their path.
    """
    extracted = re.escape(str(settings.paths.runtime_code)) + r"/[0-9a-f]{64}"
    code_root = rf"(?:{extracted}|/var/task)/([^\s\"',:]+)"

    def swap(match: re.Match[str]) -> str:
        source = settings.functions_dir / match.group(1)
        if not source.is_file():
            return match.group(0)
        try:
            return str(source.relative_to(settings.project_dir))
        except ValueError:
            return str(source)

    return re.sub(code_root, swap, text)
