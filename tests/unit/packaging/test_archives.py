"""What a data "archive_file" names, built reproducibly (the builder and the provider shim agree)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_harness.errors import BuildError
from lambda_harness.packaging.archives import ArchiveSpec, ArchiveTarget, archive_entries, archive_lock


def tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_the_spec_from_terraform_config_resolves_paths_against_terraforms_cwd(tmp_path: Path) -> None:
    spec = ArchiveSpec.from_config(
        {
            "type": "zip",
            "source_dir": "./../functions/a",
            "output_path": "./../build/a.zip",
            "excludes": ["tests", "README.md"],
            "source": [{"filename": "extra.txt", "content": "x"}],
        },
        tmp_path / "terraform",
    )
    assert spec.source_dir == tmp_path / "functions" / "a"
    assert spec.output_path == tmp_path / "build" / "a.zip"
    assert spec.excludes == ("README.md", "tests") and spec.contents == (("extra.txt", "x"),)
    with pytest.raises(BuildError, match=r'type = "tar\.gz": only "zip"'):
        ArchiveSpec.from_config({"type": "tar.gz", "output_path": "x"}, tmp_path)


def test_entries_honour_excludes_globs_and_leave_bytecode_out(tmp_path: Path) -> None:
    src = tree(
        tmp_path / "fn",
        {
            "app.py": "",
            "lib/util.py": "",
            "lib/__pycache__/util.cpython-312.pyc": "",
            "tests/test_app.py": "",
            "notes/a.md": "",
            "README.md": "",
            ".env": "SECRET=1",
        },
    )
    spec = ArchiveSpec(tmp_path / "out.zip", source_dir=src, excludes=("tests", "README.md", "notes/*.md"))
    assert sorted(archive_entries(spec)) == [
        ".env",
        "app.py",
        "lib/util.py",
    ]  # hidden files stay, as hashicorp's


def test_source_file_and_inline_content(tmp_path: Path) -> None:
    tree(tmp_path, {"single.py": "print(1)"})
    spec = ArchiveSpec(tmp_path / "o.zip", source_file=tmp_path / "single.py", contents=(("cfg.json", "{}"),))
    entries = archive_entries(spec)
    assert sorted(entries) == ["cfg.json", "single.py"]
    assert entries["cfg.json"].open().read() == b"{}"


def test_a_requirements_file_in_the_folder_is_the_archives_lock(tmp_path: Path) -> None:
    src = tree(tmp_path / "fn", {"app.py": "", "requirements.txt": "six==1.16.0\n"})
    lock = archive_lock(ArchiveSpec(tmp_path / "o.zip", source_dir=src), ArchiveTarget())
    assert lock is not None and lock.path == src / "requirements.txt"
    assert archive_lock(ArchiveSpec(tmp_path / "o.zip", source_file=src / "app.py"), ArchiveTarget()) is None


def test_targets_round_trip_through_json() -> None:
    target = ArchiveTarget("python3.13", "arm64", layer=True, functions=("a",), expected_sha256="ab")
    assert ArchiveTarget.from_json(target.to_json()) == target
    assert target.platform.machine == "aarch64"
