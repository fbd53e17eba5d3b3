"""Combining environments' coverage data: paths mapped back to functions/, per-function numbers.

coverage.py runs here in-process on a copy of a functions folder laid out as the runtime
extracts a zip (``code/<sha256>/...``), with the function's name as the context, exactly
as the boot module does in a worker.
"""

from __future__ import annotations

import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import coverage
import pytest

from lambda_harness.testing.coverage import Numbers, RunCoverage, handler_file, python_files, zip_sources

BRANCHY = """from common import util


def handler(event, context):
    if event.get("big"):
        size = "big"
    else:
        size = "small"
    return {"size": size, "label": util.label(size)}
"""
UTIL = """def label(size):
    return size.upper()


def unused(value):
    return value * 2
"""


def functions_folder(root: Path) -> Path:
    fdir = root / "functions"
    (fdir / "common").mkdir(parents=True)
    (fdir / "common" / "__init__.py").write_text("")
    (fdir / "common" / "util.py").write_text(UTIL)
    (fdir / "common" / "never.py").write_text("def never():\n    return 1\n")
    (fdir / "lambda_branchy.py").write_text(BRANCHY)
    (fdir / "tests").mkdir()
    (fdir / "tests" / "test_x.py").write_text("def test_x():\n    pass\n")
    return fdir


def measure_in_worker(code_dir: Path, parts: Path, context: str, event: dict[str, object]) -> None:
    """What a worker does: coverage on the extracted zip, one data file, the function as context."""
    cov = coverage.Coverage(
        data_file=str(parts / ".coverage"),
        data_suffix=True,
        branch=True,
        context=context,
        include=[f"{code_dir.parent}/*/common/*", f"{code_dir.parent}/*/lambda_branchy.py"],
    )
    sys.path.insert(0, str(code_dir))
    try:
        cov.start()
        try:
            module = runpy.run_path(str(code_dir / "lambda_branchy.py"))
            module["handler"](event, None)
        finally:
            cov.stop()
        cov.save()
    finally:
        sys.path.remove(str(code_dir))
        sys.modules.pop("common", None)
        sys.modules.pop("common.util", None)


@pytest.fixture
def combined(tmp_path: Path) -> RunCoverage:
    fdir = functions_folder(tmp_path)
    code_root = tmp_path / ".harness" / "runtime" / "code"
    code_dir = code_root / ("ab" * 32)
    shutil.copytree(fdir, code_dir)
    parts = tmp_path / ".harness" / "coverage-parts"
    parts.mkdir(parents=True)
    measure_in_worker(code_dir, parts, "branchy", {"big": False})
    return RunCoverage.combine(
        [parts], functions_dir=fdir, code_roots=[code_root], data_file=tmp_path / ".harness" / ".coverage"
    )


def test_paths_are_mapped_back_to_the_functions_folder(combined: RunCoverage, tmp_path: Path) -> None:
    fdir = tmp_path / "functions"
    measured = combined.measured()
    assert str(fdir / "lambda_branchy.py") in measured
    assert str(fdir / "common" / "never.py") in measured  # never imported: counted as 0%, not hidden
    assert not any(".harness" in f for f in measured)
    assert str(fdir / "tests" / "test_x.py") not in measured


def test_function_numbers_are_its_handler_and_the_shared_code_it_reached(combined: RunCoverage) -> None:
    numbers = combined.function_numbers({"branchy": "lambda_branchy.handler"})["branchy"]
    # lambda_branchy.py: 6 statements, 5 run (not `size = "big"`); 2 branches at the if, 1 taken.
    # common/util.py: 4 statements (2 defs, 2 returns), 3 run (unused's body not).
    assert numbers == Numbers(
        statements=10,
        covered_lines=8,
        branches=2,
        covered_branches=1,
        files=("functions/common/util.py", "functions/lambda_branchy.py"),
    )
    assert numbers.percent == 75.0
    assert numbers.to_dict()["percent"] == 75.0


def test_a_function_that_ran_nothing_still_counts_its_handler(combined: RunCoverage) -> None:
    numbers = combined.function_numbers({"other": "lambda_branchy.handler"})["other"]
    assert numbers.statements == 6 and numbers.covered_lines == 0


def test_reports_and_data_combine_with_unit_test_data(combined: RunCoverage, tmp_path: Path) -> None:
    combined.write_reports(tmp_path / "coverage.xml", tmp_path / "html")
    xml = (tmp_path / "coverage.xml").read_text()
    assert 'filename="functions/lambda_branchy.py"' in xml and "branch-rate" in xml
    assert (tmp_path / "html" / "index.html").is_file()
    # A unit test of the other branch, measured by the repo's own coverage run...
    (tmp_path / "unit_test.py").write_text(
        "import sys\nsys.path.insert(0, 'functions')\nimport lambda_branchy\n"
        "assert lambda_branchy.handler({'big': True}, None)['size'] == 'big'\n"
    )
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--branch", "--data-file=.coverage.unit", "unit_test.py"],
        cwd=tmp_path,
        check=True,
    )
    # ... combines with the harness's data into one report: every line and branch of the handler.
    subprocess.run(
        [sys.executable, "-m", "coverage", "combine", "--keep", ".coverage.unit", ".harness/.coverage"],
        cwd=tmp_path,
        check=True,
    )
    report = subprocess.run(
        [sys.executable, "-m", "coverage", "report", "--include=functions/lambda_branchy.py"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert report.splitlines()[-1].split()[-1] == "100%", report


def test_what_is_measured_is_what_goes_into_the_zip(tmp_path: Path) -> None:
    fdir = functions_folder(tmp_path)
    assert zip_sources(fdir) == ["common", "lambda_branchy.py"]
    assert [p.relative_to(fdir).as_posix() for p in python_files(fdir)] == [
        "common/__init__.py",
        "common/never.py",
        "common/util.py",
        "lambda_branchy.py",
    ]
    assert handler_file(fdir, "lambda_branchy.handler") == fdir / "lambda_branchy.py"
    assert handler_file(fdir, "common.handler") == fdir / "common" / "__init__.py"
    assert handler_file(fdir, "missing.handler") is None
