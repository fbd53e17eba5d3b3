from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from lambda_harness import proc
from lambda_harness.errors import CommandFailed, ToolNotFound


def test_run_captures_output() -> None:
    done = proc.run([sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr)"])
    assert done.returncode == 0
    assert done.stdout == "out\n"
    assert done.stderr == "err\n"


def test_failure_carries_exit_code_and_tail() -> None:
    script = "import sys\nfor i in range(100): print(f'line {i}')\nsys.exit(7)"
    with pytest.raises(CommandFailed) as info:
        proc.run([sys.executable, "-c", script], hint="try harder")
    assert info.value.returncode == 7
    text = str(info.value)
    assert "exit code 7" in text and "line 99" in text and "try harder" in text
    assert "line 0\n" not in text  # only the tail


def test_check_false_returns_the_code() -> None:
    assert proc.run([sys.executable, "-c", "raise SystemExit(3)"], check=False).returncode == 3


def test_on_line_sees_each_line() -> None:
    seen: list[str] = []
    proc.run([sys.executable, "-c", "print('a'); print('b')"], on_line=seen.append)
    assert seen == ["a", "b"]


def test_which_names_the_tool_and_hint() -> None:
    with pytest.raises(ToolNotFound, match=r"no-such-tool-xyz not found on PATH\. install it"):
        proc.which("no-such-tool-xyz", hint="install it")


def test_stop_escalates_when_interrupt_is_ignored() -> None:
    code = (
        "import signal, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)"
    )
    child = proc.spawn([sys.executable, "-c", code], stdout=-1)
    assert child.stdout is not None
    assert child.stdout.readline() == b"ready\n"
    start = time.monotonic()
    rc = proc.stop(child, grace=0.5)
    assert rc == -signal.SIGTERM
    assert time.monotonic() - start < 10
    with pytest.raises(ProcessLookupError):
        os.kill(child.pid, 0)
    child.stdout.close()


def test_timeout_kills_the_child() -> None:
    with pytest.raises(Exception, match="timed out"):
        proc.run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)


def test_interrupt_when_stops_a_command_that_would_run_on() -> None:
    """A stand-in for terraform that loops until SIGINT, then says so and exits 1 (as terraform does)."""
    script = (
        "import signal, sys, time\n"
        "def stop(*_): print('interrupted', flush=True); sys.exit(1)\n"
        "signal.signal(signal.SIGINT, stop)\n"
        "print('retrying', flush=True)\n"
        "while True: time.sleep(0.05)\n"
    )
    asked: list[int] = []

    def refused() -> bool:
        asked.append(1)
        return len(asked) >= 2  # the second look finds the refusal

    done = proc.run([sys.executable, "-c", script], check=False, interrupt_when=refused, poll_s=0.05)
    assert done.returncode == 1
    assert "interrupted" in done.stdout
    assert len(asked) == 2


def test_a_watched_command_that_is_never_refused_runs_to_its_end() -> None:
    script = "import time; time.sleep(0.2); print('done')"
    done = proc.run([sys.executable, "-c", script], interrupt_when=lambda: False, poll_s=0.05)
    assert (done.returncode, done.stdout) == (0, "done\n")


def test_a_command_on_a_background_thread_is_stopped_through_on_start() -> None:
    """Ctrl-C reaches only the main thread: it stops a background command through its handle."""
    started = threading.Event()
    children: list[subprocess.Popen[str]] = []
    done: list[proc.Completed] = []

    def track(child: subprocess.Popen[str]) -> None:
        children.append(child)
        started.set()

    def work() -> None:
        code = "import time; print('up', flush=True); time.sleep(120)"
        done.append(proc.run([sys.executable, "-c", code], check=False, on_start=track))

    thread = threading.Thread(target=work)
    thread.start()
    assert started.wait(30)
    proc.stop(children[0])
    thread.join(30)
    assert not thread.is_alive() and done[0].returncode != 0
    assert children[0].poll() is not None  # reaped: no orphan
