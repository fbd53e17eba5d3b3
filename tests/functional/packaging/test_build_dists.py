"""lambda-harness build end to end: real pip (local wheelhouse), real zipfile, real files."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest

from lambda_harness.errors import BuildError
from lambda_harness.packaging.builder import Builder
from lambda_harness.packaging.limits import Limits
from lambda_harness.packaging.wheels import PipInstaller


def names_in(zip_path: Path) -> list[str]:
    with zipfile.ZipFile(zip_path) as zf:
        return zf.namelist()


def test_package_layout_s3_terraform(tmp_path, make_repo, make_settings, installer, ui):
    project = make_repo(tmp_path / "repo", layout="package", tf="s3")
    result = Builder(make_settings(project, tmp_path / "cache"), ui, installer=installer).build()

    assert result.zip_path == project / "dists.zip"  # the aws_s3_object source
    names = names_in(result.zip_path)
    assert "alpha/app.py" in names and "beta/app.py" in names
    assert "shared_lib/__init__.py" in names
    assert "nativepkg/_native.cpython-312-x86_64-linux-gnu.so" in names
    assert "purepkg/__init__.py" in names and "purepkg-1.0.dist-info/METADATA" in names
    assert not [n for n in names if "RECORD" in n or "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith(("tests/", ".hidden", "requirements"))]
    assert names == sorted(names)
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest == result.manifest
    assert manifest["sha256"] == result.sha256
    assert {h["handler"] for h in manifest["handlers"]} == {"alpha.app.handler", "beta.app.handler"}
    assert manifest["runtime"] == "python3.12" and manifest["architecture"] == "x86_64"
    assert manifest["lock_file"]["path"] == "requirements.txt"
    assert manifest["zipped_size"] == result.zip_path.stat().st_size == result.zipped_size
    assert ui.steps == ["Installing dependencies for python3.12/x86_64"]


def test_flat_layout_filename_terraform(tmp_path, make_repo, make_settings, installer, ui):
    project = make_repo(tmp_path / "repo", layout="flat", tf="filename")
    result = Builder(make_settings(project, tmp_path / "cache"), ui, installer=installer).build()

    assert (
        result.zip_path == project / "terraform" / "dists.zip"
    )  # filename = "dists.zip", relative to terraform/
    names = names_in(result.zip_path)
    assert "lambda_alpha.py" in names and "lambda_beta.py" in names
    assert {h["handler"] for h in result.manifest["handlers"]} == {
        "lambda_alpha.handler",
        "lambda_beta.handler",
    }
    assert (project / "terraform" / "dists.zip.json").is_file()


def test_arm64_gets_aarch64_wheel(tmp_path, make_repo, make_settings, installer, ui):
    project = make_repo(tmp_path / "repo", arch="arm64")
    result = Builder(make_settings(project, tmp_path / "cache"), ui, installer=installer).build()

    names = names_in(result.zip_path)
    assert "nativepkg/_native.cpython-312-aarch64-linux-gnu.so" in names
    assert "nativepkg/_native.cpython-312-x86_64-linux-gnu.so" not in names
    assert result.manifest["architecture"] == "arm64"


def _tree_times_and_umask(project: Path) -> None:
    for path in project.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))


def test_reproducible_across_mtimes_umask_and_creation_order(tmp_path, make_repo, make_settings, pip_env, ui):
    first = make_repo(tmp_path / "one")
    old = os.umask(0o077)
    try:
        second = make_repo(tmp_path / "two", order=lambda names: list(reversed(names)))
        _tree_times_and_umask(second)
        r2 = Builder(
            make_settings(second, tmp_path / "cache2"), ui, installer=PipInstaller(env=pip_env)
        ).build()
    finally:
        os.umask(old)
    r1 = Builder(make_settings(first, tmp_path / "cache1"), ui, installer=PipInstaller(env=pip_env)).build()

    assert r1.sha256 == r2.sha256
    assert r1.zip_path.read_bytes() == r2.zip_path.read_bytes()
    assert r1.manifest_path.read_bytes() == r2.manifest_path.read_bytes()
    with zipfile.ZipFile(r1.zip_path) as zf:
        for info in zf.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert (info.external_attr >> 16) & 0o777 in (0o644, 0o755)
            assert info.extra == b""


def test_source_date_epoch_sets_timestamps(tmp_path, make_repo, make_settings, installer, ui):
    project = make_repo(tmp_path / "repo", requirements=None)
    builder = Builder(
        make_settings(project, tmp_path / "cache"),
        ui,
        installer=installer,
        environ={"SOURCE_DATE_EPOCH": "1700000000"},
    )
    result = builder.build()
    with zipfile.ZipFile(result.zip_path) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_warm_rebuild_reuses_cached_dependencies(tmp_path, make_repo, make_settings, installer, ui):
    project = make_repo(tmp_path / "repo")
    settings = make_settings(project, tmp_path / "cache")
    cold = Builder(settings, ui, installer=installer).build()
    (project / "functions" / "alpha" / "app.py").write_text("def handler(event, context):\n    return 2\n")
    warm = Builder(settings, ui, installer=installer).build()

    assert installer.runs == 1
    assert (cold.deps_cache_hit, warm.deps_cache_hit) == (False, True)
    assert warm.sha256 != cold.sha256
    assert "nativepkg/_native.cpython-312-x86_64-linux-gnu.so" in names_in(warm.zip_path)
    cached = sorted(p.name for p in (tmp_path / "cache" / "deps").iterdir())
    assert cached == [f"{warm.manifest['deps_cache_key']}.zip"]


def test_missing_handler_names_tf_file_and_suggests(tmp_path, make_repo, make_settings, installer, ui):
    project = make_repo(
        tmp_path / "repo",
        names=("report", "reports"),
        layout="flat",
        handlers={"report": "report.main", "reports": "lambda_reports.handler"},
    )
    (project / "functions" / "reports.py").write_text("def main(event, context):\n    return 1\n")

    with pytest.raises(BuildError) as err:
        Builder(make_settings(project, tmp_path / "cache"), ui, installer=installer).build()

    msg = str(err.value)
    assert (
        'terraform/lambda_report.tf:5: function "report" handler "report.main" not found in dists.zip' in msg
    )
    assert "(no module report.py)" in msg
    assert 'Did you mean "reports.main"?' in msg
    assert not (project / "dists.zip").exists()


def test_missing_function_in_existing_module(tmp_path, make_repo, make_settings, installer, ui):
    project = make_repo(tmp_path / "repo", names=("alpha",), handlers={"alpha": "alpha.app.handle"})
    with pytest.raises(BuildError) as err:
        Builder(make_settings(project, tmp_path / "cache"), ui, installer=installer).build()
    assert "(module alpha/app.py has no top-level handle)" in str(err.value)
    assert 'Did you mean "alpha.app.handler"?' in str(err.value)


def test_unresolvable_dependency_names_package_and_tags(tmp_path, make_repo, make_settings, installer, ui):
    project = make_repo(tmp_path / "repo", requirements="purepkg==1.0\nmacpkg==1.0\n")
    with pytest.raises(BuildError) as err:
        Builder(make_settings(project, tmp_path / "cache"), ui, installer=installer).build()
    msg = str(err.value)
    assert "no wheel of macpkg==1.0 for python3.12/x86_64" in msg
    assert "manylinux_2_34_x86_64" in msg and "manylinux2014_x86_64" in msg
    assert not (tmp_path / "cache" / "deps").exists() or not any((tmp_path / "cache" / "deps").iterdir())


def test_direct_upload_over_zipped_limit_fails_and_keeps_old_zip(
    tmp_path, make_repo, make_settings, installer, ui
):
    project = make_repo(tmp_path / "repo", tf="filename")
    settings = make_settings(project, tmp_path / "cache")
    good = Builder(settings, ui, installer=installer).build()
    before = good.zip_path.read_bytes()
    (project / "functions" / "alpha" / "blob.bin").write_bytes(os.urandom(20_000))

    with pytest.raises(BuildError) as err:
        Builder(settings, ui, installer=installer, limits=Limits(zipped_max=10_000)).build()

    msg = str(err.value)
    assert "over the 0.0 MB limit for a direct upload" in msg
    assert "biggest packages: alpha " in msg and "nativepkg" in msg
    assert good.zip_path.read_bytes() == before
    assert sorted(p.name for p in good.zip_path.parent.iterdir() if p.name.startswith(".")) == []


def test_s3_upload_over_zipped_limit_only_warns(tmp_path, make_repo, make_settings, installer, ui):
    project = make_repo(tmp_path / "repo", tf="s3")
    result = Builder(
        make_settings(project, tmp_path / "cache"), ui, installer=installer, limits=Limits(zipped_max=1_000)
    ).build()
    assert any("fine from S3" in w for w in result.warnings)
    assert result.zip_path.is_file()


def test_unzipped_limit_is_an_error_and_near_limit_warns(tmp_path, make_repo, make_settings, installer, ui):
    project = make_repo(tmp_path / "repo")
    settings = make_settings(project, tmp_path / "cache")
    with pytest.raises(
        BuildError, match=r"would unzip to .* over the Lambda limit.*biggest packages: purepkg"
    ):
        Builder(settings, ui, installer=installer, limits=Limits(unzipped_max=5_000)).build()
    assert not (project / "dists.zip").exists()
    size = Builder(settings, ui, installer=installer).build().unzipped_size
    near = Builder(settings, ui, installer=installer, limits=Limits(unzipped_max=int(size / 0.9))).build()
    assert any("of the" in w and "Lambda limit" in w for w in near.warnings)


def test_pipfile_lock(tmp_path, make_repo, make_settings, installer, ui, wheelhouse):
    project = make_repo(tmp_path / "repo", requirements=None)
    wheel = next(wheelhouse.glob("purepkg-*.whl"))
    lock = {
        "_meta": {"sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}]},
        "default": {
            "purepkg": {
                "version": "==1.0",
                "hashes": ["sha256:" + hashlib.sha256(wheel.read_bytes()).hexdigest()],
            },
        },
        "develop": {"pytest": {"version": "==8.0.0"}},
    }
    (project / "Pipfile.lock").write_text(json.dumps(lock))
    result = Builder(make_settings(project, tmp_path / "cache"), ui, installer=installer).build()

    names = names_in(result.zip_path)
    assert "purepkg/__init__.py" in names and not [n for n in names if n.startswith("pytest")]
    assert result.manifest["lock_file"]["kind"] == "pipfile"


def test_hashes_are_enforced(tmp_path, make_repo, make_settings, installer, ui):
    project = make_repo(tmp_path / "repo", requirements="purepkg==1.0 --hash=sha256:" + "0" * 64 + "\n")
    with pytest.raises(BuildError, match="hashes"):
        Builder(make_settings(project, tmp_path / "cache"), ui, installer=installer).build()


def test_unpinned_requirement_names_file_and_line(tmp_path, make_repo, make_settings, installer, ui):
    project = make_repo(tmp_path / "repo", requirements="purepkg==1.0\n\nnativepkg>=1.0\n")
    with pytest.raises(BuildError, match=r"requirements.txt:3: requirement 'nativepkg>=1.0' is not pinned"):
        Builder(make_settings(project, tmp_path / "cache"), ui, installer=installer).build()
    assert installer.runs == 0


def test_runtime_disagreement_is_an_error(tmp_path, make_repo, make_settings, installer, ui):
    project = make_repo(tmp_path / "repo", names=("alpha",))
    make_repo(tmp_path / "repo", names=("beta",), arch="arm64")
    with pytest.raises(BuildError, match=r"disagree on architecture \(arm64: beta .*x86_64: alpha"):
        Builder(make_settings(project, tmp_path / "cache"), ui, installer=installer).build()


class InterruptedInstaller:
    """Real pip, then Ctrl-C before the cache entry is complete."""

    def __init__(self, inner: PipInstaller) -> None:
        self.inner = inner

    def install(self, lock, platform, target):
        self.inner.install(lock, platform, target)
        raise KeyboardInterrupt


def test_interrupted_install_leaves_no_cache_entry(tmp_path, make_repo, make_settings, installer, ui):
    project = make_repo(tmp_path / "repo")
    settings = make_settings(project, tmp_path / "cache")
    with pytest.raises(KeyboardInterrupt):
        Builder(settings, ui, installer=InterruptedInstaller(installer)).build()
    assert list((tmp_path / "cache" / "deps").iterdir()) == []
    assert not (project / "dists.zip").exists()
    result = Builder(settings, ui, installer=installer).build()
    assert result.deps_cache_hit is False


def test_symlinks_inside_functions_are_stored_as_their_targets_content(
    tmp_path, make_repo, make_settings, installer, ui
):
    project = make_repo(tmp_path / "repo", requirements=None)
    shared = project / "functions" / "common"
    shared.mkdir()
    (shared / "util.py").write_text("X = 1\n")
    (project / "functions" / "alpha" / "util.py").symlink_to("../common/util.py")
    (project / "functions" / "loop").symlink_to(project / "functions")
    result = Builder(make_settings(project, tmp_path / "cache"), ui, installer=installer).build()
    names = names_in(result.zip_path)
    assert {"common/util.py", "alpha/util.py"} <= set(names)
    with zipfile.ZipFile(result.zip_path) as zf:
        assert zf.read("alpha/util.py") == b"X = 1\n"
    assert not [n for n in names if n.startswith("loop/")]


@pytest.mark.parametrize("what", ["credentials", "folder"])
def test_a_symlink_resolving_outside_functions_fails_the_build_naming_link_and_target(
    tmp_path, make_repo, make_settings, installer, ui, what
):
    project = make_repo(tmp_path / "repo", requirements=None)
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text("[default]\naws_secret_access_key = real\n")
    target = home / ".aws" / "credentials" if what == "credentials" else home
    link = project / "functions" / "alpha" / "creds"
    link.symlink_to(target)
    with pytest.raises(BuildError) as err:
        Builder(make_settings(project, tmp_path / "cache"), ui, installer=installer).build()
    message = str(err.value)
    assert f"{link} -> {target}" in message and "resolves outside" in message
    assert "dists.zip" in message
    assert not (project / "dists.zip").exists()


def test_cli_build_uses_the_pip_configuration_from_the_environment(tmp_path, make_repo, run_cli, pip_env):
    project = make_repo(tmp_path / "repo")
    env = {**pip_env, "LAMBDA_HARNESS_CACHE_DIR": str(tmp_path / "cache"), "CI": "1"}
    done = run_cli(project, env)
    assert done.returncode == 0, done.stderr
    zip_path = project / "dists.zip"
    assert f"{zip_path}  sha256=" in done.stderr
    assert "nativepkg/_native.cpython-312-x86_64-linux-gnu.so" in names_in(zip_path)

    (project / "terraform" / "lambda_alpha.tf").write_text(
        (project / "terraform" / "lambda_alpha.tf")
        .read_text()
        .replace("alpha.app.handler", "alpha.ap.handler")
    )
    failed = run_cli(project, env)
    assert failed.returncode == 1
    assert 'Did you mean "alpha.app.handler"?' in failed.stderr
