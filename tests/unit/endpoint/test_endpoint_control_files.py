"""The detached endpoint's pid file: absent, stale, unreadable, naming a process that is not ours."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import replace
from pathlib import Path

import pytest

from lambda_harness.endpoint import control, pidfile
from lambda_harness.errors import EndpointError
from lambda_harness.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        project_dir=tmp_path,
        functions_dir=tmp_path,
        terraform_dir=tmp_path,
        lock_file=None,
        dist=None,
        harness_dir=tmp_path / ".harness",
        cache_dir=tmp_path,
        cases_dir=tmp_path,
    )


def test_stop_without_pid_file_is_false(settings: Settings) -> None:
    assert control.stop_detached(settings) is False


def test_a_record_without_start_time_is_not_signalled_and_the_files_go(settings: Settings) -> None:
    settings.harness_dir.mkdir()
    # Our own pid runs pytest, not `lambda_harness up`: a record that cannot be verified names no one.
    settings.paths.endpoint_pid.write_text(f"{os.getpid()}\n")
    settings.paths.endpoint_info.write_text(json.dumps({"pid": os.getpid(), "url": "http://127.0.0.1:1"}))
    assert control.stop_detached(settings) is False
    assert not settings.paths.endpoint_pid.exists() and not settings.paths.endpoint_info.exists()


@pytest.mark.parametrize("field", ["start_ticks", "boot_id"])
def test_a_live_pid_with_another_identity_is_refused(settings: Settings, field: str) -> None:
    settings.harness_dir.mkdir()
    me = pidfile.stamp_of(os.getpid())
    assert me is not None
    # Our pid, as a recycled pid would look: same number, another start (or another boot).
    other = (
        replace(me, start_ticks=me.start_ticks + 1) if field == "start_ticks" else replace(me, boot_id="x")
    )
    pidfile.write(settings.paths, other, other.pid, url="http://127.0.0.1:1")
    record = pidfile.read(settings.paths)
    assert record is not None and record.stamp == other
    assert not pidfile.is_running(other)
    assert pidfile.send_signal(other, signal.SIGINT) is False  # refused: we are still here
    assert control.stop_detached(settings) is False
    assert not settings.paths.endpoint_pid.exists() and not settings.paths.endpoint_info.exists()


def test_a_record_whose_two_files_disagree_is_not_verified(settings: Settings) -> None:
    settings.harness_dir.mkdir()
    me = pidfile.stamp_of(os.getpid())
    assert me is not None
    pidfile.write(settings.paths, me, me.pid)
    settings.paths.endpoint_pid.write_text("1\n")  # the pid file now names another process
    record = pidfile.read(settings.paths)
    assert record is not None and record.stamp is None


def test_the_record_keeps_pid_boot_and_start_time(settings: Settings) -> None:
    settings.harness_dir.mkdir()
    stamp = pidfile.ProcessStamp(4242, "boot", 777)
    pidfile.write(settings.paths, stamp, 4242, url="http://127.0.0.1:4566", log="/x/endpoint.log")
    assert settings.paths.endpoint_pid.read_text() == "4242\n"
    assert json.loads(settings.paths.endpoint_info.read_text()) == {
        "pid": 4242,
        "boot_id": "boot",
        "start_ticks": 777,
        "url": "http://127.0.0.1:4566",
        "log": "/x/endpoint.log",
    }
    record = pidfile.read(settings.paths)
    assert record is not None and record.stamp == stamp and record.info["url"] == "http://127.0.0.1:4566"


def test_start_time_is_field_22_even_with_spaces_and_parens_in_the_name() -> None:
    fields = " ".join(["S", *(str(n) for n in range(4, 53))])  # field n holds n; field 3 is the state
    assert pidfile.parse_start_ticks(f"123 (a b) c) {fields}") == ("S", 22)


def test_our_own_stamp_is_read_from_proc() -> None:
    me = pidfile.stamp_of(os.getpid())
    assert me is not None and me.pid == os.getpid() and me.start_ticks > 0 and me.boot_id
    assert pidfile.is_running(me)
    assert pidfile.stamp_of(2**22 + 1) is None  # above pid_max: no such process


def test_unreadable_pid_file_is_cleaned_up(settings: Settings) -> None:
    settings.harness_dir.mkdir()
    settings.paths.endpoint_pid.write_text("not a pid")
    assert control.stop_detached(settings) is False
    assert not settings.paths.endpoint_pid.exists()


def test_wait_healthy_gives_up_when_the_process_died(settings: Settings) -> None:
    with pytest.raises(EndpointError, match="exited before"):
        control.wait_healthy(
            "http://127.0.0.1:9",
            30,
            alive=lambda: False,
            sleep=lambda _: None,
            probe=lambda _: "connection refused",
        )


def test_wait_healthy_times_out(settings: Settings) -> None:
    ticks = iter([0.0, 100.0])
    with pytest.raises(EndpointError, match=r"not healthy after 5s \(HTTP 503\)"):
        control.wait_healthy(
            "http://127.0.0.1:9",
            5,
            clock=lambda: next(ticks),
            sleep=lambda _: None,
            probe=lambda _: "HTTP 503",
        )


def test_wait_healthy_returns_once_healthy() -> None:
    answers = iter(["refused", "refused", None])
    slept: list[float] = []
    control.wait_healthy("http://127.0.0.1:9", 5, sleep=slept.append, probe=lambda _: next(answers))
    assert slept == [0.1, 0.1]
