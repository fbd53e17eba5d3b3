"""coverage.py inside real execution environments: data per process, saved before each next event."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import coverage
import pytest

from lambda_harness.endpoint.runtime import LambdaRuntime
from lambda_harness.endpoint.runtime.coverage import CoverageSpec
from lambda_harness.endpoint.runtime.filesystem import probe

HANDLER = """import shared


def handler(event, context):
    if event.get("twice"):
        return shared.double(event["n"])
    return event["n"]
"""
SHARED = "def double(n):\n    return 2 * n\n"
WHERE = """import os


def handler(event, context):
    return os.environ["LAMBDA_TASK_ROOT"]
"""
#: Appended to HANDLER: what a handler can see of the measurement.
PROBE = """

def probe(event, context):
    import sys
    tool = sys.monitoring.get_tool(sys.monitoring.COVERAGE_ID)
    return {"coverage_imported": "coverage" in sys.modules, "tool": tool}


_plain = handler


def handler(event, context):
    if event.get("probe"):
        return probe(event, context)
    return _plain(event, context)
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


def test_line_coverage_is_what_coverage_py_records_without_importing_it(
    runtime: LambdaRuntime, fn_maker: Callable[..., Any], tmp_path: Path
) -> None:
    """Python 3.12, line mode: the boot module's sys.monitoring collector, not coverage.py (the
    handler sees neither the module nor coverage.py's tool), and the same lines coverage.py's
    tracer records in branch mode for the same events."""
    files = {"app.py": HANDLER + PROBE, "shared.py": SHARED, "dep/__init__.py": DEPENDENCY}
    measured = {}
    for mode in ("line", "branch"):
        fn = fn_maker(files, name=f"probe_{mode}")
        spec = CoverageSpec(
            data_dir=tmp_path / mode, sources=("app.py", "shared.py"), branch=mode == "branch"
        )
        code_root = runtime.start_coverage(spec)
        assert runtime.invoke(fn, b'{"n": 2, "twice": true}').payload == b"4"
        probe = json.loads(runtime.invoke(fn, b'{"probe": true}').payload)
        assert runtime.stop_coverage() == {"saved": 1, "unsaved": []}
        (path,) = (tmp_path / mode).glob(".coverage.*")  # one environment, one data file
        data = coverage.CoverageData(basename=str(path))
        data.read()
        assert data.has_arcs() is (mode == "branch")
        assert data.measured_contexts() == {f"probe_{mode}"}
        measured[mode] = {
            Path(f).relative_to(code_root).parts[1:]: sorted(data.lines(f) or [])
            for f in data.measured_files()
        }
        if mode == "line":
            assert probe == {"coverage_imported": False, "tool": "lambda-harness coverage"}
        else:
            assert probe["coverage_imported"] is True
    assert measured["line"] == measured["branch"]
    assert measured["line"][("shared.py",)] == [1, 2]
    assert {1, 4, 5, 6, 10, 11, 12} <= set(measured["line"][("app.py",)])


def test_a_measuring_environment_sees_host_paths_where_others_see_aws_layout(
    runtime_factory: Callable[..., LambdaRuntime], fn_maker: Callable[..., Any], tmp_path: Path
) -> None:
    """filesystem = aws covers /tmp and /var with private mounts, where the data would be lost:
    measuring environments see host paths instead (and their data reaches the data folder)."""
    reason = probe()
    if reason is not None:
        pytest.skip(f"no mount namespace here: {reason}")
    runtime = runtime_factory(filesystem="aws")
    fn = fn_maker({"app.py": WHERE}, name="where")
    assert runtime.invoke(fn, b"{}").payload == b'"/var/task"'
    code_root = runtime.start_coverage(CoverageSpec(data_dir=tmp_path / "parts", sources=("app.py",)))
    seen = json.loads(runtime.invoke(fn, b"{}").payload)
    assert Path(seen).parent == code_root  # <code root>/<sha256>: the host path
    assert runtime.stop_coverage() == {"saved": 1, "unsaved": []}
    (path,) = (tmp_path / "parts").glob(".coverage.*")
    data = coverage.CoverageData(basename=str(path))
    data.read()
    assert [sorted(data.lines(f) or []) for f in data.measured_files()] == [[1, 4, 5]]
