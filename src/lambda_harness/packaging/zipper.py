"""Byte-reproducible zips, written atomically.

Same inputs, same bytes, whatever the umask, mtimes or checkout order:
entries sorted by name, one fixed timestamp (``SOURCE_DATE_EPOCH`` or
1980-01-01), permissions normalised to 0644 (0755 when any execute bit is
set), Unix "made by", DEFLATE level 6, no extra fields, no data descriptors,
no comment, and no directory entries (Lambda and zipimport create folders
from file paths). The writer is our own ~100 lines of PKZIP (APPNOTE 4.3)
rather than ``zipfile``'s, so the bytes do not depend on the Python version,
and so entries of the cached dependency zip can be copied without
recompressing them (a code-only rebuild never deflates the dependencies again).

The zip is written to a temp file in the destination folder, fsynced and
``os.replace``d, so an exception or Ctrl-C leaves the previous file (or none).
"""

from __future__ import annotations

import contextlib
import io
import stat
import struct
import time
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from lambda_harness.fsutil import atomic_file, walk_files

DEFAULT_DATE_TIME = (1980, 1, 1, 0, 0, 0)
#: The zip itself is not private: it sits beside the sources and is what gets shipped.
ZIP_MODE = 0o644
COMPRESS_LEVEL = 6
_MADE_BY_UNIX = 3
_VERSION = 20  # 2.0: DEFLATE, no zip64
_DEFLATED = 8
_UTF8_FLAG = 0x800


class Source(Protocol):
    """Where an entry's bytes come from."""

    @property
    def executable(self) -> bool: ...

    def size(self) -> int: ...

    def open(self) -> BinaryIO: ...


@dataclass(frozen=True)
class FileSource:
    """An entry read from a file on disk."""

    path: Path

    @property
    def executable(self) -> bool:
        return bool(self.path.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))

    def size(self) -> int:
        return self.path.stat().st_size

    def open(self) -> BinaryIO:
        return self.path.open("rb")


@dataclass(frozen=True)
class EntryStat:
    """Size of one written entry."""

    name: str
    size: int
    compressed: int


def date_time_from(environ: Mapping[str, str]) -> tuple[int, int, int, int, int, int]:
    """The entries' timestamp: ``SOURCE_DATE_EPOCH`` (clamped to the zip range) or 1980-01-01."""
    raw = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return DEFAULT_DATE_TIME
    try:
        epoch = int(raw)
    except ValueError:
        return DEFAULT_DATE_TIME
    t = time.gmtime(max(epoch, 315532800))  # 1980-01-01, the earliest a zip can say
    return (min(t.tm_year, 2107), t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def write_zip(
    entries: Mapping[str, Source],
    dest: Path,
    *,
    date_time: tuple[int, int, int, int, int, int] = DEFAULT_DATE_TIME,
    before_replace: Callable[[Path, list[EntryStat]], None] | None = None,
) -> list[EntryStat]:
    """Write ``entries`` (arcname -> source) to ``dest`` reproducibly and atomically.

    ``before_replace`` sees the finished temp zip and may raise to keep the old
    ``dest`` (the size limits use it).
    """
    with atomic_file(dest, ZIP_MODE) as tmp:
        stats = _write_entries(entries, tmp, date_time)
        if before_replace is not None:
            before_replace(tmp, stats)
    return stats


def _write_entries(
    entries: Mapping[str, Source], path: Path, date_time: tuple[int, int, int, int, int, int]
) -> list[EntryStat]:
    stats: list[EntryStat] = []
    central: list[bytes] = []
    dos_time, dos_date = _dos_stamp(date_time)
    with path.open("wb") as out, contextlib.ExitStack() as stack:
        archives: dict[Path, BinaryIO] = {}
        for name in sorted(entries):
            source = entries[name]
            member = _Member(name, dos_time, dos_date, executable=source.executable, offset=out.tell())
            out.write(member.local_header())
            if isinstance(source, ZipMemberSource):
                if source.archive not in archives:
                    archives[source.archive] = stack.enter_context(source.archive.open("rb"))
                source.copy_raw(archives[source.archive], out, member)
            else:
                with source.open() as src:
                    _deflate(src, out, member)
            end = out.tell()
            out.seek(member.offset + 14)
            out.write(struct.pack("<III", member.crc, member.compressed, member.size))
            out.seek(end)
            central.append(member.central_header())
            stats.append(EntryStat(name, member.size, member.compressed))
        _write_directory(out, central)
    return stats


def _write_directory(out: BinaryIO, central: list[bytes]) -> None:
    directory, start = b"".join(central), out.tell()
    if len(central) > 0xFFFF or start + len(directory) > 0xFFFFFFFF:
        raise ValueError("zip too large for the classic format (65,535 files / 4 GiB); Lambda allows less")
    out.write(directory)
    count = len(central)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), start, 0))


