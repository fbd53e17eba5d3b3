"""Acceptance: the results file names every failure a run must report (pytester, fake endpoint)."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest_plugins = ["pytester"]


def add_case(pytester: pytest.Pytester, function: str, name: str, event: Any) -> None:
    folder = pytester.path / "tests" / "integration" / "events" / function
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(event))


def run_plugin(pytester: pytest.Pytester, fake: Any) -> tuple[pytest.RunResult, dict[str, Any]]:
    inventory = fake.write_inventory(pytester.path / ".harness" / "inventory.json")
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--harness-inventory", str(inventory), "--harness-results", "results.json"
    )
    data: dict[str, Any] = json.loads((pytester.path / "results.json").read_text())
    return result, data


def test_failed_hand_written_tests_are_recorded_with_their_message(
    pytester: pytest.Pytester, fake_lambda: Any
) -> None:
    fake_lambda.behaviours = {"fn": fake_lambda.ok({})}
    add_case(pytester, "fn", "a", {})
    pytester.makepyfile(
        test_side_effects="""
        import pytest

        @pytest.fixture
        def broken():
            raise RuntimeError("queue not found")

        def test_item_written():
            pytest.fail("timed out after 30s waiting for the incident item")

        def test_needs_queue(broken):
            pass

        def test_fine():
            pass
    """
    )
    result, data = run_plugin(pytester, fake_lambda)
    result.assert_outcomes(passed=3, failed=1, errors=1)
    others = {o["nodeid"].split("::")[-1]: o for o in data["other_failures"]}
    assert set(others) == {"test_item_written", "test_needs_queue"}
    assert others["test_item_written"]["message"] == (
        "Failed: timed out after 30s waiting for the incident item"
    )
    assert others["test_needs_queue"]["when"] == "setup"
    assert "RuntimeError: queue not found" in others["test_needs_queue"]["message"]
    # Generated cases and the gate report through "functions" and "gate", not here.
    assert data["functions"]["fn"]["passed"] == 1


def test_a_missing_dependency_case_says_to_pin_it(pytester: pytest.Pytester, fake_lambda: Any) -> None:
    fake_lambda.behaviours = {
        "fn": fake_lambda.fails(
            "Runtime.ImportModuleError", "Unable to import module 'fn.app': No module named 'orjson'"
        )
    }
    add_case(pytester, "fn", "a", {})
    result, data = run_plugin(pytester, fake_lambda)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*fix: 'orjson' is not in the function's zip or its layers*lock file*"])
    (case,) = data["functions"]["fn"]["cases"]
    assert any("requirements.txt, Pipfile.lock, uv.lock or poetry.lock" in p for p in case["problems"])
    assert data["other_failures"] == []


def test_a_package_present_in_a_layer_built_for_another_cpu_says_so(
    pytester: pytest.Pytester, fake_lambda: Any
) -> None:
    """The build record (.harness/build.json) names the zips the function loads: the layer holds
    orjson, built for arm64, and the function is x86_64 (explore P-B3)."""
    import json
    import zipfile

    (pytester.path / "build").mkdir()
    with zipfile.ZipFile(pytester.path / "build" / "deps.zip", "w") as zf:
        zf.writestr("python/orjson/__init__.py", "from .orjson import *\n")
        zf.writestr("python/orjson/orjson.cpython-312-aarch64-linux-gnu.so", "ELF")
    with zipfile.ZipFile(pytester.path / "build" / "fn.zip", "w") as zf:
        zf.writestr("app.py", "import orjson\n")
    (pytester.path / ".harness").mkdir(exist_ok=True)
    layer = {"path": "build/deps.zip", "kind": "layer", "functions": [], "used_by": ["fn"]}
    code = {"path": "build/fn.zip", "kind": "function", "functions": ["fn"], "source": "src/fn"}
    for entry, arch in ((layer, "arm64"), (code, "x86_64")):
        entry.update(runtime="python3.12", architecture=arch)
    build = {"functions_dir": "src", "artifacts": [layer, code]}
    (pytester.path / ".harness" / "build.json").write_text(json.dumps(build))
    fake_lambda.behaviours = {
        "fn": fake_lambda.fails(
            "Runtime.ImportModuleError", "Unable to import module 'app': No module named 'orjson.orjson'"
        )
    }
    add_case(pytester, "fn", "a", {})
    result, _data = run_plugin(pytester, fake_lambda)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*fix: 'orjson' is in build/deps.zip (layer, built for python3.12/arm64), but its module "
            "'orjson.orjson' did not load for the function, python3.12/x86_64: a native module built for "
            "another platform; rebuild build/deps.zip for python3.12/x86_64*"
        ]
    )
