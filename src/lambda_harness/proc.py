"""The only place that starts subprocesses.

Argument lists only (never ``shell=True``), ``shutil.which`` first with a clear
"not found" error, the ``shlex.join``-ed command logged, output captured by
default and streamed when asked, ``CommandFailed`` with the exit code and the
output's tail on failure, and interrupt -> terminate -> kill on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from lambda_harness.errors import CommandFailed, ToolNotFound

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Completed:
    """The result of a finished command."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def which(program: str, hint: str = "", path: str | None = None) -> str:
    """Absolute path of ``program`` or ``ToolNotFound`` saying how to get it."""
    found = shutil.which(program, path=path)
    if found is None:
        msg = f"{program} not found on PATH"
        raise ToolNotFound(f"{msg}. {hint}" if hint else msg)
    return found


def run(
    args: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stream: bool = False,
    check: bool = True,
    timeout: float | None = None,
    input_text: str | None = None,
    hint: str = "",
    on_line: Callable[[str], None] | None = None,
    interrupt_when: Callable[[], bool] | None = None,
    poll_s: float = 0.5,
    on_start: Callable[[subprocess.Popen[str]], None] | None = None,
) -> Completed:
    """Run a command to completion.

    ``stream`` copies output to our stdout as it arrives (verbose mode);
    ``on_line`` receives each output line (progress displays). Output is always
    captured so a failure can show its tail. ``interrupt_when`` is asked every
    ``poll_s`` seconds while the command runs; when it answers True the command is
    interrupted (``stop``) and its exit status returned like any other. ``on_start``
    gets the child as soon as it runs: a command run on a background thread (which
    never sees Ctrl-C) is stopped through it by whoever owns the thread (``stop``).
    """
    argv = tuple(str(a) for a in args)
    logger.debug("run: %s (cwd=%s)", shlex.join(argv), cwd or Path.cwd())
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        # Its own process group, so `stop` reaches grandchildren that hold our pipes too
        # (docker-compose's build helpers, tflocal's terraform).
        start_new_session=True,
    )
    readers = [_Reader(proc.stdout, stream, on_line), _Reader(proc.stderr, stream, on_line)]
    try:
        if on_start is not None:
            on_start(proc)
        if input_text is not None and proc.stdin is not None:
            proc.stdin.write(input_text)
            proc.stdin.close()
        returncode = _wait(proc, timeout, interrupt_when, poll_s)
    except BaseException:
        # KeyboardInterrupt, timeout or anything else: never leave the child behind.
        stop(proc)
        raise
    finally:
        for reader in readers:
            reader.finish()
    out_chunks, err_chunks = readers[0].lines, readers[1].lines
    done = Completed(argv, returncode, "".join(out_chunks), "".join(err_chunks))
    if check and returncode != 0:
        raise CommandFailed(argv, returncode, done.output, hint=hint)
    return done


def _wait(
    proc: subprocess.Popen[str],
    timeout: float | None,
    interrupt_when: Callable[[], bool] | None,
    poll_s: float,
) -> int:
    """``proc.wait``, asking ``interrupt_when`` between waits (the wait ends as soon as the process does)."""
    if interrupt_when is None:
        return proc.wait(timeout=timeout)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        step = poll_s if deadline is None else max(0.0, min(poll_s, deadline - time.monotonic()))
        try:
            return proc.wait(timeout=step)
        except subprocess.TimeoutExpired:
            if deadline is not None and time.monotonic() >= deadline:
                raise
            if interrupt_when():
                code = stop(proc)
                return proc.wait() if code is None else code


class _Reader:
    """Drains one pipe of a child on a thread: captures, streams, reports each line."""

    def __init__(self, pipe: IO[str] | None, stream: bool, on_line: Callable[[str], None] | None) -> None:
        self.pipe = pipe
        self.stream = stream
        self.on_line = on_line
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        if self.pipe is None:
            return
        for line in iter(self.pipe.readline, ""):
            self.lines.append(line)
            if self.stream:
                print(line, end="", flush=True)
            if self.on_line is not None:
                self.on_line(line.rstrip("\n"))

    def finish(self) -> None:
        self.thread.join(timeout=5)
        # A reader still blocked (a grandchild keeps the pipe open) would make close() hang:
        # leave that pipe to the garbage collector instead.
        if self.pipe is not None and not self.thread.is_alive():
            self.pipe.close()


def spawn(
    args: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdout: int | None = subprocess.DEVNULL,
    stderr: int | None = subprocess.STDOUT,
    stdin: int | None = subprocess.DEVNULL,
    new_session: bool = True,
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    """Start a long-running process (a worker, a daemon) and return its handle.

    The caller owns it and must ``stop`` it; ``new_session`` keeps Ctrl-C in the
    terminal from reaching it directly, so shutdown order stays ours. ``pass_fds``
    are inherited under the same numbers (nothing else is).
    """
    argv = [str(a) for a in args]
    logger.debug("spawn: %s (cwd=%s)", shlex.join(argv), cwd or Path.cwd())
    return subprocess.Popen(
        argv,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        start_new_session=new_session,
        pass_fds=tuple(pass_fds),
    )


def stop(proc: subprocess.Popen[bytes] | subprocess.Popen[str], grace: float = 3.0) -> int | None:
    """End a process we started: interrupt, then terminate, then kill.

    When the process leads its own group (``run`` and ``spawn`` start it so), the whole
    group gets each signal, so grandchildren do not outlive it.
    """
    if proc.poll() is not None:
        return proc.returncode
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        _signal_group(proc, sig)
        try:
            return proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    return proc.poll()


def _signal_group(proc: subprocess.Popen[bytes] | subprocess.Popen[str], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, sig)
            return
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)


def kill_now(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process we started and reap it (timeouts, memory kills)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    proc.wait()
