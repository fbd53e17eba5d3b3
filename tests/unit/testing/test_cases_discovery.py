"""Event-case discovery, case checking and the gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_harness.errors import ConfigError
from lambda_harness.testing.cases import EventCase, check_case, discover, gate


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_discover_pairs_events_with_expectations(tmp_path: Path) -> None:
    write(tmp_path / "fn_a" / "daily.json", {"x": 1})
    write(tmp_path / "fn_a" / "daily.expected.json", {"ok": True})
    write(tmp_path / "fn_a" / "bad.json", {})
    write(tmp_path / "fn_a" / "bad.error.json", {"errorType": "ValueError"})
    (tmp_path / "fn_b").mkdir()
    (tmp_path / "_shared").mkdir()
    found = discover(tmp_path)
    assert sorted(found) == ["fn_a", "fn_b"]
    assert [c.id for c in found["fn_a"]] == ["fn_a/bad", "fn_a/daily"]
    bad, daily = found["fn_a"]
    assert bad.error_path is not None and bad.expected_path is None
    assert daily.expected_path == tmp_path / "fn_a" / "daily.expected.json"
    assert daily.event_bytes() == b'{"x": 1}'
    assert found["fn_b"] == []


def test_discover_missing_folder_is_empty(tmp_path: Path) -> None:
    assert discover(tmp_path / "nope") == {}


def test_orphan_expectation_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "fn" / "gone.expected.json", {})
    with pytest.raises(ConfigError, match=r"gone\.expected\.json: no event gone\.json"):
        discover(tmp_path)


@pytest.mark.parametrize("name", ["broken.json", "broken.expected.json", "broken.error.json"])
def test_a_case_file_that_is_not_json_is_named(tmp_path: Path, name: str) -> None:
    for sibling in ("broken.json", "broken.expected.json", "broken.error.json"):
        write(tmp_path / "fn" / sibling, {"errorType": "ValueError"})
    (tmp_path / "fn" / name).write_text('{"a": 1,}')
    with pytest.raises(
        ConfigError, match=rf"fn/{name}: not readable JSON \(Expecting .*fix or delete the file"
    ):
        discover(tmp_path)


def test_check_case_success_and_subset(tmp_path: Path) -> None:
    write(tmp_path / "fn" / "c.json", {})
    write(tmp_path / "fn" / "c.expected.json", {"status": "ok"})
    (case,) = discover(tmp_path)["fn"]
    assert check_case(case, {"status": "ok", "n": 1}, None, None) == []
    assert check_case(case, {"status": "bad"}, None, None) == ['$.status: expected "ok", got "bad"']
    assert check_case(case, {"errorType": "X"}, "KeyError", "'k'") == ["handler failed: KeyError: 'k'"]


def test_check_case_expected_error(tmp_path: Path) -> None:
    write(tmp_path / "fn" / "c.json", {})
    write(tmp_path / "fn" / "c.error.json", {"errorType": "ValueError", "errorMessage": "bad id"})
    (case,) = discover(tmp_path)["fn"]
    assert check_case(case, {}, "ValueError", "bad id 7") == []
    assert check_case(case, {"ok": 1}, None, None) == [
        "expected function error ValueError, but the handler succeeded"
    ]
    problems = check_case(case, {}, "KeyError", "nope")
    assert problems[0] == "expected function error ValueError, got KeyError: nope"
    assert "errorMessage to contain 'bad id'" in problems[1]


def test_malformed_error_file_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path / "fn" / "c.json", {})
    write(tmp_path / "fn" / "c.error.json", ["ValueError"])
    (case,) = discover(tmp_path)["fn"]
    with pytest.raises(ConfigError, match="errorType"):
        check_case(case, {}, "ValueError", "")


def test_gate_names_functions_without_cases_and_folders_without_functions(tmp_path: Path) -> None:
    write(tmp_path / "covered" / "a.json", {})
    (tmp_path / "empty").mkdir()
    write(tmp_path / "retired" / "a.json", {})
    cases = discover(tmp_path)
    problems = gate(["covered", "empty", "uncovered"], cases, tmp_path)
    assert [(p.kind, p.name) for p in problems] == [
        ("no-cases", "empty"),
        ("no-cases", "uncovered"),
        ("not-deployed", "retired"),
    ]
    assert f"{tmp_path / 'uncovered'}/" in problems[1].message
    assert "has no <case>.json" in problems[0].message
    assert "Deployed functions: covered, empty, uncovered" in problems[2].message
    assert problems[2].id == "gate/not-deployed/retired"


def test_gate_is_quiet_when_everything_is_covered(tmp_path: Path) -> None:
    write(tmp_path / "fn" / "a.json", {})
    assert gate(["fn"], discover(tmp_path), tmp_path) == []


def test_gate_fails_a_function_the_harness_cannot_run_as_untested_even_with_cases(tmp_path: Path) -> None:
    write(tmp_path / "web" / "default.json", {})
    problems = gate(["web", "fn"], discover(tmp_path), tmp_path, not_runnable={"web": "nodejs20.x"})
    kinds = {(p.kind, p.name) for p in problems}
    assert ("not-runnable", "web") in kinds
    message = next(p.message for p in problems if p.kind == "not-runnable")
    assert "runtime nodejs20.x" in message and "untested" in message
    assert 'skip-functions = ["web"]' in message and "--skip-function web" in message


def test_gate_accepts_explicit_skips_and_refuses_a_skip_of_nothing(tmp_path: Path) -> None:
    write(tmp_path / "fn" / "default.json", {})
    write(tmp_path / "web" / "default.json", {})  # cases of a skipped function: not run, not a problem
    assert (
        gate(["fn", "web"], discover(tmp_path), tmp_path, not_runnable={"web": "java21"}, skipped={"web"})
        == []
    )
    problems = gate(["fn"], discover(tmp_path), tmp_path, skipped={"gone"})
    assert [(p.kind, p.name) for p in problems] == [("not-deployed", "web"), ("skip-unknown", "gone")]


def test_a_skip_of_a_function_another_shard_tests_is_not_a_skip_of_nothing(tmp_path: Path) -> None:
    write(tmp_path / "fn" / "default.json", {})
    problems = gate(["fn"], discover(tmp_path), tmp_path, skipped={"web", "gone"}, elsewhere=["web"])
    assert [(p.kind, p.name) for p in problems] == [("skip-unknown", "gone")]
    assert "(deployed: fn, web)" in problems[0].message


def _http_case(tmp_path: Path, event: object, expected: object = None) -> EventCase:
    write(tmp_path / "fn" / "call.json", event)
    if expected is not None:
        write(tmp_path / "fn" / "call.expected.json", expected)
    (case,) = discover(tmp_path)["fn"]
    return case


URL_EVENT = {"version": "2.0", "rawPath": "/", "requestContext": {"http": {"method": "POST", "path": "/"}}}


def test_a_5xx_answer_to_an_http_event_fails_a_case_that_expects_nothing(tmp_path: Path) -> None:
    case = _http_case(tmp_path, URL_EVENT)
    (problem,) = check_case(case, {"statusCode": 500, "body": '{"error": "internal"}'}, None, None)
    assert problem.startswith("answered HTTP 500 to an HTTP event") and "internal" in problem
    assert 'add call.expected.json with {"statusCode": 500}' in problem
    assert check_case(case, {"statusCode": 404, "body": "no"}, None, None) == []
    assert check_case(case, {"statusCode": 200}, None, None) == []


def test_a_5xx_is_fine_when_expected_or_when_the_event_is_not_http(tmp_path: Path) -> None:
    expected = _http_case(tmp_path / "a", {"httpMethod": "GET", "path": "/x"}, {"statusCode": 503})
    assert check_case(expected, {"statusCode": 503}, None, None) == []
    plain = _http_case(tmp_path / "b", {"order": 1})
    assert check_case(plain, {"statusCode": 500}, None, None) == []
    rest = _http_case(tmp_path / "c", {"httpMethod": "GET", "path": "/x"})
    assert check_case(rest, {"statusCode": 502}, None, None)
