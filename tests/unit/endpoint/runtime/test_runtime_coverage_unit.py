"""Coverage inside execution environments: what a worker is told to measure, and how it is started."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import coverage

from lambda_harness.endpoint.runtime.coverage import (
    BOOT_SOURCE,
    CoverageFolders,
    CoverageSpec,
    include_patterns,
    lines_to_coverage_data,
    worker_rc,
    write_worker_files,
)
from lambda_harness.endpoint.runtime.env import SPEC_VARIABLE, Paths, build_env, python_path
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


def test_line_coverage_from_python_3_12_never_imports_coverage_py() -> None:
    choice = 'if sys.version_info >= (3, 12) and not _SPEC["branch"]:\n'
    own, other = BOOT_SOURCE.split(choice)[1].split("else:", 1)
    assert "_Lines(_SPEC)" in own and "import coverage" not in own
    assert "import coverage" in other and 'config_file=_SPEC["rc"]' in other
    assert "import coverage" not in BOOT_SOURCE.split("class _Lines")[0]


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


def test_the_coverage_folder_changes_with_the_boot_module(tmp_path: Path) -> None:
    folders = CoverageFolders(tmp_path, pip_python=Path("/usr/bin/python3"), version="7.0")
    name = folders.path_for((3, 12), "x86_64").name
    digest = hashlib.sha256(BOOT_SOURCE.encode()).hexdigest()[:8]
    assert name == f"coverage-7.0-{digest}-python3.12-x86_64"


def test_the_boot_module_saves_before_each_next_event_and_names_the_function() -> None:
    assert "wait_next_invocation" in BOOT_SOURCE and "_save = _cov.get_data" in BOOT_SOURCE
    assert "_save = _finish = _lines.flush" in BOOT_SOURCE
    assert '_CONTEXT = os.environ.get("AWS_LAMBDA_FUNCTION_NAME"' in BOOT_SOURCE
    assert "context=_CONTEXT" in BOOT_SOURCE and '"context": _CONTEXT' in BOOT_SOURCE
    assert 'os.environ.pop("LAMBDA_HARNESS_COVERAGE")' in BOOT_SOURCE
    compile(BOOT_SOURCE, "boot", "exec")  # it must at least parse


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


def test_coverage_folder_comes_last_on_the_path_and_the_rc_is_passed() -> None:
    paths = Paths(
        task_root=Path("/w/code/abc"),
        opt_dir=None,
        runtime_dir=Path("/cache/runtimes/python3.12-x86_64"),
        interpreter=Path("/usr/bin/python3.12"),
        python_version=(3, 12),
        coverage_dir=Path("/cache/runtimes/coverage-7-python3.12-x86_64"),
        coverage_spec=Path("/r/parts/worker.json"),
    )
    assert python_path(paths).split(":")[-1] == "/cache/runtimes/coverage-7-python3.12-x86_64"
    env = build_env(_fn(), paths, api_address="127.0.0.1:1", log_stream="s")
    assert env[SPEC_VARIABLE] == "/r/parts/worker.json"


def test_without_coverage_nothing_changes() -> None:
    paths = Paths(Path("/t"), None, Path("/rt"), Path("/usr/bin/python3.12"), (3, 12))
    assert python_path(paths) == "/t:/rt"
    assert SPEC_VARIABLE not in build_env(_fn(), paths, api_address="127.0.0.1:1", log_stream="s")


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
