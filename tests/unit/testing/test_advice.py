"""Memory and timeout advice from known peaks and durations, and the thresholds that can fail a run."""

from __future__ import annotations

import pytest

from lambda_harness.testing.advice import Limits, advise, recommended_memory, seconds, thresholds


def case(mb: int | None = None, ms: float | None = None, init: float | None = None, error: str | None = None):
    return {"max_memory_mb": mb, "duration_ms": ms, "init_ms": init, "error_type": error}


@pytest.mark.parametrize(
    ("peak", "size"),
    [(1, 128), (62, 128), (64, 128), (65, 192), (100, 256), (129, 320), (6000, 10240)],
)
def test_recommended_memory_is_twice_the_peak_in_64_mb_steps_within_lambdas_range(
    peak: int, size: int
) -> None:
    assert recommended_memory(peak) == size


def test_an_oversized_function_is_told_the_size_that_leaves_2x_headroom() -> None:
    figures = advise(Limits(1024, 3), [case(62, 100), case(40, 80), case(50), case(61), case(30)])
    assert figures["advice"] == [
        {
            "kind": "memory",
            "level": "info",
            "text": "declared 1024 MB, peak 62 MB over 5 cases: 128 MB leaves 2x headroom",
        }
    ]
    assert figures["peak_memory_mb"] == 62 and figures["recommended_memory_mb"] == 128
    assert figures["memory_headroom"] == 16.52 and figures["memory_cases"] == 5


def test_a_function_close_to_its_limit_gets_a_warning_and_a_bigger_size() -> None:
    tight = advise(Limits(128, 3), [case(110)])["advice"]
    assert tight == [
        {
            "kind": "memory",
            "level": "warning",
            "text": "declared 128 MB, peak 110 MB over 1 case (86% of it): 256 MB leaves 2x headroom",
        }
    ]
    full = advise(Limits(128, 3), [case(128, error="Runtime.OutOfMemory")])["advice"][0]["text"]
    assert full == "declared 128 MB, peak 128 MB over 1 case: it reached the limit; 256 MB leaves 2x headroom"


def test_a_well_sized_function_gets_no_memory_advice() -> None:
    assert advise(Limits(256, 3), [case(100, 10)])["advice"] == []  # 2x of 100 rounds up to 256


def test_the_slowest_case_against_the_timeout() -> None:
    figures = advise(Limits(128, 3), [case(60, 2700.4), case(60, 120)])
    assert figures["advice"] == [
        {"kind": "timeout", "level": "warning", "text": "slowest case 2.7 s of a 3 s timeout (90%)"}
    ]
    assert figures["slowest_ms"] == 2700.4 and figures["timeout_ratio"] == 0.9
    assert advise(Limits(128, 3), [case(60, 1400)])["advice"] == []  # under half: nothing to say
    timed_out = advise(Limits(128, 1), [case(60, 1000, error="Sandbox.Timedout")])["advice"]
    assert timed_out[0]["text"] == "a case ran into the 1 s timeout"


def test_a_long_init_is_named_against_lambdas_10_s_limit() -> None:
    figures = advise(Limits(128, 30), [case(60, 10, init=6100)])
    assert figures["max_init_ms"] == 6100.0
    assert figures["advice"] == [
        {"kind": "init", "level": "warning", "text": "init 6.1 s of Lambda's 10 s init limit"}
    ]


def test_no_figures_no_advice() -> None:
    figures = advise(Limits(128, 3), [case()])
    assert figures["advice"] == [] and figures["peak_memory_mb"] is None and figures["timeout_ratio"] is None


def test_seconds_reads_like_a_person_wrote_it() -> None:
    assert (seconds(3000), seconds(2700), seconds(700), seconds(900_000)) == (
        "3 s",
        "2.7 s",
        "0.7 s",
        "900 s",
    )


def _fn(peak: int, declared: int, slowest: float, timeout: float) -> dict[str, object]:
    return {
        "tf_file": "terraform/lambda_x.tf",
        "limits": advise(Limits(declared, timeout), [case(peak, slowest)]),
    }


def test_thresholds_fail_only_when_set_and_crossed() -> None:
    functions = {"tight": _fn(100, 128, 2900, 3), "roomy": _fn(40, 1024, 100, 3)}
    assert thresholds(functions, memory_headroom=None, timeout_ratio=None) == []
    failures = thresholds(functions, memory_headroom=1.5, timeout_ratio=0.8)
    assert failures == [
        "tight: peak memory 100 MB leaves 1.28x headroom under its memory_size 128 MB (declared in "
        "terraform/lambda_x.tf), less than fail-on-memory-headroom = 1.5; raise memory_size to 192 MB",
        "tight: slowest case 2.9 s is 97% of its timeout 3 s (declared in terraform/lambda_x.tf), over "
        "fail-on-timeout-ratio = 0.8; raise the timeout or make the handler faster",
    ]
