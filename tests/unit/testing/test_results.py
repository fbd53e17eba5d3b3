"""Results file: per-function summaries, table rows and failure texts."""

from __future__ import annotations

from pathlib import Path

from lambda_harness.testing.results import (
    CaseResult,
    ResultsRecorder,
    failure_texts,
    load_results,
    log_excerpt,
    summary_rows,
)


def test_summary_takes_cold_from_first_cold_call_and_median_of_warm(tmp_path: Path) -> None:
    rec = ResultsRecorder("http://x", "us-east-1")
    rec.cases += [
        CaseResult("fn", "a", "passed", cold=True, duration_ms=10.0, init_ms=90.0, max_memory_mb=40),
        CaseResult("fn", "b", "passed", cold=False, duration_ms=2.0, max_memory_mb=44),
        CaseResult(
            "fn", "c", "failed", cold=False, duration_ms=4.0, problems=["$.x: missing"], log_excerpt="boom"
        ),
        CaseResult("fn", "d", "passed", cold=False, duration_ms=3.0),
    ]
    rec.count("passed")
    path = tmp_path / "r.json"
    rec.write(path, exitstatus=1)
    data = load_results(path)
    fn = data["functions"]["fn"]
    assert (fn["passed"], fn["failed"], fn["cold_ms"], fn["warm_ms"], fn["max_memory_mb"]) == (
        3,
        1,
        100.0,
        3.0,
        44,
    )
    assert summary_rows(data, deployed=["fn", "other"]) == [
        ["fn", "3", "1", "100.0", "3.0", "44"],
        ["other", "0", "0", "-", "-", "-"],
    ]
    (text,) = failure_texts(data)
    assert text.startswith("fn/c: $.x: missing") and "    boom" in text
    assert data["exitstatus"] == 1 and data["tests"] == {"passed": 1}


def test_a_case_that_timed_out_counts_for_no_time(tmp_path: Path) -> None:
    rec = ResultsRecorder("http://x", "us-east-1")
    rec.cases += [
        CaseResult(
            "fn",
            "slow",
            "failed",
            cold=True,
            duration_ms=3000.0,
            init_ms=570.0,
            error_type="Sandbox.Timedout",
        ),
        CaseResult("fn", "ok", "passed", cold=False, duration_ms=4.0),
        CaseResult("fn", "slow2", "failed", cold=False, duration_ms=3000.0, error_type="Sandbox.Timedout"),
        CaseResult("fn", "ok2", "passed", cold=False, duration_ms=6.0),
        CaseResult("other", "slow", "failed", cold=True, duration_ms=3000.0, error_type="Sandbox.Timedout"),
    ]
    path = tmp_path / "r.json"
    rec.write(path, exitstatus=1)
    data = load_results(path)
    assert (data["functions"]["fn"]["cold_ms"], data["functions"]["fn"]["warm_ms"]) == (None, 5.0)
    assert (data["functions"]["other"]["cold_ms"], data["functions"]["other"]["warm_ms"]) == (None, None)
    assert data["functions"]["fn"]["failed"] == 2


def test_log_excerpt_drops_bookkeeping_lines() -> None:
    log = "START RequestId: 1\nTraceback\nKeyError\nEND RequestId: 1\nREPORT RequestId: 1\tDuration: 1 ms"
    assert log_excerpt(log) == "Traceback\nKeyError"
