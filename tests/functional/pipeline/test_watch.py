"""``watch`` on a temp copy of a worker repo, with real file changes and a real endpoint.

The change source is injected: a generator that checks what the previous batch printed,
then makes the next real edit and yields the paths it touched (what watchfiles would
report). So the loop runs a bounded number of batches and ends deterministically. The
real watcher (``FileWatch``) is tested on its own below.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lambda_harness import net, proc
from lambda_harness.endpoint.ports import free_port
from lambda_harness.settings import Settings, load_settings
from lambda_harness.ui import RecordingUI
from lambda_harness.watch import FileWatch, classify, watch
from support.processes import alive, descendants

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "repos" / "warm"


def repo_settings(tmp_path: Path) -> Settings:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURE, repo)
    (repo / "requirements.txt").write_text("# no dependencies yet\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_HARNESS_")}
    environ.setdefault("LAMBDA_HARNESS_TF_PLUGIN_DIR", "/opt/tf-plugins")
    return load_settings(repo, {"port": free_port()}, environ=environ)


class Screen:
    """What one batch printed (everything the UI got since the previous look)."""

    def __init__(self, ui: RecordingUI) -> None:
        self.ui = ui
        self.seen = (0, 0, 0)

    def batch(self) -> tuple[list[str], list[str], dict[str, list[str]]]:
        infos, warnings, tables = self.seen
        new = (self.ui.infos[infos:], self.ui.warnings[warnings:], self.ui.tables[tables:])
        self.seen = (len(self.ui.infos), len(self.ui.warnings), len(self.ui.tables))
        assert new[2], "every batch prints the table"
        rows = {row[0]: row for row in new[2][-1][1]}
        return new[0], new[1], rows


def reran(infos: list[str]) -> str:
    line = next(i for i in infos if i.startswith("watch: "))
    return line.split("reran ", 1)[1].rsplit(" in ", 1)[0]


@pytest.mark.slow
def test_watch_reacts_to_each_kind_of_change(tmp_path: Path) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform not installed")
    settings = repo_settings(tmp_path)
    repo = settings.project_dir
    shared = repo / "functions" / "shared" / "greeting.py"
    echo = repo / "functions" / "echo" / "app.py"
    echo_expected = repo / "tests" / "integration" / "events" / "echo" / "default.expected.json"
    main_tf = repo / "terraform" / "main.tf"
    lock = repo / "requirements.txt"
    ui = RecordingUI()
    screen = Screen(ui)

    def edit(path: Path, old: str, new: str) -> Path:
        path.write_text(path.read_text().replace(old, new))
        return path

    def script() -> Iterator[set[Path]]:
        infos, warnings, rows = screen.batch()  # the first run
        assert reran(infos) == "echo, hello" and not warnings
        assert rows["hello"][1:3] == ["1", "0"] and rows["echo"][1:3] == ["1", "0"]

        # 1. shared code breaks: only the function that imports it reruns, its log excerpt is shown
        yield {edit(shared, 'return f"hello {name}"', 'raise ValueError("greeting broke")')}
        infos, warnings, rows = screen.batch()
        assert reran(infos) == "hello"
        assert any("warm: terraform skipped" in i for i in infos)
        assert rows["hello"][1:3] == ["0", "1"] and rows["echo"][1:3] == ["1", "0"]
        assert any("hello/default" in w and "greeting broke" in w and "log:" in w for w in warnings)

        # 2. another function's handler: only it reruns; hello's failure stays on screen
        yield {edit(echo, "import os\n", "import os  # edited\n")}
        infos, warnings, rows = screen.batch()
        assert reran(infos) == "echo"
        assert any("hello/default" in w and "greeting broke" in w for w in warnings)

        # 3. fixed: green again, nothing left on screen
        yield {edit(shared, 'raise ValueError("greeting broke")', 'return f"hello {name}"')}
        infos, warnings, rows = screen.batch()
        assert reran(infos) == "hello" and not warnings and rows["hello"][1:3] == ["1", "0"]

        # 4. an event case: that function's cases rerun, nothing is rebuilt
        echo_expected.write_text(json.dumps({"echo": {"x": 1}, "colour": "purple"}))
        yield {echo_expected}
        infos, warnings, rows = screen.batch()
        assert reran(infos) == "echo" and rows["echo"][1:3] == ["0", "1"]
        assert not any("terraform skipped" in i for i in infos)
        assert any("echo/default" in w and "purple" in w for w in warnings)

        # 5. Terraform: applied against the kept state, every function reruns
        yield {edit(main_tf, 'default = "blue"', 'default = "purple"')}
        infos, warnings, rows = screen.batch()
        assert any("Terraform inputs changed since the last apply: terraform/main.tf" in i for i in infos)
        assert reran(infos) == "echo, hello" and not warnings and rows["echo"][1:3] == ["1", "0"]

        # 6. the lock file: rebuilt, every function reruns
        yield {edit(lock, "# no dependencies yet", "# still none")}
        infos, warnings, rows = screen.batch()
        assert reran(infos) == "echo, hello" and not warnings

        # 7. files watch does not act on: no batch at all
        yield {repo / "README.md", repo / ".harness" / "results.json", repo / "dists.zip"}
        yield {edit(shared, "hello {name}", "hello {name}!")}  # counted: ends the run

    code = watch(settings, ui, changes=script(), max_batches=7)

    infos, _warnings, rows = screen.batch()
    assert reran(infos) == "hello" and rows["hello"][1:3] == ["0", "1"]
    assert code == 1  # the last results were red
    assert not net.endpoint_healthy(settings.endpoint_url)  # the endpoint it started is stopped


def test_file_watch_sees_saves_and_ignores_artifacts(tmp_path: Path) -> None:
    settings = repo_settings(tmp_path)
    repo = settings.project_dir
    handler = repo / "functions" / "hello" / "app.py"

    def artifact() -> None:
        (repo / "dists.zip").write_bytes(b"built")  # an artifact: never reported

    watcher = FileWatch(settings, debounce_ms=100, step_ms=20).start()
    seen: set[Path] = set()

    def until_reported(path: Path, save: Callable[[], object]) -> None:
        def reported() -> bool:
            save()  # again at every look: the watcher may not have been listening yet
            seen.update(watcher.next(timeout=0.5) or set())
            return path in seen

        net.wait_until(reported, 30, what=f"watchfiles to report {path.name}", interval=0.0)

    try:
        lock = repo / "requirements.txt"
        until_reported(handler, lambda: (handler.write_text(handler.read_text() + "\n"), artifact()))
        until_reported(lock, lambda: lock.write_text(lock.read_text() + "# changed\n"))
    finally:
        watcher.close()
    batch = classify(settings, seen, [])
    assert batch.code == (handler,) and batch.lock and not batch.terraform and not batch.cases
    assert repo / "dists.zip" not in seen


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_stops_watch_its_endpoint_and_every_worker(tmp_path: Path, stop_signal: int) -> None:
    """Ctrl-C (even when a shell started watch with SIGINT ignored) or a service manager's SIGTERM."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform not installed")
    settings = repo_settings(tmp_path)
    out = tmp_path / "watch.out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_HARNESS_")}
    env |= {
        "LAMBDA_HARNESS_TF_PLUGIN_DIR": "/opt/tf-plugins",
        "LAMBDA_HARNESS_CACHE_DIR": str(settings.cache_dir),
    }
    argv = [sys.executable, "-m", "lambda_harness", "watch", "--project", str(settings.project_dir)]
    argv += ["--port", str(settings.port)]
    with out.open("wb") as sink:
        child = proc.spawn(
            [sys.executable, "-c", _SIGINT_IGNORED, *argv], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        net.wait_until(
            lambda: "watching " in out.read_text() or child.poll() is not None,
            300,
            what="watch to run every case once and start watching",
        )
        assert child.poll() is None, out.read_text()
        workers = descendants(child.pid)
        assert workers, "the first run left warm execution environments"
        child.send_signal(stop_signal)
        assert child.wait(timeout=60) == 130, out.read_text()
        net.wait_until(lambda: not any(alive(w) for w in workers), 10, what="the workers to exit")
        assert not net.endpoint_healthy(settings.endpoint_url)
        assert "lambda-harness watch: interrupted" in out.read_text()
    finally:
        proc.stop(child)


# What `cmd &` in a non-interactive shell does to its child: SIGINT ignored, then exec.
_SIGINT_IGNORED = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)
