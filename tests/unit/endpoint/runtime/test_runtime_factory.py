"""``make_runtime``: the one place settings become a ``LambdaRuntime``."""

from __future__ import annotations

from pathlib import Path

from lambda_harness.endpoint.runtime import LambdaRuntime, make_runtime
from lambda_harness.settings import Settings
from lambda_harness.ui import PlainUI, RecordingUI


def test_the_runtime_follows_the_settings(tmp_path: Path) -> None:
    settings = Settings(
        project_dir=tmp_path,
        functions_dir=tmp_path / "functions",
        terraform_dir=tmp_path / "terraform",
        lock_file=None,
        dist=None,
        harness_dir=tmp_path / ".harness",
        cache_dir=tmp_path / "cache",
        cases_dir=tmp_path / "events",
        max_concurrency=7,
        allow_runtime_fallback=True,
    )
    ui = PlainUI(quiet=True)
    runtime = make_runtime(settings, ui, probe=lambda: None)
    assert isinstance(runtime, LambdaRuntime)
    assert runtime.code.work_dir == settings.paths.runtime
    assert runtime.runtimes.root == settings.cache_dir / "runtimes"
    assert runtime.pool.max_concurrency == 7
    assert runtime.allow_runtime_fallback is True
    assert runtime.ui is ui
    assert runtime.filesystem == "aws"  # auto, and the (fake) probe says the kernel allows it
    assert not settings.harness_dir.exists()  # building it starts nothing and writes nothing


def test_auto_falls_back_to_host_paths_with_one_line(tmp_path: Path) -> None:
    settings = Settings(
        project_dir=tmp_path,
        functions_dir=tmp_path / "functions",
        terraform_dir=tmp_path / "terraform",
        lock_file=None,
        dist=None,
        harness_dir=tmp_path / ".harness",
        cache_dir=tmp_path / "cache",
        cases_dir=tmp_path / "events",
    )
    ui = RecordingUI()
    runtime = make_runtime(settings, ui, probe=lambda: "unshare: Operation not permitted")
    assert runtime.filesystem == "host"
    assert ui.warnings == [
        "functions see host paths, not /var/task and /opt: unshare: Operation not permitted "
        '(set filesystem = "host" to silence)'
    ]
    quiet = RecordingUI()
    assert make_runtime(settings.with_(filesystem="host"), quiet, probe=lambda: "unused").filesystem == "host"
    assert quiet.warnings == []
