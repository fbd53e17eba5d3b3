"""``.harness/`` is private whatever the umask (issue 9, item 9): the folder 0700, nothing in it
readable or writable by group or others, the files the harness writes itself exactly 0600; the
zip and its manifest (outside ``.harness/``) keep their reproducible 0644."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_harness import cli
from support.tiny_repo import free_port, tiny_environ, write_tiny_repo


@pytest.fixture
def umask_000() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def modes(folder: Path) -> dict[str, int]:
    """Relative path -> permission bits of every file and folder below (links not followed)."""
    out = {".": stat.S_IMODE(folder.lstat().st_mode)}
    for path in folder.rglob("*"):
        if not path.is_symlink():
            out[str(path.relative_to(folder))] = stat.S_IMODE(path.lstat().st_mode)
    return out


@pytest.mark.slow
def test_a_run_under_umask_000_leaves_nothing_in_harness_open_to_others(
    tmp_path: Path, umask_000: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform not installed")
    repo = write_tiny_repo(tmp_path / "repo")
    for name, value in tiny_environ().items():
        monkeypatch.setenv(name, value)
    for name in [k for k in os.environ if k.startswith(("AWS_", "LAMBDA_HARNESS_"))]:
        monkeypatch.delenv(name)
    # --coverage: coverage.py writes its data and reports by the umask, the harness closes them
    assert cli.main(["run", "--project", str(repo), "--port", str(free_port()), "--coverage"]) == 0

    found = modes(repo / ".harness")
    assert found["."] == 0o700
    open_to_others = {p: oct(m) for p, m in found.items() if m & 0o077}
    assert not open_to_others
    for name in (
        "inventory.json",
        "attestation.json",
        "results.json",
        "junit.xml",
        ".coverage",
        "coverage.xml",
    ):
        assert found[name] == 0o600, name
    assert found["tf/embedded/terraform.tfstate"] == 0o600
    assert found["tf/embedded/tree/terraform/main.tf"] == 0o600
    assert stat.S_IMODE((repo / "dists.zip").stat().st_mode) == 0o644
    assert stat.S_IMODE((repo / "dists.zip.json").stat().st_mode) == 0o644


def test_an_existing_open_harness_folder_is_closed_and_atomic_writes_are_private(
    tmp_path: Path, umask_000: None
) -> None:
    from lambda_harness.fsutil import write_json_atomic
    from lambda_harness.paths import HarnessPaths

    root = tmp_path / ".harness"
    root.mkdir(mode=0o777)
    paths = HarnessPaths(root)
    assert paths.ensure() == root
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    sub = paths.ensure(paths.runtime_code)
    assert stat.S_IMODE(sub.stat().st_mode) == 0o700
    assert stat.S_IMODE(paths.runtime.stat().st_mode) == 0o700
    write_json_atomic(paths.inventory, {"a": 1})
    assert stat.S_IMODE(paths.inventory.stat().st_mode) == 0o600
