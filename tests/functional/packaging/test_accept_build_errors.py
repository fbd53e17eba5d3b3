"""Acceptance: user mistakes in a worker repo stop `lambda-harness build` with a message, never a
traceback, and leave no zip behind."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_harness.errors import BuildError
from lambda_harness.packaging.builder import Builder
from lambda_harness.packaging.lockfile import load_lock
from lambda_harness.packaging.wheels import PipInstaller
from lambda_harness.settings import Settings
from lambda_harness.ui import RecordingUI


def test_dangling_symlink_under_functions_names_the_link(
    tmp_path: Path,
    make_repo: Callable[..., Path],
    make_settings: Callable[..., Settings],
    installer: PipInstaller,
    ui: RecordingUI,
) -> None:
    project = make_repo(tmp_path / "repo", names=("alpha",))
    gone = project / "functions" / "gone.py"
    (project / "functions" / "alpha" / "vendored.py").symlink_to(gone)

    with pytest.raises(BuildError) as err:
        Builder(make_settings(project, tmp_path / "cache"), ui, installer=installer).build()

    msg = str(err.value)
    assert f"functions/alpha/vendored.py -> {gone}" in msg
    assert "fix its target or delete the link" in msg
    assert not (project / "dists.zip").exists()


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        ("handler", 'lambda_alpha.tf:5: function "alpha" handler "alpha.app.handle" not found in dists.zip'),
        ("pin", "no wheel of macpkg==1.0 for python3.12/x86_64"),
        ("no-linux-wheel", "macpkg==1.0 for python3.12/x86_64 (CPython 3.12, platform tags tried:"),
        ("version", "no wheel of purepkg==2.0 for python3.12/x86_64"),
        ("unpinned", "requirements.txt:1: requirement 'purepkg>=1' is not pinned"),
        ("link", "cannot be read: functions/alpha/gone.py"),
    ],
)
def test_cli_reports_each_breakage_without_a_traceback(
    tmp_path: Path,
    make_repo: Callable[..., Path],
    run_cli: Callable[[Path, dict[str, str]], subprocess.CompletedProcess[str]],
    pip_env: dict[str, str],
    breakage: str,
    expected: str,
) -> None:
    handlers = {"alpha": "alpha.app.handle"} if breakage == "handler" else None
    requirements = {
        "pin": "macpkg==1.0\n",
        "no-linux-wheel": "macpkg==1.0\n",
        "version": "purepkg==2.0\n",
        "unpinned": "purepkg>=1\n",
    }.get(breakage, "purepkg==1.0\n")
    project = make_repo(tmp_path / "repo", names=("alpha",), handlers=handlers, requirements=requirements)
    if breakage == "link":
        (project / "functions" / "alpha" / "gone.py").symlink_to(project / "functions" / "nowhere.py")
    env = {**pip_env, "LAMBDA_HARNESS_CACHE_DIR": str(tmp_path / "cache"), "CI": "1"}

    done = run_cli(project, env)

    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "lambda-harness build: error: " in done.stderr and expected in done.stderr
    assert not (project / "dists.zip").exists()
    if breakage == "no-linux-wheel":
        assert "The index has no release with such a wheel at all (check the name" in done.stderr
    if breakage == "version":
        assert "Versions with a fitting wheel: 1.0." in done.stderr


def test_missing_terraform_folder_is_named_in_the_warning(
    tmp_path: Path,
    make_repo: Callable[..., Path],
    make_settings: Callable[..., Settings],
    installer: PipInstaller,
    ui: RecordingUI,
) -> None:
    project = make_repo(tmp_path / "repo", names=("alpha",))
    shutil.rmtree(project / "terraform")

    Builder(make_settings(project, tmp_path / "cache"), ui, installer=installer).build()

    (warning,) = [w for w in ui.warnings if "terraform" in w]
    assert f"terraform folder {project / 'terraform'} does not exist" in warning
    assert 'terraform = "..."' in warning


@pytest.mark.parametrize("default", ["[]", '"orjson==3.13.0"', "null"])
def test_pipfile_lock_with_a_default_that_is_not_an_object(tmp_path: Path, default: str) -> None:
    lock = tmp_path / "Pipfile.lock"
    lock.write_text(f'{{"_meta": {{}}, "default": {default}, "develop": {{}}}}')
    with pytest.raises(BuildError, match=r'Pipfile.lock: not a Pipfile.lock \(no "default" section\)'):
        load_lock(lock)