def _dos_stamp(dt: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    return dt[3] << 11 | dt[4] << 5 | dt[5] // 2, (dt[0] - 1980) << 9 | dt[1] << 5 | dt[2]


def _deflate(src: BinaryIO, out: BinaryIO, member: _Member) -> None:
    compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
    crc, size, compressed = 0, 0, 0
    while chunk := src.read(1 << 20):
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
        data = compressor.compress(chunk)
        compressed += len(data)
        out.write(data)
    data = compressor.flush()
    out.write(data)
    member.crc, member.size, member.compressed = crc, size, compressed + len(data)


@dataclass
class _Member:
    """One entry's header fields (PKZIP APPNOTE 4.3.7 / 4.3.12), no extra fields."""

    name: str
    dos_time: int
    dos_date: int
    executable: bool
    offset: int
    crc: int = 0
    size: int = 0
    compressed: int = 0

    def _name(self) -> tuple[bytes, int]:
        try:
            return self.name.encode("ascii"), 0
        except UnicodeEncodeError:
            return self.name.encode("utf-8"), _UTF8_FLAG

    def local_header(self) -> bytes:
        name, flags = self._name()
        return (
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                _VERSION,
                flags,
                _DEFLATED,
                self.dos_time,
                self.dos_date,
                self.crc,
                self.compressed,
                self.size,
                len(name),
                0,
            )
            + name
        )

    def central_header(self) -> bytes:
        name, flags = self._name()
        mode = stat.S_IFREG | (0o755 if self.executable else 0o644)
        return (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                _MADE_BY_UNIX << 8 | _VERSION,
                _VERSION,
                flags,
                _DEFLATED,
                self.dos_time,
                self.dos_date,
                self.crc,
                self.compressed,
                self.size,
                len(name),
                0,
                0,
                0,
                0,
                mode << 16,
                self.offset,
            )
            + name
        )


@dataclass(frozen=True)
class ZipMemberSource:
    """An entry of an existing zip, copied without recompressing (the cached dependencies)."""

    archive: Path
    info: zipfile.ZipInfo

    @property
    def executable(self) -> bool:
        return bool((self.info.external_attr >> 16) & 0o111)

    def size(self) -> int:
        return self.info.file_size

    def open(self) -> BinaryIO:
        """The decompressed bytes (handler checks read modules this way)."""
        with zipfile.ZipFile(self.archive) as zf:
            return io.BytesIO(zf.read(self.info))

    def copy_raw(self, archive: BinaryIO, out: BinaryIO, member: _Member) -> None:
        """Copy the compressed bytes as they are; only DEFLATE members qualify."""
        if self.info.compress_type != zipfile.ZIP_DEFLATED:
            raise ValueError(f"{self.archive}: {self.info.filename} is not deflated; rebuild the cache")
        archive.seek(self.info.header_offset + 26)
        name_len, extra_len = struct.unpack("<HH", archive.read(4))
        archive.seek(self.info.header_offset + 30 + name_len + extra_len)
        left = self.info.compress_size
        while left:
            chunk = archive.read(min(left, 1 << 20))
            if not chunk:
                raise ValueError(f"{self.archive}: truncated at {self.info.filename}")
            out.write(chunk)
            left -= len(chunk)
        member.crc, member.size, member.compressed = (
            self.info.CRC,
            self.info.file_size,
            self.info.compress_size,
        )


def zip_entries(path: Path) -> dict[str, ZipMemberSource]:
    """Every file entry of a zip as a raw-copyable source."""
    with zipfile.ZipFile(path) as zf:
        return {i.filename: ZipMemberSource(path, i) for i in zf.infolist() if not i.is_dir()}


def tree_entries(root: Path, keep: Callable[[Path], bool] | None = None) -> dict[str, FileSource]:
    """Every file under ``root`` as ``posix relative path -> FileSource`` (``keep`` filters).

    Through ``fsutil.walk_files``: a symlink resolving inside ``root`` is stored as its
    target's content, one resolving outside raises ``LinkOutside``.
    """
    return {rel: FileSource(path) for rel, path in walk_files(root, keep)}
