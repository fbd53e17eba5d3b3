"""The pytest plugin end to end (pytester) against a fake Invoke endpoint."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["pytester"]


def case(pytester: pytest.Pytester, function: str, name: str, event: Any, **extra: Any) -> None:
    folder = pytester.path / "tests" / "integration" / "events" / function
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(event))
    for suffix, data in extra.items():
        (folder / f"{name}.{suffix}.json").write_text(json.dumps(data))


def run(pytester: pytest.Pytester, fake: Any, *args: str) -> pytest.RunResult:
    inventory = fake.write_inventory(pytester.path / ".harness" / "inventory.json")
    return pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--harness-inventory",
        str(inventory),
        "--harness-results",
        "results.json",
        "--junitxml",
        "junit.xml",
        *args,
    )


def results(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((pytester.path / "results.json").read_text())
    return data


def test_every_case_becomes_a_test_and_passes(pytester: pytest.Pytester, fake_lambda: Any) -> None:
    fake_lambda.behaviours = {
        "process_checker": fake_lambda.echo(),
        "export_api_log": fake_lambda.ok({"written": 3}),
    }
    case(pytester, "process_checker", "daily", {"day": 1}, expected={"echo": {"day": 1}})
    case(pytester, "process_checker", "weekly", {"day": 7})
    case(pytester, "export_api_log", "default", {}, expected={"written": 3})
    result = run(pytester, fake_lambda, "-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "*events::export_api_log/default PASSED*",
            "*events::process_checker/daily PASSED*",
            "*events::gate PASSED*",
        ]
    )
    data = results(pytester)
    pc = data["functions"]["process_checker"]
    assert (pc["passed"], pc["failed"], pc["cold_ms"], pc["warm_ms"], pc["max_memory_mb"]) == (
        2,
        0,
        83.0,
        3.0,
        50,
    )
    assert data["exitstatus"] == 0 and data["gate"] == []
    assert ("process_checker", {"day": 7}) in fake_lambda.calls


def test_mismatch_and_handler_error_fail_with_diff_and_log(
    pytester: pytest.Pytester, fake_lambda: Any
) -> None:
    fake_lambda.behaviours = {
        "risk_ingest": fake_lambda.ok({"count": 2}),
        "alerts_api": fake_lambda.fails("KeyError", "'id'", "boom line"),
    }
    case(pytester, "risk_ingest", "one", {}, expected={"count": 1})
    case(pytester, "alerts_api", "get", {})
    result = run(pytester, fake_lambda)
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        ["*handler failed: KeyError: 'id'*", "*boom line*", "*$.count: expected 1, got 2*"]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    cases = results(pytester)["functions"]["alerts_api"]["cases"]
    assert cases[0]["outcome"] == "failed" and "boom line" in cases[0]["log_excerpt"]


def test_expected_error_case_passes_only_with_that_error(pytester: pytest.Pytester, fake_lambda: Any) -> None:
    fake_lambda.behaviours = {"alert_enricher": fake_lambda.fails("ValueError", "malformed message")}
    case(pytester, "alert_enricher", "malformed", {"bad": 1}, error={"errorType": "ValueError"})
    case(pytester, "alert_enricher", "wrong", {"bad": 2}, error={"errorType": "TypeError"})
    result = run(pytester, fake_lambda)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*expected function error TypeError, got ValueError: malformed message*"])


def test_gate_fails_for_uncovered_functions_and_orphan_folders(
    pytester: pytest.Pytester, fake_lambda: Any
) -> None:
    fake_lambda.behaviours = {"covered": fake_lambda.ok({}), "uncovered": fake_lambda.ok({})}
    case(pytester, "covered", "a", {})
    case(pytester, "retired_fn", "a", {})
    result = run(pytester, fake_lambda)
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*gate: function uncovered is deployed but has no event case*events/uncovered/*",
            "*retired_fn/ holds event cases for retired_fn, which is not deployed."
            " Deployed functions: covered, uncovered*",
        ]
    )
    junit = ET.parse(pytester.path / "junit.xml")
    names = {tc.get("name") for tc in junit.iter("testcase")}
    assert {"gate/no-cases/uncovered", "gate/not-deployed/retired_fn", "covered/a"} <= names
    assert [g["name"] for g in results(pytester)["gate"]] == ["uncovered", "retired_fn"]
    assert all(name != "retired_fn" for name, _ in fake_lambda.calls)


def test_function_missing_on_endpoint_fails_the_case(pytester: pytest.Pytester, fake_lambda: Any) -> None:
    fake_lambda.behaviours = {"here": fake_lambda.ok({})}
    inventory = fake_lambda.write_inventory(pytester.path / "inv.json", {"here": {}, "gone": {}})
    case(pytester, "here", "a", {})
    case(pytester, "gone", "a", {})
    result = pytester.runpytest("-p", "no:cacheprovider", "--harness-inventory", str(inventory))
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*function gone is not deployed at http://127.0.0.1:*"])


def test_fixtures_reach_the_endpoint_and_inventory(pytester: pytest.Pytester, fake_lambda: Any) -> None:
    fake_lambda.behaviours = {"fn": fake_lambda.echo()}
    case(pytester, "fn", "a", {})
    pytester.makepyfile(
        test_handwritten="""
        def test_uses_fixtures(invoke, deployed_functions, harness_endpoint, aws_client, aws_session):
            (fn,) = deployed_functions.functions
            assert fn.environment["TABLE"] == "fn-table"
            inv = invoke(fn.name, {"q": 1})
            assert inv.ok and inv.payload == {"echo": {"q": 1}}
            assert aws_client("s3").meta.endpoint_url == harness_endpoint
            assert aws_session.get_credentials().access_key == "test"
    """
    )
    result = run(pytester, fake_lambda)
    result.assert_outcomes(passed=3)
    assert results(pytester)["tests"] == {"passed": 3}


def test_plugin_is_passive_without_an_inventory(pytester: pytest.Pytester, tmp_path: Path) -> None:
    case(pytester, "fn", "a", {})
    pytester.makepyfile(
        test_plain="""
        def test_plain():
            assert True

        def test_needs_deployment(deployed_functions):
            raise AssertionError("should have been skipped")
    """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*no deployment: run `lambda-harness run`*"])


def test_missing_inventory_file_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--harness-inventory", "nope.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*nope.json does not exist: deploy first*"])


def test_harness_flag_uses_the_default_inventory(pytester: pytest.Pytester, fake_lambda: Any) -> None:
    fake_lambda.behaviours = {"fn": fake_lambda.ok({"done": True})}
    fake_lambda.write_inventory(pytester.path / ".harness" / "inventory.json")
    case(pytester, "fn", "a", {}, expected={"done": True})
    result = pytester.runpytest("-p", "no:cacheprovider", "--harness", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["lambda-harness: endpoint http://127.0.0.1:*", "*events::fn/a PASSED*"])


@pytest.mark.parametrize(
    ("option", "env"),
    [
        ("--harness-cases", {}),
        ("--harness-events", {}),  # the former name
        (None, {"LAMBDA_HARNESS_CASES": "checks"}),
        (None, {"LAMBDA_HARNESS_EVENTS": "checks"}),  # the former name
    ],
)
def test_the_cases_folder_is_chosen_by_option_or_environment(
    pytester: pytest.Pytester,
    fake_lambda: Any,
    monkeypatch: pytest.MonkeyPatch,
    option: str | None,
    env: dict[str, str],
) -> None:
    for name in ("LAMBDA_HARNESS_CASES", "LAMBDA_HARNESS_EVENTS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    fake_lambda.behaviours = {"fn": fake_lambda.ok({"done": True})}
    folder = pytester.path / "checks" / "fn"
    folder.mkdir(parents=True)
    (folder / "a.json").write_text("{}")
    result = run(pytester, fake_lambda, "-v", *([option, "checks"] if option else []))
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["lambda-harness: *, event cases */checks", "*checks::fn/a PASSED*"])


def test_missing_events_folder_is_a_usage_error_naming_the_functions(
    pytester: pytest.Pytester, fake_lambda: Any
) -> None:
    fake_lambda.behaviours = {"fn_one": fake_lambda.ok({}), "fn_two": fake_lambda.ok({})}
    inventory = fake_lambda.write_inventory(pytester.path / "inv.json")
    result = pytester.runpytest("--harness-inventory", str(inventory))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*event cases folder *events does not exist: add *events/<function>/<case>.json*(fn_one, fn_two)*"]
    )


def test_bad_case_files_are_reported_plainly(pytester: pytest.Pytester, fake_lambda: Any) -> None:
    fake_lambda.behaviours = {"fn": fake_lambda.fails("ValueError", "x")}
    case(pytester, "fn", "a", {}, error=["not", "an", "object"])
    result = run(pytester, fake_lambda)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(['*event case fn/a: *a.error.json: must be a JSON object like {"errorType"*'])
    (pytester.path / "tests" / "integration" / "events" / "fn" / "b.expected.json").write_text("{}")
    result = run(pytester, fake_lambda)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["*b.expected.json: no event b.json beside it; add the event or delete this file*"]
    )


def cases_of_three_functions(pytester: pytest.Pytester, fake: Any) -> None:
    fake.behaviours = {name: fake.echo() for name in ("alerts_api", "process_checker", "risk_ingest")}
    for name in ("alerts_api", "process_checker", "risk_ingest"):
        for step in ("a_first", "b_second", "c_third"):
            case(pytester, name, step, {"fn": name, "step": step}, expected={"echo": {"step": step}})


def order_of(pytester: pytest.Pytester) -> tuple[list[str], list[tuple[str, str]]]:
    tree = ET.parse(pytester.path / "junit.xml")
    names = [tc.get("name", "") for tc in tree.iter("testcase")]
    recorded = [
        (c["function"], c["case"]) for f in results(pytester)["functions"].values() for c in f["cases"]
    ]
    return names, recorded


def test_functions_run_side_by_side_with_each_ones_cases_in_order_and_output_unchanged(
    pytester: pytest.Pytester, fake_lambda: Any
) -> None:
    cases_of_three_functions(pytester, fake_lambda)
    sequential = run(pytester, fake_lambda, "-v", "--harness-workers", "1")
    sequential.assert_outcomes(passed=10)
    one_by_one = order_of(pytester)
    fake_lambda.calls.clear()

    parallel = run(pytester, fake_lambda, "-v", "--harness-workers", "3")

    parallel.assert_outcomes(passed=10)
    assert order_of(pytester) == one_by_one  # JUnit and results.json: the items' order
    lines = [ln for ln in parallel.stdout.lines if " PASSED" in ln]
    assert lines == [ln for ln in sequential.stdout.lines if " PASSED" in ln]
    for name in ("alerts_api", "process_checker", "risk_ingest"):
        steps = [event["step"] for fn, event in fake_lambda.calls if fn == name]
        assert steps == ["a_first", "b_second", "c_third"]  # each function's cases in order


def test_deselected_cases_are_not_invoked_ahead(pytester: pytest.Pytester, fake_lambda: Any) -> None:
    cases_of_three_functions(pytester, fake_lambda)
    result = run(pytester, fake_lambda, "--harness-workers", "3", "-k", "first")
    result.assert_outcomes(passed=3, deselected=7)
    assert sorted(event["step"] for _fn, event in fake_lambda.calls) == ["a_first"] * 3


def test_a_shard_tests_its_part_and_only_shard_1_reports_stray_folders(
    pytester: pytest.Pytester, fake_lambda: Any
) -> None:
    """By case count: ``big`` (3 cases) alone on shard 1, ``one`` and ``two`` on shard 2."""
    fake_lambda.behaviours = {name: fake_lambda.ok({}) for name in ("big", "one", "two")}
    for index in range(3):
        case(pytester, "big", f"c{index}", {})
    case(pytester, "one", "default", {})
    case(pytester, "two", "default", {})
    case(pytester, "gone", "default", {})  # a folder of no deployed function
    first = run(pytester, fake_lambda, "-v", "--harness-shard", "1/2")
    first.assert_outcomes(passed=3, failed=1)
    first.stdout.fnmatch_lines(["*events::big/c0 PASSED*", "*events::gate/not-deployed/gone FAILED*"])
    first.stdout.fnmatch_lines(["*gone, which is not deployed. Deployed functions: big, one, two.*"])
    assert results(pytester)["shard"]["functions"] == ["big"]
    second = run(pytester, fake_lambda, "-v", "--harness-shard", "2/2")
    second.assert_outcomes(passed=3)  # one/default, two/default and its gate
    shard = results(pytester)["shard"]
    assert (shard["index"], shard["total"], shard["functions"]) == (2, 2, ["one", "two"])
    assert sorted(results(pytester)["functions"]) == ["one", "two"]
    assert {name for name, _ in fake_lambda.calls} == {"big", "one", "two"}


def test_a_bad_shard_is_a_usage_error(pytester: pytest.Pytester, fake_lambda: Any) -> None:
    fake_lambda.behaviours = {"one": fake_lambda.ok({})}
    case(pytester, "one", "default", {})
    result = run(pytester, fake_lambda, "--harness-shard", "3/2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--shard '3/2': write K/N with 1 <= K <= N*"])
