"""bootstrap.py's pure parts (AWS paths to real ones, AWS's sys.path order) and its installation."""

from __future__ import annotations

import sys
from pathlib import Path

from lambda_harness.endpoint.runtime import boot
from lambda_harness.endpoint.runtime.bootstrap import lambda_sys_path, translate

VERSION = f"python{sys.version_info[0]}.{sys.version_info[1]}"
MAPPING = {"/var/task": "/w/code/abc", "/opt": "/w/opt/def", "/var/runtime": "/c/rt"}


def test_translate_maps_awss_folders_only() -> None:
    assert translate("/var/task/wrap.sh", MAPPING) == "/w/code/abc/wrap.sh"
    assert translate("/opt/wrapper", MAPPING) == "/w/opt/def/wrapper"
    assert translate("/opt", MAPPING) == "/w/opt/def"
    assert translate("/optional/x", MAPPING) == "/optional/x"
    assert translate("/idontexist.sh", MAPPING) == "/idontexist.sh"
    assert translate("/var/task/wrap.sh", {}) == "/var/task/wrap.sh"  # the function sees AWS's layout


def test_sys_path_in_awss_order() -> None:
    """AWS: [/var/task, /opt/python/lib/python3.X/site-packages, /opt/python, /var/runtime, ...]."""
    start = ["/c/rt", "/c/rt", "/usr/lib/python312.zip"]
    path = lambda_sys_path(
        start, task="/var/task", runtime="/var/runtime", real={"/c/rt"}, opt="/opt", user=None
    )
    assert path == [
        "/var/task",
        f"/opt/python/lib/{VERSION}/site-packages",
        "/opt/python",
        "/var/runtime",
        "/var/runtime",
        "/usr/lib/python312.zip",
    ]


def test_a_functions_own_pythonpath_skips_the_opt_entries() -> None:
    start = ["/c/rt", "/var/task/vendor", "/c/rt"]
    path = lambda_sys_path(
        start, task="/t", runtime="/c/rt", real={"/c/rt"}, opt="/o", user="/var/task/vendor"
    )
    assert path == ["/t", "/c/rt", "/var/task/vendor", "/c/rt"]


def test_the_bootstrap_is_installed_into_a_runtime_folder(tmp_path: Path) -> None:
    folder = tmp_path / "python3.12-x86_64"
    folder.mkdir()
    (folder / "bootstrap.py").write_text("# an older harness's bootstrap\n")
    assert boot.install(folder) == folder / "bootstrap.py"
    assert (folder / "bootstrap.py").read_bytes() == boot.SOURCE.read_bytes()
    assert [p.name for p in folder.iterdir()] == ["bootstrap.py"]  # no temporary file left behind
