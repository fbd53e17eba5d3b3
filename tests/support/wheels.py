"""Hand-made wheels: real wheel files (zips with dist-info), built by the tests, no index needed."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

STAMP = (2020, 1, 1, 0, 0, 0)


def make_wheel(folder: Path, name: str, version: str, tags: list[str], files: dict[str, bytes]) -> Path:
    """Write a minimal valid wheel; ``tags`` like ``cp312-cp312-manylinux_2_17_x86_64``."""
    py, abi = tags[0].split("-")[:2]
    plats = ".".join(t.split("-", 2)[2] for t in tags)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name.replace('-', '_')}-{version}-{py}-{abi}-{plats}.whl"
    dist_info = f"{name.replace('-', '_')}-{version}.dist-info"
    contents = dict(files)
    contents[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    wheel_tags = "".join(f"Tag: {t}\n" for t in tags)
    purelib = "true" if tags[0].endswith("none-any") else "false"
    contents[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: lambda-harness-tests\nRoot-Is-Purelib: {purelib}\n{wheel_tags}"
    ).encode()
    record = []
    for arc, data in sorted(contents.items()):
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{arc},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    contents[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    with zipfile.ZipFile(path, "w") as zf:
        for arc, data in sorted(contents.items()):
            zf.writestr(zipfile.ZipInfo(arc, STAMP), data)
    return path


def pure_wheel(folder: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """A ``py3-none-any`` wheel with the given text files."""
    return make_wheel(folder, name, version, ["py3-none-any"], {k: v.encode() for k, v in files.items()})
