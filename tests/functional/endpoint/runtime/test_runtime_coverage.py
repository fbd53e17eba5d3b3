"""coverage.py inside real execution environments: data per process, saved before each next event."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import coverage

from lambda_harness.endpoint.runtime import LambdaRuntime
from lambda_harness.endpoint.runtime.coverage import CoverageSpec

HANDLER = """import shared


def handler(event, context):
    if event.get("twice"):
        return shared.double(event["n"])
    return event["n"]
"""
SHARED = "def double(n):\n    return 2 * n\n"
#: Which tool holds sys.monitoring's coverage slot: "coverage.py" when its sysmon core runs.
MONITOR = """import sys


def handler(event, context):
    return sys.monitoring.get_tool(sys.monitoring.COVERAGE_ID)
"""
DEPENDENCY = "def noise():\n    return 0\n"


def test_a_measuring_environment_saves_its_data_and_measures_only_our_code(
    runtime: LambdaRuntime, fn_maker: Callable[..., Any], tmp_path: Path
) -> None:
    fn = fn_maker({"app.py": HANDLER, "shared.py": SHARED, "dep/__init__.py": DEPENDENCY}, name="measured")
    parts = tmp_path / "parts"
    spec = CoverageSpec(data_dir=parts, sources=("app.py", "shared.py"), branch=True)
    code_root = runtime.start_coverage(spec)
    first = runtime.invoke(fn, b'{"n": 2, "twice": true}')
    assert first.function_error is None and first.payload == b"4"
    assert runtime.invoke(fn, b'{"n": 3}').payload == b"3"  # warm: same environment
    answer = runtime.stop_coverage()
    assert answer == {"saved": 1, "unsaved": []}
    files = sorted(parts.glob(".coverage.*"))
    assert len(files) == 1, files  # one environment, one data file
    data = coverage.CoverageData(basename=str(files[0]))
    data.read()
    measured = sorted(Path(f).relative_to(code_root).parts[1:] for f in data.measured_files())
    assert measured == [("app.py",), ("shared.py",)]  # the dependency folder is not measured
    app = next(f for f in data.measured_files() if f.endswith("app.py"))
    assert data.has_arcs()
    assert {5, 6, 7} <= set(data.lines(app) or [])  # both calls: the if, its return and the other return
    assert data.measured_contexts() == {"measured"}


def test_after_stopping_new_environments_run_without_coverage(
    runtime: LambdaRuntime, fn_maker: Callable[..., Any], tmp_path: Path
) -> None:
    fn = fn_maker({"app.py": HANDLER, "shared.py": SHARED})
    parts = tmp_path / "parts"
    runtime.start_coverage(CoverageSpec(data_dir=parts, sources=("app.py",)))
    assert runtime.invoke(fn, b'{"n": 1}').cold
    runtime.stop_coverage()
    before = sorted(parts.glob(".coverage.*"))
    again = runtime.invoke(fn, b'{"n": 1}')
    assert again.cold  # the measuring environment was retired
    assert runtime.stop_coverage() == {"saved": 0, "unsaved": []}
    assert sorted(parts.glob(".coverage.*")) == before


def test_line_coverage_runs_on_sys_monitoring_and_branch_coverage_on_the_tracer(
    runtime: LambdaRuntime, fn_maker: Callable[..., Any], tmp_path: Path
) -> None:
    """Python 3.12: coverage.py's sysmon core for lines (cheap), its C tracer for branches."""
    fn = fn_maker({"app.py": MONITOR}, name="monitored")
    runtime.start_coverage(CoverageSpec(data_dir=tmp_path / "line", sources=("app.py",)))
    assert runtime.invoke(fn, b"{}").payload == b'"coverage.py"'
    runtime.stop_coverage()
    runtime.start_coverage(CoverageSpec(data_dir=tmp_path / "branch", sources=("app.py",), branch=True))
    assert runtime.invoke(fn, b"{}").payload == b"null"
    runtime.stop_coverage()
    for mode, arcs in (("line", False), ("branch", True)):
        (path,) = (tmp_path / mode).glob(".coverage.*")
        data = coverage.CoverageData(basename=str(path))
        data.read()
        assert data.has_arcs() is arcs, mode
        assert data.measured_contexts() == {"monitored"}
