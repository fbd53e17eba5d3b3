"""Coverage inside execution environments: what a worker is told to measure, and how it is started."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import coverage

from lambda_harness.endpoint.runtime import boot
from lambda_harness.endpoint.runtime.coverage import (
    BOOT_SOURCE,
    BOOTSTRAP,
    CoverageFolders,
    CoverageSpec,
    include_patterns,
    lines_to_coverage_data,
    worker_rc,
    write_worker_files,
)
from lambda_harness.endpoint.runtime.env import Paths, build_env, python_path
from lambda_harness.endpoint.runtime.model import FunctionConfig
from lambda_harness.endpoint.runtime.pool import Pool

SPEC = CoverageSpec(
    data_dir=Path("/r/.harness/coverage-parts"), sources=("risk_ingest", "worker_lib", "flat.py")
)


def test_only_the_functions_folder_names_are_measured_in_any_extracted_zip() -> None:
    patterns = include_patterns(Path("/r/.harness/runtime/code"), SPEC.sources)
    assert patterns == [
        "/r/.harness/runtime/code/*/risk_ingest/*",
        "/r/.harness/runtime/code/*/worker_lib/*",
        "/r/.harness/runtime/code/*/flat.py",
    ]


def test_worker_rc_asks_for_lines_by_default_parallel_files_in_the_data_folder(tmp_path: Path) -> None:
    text = worker_rc(SPEC, Path("/code"))
    assert "branch = False" in text and "parallel = True" in text
    assert "branch = True" in worker_rc(CoverageSpec(SPEC.data_dir, SPEC.sources, branch=True), Path("/c"))
    assert "data_file = /r/.harness/coverage-parts/.coverage" in text
    assert "    /code/*/worker_lib/*" in text
    spec = CoverageSpec(data_dir=tmp_path / "parts", sources=("a",))
    written = write_worker_files(spec, Path("/code"))
    assert written.parent == tmp_path / "parts" and spec.token in written.name
    boot = json.loads(written.read_text())
    assert boot == {
        "rc": str(tmp_path / "parts" / f"worker-{spec.token}.coveragerc"),
        "branch": False,
        "data_dir": str(tmp_path / "parts"),
        "code_root": "/code",
        "sources": ["a"],
    }
    assert "include =\n    /code/*/a/*" in Path(boot["rc"]).read_text()


def test_the_spec_token_changes_with_what_is_measured() -> None:
    other = CoverageSpec(data_dir=SPEC.data_dir, sources=("risk_ingest",))
    assert SPEC.token != other.token and len(SPEC.token) == 16
    assert CoverageSpec(SPEC.data_dir, SPEC.sources, branch=True).token != SPEC.token


def boot_module() -> dict[str, Any]:
    """The boot module's namespace (importing it starts nothing)."""
    namespace: dict[str, Any] = {"__name__": "lambda_harness_coverage_boot"}
    exec(compile(BOOT_SOURCE, "lambda_harness_coverage_boot.py", "exec"), namespace)
    return namespace


def test_line_coverage_from_python_3_12_never_imports_coverage_py() -> None:
    start = BOOT_SOURCE.split("def start(spec_path):")[1]
    own, other = start.split('if sys.version_info >= (3, 12) and not spec["branch"]:\n')[1].split("else:", 1)
    assert "_Lines(" in own and "import coverage" not in own
    assert "import coverage" in other and 'config_file=spec["rc"]' in other
    assert "import coverage" not in BOOT_SOURCE.split("def start(spec_path):")[0]


def test_the_collector_measures_the_task_roots_own_modules_and_packages_only(tmp_path: Path) -> None:
    spec = {"sources": ["greet.py", "shared"], "data_dir": str(tmp_path)}
    lines = boot_module()["_Lines"](spec, "/code/abc", "greet")
    assert lines.measured("/code/abc/greet.py") == "/code/abc/greet.py"
    assert lines.measured("/code/abc/shared/text.py") == "/code/abc/shared/text.py"
    assert lines.measured("/code/abc/shared/deep/x.py") == "/code/abc/shared/deep/x.py"
    assert lines.measured("/code/abc/boto3/session.py") == ""  # a dependency in the zip
    assert lines.measured("/code/abc/greet.py/x.py") == ""
    assert lines.measured("/code/abcd/greet.py") == ""
    assert lines.measured("/usr/lib/python3.12/json/__init__.py") == ""
    assert lines.path.startswith(str(tmp_path / "lines.")) and lines.path.endswith(".jsonl")


def test_the_collector_flushes_only_what_is_new(tmp_path: Path) -> None:
    lines = boot_module()["_Lines"]({"sources": ["a.py"], "data_dir": str(tmp_path)}, "/t", "fn")
    lines.new = {"/t/a.py": {3, 1}}
    lines.flush()
    lines.flush()  # nothing new: nothing written
    lines.new = {"/t/a.py": {7}}
    lines.flush()
    records = [json.loads(line) for line in Path(lines.path).read_text().splitlines()]
    assert records == [
        {"context": "fn", "lines": {"/t/a.py": [1, 3]}},
        {"context": "fn", "lines": {"/t/a.py": [7]}},
    ]


