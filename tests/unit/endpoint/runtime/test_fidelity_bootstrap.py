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
        "/var/runtime",  # once: the script's folder and PYTHONPATH are the same folder
        "/usr/lib/python312.zip",
    ]


def test_under_awss_layout_the_interpreters_paths_are_var_lang() -> None:
    start = ["/c/rt", "/var/runtime", "/py/3.12.1/lib/python312.zip", "/py/3.12.1/lib/python3.12"]
    path = lambda_sys_path(
        start,
        task="/var/task",
        runtime="/var/runtime",
        real={"/c/rt"},
        opt="/opt",
        user=None,
        lang=({"/py/3.12.1"}, "/var/lang"),
    )
    assert path[3:] == ["/var/runtime", "/var/lang/lib/python312.zip", "/var/lang/lib/python3.12"]


def test_a_functions_own_pythonpath_skips_the_opt_entries() -> None:
    start = ["/c/rt", "/var/task/vendor", "/c/rt"]
    path = lambda_sys_path(
        start, task="/t", runtime="/c/rt", real={"/c/rt"}, opt="/o", user="/var/task/vendor"
    )
    assert path == ["/t", "/c/rt", "/var/task/vendor"]


def test_each_version_installs_its_own_bootstrap_beside_the_shared_one(tmp_path: Path) -> None:
    """The runtime folder is shared by every checkout: another version's bootstrap.py stays as
    it is, and this version runs bootstrap-<its hash>.py, which nobody rewrites."""
    folder = tmp_path / "python3.12-x86_64"
    folder.mkdir()
    (folder / "bootstrap.py").write_text("# an older harness's bootstrap\n")
    (folder / "bootstrap-0123456789abcdef.py").write_text("# another version's\n")
    installed = boot.install(folder)
    assert installed.name == boot.versioned_name() and installed.read_bytes() == boot.SOURCE.read_bytes()
    assert (folder / "bootstrap.py").read_text() == "# an older harness's bootstrap\n"
    assert (folder / "bootstrap-0123456789abcdef.py").read_text() == "# another version's\n"
    assert sorted(p.name for p in folder.iterdir()) == sorted(  # no temporary file left behind
        ["bootstrap.py", "bootstrap-0123456789abcdef.py", boot.versioned_name()]
    )


def test_a_new_runtime_folder_gets_a_bootstrap_py_to_mount_over(tmp_path: Path) -> None:
    folder = tmp_path / "python3.13-x86_64"
    folder.mkdir()
    boot.install(folder)
    assert (folder / "bootstrap.py").read_bytes() == boot.SOURCE.read_bytes()
