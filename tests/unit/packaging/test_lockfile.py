"""Lock files: pinning rules, includes, hashes, Pipfile.lock rendering."""

from __future__ import annotations

import json

import pytest

from lambda_harness.errors import BuildError
from lambda_harness.packaging.lockfile import load_lock


def test_pinned_requirements_with_hashes_and_continuations(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text(
        "# comment\n--index-url https://example.invalid/simple\n"
        "orjson==3.10.7 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n"
        "attrs[tests]===23.1.0 ; python_version >= '3.8'  # trailing\n"
        "pkg @ https://example.invalid/pkg-1.0-py3-none-any.whl\n"
        "./wheels/local-1.0-py3-none-any.whl\n"
    )
    lock = load_lock(path)
    assert lock.kind == "requirements" and lock.count == 4 and lock.has_hashes
    assert lock.requirements == path.read_text()


@pytest.mark.parametrize("line", ["orjson", "orjson>=3", "orjson~=3.1", "orjson==3.*", "orjson<4,>=3"])
def test_unpinned_lines_are_refused_with_file_and_line(tmp_path, line):
    path = tmp_path / "requirements.txt"
    path.write_text(f"attrs==23.1.0\n{line}\n")
    with pytest.raises(BuildError, match=rf"requirements.txt:2: requirement '{line}' is not pinned.*pin it"):
        load_lock(path)


def test_includes_are_checked_and_hashed(tmp_path):
    (tmp_path / "base.txt").write_text("attrs==23.1.0\n")
    path = tmp_path / "requirements.txt"
    path.write_text("-r base.txt\norjson==3.10.7\n")
    first = load_lock(path)
    assert first.count == 2 and not first.has_hashes
    (tmp_path / "base.txt").write_text("attrs==23.2.0\n")
    assert load_lock(path).sha256 != first.sha256
    (tmp_path / "base.txt").write_text("attrs\n")
    with pytest.raises(BuildError, match=r"base\.txt:1"):
        load_lock(path)


def test_editable_is_refused(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("-e ./lib\n")
    with pytest.raises(BuildError, match="editable"):
        load_lock(path)


def test_pipfile_lock_renders_pins_markers_extras_hashes(tmp_path):
    path = tmp_path / "Pipfile.lock"
    path.write_text(
        json.dumps(
            {
                "default": {
                    "requests": {
                        "version": "==2.32.3",
                        "hashes": ["sha256:bb", "sha256:aa"],
                        "extras": ["socks"],
                        "markers": "python_version >= '3.8'",
                    },
                    "attrs": {"version": "==23.1.0", "hashes": ["sha256:cc"]},
                },
                "develop": {"pytest": {"version": "==8.0.0"}},
            }
        )
    )
    lock = load_lock(path)
    assert lock.kind == "pipfile" and lock.count == 2 and lock.has_hashes
    assert lock.requirements == (
        "attrs==23.1.0 --hash=sha256:cc\n"
        "requests[socks]==2.32.3 ; python_version >= '3.8' --hash=sha256:aa --hash=sha256:bb\n"
    )


def test_pipfile_lock_git_entry_is_refused(tmp_path):
    path = tmp_path / "Pipfile.lock"
    path.write_text(
        json.dumps({"default": {"lib": {"git": "https://example.invalid/lib.git", "ref": "abc"}}})
    )
    with pytest.raises(BuildError, match="package 'lib' in \"default\" has no pinned version"):
        load_lock(path)


def test_missing_lock_file(tmp_path):
    with pytest.raises(BuildError, match="lock file not found"):
        load_lock(tmp_path / "requirements.txt")
