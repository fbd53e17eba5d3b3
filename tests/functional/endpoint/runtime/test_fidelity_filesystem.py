"""Fidelity 6: with ``filesystem = aws`` a function sees Lambda's layout (real workers).

AWS: code read-only at /var/task, layers at /opt, the runtime at /var/runtime, the
interpreter at /var/lang, a private writable /tmp of EphemeralStorage MB kept across the
warm invocations of one environment; the environment variables name those paths (the
recorded python3.12 environment, support.recorded). Skipped, with the probe's reason,
where the kernel does not allow a mount namespace; the fallback is tested in unit tests.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lambda_harness import proc
from lambda_harness.endpoint.runtime import FunctionConfig, LambdaRuntime, boot
from lambda_harness.endpoint.runtime.bootstrap import CONFIG_VAR
from lambda_harness.endpoint.runtime.filesystem import SOURCE, probe
from support.recorded import LAYOUT, PYTHON312_ENVIRONMENT

MakeFn = Callable[..., FunctionConfig]

APP = """
import errno, json, os, shutil, sys

def handler(event, context):
    what = event["what"]
    if what == "layout":
        try:
            open("/var/task/new.txt", "w")
            task_write = "written"
        except OSError as exc:
            task_write = errno.errorcode[exc.errno]
        import shared
        st = os.statvfs("/tmp")
        return {
            "task": sorted(os.listdir("/var/task")), "task_write": task_write, "cwd": os.getcwd(),
            "opt_module": shared.__file__, "tool": shutil.which("tool"),
            "tmp_mb": st.f_blocks * st.f_frsize // (1024 * 1024),
            "env": {k: os.environ[k] for k in event["keys"]}, "path": sys.path[:4], "all_path": sys.path,
            "executable": sys.executable, "host_file": os.path.exists(event["host_file"]),
        }
    if what == "write_tmp":
        with open("/tmp/kept.txt", "w") as fh:
            fh.write(context.aws_request_id)
        return "written"
    if what == "read_tmp":
        return open("/tmp/kept.txt").read() if os.path.exists("/tmp/kept.txt") else None
    if what == "die":
        os._exit(1)
"""
LAYER = {
    "python/shared.py": ("X = 1\n", 0o644),
    "bin/tool": ("#!/bin/sh\necho tool\n", 0o755),
}


@pytest.fixture(scope="module")
def kernel_allows() -> None:
    reason = probe()
    if reason is not None:
        pytest.skip(f"no mount namespace here: {reason}")


@pytest.fixture
def aws_runtime(runtime_factory: Callable[..., LambdaRuntime], kernel_allows: None) -> LambdaRuntime:
    return runtime_factory(filesystem="aws")


def zipped(files: dict[str, tuple[str, int]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, (text, mode) in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            zf.writestr(info, text)
    return buf.getvalue()


def function(fn_maker: MakeFn, **changes: Any) -> FunctionConfig:
    return fn_maker({"app.py": APP}, layers=(zipped(LAYER),), **changes)


def call(rt: LambdaRuntime, fn: FunctionConfig, **event: Any) -> Any:
    result = rt.invoke(fn, json.dumps(event).encode())
    assert result.function_error is None or event.get("what") == "die", result.payload
    return json.loads(result.payload) if result.function_error is None else result


def test_the_function_sees_lambdas_layout(
    aws_runtime: LambdaRuntime, fn_maker: MakeFn, tmp_path: Path
) -> None:
    host_file = tmp_path / "on-the-host.txt"  # the host's /tmp (pytest's tmp_path lives there)
    host_file.write_text("x")
    fn = function(fn_maker, ephemeral_mb=600)
    seen = call(aws_runtime, fn, what="layout", keys=sorted(LAYOUT), host_file=str(host_file))
    assert seen["task"] == ["app.py"] and seen["cwd"] == "/var/task"
    assert seen["task_write"] == "EROFS"  # [Errno 30] Read-only file system
    assert seen["opt_module"] == "/opt/python/shared.py"
    assert seen["tool"] == "/opt/bin/tool"
    assert seen["tmp_mb"] == 600
    assert seen["host_file"] is False
    assert seen["env"] == {k: PYTHON312_ENVIRONMENT[k] for k in LAYOUT}  # AWS's strings exactly
    assert seen["path"] == [
        "/var/task",
        "/opt/python/lib/python3.12/site-packages",
        "/opt/python",
        "/var/runtime",
    ]
    assert seen["executable"] == "/var/lang/bin/python3.12"
    # Every entry as AWS names its folders, each once (no host interpreter paths).
    assert len(seen["all_path"]) == len(set(seen["all_path"]))
    roots = ("/var/task", "/opt/", "/var/runtime", "/var/lang/")
    assert [p for p in seen["all_path"] if not p.startswith(roots)] == []
    assert "/var/lang/lib/python3.12" in seen["all_path"]


def test_tmp_is_kept_while_warm_and_fresh_after_a_cold_start(
    aws_runtime: LambdaRuntime, fn_maker: MakeFn
) -> None:
    fn = function(fn_maker)
    assert call(aws_runtime, fn, what="write_tmp") == "written"
    assert call(aws_runtime, fn, what="read_tmp") is not None  # same environment, same /tmp
    call(aws_runtime, fn, what="die")  # the environment ends (Runtime.ExitError)
    assert call(aws_runtime, fn, what="read_tmp") is None  # a new environment, an empty /tmp


def test_a_wrapper_named_by_its_aws_path(aws_runtime: LambdaRuntime, fn_maker: MakeFn) -> None:
    wrapper = '#!/bin/sh\nexport WRAPPED="$1"\nexec "$@"\n'
    code = zipped(
        {
            "app.py": ("import os\ndef handler(e, c):\n    return os.environ['WRAPPED']\n", 0o644),
            "wrap.sh": (wrapper, 0o755),
        }
    )
    fn = replace(
        fn_maker({"app.py": ""}, environment={"AWS_LAMBDA_EXEC_WRAPPER": "/var/task/wrap.sh"}),
        code_zip=code,
        code_sha256=base64.b64encode(hashlib.sha256(code).digest()).decode(),
    )
    result = aws_runtime.invoke(fn, b"{}")
    assert json.loads(result.payload) == "/var/lang/bin/python3.12"  # AWS's first argument


def test_a_runtime_folder_under_tmp_still_works(
    runtime_factory: Callable[..., LambdaRuntime],
    runtime_cache: Path,
    fn_maker: MakeFn,
    tmp_path: Path,
    kernel_allows: None,
) -> None:
    """/tmp is covered by the function's own: an interpreter or runtime folder there runs again from /var."""
    cache = tmp_path / "cache"
    (cache / "runtimes").mkdir(parents=True)
    for folder in (runtime_cache / "runtimes").iterdir():
        if folder.is_dir():
            os.symlink(folder, cache / "runtimes" / folder.name)
    rt = runtime_factory(filesystem="aws", cache_dir=cache)
    seen = call(rt, function(fn_maker), what="layout", keys=["LAMBDA_RUNTIME_DIR"], host_file="/nope")
    assert seen["path"][3] == "/var/runtime" and seen["executable"] == "/var/lang/bin/python3.12"


