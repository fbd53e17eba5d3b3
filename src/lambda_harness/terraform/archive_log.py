"""What the archive provider shim built during one Terraform command, and whether the build knew.

The shim (``shims.archive``) appends one line to ``.harness/archives.log`` per ``archive_file``
it reads: the output (relative to the repo), its sha256, and ``complete``: whether the build
had a target for it in ``.harness/archives.json`` (so it was built and checked: handlers,
dependencies, platform). An incomplete archive that a function or layer deploys means the
build never saw that code: its test would run unchecked code and its zip would be missing
from the attestation. ``ArchiveLog.mark`` before the apply and ``unbuilt_code`` after it
name each such archive with the Terraform addresses that read and deploy it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_CODE_TYPES = ("aws_lambda_function", "aws_lambda_layer_version")
_S3_OBJECT_TYPES = ("aws_s3_object", "aws_s3_bucket_object")


@dataclass(frozen=True)
class ArchiveLog:
    """``archives.log``, read from an offset."""

    path: Path

    def mark(self) -> int:
        """Where the next command's lines will start."""
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def since(self, offset: int) -> list[dict[str, Any]]:
        """The entries appended after ``offset`` (unreadable lines skipped)."""
        try:
            with self.path.open("rb") as fh:
                fh.seek(offset)
                text = fh.read().decode("utf-8", errors="replace")
        except OSError:
            return []
        entries = []
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("output"):
                entries.append(entry)
        return entries


@dataclass(frozen=True)
class Unbuilt:
    """An archive Terraform zipped without a build target, and what deploys it."""

    output: str  # relative to the repo, as the log names it
    reader: str  # the data source's address ("" when the state does not say)
    users: tuple[str, ...]  # addresses of the functions and layers that upload it

    def message(self) -> str:
        read = f" ({self.reader})" if self.reader else ""
        return (
            f"terraform apply zipped {self.output}{read} through the harness's archive provider, and "
            f"{', '.join(self.users)} deploys it, but the build did not make it: that code was neither "
            "checked (handlers, dependencies, platform) nor recorded for the attestation. The build did "
            "not see it: run `lambda-harness build` again (it plans again when a file the Terraform "
            "reads changes); if it persists, report it to the lambda-harness maintainers with "
            ".harness/discovery.json and the Terraform that declares it"
        )


def unbuilt_code(
    entries: list[dict[str, Any]], show: Mapping[str, Any], where: tuple[Path, Path, Path]
) -> list[Unbuilt]:
    """The incomplete archives in ``entries`` that a function or layer in ``show`` (state as
    ``show -json``) deploys. ``where``: (Terraform's working directory, the staged tree, the
    real folder it mirrors), to key the state's relative paths as the shim keys them."""
    incomplete = {str(e["output"]) for e in entries if e.get("complete") is False}
    if not incomplete:
        return []
    resources = list(_resources(show.get("values", {}).get("root_module", {})))
    readers: dict[str, str] = {}
    uploads: dict[str, list[str]] = {}
    objects: dict[tuple[str, str], str] = {}
    for res in resources:
        values = res.get("values") or {}
        rtype, address = res.get("type"), str(res.get("address"))
        if res.get("mode") == "data" and rtype == "archive_file" and values.get("output_path"):
            readers.setdefault(_key(str(values["output_path"]), where), address)
        elif rtype in _CODE_TYPES and values.get("filename"):
            uploads.setdefault(_key(str(values["filename"]), where), []).append(address)
        elif rtype in _S3_OBJECT_TYPES and values.get("source"):
            objects[(str(values.get("bucket")), str(values.get("key")))] = _key(str(values["source"]), where)
    for res in resources:  # code from an S3 object that uploads the archive
        values = res.get("values") or {}
        if res.get("type") in _CODE_TYPES and values.get("s3_key"):
            source = objects.get((str(values.get("s3_bucket")), str(values.get("s3_key"))))
            if source is not None:
                uploads.setdefault(source, []).append(str(res.get("address")))
    return [
        Unbuilt(output, readers.get(output, ""), tuple(sorted(uploads[output])))
        for output in sorted(incomplete)
        if uploads.get(output)
    ]


def _key(value: str, where: tuple[Path, Path, Path]) -> str:
    """A path from the state as the shim's log names it: relative to the repo when inside it."""
    workdir, tree, anchor = where
    path = Path(os.path.normpath(workdir / value))
    for base in (tree, anchor):
        if path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    return path.as_posix()


def _resources(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _resources(child)
