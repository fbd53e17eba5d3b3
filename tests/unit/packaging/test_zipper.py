"""The reproducible, atomic zip writer."""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pytest

from lambda_harness.packaging.zipper import FileSource, date_time_from, tree_entries, write_zip, zip_entries


@dataclass(frozen=True)
class BytesSource:
    data: bytes
    executable: bool = False

    def size(self) -> int:
        return len(self.data)

    def open(self) -> BinaryIO:
        return io.BytesIO(self.data)


class ExplodingSource:
    """Fails half way through the zip, like a file vanishing or Ctrl-C."""

    executable = False

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def size(self) -> int:
        return 10

    def open(self) -> BinaryIO:
        raise self.exc


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("exc", [OSError("disk on fire"), KeyboardInterrupt()])
def test_failure_mid_write_keeps_old_zip_and_leaves_no_temp(tmp_path, exc):
    dest = tmp_path / "dists.zip"
    write_zip({"a.py": BytesSource(b"old")}, dest)
    old = dest.read_bytes()
    with pytest.raises(type(exc)):
        write_zip({"a.py": BytesSource(b"new"), "b.py": ExplodingSource(exc), "c.py": BytesSource(b"")}, dest)
    assert dest.read_bytes() == old
    assert leftovers(tmp_path) == ["dists.zip"]


def test_failure_without_old_zip_leaves_nothing(tmp_path):
    with pytest.raises(OSError):
        write_zip({"b.py": ExplodingSource(OSError("x"))}, tmp_path / "dists.zip")
    assert leftovers(tmp_path) == []


def test_before_replace_can_veto(tmp_path):
    def veto(tmp: Path, stats: object) -> None:
        assert tmp.is_file() and tmp.parent == tmp_path
        raise RuntimeError("too big")

    with pytest.raises(RuntimeError):
        write_zip({"a.py": BytesSource(b"x")}, tmp_path / "dists.zip", before_replace=veto)
    assert leftovers(tmp_path) == []


def test_same_bytes_whatever_order_mtime_and_mode(tmp_path):
    def tree(root: Path, order: list[str], mode: int, mtime: int) -> dict[str, FileSource]:
        for name in order:
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"content of {name}\n")
            path.chmod(mode | (0o100 if name.endswith(".sh") else 0))
            os.utime(path, (mtime, mtime))
        return tree_entries(root)

    names = ["pkg/b.py", "pkg/a.py", "run.sh", "z/__init__.py"]
    one = write_zip(tree(tmp_path / "one", names, 0o644, 1_000_000_000), tmp_path / "one.zip")
    two = write_zip(tree(tmp_path / "two", names[::-1], 0o600, 1_700_000_000), tmp_path / "two.zip")
    assert one == two
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as zf:
        modes = {i.filename: (i.external_attr >> 16) & 0o7777 for i in zf.infolist()}
        assert [i.filename for i in zf.infolist()] == sorted(names)
        assert all(i.create_system == 3 and i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist())
    assert modes == {"pkg/a.py": 0o644, "pkg/b.py": 0o644, "run.sh": 0o755, "z/__init__.py": 0o644}
    assert oct((tmp_path / "one.zip").stat().st_mode & 0o777) == "0o644"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, (1980, 1, 1, 0, 0, 0)),
        ("", (1980, 1, 1, 0, 0, 0)),
        ("junk", (1980, 1, 1, 0, 0, 0)),
        ("0", (1980, 1, 1, 0, 0, 0)),
        ("1700000000", (2023, 11, 14, 22, 13, 20)),
    ],
)
def test_date_time_from_source_date_epoch(value, expected):
    assert date_time_from({} if value is None else {"SOURCE_DATE_EPOCH": value}) == expected


def test_raw_copy_from_a_zip_gives_the_same_bytes_as_compressing(tmp_path):
    src = {
        "a/big.txt": BytesSource(b"spam and eggs " * 100_000),
        "b.sh": BytesSource(b"#!/bin/sh\n", executable=True),
        "empty.py": BytesSource(b""),
        "na\u00efve.py": BytesSource(b"x = 1\n"),
    }
    write_zip(src, tmp_path / "fresh.zip")
    copied = zip_entries(tmp_path / "fresh.zip")
    mixed = {**copied, "code.py": BytesSource(b"print(1)\n")}
    write_zip(mixed, tmp_path / "mixed.zip")
    write_zip({**src, "code.py": BytesSource(b"print(1)\n")}, tmp_path / "direct.zip")
    assert (tmp_path / "mixed.zip").read_bytes() == (tmp_path / "direct.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "mixed.zip") as zf:
        assert zf.testzip() is None
        assert zf.read("a/big.txt") == b"spam and eggs " * 100_000
        assert (zf.getinfo("b.sh").external_attr >> 16) & 0o777 == 0o755
        assert zf.getinfo("na\u00efve.py").flag_bits & 0x800
    with copied["a/big.txt"].open() as fh:
        assert fh.read(4) == b"spam"


def test_zip_opens_with_python_zipfile_and_unzip_semantics(tmp_path):
    write_zip(
        {"pkg/__init__.py": BytesSource(b"VALUE = 1\n")}, tmp_path / "x.zip", date_time=(2001, 2, 3, 4, 5, 6)
    )
    with zipfile.ZipFile(tmp_path / "x.zip") as zf:
        (info,) = zf.infolist()
        assert info.date_time == (2001, 2, 3, 4, 5, 6)
        assert info.extra == b"" and info.comment == b""
        assert info.flag_bits == 0 and info.create_system == 3
        assert zf.read("pkg/__init__.py") == b"VALUE = 1\n"


def test_bytes_match_pythons_zipfile_for_the_same_entries(tmp_path):
    files = {"b/mod.py": b"x = 1\n" * 1000, "a.sh": b"#!/bin/sh\n", "empty": b""}
    write_zip(
        {n: BytesSource(d, executable=n.endswith(".sh")) for n, d in files.items()}, tmp_path / "ours.zip"
    )
    with zipfile.ZipFile(tmp_path / "theirs.zip", "w") as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = (0o100755 if name.endswith(".sh") else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.file_size = len(files[name])
            with zf.open(info, "w") as fh:
                fh.write(files[name])
    assert (tmp_path / "ours.zip").read_bytes() == (tmp_path / "theirs.zip").read_bytes()