def test_an_unprivileged_user_gets_the_layout_too(kernel_allows: None) -> None:
    """Not root: the bootstrap maps the user's own uid in a user namespace (no fake root)."""
    setpriv, python = shutil.which("setpriv"), "/usr/bin/python3"
    if os.getuid() != 0 or setpriv is None or not os.access(python, os.X_OK):
        pytest.skip("needs root to drop to uid 65534 with setpriv, and /usr/bin/python3")
    scratch = Path(tempfile.mkdtemp(prefix="lh-unpriv-"))  # not under pytest's 0700 folder
    try:
        scratch.chmod(0o755)
        boot_file = scratch / "bootstrap.py"
        shutil.copy(SOURCE, boot_file)
        spec: dict[str, Any] = {"tmp_mb": 1}
        for key in ("task", "runtime", "lang", "opt"):
            (scratch / key).mkdir(mode=0o755)
            spec[key] = str(scratch / key)
        env = {CONFIG_VAR: json.dumps({"probe": True, "sandbox": spec}), "PATH": "/usr/bin:/bin"}
        argv = [
            setpriv,
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            python,
            "-s",
            "-S",
            str(boot_file),
        ]
        done = proc.run(argv, env=env, check=False, timeout=60)
        if "user namespace" in done.output or "unshare" in done.output:
            pytest.skip(f"unprivileged user namespaces are off here: {done.output.strip()}")
        assert done.returncode == 0, done.output
    finally:
        shutil.rmtree(scratch)


def private_runtimes(runtime_cache: Path, cache: Path) -> list[Path]:
    """A cache whose runtime folders hold the shared ones' files (linked, bootstraps aside)."""
    made = []
    for folder in (runtime_cache / "runtimes").iterdir():
        if not folder.is_dir():
            continue
        mine = cache / "runtimes" / folder.name
        mine.mkdir(parents=True)
        for entry in folder.iterdir():
            if not entry.name.startswith("bootstrap"):
                os.symlink(entry, mine / entry.name)
        made.append(mine)
    return made


@pytest.mark.parametrize("filesystem", ["aws", "host"])
def test_another_versions_bootstrap_py_in_the_shared_runtime_folder_is_not_run(
    runtime_factory: Callable[..., LambdaRuntime],
    runtime_cache: Path,
    fn_maker: MakeFn,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    filesystem: str,
) -> None:
    """Follow-up 8: each version runs its own bootstrap-<hash>.py; under AWS's layout it is bound
    at /var/runtime/bootstrap.py, so a wrapper still gets AWS's two arguments."""
    if filesystem == "aws":
        request.getfixturevalue("kernel_allows")
    folders = private_runtimes(runtime_cache, tmp_path / "cache")
    rt = runtime_factory(filesystem=filesystem, cache_dir=tmp_path / "cache")
    assert call(rt, function(fn_maker), what="write_tmp") == "written"  # installed, running
    for folder in folders:  # another checkout's harness starts meanwhile and writes its own
        (folder / "bootstrap.py").write_text('raise SystemExit("an older bootstrap ran")\n')
    wrapper = '#!/bin/sh\nexport WRAPPED="$2"\nexec "$@"\n'
    code = zipped(
        {
            "app.py": ("import os\ndef handler(e, c):\n    return os.environ['WRAPPED']\n", 0o644),
            "wrap.sh": (wrapper, 0o755),
        }
    )
    fn = replace(
        fn_maker({"app.py": ""}, environment={"AWS_LAMBDA_EXEC_WRAPPER": "/var/task/wrap.sh"}),
        code_zip=code,
        code_sha256=base64.b64encode(hashlib.sha256(code).digest()).decode(),
    )
    result = rt.invoke(fn, b"{}")
    assert result.function_error is None, result.payload
    second = json.loads(result.payload)
    if filesystem == "aws":
        assert second == "/var/runtime/bootstrap.py"  # AWS's second argument, this version behind it
    else:
        assert Path(second).name == boot.versioned_name()
