"""The archive provider shim's protocol pieces and its reads (no Terraform, no gRPC server)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import msgpack
import pytest

from lambda_harness.errors import HarnessError
from lambda_harness.terraform.shims import archive, wire


def test_varints_and_fields_round_trip() -> None:
    assert wire.varint(1) == b"\x01" and wire.varint(300) == b"\xac\x02"
    data = wire.message(wire.field_str(1, "archive_file"), wire.field_int(3, 3), wire.field_bytes(2, b"xy"))
    assert wire.parse(data) == {1: [b"archive_file"], 3: [3], 2: [b"xy"]}
    assert wire.field_int(4, 0) == b""  # proto3 defaults are not written


def test_the_schema_names_every_attribute_of_hashicorps_archive_file() -> None:
    response = wire.parse(archive.provider_schema_response())
    (entry,) = response[3]
    assert isinstance(entry, bytes)
    fields = wire.parse(entry)
    assert fields[1] == [b"archive_file"]
    block = wire.parse(wire.first_bytes(wire.parse(wire.first_bytes(fields, 2)), 2))
    names = [wire.parse(a)[1][0] for a in block[2] if isinstance(a, bytes)]
    assert b"output_base64sha256" in names and b"source_dir" in names and len(names) == 17
    nested = wire.parse(wire.first_bytes(block, 3))
    assert nested[1] == [b"source"] and nested[3] == [3]  # a SET of source blocks


def request(config: dict[str, object]) -> bytes:
    dynamic = wire.field_bytes(1, msgpack.packb(config))
    return wire.message(wire.field_str(1, "archive_file"), wire.field_bytes(2, dynamic))


def test_a_read_builds_the_zip_and_answers_every_attribute(tmp_path: Path) -> None:
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "app.py").write_text("def handler(e, c):\n    return 1\n")
    log = tmp_path / "archives.log"
    reader = archive.Archiver({archive.LOG_ENV: str(log), archive.ANCHOR_ENV: str(tmp_path)}, tmp_path / "tf")
    config = archive.decode_config(
        request({"type": "zip", "source_dir": "../fn", "output_path": "../build/fn.zip", "source": None})
    )
    state = reader.read(config)
    data = (tmp_path / "build" / "fn.zip").read_bytes()
    assert state["output_sha256"] == hashlib.sha256(data).hexdigest() and state["output_size"] == len(data)
    assert state["source"] == [] and state["source_file"] is None
    with zipfile.ZipFile(tmp_path / "build" / "fn.zip") as zf:
        assert zf.namelist() == ["app.py"] and zf.infolist()[0].date_time == (1980, 1, 1, 0, 0, 0)
    assert json.loads(log.read_text()) == {
        "output": "build/fn.zip",
        "sha256": state["output_sha256"],
        "complete": False,
    }
    assert reader.read(config)["output_sha256"] == state["output_sha256"]  # reproducible


def test_in_promote_a_changed_archive_fails_and_leaves_the_tested_zip(tmp_path: Path) -> None:
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "app.py").write_text("v1")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "fn.zip").write_bytes(b"tested bytes")
    targets = tmp_path / "archives.json"
    targets.write_text(json.dumps({"targets": {"build/fn.zip": {"expected_sha256": "0" * 64}}}))
    reader = archive.Archiver(
        {archive.TARGETS_ENV: str(targets), archive.ANCHOR_ENV: str(tmp_path)}, tmp_path / "tf"
    )
    with pytest.raises(HarnessError, match=r"build/fn\.zip: the archive built now .* is not the one"):
        reader.read({"type": "zip", "source_dir": "../fn", "output_path": "../build/fn.zip"})
    assert (tmp_path / "build" / "fn.zip").read_bytes() == b"tested bytes"


def test_the_process_refuses_to_run_outside_terraform() -> None:
    assert archive.serve({}) == 1