def test_line_records_become_coverage_data_under_their_function(tmp_path: Path) -> None:
    records = [
        {"context": "greet", "lines": {"/code/abc/greet.py": [1, 4, 5]}},
        {"context": "greet", "lines": {"/code/abc/greet.py": [6], "/code/abc/shared/text.py": [1]}},
    ]
    text = "".join(json.dumps(r) + "\n" for r in records) + '{"context": "greet", "li'  # cut short
    (tmp_path / "lines.41.aa.jsonl").write_text(text)
    (tmp_path / "lines.42.bb.jsonl").write_text(json.dumps({"context": "echo", "lines": {"/e.py": [2]}}))
    written = lines_to_coverage_data(tmp_path)
    assert [p.name for p in written] == [".coverage.lines.41.aa", ".coverage.lines.42.bb"]
    assert not list(tmp_path.glob("*.jsonl"))
    data = coverage.CoverageData(basename=str(written[0]))
    data.read()
    assert not data.has_arcs() and data.measured_contexts() == {"greet"}
    assert sorted(data.lines("/code/abc/greet.py") or []) == [1, 4, 5, 6]
    assert data.lines("/code/abc/shared/text.py") == [1]


def test_the_coverage_folder_changes_with_the_boot_module_and_the_bootstrap(tmp_path: Path) -> None:
    folders = CoverageFolders(tmp_path, pip_python=Path("/usr/bin/python3"), version="7.0")
    name = folders.path_for((3, 12), "x86_64").name
    digest = hashlib.sha256(BOOT_SOURCE.encode() + BOOTSTRAP.read_bytes()).hexdigest()[:8]
    assert name == f"coverage-7.0-{digest}-python3.12-x86_64"


def test_the_boot_module_saves_before_each_next_event_and_names_the_function() -> None:
    assert "LambdaRuntimeClient.wait_next_invocation = save_then_wait" in BOOT_SOURCE
    assert "save = cov.get_data" in BOOT_SOURCE and "save = finish = lines.flush" in BOOT_SOURCE
    assert 'context = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")' in BOOT_SOURCE
    assert "atexit.register(finish)" in BOOT_SOURCE
    assert callable(boot_module()["start"])


def _fn() -> FunctionConfig:
    return FunctionConfig(
        name="f",
        version="$LATEST",
        handler="app.handler",
        runtime="python3.12",
        architecture="x86_64",
        memory_mb=128,
        timeout_s=3.0,
        environment={},
        code_sha256="x",
        code_zip=b"",
        layers=(),
        region="us-east-1",
        account_id="000000000000",
        role_arn="arn:aws:iam::000000000000:role/r",
        reserved_concurrency=None,
        endpoint_url="http://127.0.0.1:4566",
    )


def test_the_bootstrap_is_told_where_the_boot_module_is_and_what_to_measure() -> None:
    paths = Paths(
        task_root=Path("/w/code/abc"),
        opt_dir=None,
        runtime_dir=Path("/cache/runtimes/python3.12-x86_64"),
        interpreter=Path("/usr/bin/python3.12"),
        python_version=(3, 12),
        coverage_dir=Path("/cache/runtimes/coverage-7-python3.12-x86_64"),
        coverage_spec=Path("/r/parts/worker.json"),
    )
    config = json.loads(boot.config(paths, None, 512))
    assert config["coverage"] == {
        "dir": "/cache/runtimes/coverage-7-python3.12-x86_64",
        "module": "lambda_harness_coverage_boot",
        "spec": "/r/parts/worker.json",
    }
    env = build_env(_fn(), paths, api_address="127.0.0.1:1", log_stream="s")
    assert not any("coverage" in value for value in env.values())  # the function sees none of it
    # This version's bootstrap, from the coverage folder (the runtime folder's is shared).
    assert boot.command(paths)[-1] == Path("/cache/runtimes/coverage-7-python3.12-x86_64/bootstrap.py")
    assert python_path(paths) == "/cache/runtimes/python3.12-x86_64"


def test_without_coverage_the_bootstrap_hears_nothing_of_it() -> None:
    paths = Paths(Path("/t"), None, Path("/rt"), Path("/usr/bin/python3.12"), (3, 12))
    assert "coverage" not in json.loads(boot.config(paths, None, 512))
    assert boot.command(paths)[-1] == Path("/rt") / boot.versioned_name()  # this version's own copy


class FakeEnv:
    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = fingerprint
        self.last_used = 0.0
        self.closed = False

    @property
    def alive(self) -> bool:
        return not self.closed

    def start(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def test_pool_retires_only_the_idle_environments_picked() -> None:
    pool = Pool(max_concurrency=5, idle_timeout_s=60)
    measured, _ = pool.lease(("a", "$LATEST"), "fp-cov", None, lambda: FakeEnv("fp-cov"))
    plain, _ = pool.lease(("b", "$LATEST"), "fp", None, lambda: FakeEnv("fp"))
    busy, _ = pool.lease(("a", "$LATEST"), "fp-cov", None, lambda: FakeEnv("fp-cov"))
    pool.release(("a", "$LATEST"), measured, reusable=True)
    pool.release(("b", "$LATEST"), plain, reusable=True)
    assert len(pool.environments()) == 3
    closed = pool.retire_idle(lambda env: env.fingerprint.endswith("cov"))
    assert closed == 1 and measured.closed and not plain.closed and not busy.closed  # type: ignore[attr-defined]
    assert pool.size == 2
