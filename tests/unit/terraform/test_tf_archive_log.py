"""An apply that deployed an archive the build did not make is named, with who reads and uploads it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lambda_harness.terraform.archive_log import ArchiveLog, unbuilt_code


def where(tmp_path: Path) -> tuple[Path, Path, Path]:
    tree = tmp_path / ".harness" / "tf" / "embedded" / "tree"
    return tree / "terraform", tree, tmp_path


def show(*resources: dict[str, Any]) -> dict[str, Any]:
    module = {"address": 'module.function["report"]', "resources": list(resources)}
    return {"values": {"root_module": {"resources": [], "child_modules": [module]}}}


ARCHIVE = {
    "address": 'module.function["report"].data.archive_file.this',
    "mode": "data",
    "type": "archive_file",
    "values": {"output_path": "./../build/geo-report.zip"},
}
FUNCTION = {
    "address": 'module.function["report"].aws_lambda_function.this',
    "mode": "managed",
    "type": "aws_lambda_function",
    "values": {"filename": "./../build/geo-report.zip"},
}


def test_only_the_lines_of_this_command_are_read(tmp_path: Path) -> None:
    log = ArchiveLog(tmp_path / "archives.log")
    assert log.mark() == 0 and log.since(0) == []
    log.path.write_text(json.dumps({"output": "build/a.zip", "complete": False}) + "\n")
    start = log.mark()
    with log.path.open("a") as fh:
        fh.write(json.dumps({"output": "build/b.zip", "sha256": "00", "complete": True}) + "\nnot json\n")
    assert log.since(start) == [{"output": "build/b.zip", "sha256": "00", "complete": True}]


def test_an_incomplete_archive_a_function_deploys_is_named(tmp_path: Path) -> None:
    entries = [
        {"output": "build/geo-report.zip", "complete": False},
        {"output": "build/x.zip", "complete": True},
    ]
    (unbuilt,) = unbuilt_code(entries, show(ARCHIVE, FUNCTION), where(tmp_path))
    assert unbuilt.output == "build/geo-report.zip"
    assert unbuilt.reader == 'module.function["report"].data.archive_file.this'
    assert unbuilt.users == ('module.function["report"].aws_lambda_function.this',)
    text = unbuilt.message()
    assert text.startswith(
        'terraform apply zipped build/geo-report.zip (module.function["report"].data.archive_file.this)'
    )
    assert "run `lambda-harness build` again" in text and "report it" in text


def test_through_an_s3_object_too(tmp_path: Path) -> None:
    obj = {
        "address": "aws_s3_object.code",
        "mode": "managed",
        "type": "aws_s3_object",
        "values": {"bucket": "code", "key": "report.zip", "source": "../build/geo-report.zip"},
    }
    fn = {**FUNCTION, "values": {"s3_bucket": "code", "s3_key": "report.zip"}}
    entries = [{"output": "build/geo-report.zip", "complete": False}]
    (unbuilt,) = unbuilt_code(entries, show(ARCHIVE, obj, fn), where(tmp_path))
    assert unbuilt.users == ('module.function["report"].aws_lambda_function.this',)


def test_an_archive_no_function_or_layer_deploys_is_not_code(tmp_path: Path) -> None:
    entries = [{"output": "build/geo-report.zip", "complete": False}]
    assert unbuilt_code(entries, show(ARCHIVE), where(tmp_path)) == []
    done = [{"output": "build/geo-report.zip", "complete": True}]
    assert unbuilt_code(done, show(ARCHIVE, FUNCTION), where(tmp_path)) == []
