"""The test stage's pytest session: its arguments, its environment, running it.

``run`` calls pytest in a child process (so the plugin, the team's conftest and
their fixtures load exactly as in ``nox -s integration``); this module builds
that child's arguments and environment and turns its exit code into a verdict.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from lambda_harness import proc
from lambda_harness.errors import HarnessError
from lambda_harness.settings import Settings

PYTEST_NO_TESTS = 5


def run_pytest(args: Sequence[str], cwd: Path, env: Mapping[str, str], stream: bool) -> int:
    """``python -m pytest ARGS`` in ``cwd``; its exit code (output streamed when verbose)."""
    done = proc.run([sys.executable, "-m", "pytest", *args], cwd=cwd, env=env, stream=stream, check=False)
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
    """The tests' environment: every AWS SDK call goes to the endpoint with fake credentials."""
    env = {
        k: v
        for k, v in environ.items()
        if k not in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
        and not k.startswith("LAMBDA_HARNESS_")
    }
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "LAMBDA_HARNESS_ENDPOINT": endpoint_url,
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
